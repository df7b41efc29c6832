"""The shape of each model's table as one process sees it, and how two views differ.

A project's models can depend on the database vendor: a library picks a
model's fields, or whether a model exists at all, by ``connection.vendor``
when it is imported (Wagtail's search index does). The source's rows are read
with the models of this process, whose ``default`` database is the source;
the target is built by ``migrate`` in a process whose ``default`` is the
target (:mod:`portadb.targetproject`). Each side describes its models as
:class:`ModelShape` objects, plain data that crosses the process boundary as
JSON, and :func:`compare` says, table by table, what differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from .fields import INTEGER_TYPES, TEXT_TYPES, base_field, key_fields
from .models import label


@dataclass(frozen=True)
class ColumnShape:
    """One column: its name, field kind, column type on the target, nullability."""

    name: str
    #: ``get_internal_type()`` of the field whose column type it has (a foreign key's target).
    kind: str
    #: ``db_type()`` on the target's connection (``varchar(100)``, ``tsvector``).
    db_type: str | None
    null: bool
    collation: str | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class ModelShape:
    """One model's table as a process sees it."""

    label: str
    table: str
    columns: tuple[ColumnShape, ...]
    key: tuple[str, ...]
    #: ``Meta.required_db_vendor``, when the model has one.
    vendor: str | None = None

    def column(self, name: str) -> ColumnShape | None:
        return next((c for c in self.columns if c.name == name), None)

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ModelShape:
        columns = tuple(ColumnShape(**c) for c in data["columns"])
        return cls(data["label"], data["table"], columns, tuple(data["key"]), data.get("vendor"))


def shape_of(model, connection) -> ModelShape:
    """``model``'s table as this process's models describe it, with column types on ``connection``."""
    columns = []
    for f in model._meta.local_concrete_fields:
        if getattr(f, "generated", False):
            continue  # computed by the database: never copied
        base = base_field(f)
        columns.append(ColumnShape(
            name=f.column, kind=base.get_internal_type(), db_type=_db_type(f, connection), null=f.null,
            collation=getattr(base, "db_collation", None), max_length=getattr(base, "max_length", None),
        ))
    key = tuple(f.column for f in key_fields(model))
    return ModelShape(label(model), model._meta.db_table, tuple(columns), key,
                      model._meta.required_db_vendor)


def shapes_of(models: Iterable, connection) -> dict[str, ModelShape]:
    """:func:`shape_of` each model, by table."""
    return {m._meta.db_table: shape_of(m, connection) for m in models}


def _db_type(field, connection) -> str | None:
    try:
        return field.db_type(connection)
    except Exception:  # noqa: BLE001 - a field this backend cannot express: no type
        return None


@dataclass
class Difference:
    """How one model's table differs between the source's models and the target's."""

    label: str
    table: str
    #: ``"differs"`` (both sides, other columns), ``"source only"`` or ``"target only"``.
    how: str
    #: One line per column that differs.
    columns: list[str] = field(default_factory=list)
    #: Source columns the target's version lacks: copied only where every value is NULL.
    dropped: list[str] = field(default_factory=list)
    #: Whether each value converts exactly (else the rows cannot be copied).
    convertible: bool = True

    def describe(self) -> str:
        if self.how != "differs":
            return f"{self.label} ({self.table}) exists on the {self.how.split()[0]} only"
        return f"{self.label} ({self.table}) differs: {'; '.join(self.columns)}"


def compare(source: dict[str, ModelShape], target: dict[str, ModelShape],
            integer_range) -> list[Difference]:
    """What differs between the source's model shapes and the target's, by table.

    ``integer_range(kind)`` is the target adapter's range of an integer kind:
    a wider integer column on the target holds every source value.
    """
    found = []
    for table in sorted(source.keys() | target.keys()):
        mine, theirs = source.get(table), target.get(table)
        if theirs is None:
            found.append(Difference(mine.label, table, "source only", convertible=False))
        elif mine is None:
            found.append(Difference(theirs.label, table, "target only"))
        elif mine != theirs:
            difference = _columns(mine, theirs, integer_range)
            if difference.columns:
                found.append(difference)
    return found


def _columns(mine: ModelShape, theirs: ModelShape, integer_range) -> Difference:
    found = Difference(mine.label, mine.table, "differs")
    for column in mine.columns:
        other = theirs.column(column.name)
        if other is None:
            found.columns.append(f"{column.name} has no column on the target")
            found.dropped.append(column.name)
        elif other != column:
            exact = _holds(other, column, integer_range)
            found.columns.append(f"{column.name} is {_type(other)} on the target, {_type(column)} here"
                                 + ("" if exact else " (not every value converts exactly)"))
            found.convertible &= exact
    for other in theirs.columns:
        if mine.column(other.name) is None:
            found.columns.append(f"{other.name} exists on the target only"
                                 + ("" if other.null else " and needs a value"))
            found.convertible &= other.null
    return found


def _holds(target: ColumnShape, source: ColumnShape, integer_range) -> bool:
    """Whether every value of the source column arrives unchanged in the target column."""
    if (source.null and not target.null) or source.collation != target.collation:
        return False
    if target.kind == source.kind and target.db_type == source.db_type:
        return True
    if target.kind in INTEGER_TYPES and source.kind in INTEGER_TYPES:
        wide, narrow = integer_range(target.kind), integer_range(source.kind)
        return wide is None or (narrow is not None and wide[0] <= narrow[0] and narrow[1] <= wide[1])
    if target.kind in TEXT_TYPES and source.kind in TEXT_TYPES:
        if target.max_length is None:
            return True  # text: any length
        return source.max_length is not None and target.max_length >= source.max_length
    return False


def _type(column: ColumnShape) -> str:
    return f"{column.db_type or column.kind}{'' if column.null else ' NOT NULL'}"
