"""The journal on the target that makes an interrupted copy resumable.

Two small tables live next to the copied ones (``inspect`` lists them apart):
``portadb_run``, one row: where the copy reads from, the plan's tables, columns
and keys, how far it got (``schema``, ``loading``, ``complete``), what it
builds after the rows and how the schema was built; and ``portadb_journal``,
while the copy runs, one row per part of a table (:mod:`portadb.parts`): its
key range, its last committed key, its rows and which run writes it.

Each chunk commits in the same target transaction as the UPDATE of its
journal row, so the journal never says more or less than the target holds;
the UPDATE commits only under the run that owns the table, so a writer of a
killed run commits nothing once a resume took over. ``--resume`` proves the
copied rows unchanged on the source and reads every part on from its last key.

After a complete copy only ``portadb_run`` stays, marked ``complete``: for ``verify``, ``inspect``,
``sync``, a second ``--resume``; ``inspect --forget`` or ``--replace`` removes it; the project never reads it.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from django.apps.registry import Apps
from django.db import DatabaseError, models
from django.db.models import F
from django.utils import timezone

from . import fingerprints
from .endpoints import Endpoint, identity
from .exceptions import PreconditionError, TransferError, first_line
from .keys import decode_key, encode_key
from .parts import Part, whole_tables
from .schema import BuildStep

SCHEMA, LOADING, COMPLETE = "schema", "loading", "complete"
_RUN_ID = 1


def _model(name: str, table: str, fields: dict, **options) -> type[models.Model]:
    meta = type("Meta", (), {"apps": Apps(), "app_label": "portadb_journal", "db_table": table, **options})
    return type(name, (models.Model,), {"__module__": __name__, "Meta": meta, **fields})


@cache
def _models() -> tuple[type[models.Model], type[models.Model]]:
    """The journal's two models, made on first use: a model class cannot be made while Django
    loads its apps, and ``import portadb`` happens then."""
    run = _model("RunRow", RUN_TABLE, {
        "id": models.IntegerField(primary_key=True),
        "source": models.TextField(),
        "plan": models.TextField(),
        "state": models.CharField(max_length=20),
        #: The indexes and constraints due after the data: ``[[sql, table, name, kind, references], ...]``.
        "deferred": models.TextField(default="[]"),
        #: How the schema was built (:attr:`Journal.schema`), as JSON.
        "schema": models.TextField(default="{}"),
        "started": models.DateTimeField(), "updated": models.DateTimeField(),
    })
    table = _model("TableRow", TABLE_TABLE, {
        "table": models.CharField(max_length=255),
        #: The part of the table (:class:`~portadb.parts.Part`): its index and key range.
        "part": models.IntegerField(default=0),
        "after": models.TextField(null=True),
        "through": models.TextField(null=True),
        "position": models.TextField(null=True),
        "rows": models.BigIntegerField(default=0),
        #: Rows read and left out (``--on-error=reject``), up to ``position``.
        "rejected": models.BigIntegerField(default=0),
        #: The run that writes the table: a resumed run takes the table over, and a
        #: writer of an earlier run that is still alive can commit nothing more.
        "run": models.CharField(max_length=32, default=""),
    }, unique_together=[("table", "part")])  # by index: InnoDB locks each row an UPDATE scans
    return run, table


def _runs() -> type[models.Model]:
    return _models()[0]  # portadb_run


def _positions() -> type[models.Model]:
    return _models()[1]  # portadb_journal


def __getattr__(name: str):  # journal.RunRow and journal.TableRow, the models of the two tables
    if name in ("RunRow", "TableRow"):
        return _models()[name == "TableRow"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


RUN_TABLE, TABLE_TABLE = "portadb_run", "portadb_journal"
#: The journal's own tables, never the project's.
PORTADB_TABLES = (RUN_TABLE, TABLE_TABLE)


@dataclass
class Position:
    """How far one table got: its last committed key (``None``: no row yet), the rows
    written and the rows read but rejected up to it."""

    key: list | None
    rows: int
    rejected: int = 0


class Journal:
    """The journal of one copy on its target; see the module docstring."""

    def __init__(self, target: Endpoint, state: str, positions: dict[Part, Position],
                 deferred: Sequence[BuildStep] = (), schema: dict | None = None):
        self.target = target
        self.state = state
        #: Each part's progress; the parts in table order, then key order.
        self.positions = positions
        #: What the schema step left for after the data (read back by a resumed copy).
        self.deferred = list(deferred)
        #: How the schema was built: ``path``, the tables there before (``existing``)
        #: and those ``migrate`` made (``created``), the rows it made that were
        #: removed (``removed``), and the ``snapshot`` of what it built (:mod:`portadb.drift`).
        self.schema = schema or {}
        #: This run's mark on each table row (:meth:`advance` commits only under it).
        self.run = secrets.token_hex(8)

    @property
    def parts(self) -> list[Part]:
        return list(self.positions)

    @classmethod
    def begin(cls, plan, parts: Sequence[Part] | None = None) -> Journal:
        """Start a fresh journal for ``plan`` on its target, dropping any old one; the tables
        are copied in ``parts`` (default: each table whole)."""
        target = plan.target
        try:  # what a replaced copy's migrate made goes with its tables, and the views an
            earlier = _run(target)  # unfinished one dropped are still to be named
        except PreconditionError:
            earlier = None
        facts = json.loads(earlier.schema) if earlier is not None else {}
        keep = ("created",) if earlier is None or earlier.state == COMPLETE else ("created", "dropped_views")
        try:
            drop(target)
            with target.connection.schema_editor() as editor:
                editor.create_model(_runs())
                editor.create_model(_positions())
                for sql in target.adapter.exact_text_sql(TABLE_TABLE, "table", 255):  # table names
                    editor.execute(sql)
        except DatabaseError as e:
            raise TransferError(
                f"Could not create the journal tables on {target.display}: {first_line(e)}."
            ) from e
        now = timezone.now()
        schema = {"path": plan.path, "created": [], **{k: facts[k] for k in keep if k in facts}}
        _runs().objects.using(target.alias).create(
            id=_RUN_ID, source=_source(plan), plan=json.dumps(table_shapes(plan.jobs), sort_keys=True),
            state=SCHEMA, schema=json.dumps(schema), started=now, updated=now)
        parts = list(parts) if parts is not None else whole_tables(plan.jobs)
        journal = cls(target, SCHEMA, {p: Position(None, 0) for p in parts}, schema=schema)
        positions = _positions()
        positions.objects.using(target.alias).bulk_create([
            positions(table=p.table, part=p.index, after=_bound(p.after), through=_bound(p.through),
                      run=journal.run)
            for p in parts
        ])
        return journal

    @classmethod
    def reopen(cls, plan) -> Journal:
        """The journal of the interrupted copy ``plan`` continues, after checking it still fits.

        Refuses (:class:`PreconditionError`) when there is nothing to resume,
        or when the source or the project changed in a way that would make
        the resumed copy differ from an uninterrupted one; the rows it holds are
        checked by :func:`portadb.preconditions.check_committed`.
        """
        target = plan.target
        run = _run(target)
        if run is None:
            raise PreconditionError(
                f"Nothing to resume: {target.display} holds no journal of an interrupted copy."
            )
        if run.state == COMPLETE:
            raise PreconditionError(
                f"Nothing to resume: the copy into {target.display} finished at "
                f"{run.updated:%Y-%m-%d %H:%M:%S %Z}."
            )
        if run.source != _source(plan):
            raise PreconditionError(
                f"Cannot resume: the interrupted copy read from {json.loads(run.source)['display']}, "
                f"not from {plan.source.display}."
            )
        changed = _changed_tables(json.loads(run.plan), table_shapes(plan.jobs))
        if changed:
            raise PreconditionError(
                "Cannot resume: the tables or columns of the project changed since the copy "
                f"started ({', '.join(changed)}); copy again with --replace."
            )
        rows = _shares(plan, _positions().objects.using(target.alias).values_list("table", flat=True))
        try:
            positions = {
                _part(r, rows): Position(decode_key(r.position), r.rows, r.rejected)
                for r in _positions().objects.using(target.alias).order_by("table", "part")
            }
        except DatabaseError as e:  # a journal without the rejected column
            raise PreconditionError(
                f"Cannot resume: the journal on {target.display} was written by an older portadb "
                f"({first_line(e)}); copy again with --replace."
            ) from e
        stored = json.loads(run.deferred)
        if any(len(item) != 5 for item in stored):
            raise PreconditionError(
                f"Cannot resume: the journal on {target.display} was written by an older portadb;"
                " copy again with --replace."
            )
        deferred = [BuildStep(*item) for item in stored]
        journal = cls(target, run.state, positions, deferred, json.loads(run.schema))
        # Take the tables over: this waits for any chunk an earlier run's writer still
        # has open, and after it no such writer commits again.
        _positions().objects.using(target.alias).update(run=journal.run)
        return journal

    def schema_done(self, deferred: Sequence) -> None:
        """The tables exist; keep ``deferred`` (indexes, constraints) for after the data.

        Kept as SQL text: a resumed copy runs exactly what this one would have,
        whatever made the statements.
        """
        self.deferred = list(deferred)
        stored = json.dumps([[d.sql, d.table, d.name, d.kind, d.references] for d in self.deferred])
        self._set_state(LOADING, deferred=stored)  # one UPDATE: both or neither

    def note_schema(self, **facts) -> None:
        """Record facts of the schema step (:attr:`schema`) as they become true."""
        self.schema.update(facts)
        _runs().objects.using(self.target.alias).filter(id=_RUN_ID).update(
            schema=json.dumps(self.schema), updated=timezone.now())

    def advance(self, part: Part, key: Sequence, rows: int, rejected: int = 0) -> None:
        """Record a chunk of ``part``: ``rows`` written, ``rejected`` left out, up to ``key``;
        call it inside the transaction that writes the chunk."""
        updated = _positions().objects.using(self.target.alias).filter(
            table=part.table, part=part.index, run=self.run
        ).update(position=encode_key(key), rows=F("rows") + rows, rejected=F("rejected") + rejected)
        if not updated:
            raise TransferError(
                f"Another run of this copy took {part.table} over on {self.target.display}; this one stops"
                " (nothing of its last chunk was written)."
            )

    def complete(self) -> None:
        """The copy is done: the run row stays (where the data came from, what was built);
        the per-table positions, which only a resume needs, go."""
        self._set_state(COMPLETE)
        with self.target.connection.schema_editor() as editor:
            editor.delete_model(_positions())

    def after(self, part: Part) -> list | None:
        """The key to read ``part`` after, or ``None`` to read the table from the start."""
        key = self.positions[part].key
        return key if key is not None else (None if part.after is None else list(part.after))

    def rejected(self) -> dict[str, int]:
        """Rows the interrupted copy read and rejected, per table, up to its committed keys."""
        out: dict[str, int] = {}
        for part, pos in self.positions.items():
            out[part.table] = out.get(part.table, 0) + pos.rejected
        return out

    def committed(self, table: str) -> int:
        """Rows of ``table`` read by the interrupted copy: written or rejected."""
        return sum(pos.rows + pos.rejected for part, pos in self.positions.items() if part.table == table)

    def _set_state(self, state: str, **more) -> None:
        _runs().objects.using(self.target.alias).filter(id=_RUN_ID).update(
            state=state, updated=timezone.now(), **more
        )
        self.state = state


@dataclass(frozen=True)
class Record:
    """What the journal on a target says of the copy that built it (:func:`record`)."""

    #: ``schema``, ``loading`` or ``complete``.
    state: str
    #: How the source shows (no password), and when the copy started and last moved.
    source: str
    started: object
    updated: object
    #: The keys, indexes and foreign keys built after the data.
    deferred: list[BuildStep]
    #: How the schema was built (see :attr:`Journal.schema`).
    schema: dict
    #: The source's identity (:func:`~portadb.endpoints.identity`) and the copied tables'
    #: columns and keys (:func:`table_shapes`), as stored.
    identity: list
    shape: dict

    @property
    def complete(self) -> bool:
        return self.state == COMPLETE

    def describe(self) -> str:
        if self.complete:
            return f"a complete copy from {self.source}, finished {self.updated:%Y-%m-%d %H:%M:%S %Z}"
        return (f"an unfinished copy from {self.source}, stopped while {_DOING[self.state]}"
                f" at {self.updated:%Y-%m-%d %H:%M:%S %Z}")


_DOING = {SCHEMA: "building the schema", LOADING: "loading rows or building keys"}


def record(target: Endpoint) -> Record | None:
    """What the journal on ``target`` says, or ``None`` where no portadb copy left one."""
    run = _run(target)
    if run is None:
        return None
    stored, source = json.loads(run.deferred), json.loads(run.source)
    deferred = [BuildStep(*item) for item in stored if len(item) == 5]
    return Record(run.state, source["display"], run.started, run.updated, deferred,
                  json.loads(run.schema), source["identity"], json.loads(run.plan))


def mark_synced(target: Endpoint) -> None:
    """A sync brought ``target`` up to date with its source: the run row says when."""
    _runs().objects.using(target.alias).filter(id=_RUN_ID).update(updated=timezone.now())


def summary(target: Endpoint) -> str | None:
    """One phrase on the journal ``target`` holds (for ``inspect``), or ``None`` without one."""
    try:
        built = record(target)
    except PreconditionError:
        return "a journal an older portadb wrote"
    return built.describe() if built is not None else None


def interrupted(target: Endpoint) -> bool:
    """Whether ``target`` holds the journal of a copy that did not finish."""
    try:
        return (run := _run(target)) is not None and run.state != COMPLETE
    except PreconditionError:  # an older portadb's: it may not have finished
        return True


def drop(target: Endpoint) -> None:
    """Remove the journal tables, and the fingerprints of the last sync, from ``target``."""
    fingerprints.drop(target)
    present = set(target.adapter.table_names())
    with target.connection.schema_editor() as editor:
        for model in (_positions(), _runs()):
            if model._meta.db_table in present:
                editor.delete_model(model)


def _run(target: Endpoint):
    if RUN_TABLE not in target.adapter.table_names():
        return None
    try:
        return _runs().objects.using(target.alias).filter(id=_RUN_ID).first()
    except DatabaseError as e:  # a journal without the newer columns
        raise PreconditionError(
            f"The journal on {target.display} was written by an older portadb ({first_line(e)}); "
            "copy again with --replace."
        ) from e


def _bound(key: tuple | None) -> str | None:
    return encode_key(key) if key is not None else None


def _part(row, rows: dict[str, int]) -> Part:
    """The part a journal row records, with its share of its table's rows (for the order)."""
    after, through = decode_key(row.after), decode_key(row.through)
    return Part(row.table, row.part, None if after is None else tuple(after),
                None if through is None else tuple(through), rows.get(row.table, 0))


def _shares(plan, tables) -> dict[str, int]:
    """Each table's source rows divided among its parts."""
    parts = Counter(tables)
    return {j.table: j.source_rows // parts[j.table] for j in plan.jobs if parts[j.table]}


def _source(plan) -> str:
    """The source's identity (never its password) as stored text."""
    return json.dumps({"identity": list(identity(plan.source.alias)), "display": plan.source.display},
                      sort_keys=True)


def table_shapes(jobs) -> dict:
    """Tables, columns and keys of table jobs: what a resume or a sync must find unchanged."""
    return {j.table: [j.column_names, j.key] for j in jobs}


def _changed_tables(before: dict, now: dict) -> list[str]:
    return sorted(t for t in before.keys() | now.keys() if before.get(t) != now.get(t))
