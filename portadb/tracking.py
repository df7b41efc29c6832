"""A change log on the source: after ``copy --track-changes`` a sync reads only what changed.

Fingerprints (:mod:`portadb.fingerprints`) spare a sync from reading unchanged
rows on both sides, but the source still hashes every row, so a sync costs
time in proportion to the database, not to what changed. With
``--track-changes`` the copy first installs, on each source table whose key
is one integer column, triggers that write the key of every row inserted,
updated or deleted into ``portadb_change`` on the source, in the writing
transaction (:meth:`~portadb.backends.base.Adapter.track_sql`). They are
committed before the copy's snapshot begins, so every change the copy did
not see is in the log. A sync reads the log in its own snapshot, compares
the rows of the logged keys only, and once the target has committed deletes
exactly the entries it read: one that commits later, with a smaller id,
stays for the next sync.

A table's log is trusted only while it can be (:func:`read`): the target's
journal and ``portadb_tracking`` on the source name the same installation,
all of the table's triggers are there and enabled, and nothing truncated the
table (PostgreSQL logs a TRUNCATE; the count check below sees it elsewhere).
The sync then checks that the counts add up: the target's rows, plus the
logged rows the source holds and the target lacks, minus the reverse, must
be the source's rows; else the table is compared in full.
``portadb inspect --untrack`` removes triggers and tables.
"""

from __future__ import annotations

import operator
import re
import uuid
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, reduce

from django.apps.registry import Apps
from django.db import DatabaseError, models, transaction
from django.db.models import Q

from .endpoints import Endpoint
from .exceptions import PreconditionError, first_line
from .parts import splittable
from .plan import TableJob

LOG = "portadb_change"
TABLES = "portadb_tracking"
#: Log entries deleted per statement once a sync has committed.
BATCH = 1_000
#: Ranges of consecutive entries deleted per statement (one OR each: SQLite caps the depth).
RANGES = 100
#: A table of more than :data:`BIG` rows whose logged keys are more than this share of them
#: is compared in full: reading it in key order is then cheaper than reading keys one by one.
MOST = 0.25
BIG = 10_000


@cache
def log_model() -> type[models.Model]:
    """``portadb_change``: one row per key a write touched, with the id of its table."""
    return _model("ChangeRow", LOG, id=models.BigAutoField(primary_key=True),
                  table_id=models.IntegerField(), row_key=models.BigIntegerField(null=True))


@cache
def tables_model() -> type[models.Model]:
    """``portadb_tracking``: the tracked tables, their ids in the log, and the installation."""
    return _model("TrackedTable", TABLES, table_name=models.CharField(max_length=255),
                  token=models.CharField(max_length=32))


def _model(name: str, table: str, **fields) -> type[models.Model]:
    meta = type("Meta", (), {"apps": Apps(), "app_label": "portadb_tracking", "db_table": table})
    return type(name, (models.Model,), {"__module__": __name__, "Meta": meta, **fields})


def install(source: Endpoint, jobs: Iterable[TableJob]) -> tuple[str, dict[str, str]]:
    """Install the change log on ``source`` for ``jobs``' tables, replacing any earlier one;
    returns its token and, per table left untracked, why. Call before the copy's snapshot."""
    adapter = source.adapter
    token = uuid.uuid4().hex
    untracked: dict[str, str] = {}
    try:
        remove(source)
        with source.connection.schema_editor() as editor:  # SQLite's: outside a transaction
            editor.create_model(log_model())
            editor.create_model(tables_model())
        with transaction.atomic(using=source.alias):  # all triggers or none, where DDL is transactional
            for job in jobs:
                reason = _untrackable(adapter, job)
                if reason:
                    untracked[job.label] = reason
                    continue
                row = tables_model().objects.using(source.alias).create(table_name=job.table, token=token)
                with source.connection.cursor() as cursor:
                    for sql in adapter.track_sql(job.table, job.key[0], row.id, LOG):
                        cursor.execute(sql)
    except DatabaseError as e:
        _remove_quietly(source)  # MySQL commits each CREATE TRIGGER: take back what was made
        raise PreconditionError(
            f"Could not install the change log on {source.display}: {first_line(e)};"
            " copy without --track-changes, or with a user allowed to create triggers."
        ) from e
    return token, untracked


def _untrackable(adapter, job: TableJob) -> str | None:
    if not splittable(job):
        return "its primary key is not one integer column"
    return adapter.untrackable(job.table)


