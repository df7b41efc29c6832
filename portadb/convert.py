"""Per-column converters from a source value to the value the target stores.

A value is read exactly as Django reads it (the source backend's converters,
then the field's ``from_db_value``) and written exactly as Django writes it
(``get_db_prep_save`` on the target). Converters are built once per table;
columns whose value needs no change pass through untouched, which is most of
them and where the speed comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from django.db import models
from django.db.models.expressions import Col

from .backends import adapter_for
from .columns import as_values, then_column, then_each

Converter = Callable[[object], object]

# Built-in field classes whose database value is already what every backend
# accepts, as long as the source backend has no converter for them either.
_PLAIN = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.CharField,
    models.TextField,
    models.SlugField,
    models.EmailField,
    models.URLField,
    models.FloatField,
)


@dataclass(frozen=True)
class Column:
    """One column of a table job and how its values are converted."""

    name: str
    field: models.Field
    #: ``None`` when values pass through unchanged.
    convert: Converter | None
    #: What the conversion is, for reports (``"identity"`` when it is none).
    description: str
    #: ``convert`` over a whole column at once, where the source backend has that.
    convert_column: Callable[[Sequence], list] | None = None


def columns_for(model, source, target) -> list[Column]:
    """The columns of ``model``'s table with their converters, source to target.

    Generated columns (``GeneratedField``) are left out: the target computes
    them from the copied columns, and refuses a value written into them.
    """
    return [
        column_for(f, source, target)
        for f in model._meta.local_concrete_fields
        if not getattr(f, "generated", False)  # Django 5.0+
    ]


def column_for(field, source, target) -> Column:
    expression = field.get_col(field.model._meta.db_table)
    readers = _readers(expression, source)
    if isinstance(field, models.JSONField):
        # The stored JSON text is copied as it is: parsing it would turn a JSON
        # null into SQL NULL and lose a custom decoder's round trip.
        return Column(field.column, field, None, "JSON text as stored")
    if not readers and _plain(field):
        return Column(field.column, field, None, "identity")
    writer = adapter_for(target)
    stored = writer.stores_as_read(field)
    if not readers and stored:
        # What the source's driver read is what the target stores: a PostgreSQL
        # numeric NaN or infinite date too, which the field's own methods refuse.
        return Column(field.column, field, None, "identity")
    prep = None if stored else writer.fast_prep(field)
    whole = None if prep is None else writer.fast_prep(field, whole=True)
    many = None
    if not readers and prep is not None:  # read as the driver gives it: only prepared
        return Column(field.column, field, prep, _describe(field, readers, source, target), whole)
    if len(readers) == 1 and (stored or prep is not None):
        # One reader, and a target that stores the value it returns unchanged or
        # prepares it faster than the field would: no generic chain around them.
        reader = adapter_for(source)
        read = (reader.fast_reader(readers[0], expression)
                or partial(readers[0], expression=expression, connection=source))
        convert = read if stored else partial(_then, read, prep)
        # The target's forms of a column where it stores or prepares the column whole.
        whole_forms = stored or whole is not None
        many = reader.column_reader(readers[0], expression,
                                    scaled=whole_forms and writer.stores_decimals_at_scale,
                                    forms=writer.column_forms if whole_forms else frozenset())
        if many is not None and not stored:
            many = partial(then_column, many, whole) if whole else partial(then_each, many, prep)
    else:
        convert = _chain(readers, expression, field, source, target)
    return Column(field.column, field, convert, _describe(field, readers, source, target), many)


def django_reading(field, connection) -> Converter:
    """A stored value of ``field`` as the installed Django reads it from ``connection``: the
    backend's converters, then the field's (``from_db_value``)."""
    expression = Col("", field)  # the table's alias matters to no converter; a bare field has none
    readers = _readers(expression, connection)

    def read(value):
        for reader in readers:
            value = reader(value, expression, connection)
        return value

    return read


def _readers(expression, connection) -> list:
    return connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)


def converts(columns: Sequence[Column]) -> bool:
    """Whether any of ``columns`` changes its values on the way."""
    return any(c.convert is not None for c in columns)


def convert_columns(by_column: Sequence[Sequence], columns: Sequence[Column]) -> list[Sequence]:
    """Apply each column's converter to a chunk given column by column (``by_column[i]``: column ``i``)."""
    converted = list(by_column)
    for i, column in enumerate(columns):
        if column.convert_column is not None:
            converted[i] = column.convert_column(converted[i])
        elif column.convert is not None:
            converted[i] = list(map(column.convert, converted[i]))
    return converted


def convert_rows(rows: Sequence[Sequence], columns: Sequence[Column]) -> Sequence[Sequence]:
    """Apply each column's converter to ``rows``, column by column."""
    if not converts(columns):
        return rows
    return list(zip(*map(as_values, convert_columns(list(zip(*rows)), columns))))


def _plain(field) -> bool:
    if type(field) in _PLAIN:
        return True
    if type(field) in (models.ForeignKey, models.OneToOneField):
        return _plain(field.target_field)
    return False


def _then(read: Converter, prep: Converter, value):
    return prep(read(value))


def _chain(readers, expression, field, source, target) -> Converter:
    prep = field.get_db_prep_save

    def convert(value):
        for reader in readers:
            value = reader(value, expression, source)
        return prep(value, target)

    return convert


def _describe(field, readers, source, target) -> str:
    kind = field.get_internal_type()
    steps = [f"read as {kind} on {source.vendor}"]
    if readers:
        steps[0] += f" ({len(readers)} converter{'s' if len(readers) > 1 else ''})"
    steps.append(f"prepared for {target.vendor}")
    return ", ".join(steps)
