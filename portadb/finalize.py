"""Complete the target after the rows: keys, indexes, foreign keys, sequences, counts.

The order ``loaddata`` and pgloader use: the data is in, so the keys and
indexes kept back are built (side by side where the target allows), each
foreign key after the keys and indexes of its tables, where the target adds
it unchecked after the search of its tables' references too, and none once a
row points nowhere (:func:`portadb.schema.build_deferred`); then every auto
primary key's sequence is moved past the copied keys and up to the source's
counter (:mod:`portadb.sequences`); then each table is counted on the target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import models

from . import drift, schema
from .endpoints import Endpoint
from .exceptions import TransferError
from .plan import Plan
from .references import check_references
from .reports.model import Finding, FindingKind, Severity, TableResult
from .sequences import follow_source


def complete_target(plan: Plan, deferred: list[schema.BuildStep], *, resumed: bool, replace: bool,
                    jobs: int) -> tuple[int, list[Finding]]:
    """Build what was kept back, restore foreign keys a selection's drop took, reset sequences.

    Returns how many auto primary keys' sequences (or counters) now continue past the copied keys,
    and a warning for each that could not follow the source's counter.
    """
    tgt = plan.target
    # A target that checks each foreign key as it adds it is searched for the
    # dangling rows only when that fails, to name them.
    checked_when_built = tgt.adapter.validates_foreign_keys_when_built
    if resumed:  # the interrupted run may have built some of them
        deferred = schema.unbuilt(tgt.connection, deferred)
    try:
        schema.build_deferred(tgt.connection, deferred, workers=jobs if tgt.adapter.parallel_writes else 1,
                              check=() if checked_when_built else plan.models)
    except TransferError:
        if checked_when_built:
            check_references(tgt.connection, plan.models)
        raise
    if plan.unselected and replace:
        schema.restore_foreign_keys(tgt.connection, plan.unselected, plan.models)
    refresh_derived(tgt)  # a materialized view a migration made over the empty tables
    tgt.adapter.reset_sequences(plan.models)
    behind = follow_source(plan.source, tgt, plan.models)
    # Counted as verify counts them: a backend whose counters follow the
    # inserted keys (MySQL's AUTO_INCREMENT) needs no statement, yet each is set.
    return sum(isinstance(model._meta.pk, models.AutoField) for model in plan.models), behind


def refresh_derived(tgt: Endpoint, tables: Sequence[str] | None = None) -> list[str]:
    """Bring what the target derives from the rows up to date (PostgreSQL's materialized
    views: :meth:`~portadb.backends.statements.Statements.derived_sql`), or, with ``tables``,
    what reads those; their names."""
    sql = tgt.adapter.derived_sql()
    if sql is None or (tables is not None and not tables):  # a sync that wrote nothing
        return []
    reading = schema.dependent_views(tgt.connection, tables) if tables is not None else None
    with tgt.connection.cursor() as cursor:
        cursor.execute(sql)
        names = [name for name, in cursor.fetchall() if reading is None or name in reading]
        for name in names:
            cursor.execute(tgt.adapter.refresh_sql(name))
    return names


def lost_views(tgt: Endpoint, dropped: Mapping[str, str]) -> list[Finding]:
    """A warning for each view of ``dropped`` (name: ``CREATE`` statement) that went with the
    tables ``--replace`` dropped and that the build did not make again."""
    if not dropped:
        return []
    again = schema.dependent_views(tgt.connection, tgt.adapter.table_names())
    return [Finding(FindingKind.VIEW_DROPPED, Severity.WARNING,
                    f"The view {name} read tables that --replace dropped, so it went with them and"
                    f" nothing made it again; make it again with: {create}", table=name)
            for name, create in dropped.items() if name not in again]


def count_tables(plan: Plan, loaded: Mapping[str, tuple[float, int]],
                 rejected: Mapping[str, int]) -> tuple[list[TableResult], list[Finding]]:
    """Each table's rows on both sides, and a finding per table whose counts disagree.

    ``loaded``: per table, the seconds its load took and its source rows as the load read them.
    """
    tables = [
        TableResult(job.table, job.label, loaded[job.table][1], plan.target.adapter.count(job.table),
                    round(loaded[job.table][0], 3), rejected=rejected[job.table])
        for job in plan.jobs
    ]
    findings = [
        Finding(FindingKind.COUNT_MISMATCH, Severity.ERROR,
                f"{t.table}: {t.source_rows} rows on the source, {t.target_rows} on the target.",
                table=t.table, model=t.model)
        for t in tables if not t.ok
    ]
    return tables, findings


def schema_drift(plan: Plan, built: dict | None) -> list[Finding]:
    """A finding per difference between the target's schema now and what ``migrate`` built."""
    if not built:
        return []
    now = drift.snapshot(plan.target.connection, built.keys())
    return [Finding(FindingKind.SCHEMA_DRIFT, Severity.ERROR,
                    f"The target's schema differs from what migrate built: {line}.", table=line.split(":")[0])
            for line in drift.drift(built, now)]