def remove(source: Endpoint) -> bool:
    """Remove the change log's triggers and tables from ``source``; whether there was one."""
    adapter = source.adapter
    present = set(adapter.table_names())
    tracked = {(t.table_name, t.id) for t in tables_model().objects.using(source.alias)} \
        if TABLES in present else set()
    for table, name in adapter.enabled_triggers():  # also those of an install cut short
        if match := re.fullmatch(r"portadb_(\d+)_[a-z]+", name):
            tracked.add((table, int(match[1])))
    with source.connection.cursor() as cursor:
        for table, table_id in sorted(tracked):
            for sql in adapter.untrack_sql(table, table_id):
                cursor.execute(sql)
    with source.connection.schema_editor() as editor:
        for model in (log_model(), tables_model()):
            if model._meta.db_table in present:
                editor.delete_model(model)
    return bool(tracked) or bool(present & {LOG, TABLES})


def _remove_quietly(source: Endpoint) -> None:
    try:
        remove(source)
    except DatabaseError:
        pass  # the first error is the one to report


def installed(source: Endpoint) -> int | None:
    """How many tables the change log on ``source`` tracks, or ``None`` without one."""
    if TABLES not in source.adapter.table_names():
        return None
    return tables_model().objects.using(source.alias).count()


def untrack_hint(source: Endpoint) -> str:
    """How a user removes the change log from ``source``."""
    return f"portadb inspect --database={'<its URL>' if source.temporary else source.alias} --untrack"


def lingering(source: Endpoint) -> str | None:
    """A sentence on a change log left on ``source`` that this run does not use, or ``None``."""
    tables = installed(source)
    if tables is None:
        return None
    return (f"{source.display} still logs every write to {tables} tables for portadb sync (the change log"
            " of an earlier copy --track-changes); if no target syncs from it any more, remove it with"
            f" {untrack_hint(source)}.")


@dataclass
class Log:
    """What the change log says, read in a sync's snapshot of the source."""

    #: Per table whose log is trusted: the distinct keys written since the last sync, in order
    #: (eight bytes a key, as the entries: a long log costs no Python object per entry).
    keys: dict[str, array] = field(default_factory=dict)
    #: Per table whose log is not trusted: why (it is compared as without a log).
    distrusted: dict[str, str] = field(default_factory=dict)
    #: Per table of the sync: the log entries read, deleted once the sync has committed.
    entries: dict[str, array] = field(default_factory=dict)


def read(source: Endpoint, token: str | None, jobs: Sequence[TableJob]) -> Log | None:
    """The log of ``jobs``' tables in the caller's snapshot, where the copy that built the target
    installed it (its ``token``); ``None`` where it did not, or the log is gone."""
    if not token or TABLES not in source.adapter.table_names():
        return None
    ids = {t.table_name: t.id for t in tables_model().objects.using(source.alias).filter(token=token)}
    if not ids:
        return None
    log = Log()
    enabled = source.adapter.enabled_triggers()
    tables = {ids[job.table]: job.table for job in jobs if job.table in ids}
    for table_id, table in tables.items():
        expected = {(table, name) for name in source.adapter.tracking_triggers(table_id)}
        if not expected <= enabled:
            log.distrusted[table] = "its triggers are gone or disabled"
        log.entries[table] = array("q")
    keys = {table: array("q") for table in tables.values()}
    rows = log_model().objects.using(source.alias).filter(table_id__in=list(tables))
    for entry, table_id, key in (rows.order_by("table_id", "row_key")  # a key's entries side by side
                                 .values_list("id", "table_id", "row_key").iterator(10_000)):
        table = tables[table_id]
        log.entries[table].append(entry)
        if key is None:
            log.distrusted.setdefault(table, "it was truncated")
        elif not keys[table] or keys[table][-1] != key:
            keys[table].append(key)
    log.keys = {table: keys[table] for table in tables.values() if table not in log.distrusted}
    return log


def consume(source: Endpoint, log: Log, tables: Iterable[str]) -> None:
    """Delete the entries of ``tables`` that ``log`` read (a sync committed what they name)."""
    rows = log_model().objects.using(source.alias)
    runs = _runs(sorted(entry for table in tables for entry in log.entries.get(table, ())))
    single = [low for low, high in runs if low == high]
    ranges = [(low, high) for low, high in runs if low != high]
    with transaction.atomic(using=source.alias):
        for i in range(0, len(single), BATCH):
            rows.filter(id__in=single[i:i + BATCH]).delete()
        for i in range(0, len(ranges), RANGES):
            rows.filter(reduce(operator.or_, (Q(id__range=r) for r in ranges[i:i + RANGES]))).delete()


def _runs(ids: list[int]) -> list[tuple[int, int]]:
    """Sorted ``ids`` as ranges of consecutive ones: a range holds no entry the sync did not read
    (a concurrent writer's), however the ids were handed out."""
    runs: list[tuple[int, int]] = []
    for n in ids:
        if runs and runs[-1][1] + 1 == n:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
