"""The phases of a copy, in the order pgloader and ``loaddata`` taught us.

endpoints -> inspect -> plan -> schema -> transfer -> finalize -> report.
Everything that can refuse the copy is checked before the first write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.db import DatabaseError

from . import schema
from .endpoints import Endpoint, check_distinct, resolve
from .exceptions import EndpointError, PortadbError, PreconditionError, TransferError, first_line
from .inspect import inventory, not_replayed
from .journal import SCHEMA, Journal, interrupted
from .models import project_models
from .plan import Plan, table_jobs
from .progress import Progress
from .reports import CopyReport, Finding, FindingKind, Severity, TableResult
from .transfer import copy_table

DEFAULT_CHUNK_SIZE = 20_000


def open_endpoints(source: str, target: str) -> tuple[Endpoint, Endpoint]:
    """Resolve and connect both sides; refuse one database twice."""
    src = resolve(source)
    try:
        tgt = resolve(target)
    except Exception:
        src.close()
        raise
    try:
        check_distinct(src, tgt)
        connect(src, must_exist=True)
        connect(tgt)
    except Exception:
        close(src, tgt)
        raise
    return src, tgt


def close(*endpoints: Endpoint) -> None:
    for endpoint in endpoints:
        endpoint.close()


def connect(endpoint: Endpoint, must_exist: bool = False) -> None:
    """Open the connection, or say in one sentence why it cannot be opened."""
    conn = endpoint.connection
    name = str(conn.settings_dict.get("NAME") or "")
    if must_exist and conn.vendor == "sqlite" and not _sqlite_exists(name):
        # sqlite3.connect() would create an empty file: never write a source.
        raise EndpointError(f"The source database file {name!r} does not exist.")
    try:
        conn.ensure_connection()
    except Exception as e:
        raise EndpointError(f"Cannot connect to {endpoint.display}: {first_line(e)}.") from e


def make_plan(source: Endpoint, target: Endpoint) -> Plan:
    """Inspect both sides and decide every table job; nothing is written."""
    try:
        inv = inventory(source)
        _check_migrations(source, inv)  # the likelier cause of missing tables: say it first
        models = project_models(target.alias)
        present = {t.name for t in inv.tables}
        missing = [m._meta.db_table for m in models if m._meta.db_table not in present]
        if missing:
            raise PreconditionError(
                f"The source {source.display} lacks the tables {', '.join(missing)} that the "
                "project's models need; create them (migrate, createcachetable) or restore them first."
            )
        counts = {t.name: t.rows for t in inv.tables}
        planned = {m._meta.db_table for m in models}
        target_tables = sorted(planned & set(target.adapter.table_names()))
        return Plan(
            source=source,
            target=target,
            jobs=table_jobs(models, source, target, counts),
            source_inventory=inv,
            target_tables=target_tables,
            unowned_tables=[t for t in inv.unowned_tables if t not in planned],
            unmanaged_models=inv.unmanaged_models,
            not_replayed=not_replayed(source),
        )
    except DatabaseError as e:
        raise EndpointError(f"Cannot inspect the databases: {first_line(e)}.") from e


def check_preconditions(plan: Plan, replace: bool) -> None:
    """Refuse a source whose models and migrations disagree, or a target in use."""
    inv = plan.source_inventory
    _check_migrations(plan.source, inv)
    if inv.unmigrated_changes:
        raise PreconditionError(
            "The models have changes that no migration records "
            f"({'; '.join(inv.unmigrated_changes)}); run makemigrations and migrate first."
        )
    if plan.target_tables and not replace:
        hint = "use --resume to continue the interrupted copy or --replace to start again" \
            if interrupted(plan.target) else "use --replace to drop and recreate them"
        raise PreconditionError(
            f"The target {plan.target.display} already holds {len(plan.target_tables)} tables of "
            f"this project; {hint}."
        )


def _check_migrations(source: Endpoint, inv) -> None:
    if inv.pending_migrations:
        raise PreconditionError(
            f"The source {source.display} has unapplied migrations "
            f"({', '.join(inv.pending_migrations)}); migrate it first so the models describe its data."
        )


def run(plan: Plan, *, replace: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: bool = False, clock: Callable[[], float] = time.perf_counter,
        journal: Journal | None = None) -> CopyReport:
    """Carry out ``plan``: schema, rows, constraints, sequences, counts.

    Pass the :class:`~portadb.journal.Journal` of an interrupted copy to
    resume it; without one a fresh journal is started on the target.
    """
    started = clock()
    src, tgt = plan.source, plan.target
    report = CopyReport(source=src.display, target=tgt.display, resumed=journal is not None)
    report.findings += _plan_findings(plan)
    bars = Progress(progress, sum(j.source_rows for j in plan.jobs))
    timings = {}
    with src.adapter.snapshot():
        journal = journal or Journal.begin(plan)
        steps = _schema(plan, journal, drop=replace or report.resumed)
        with tgt.adapter.load_session():
            for job in plan.jobs:
                bar = bars.table(job.table, job.source_rows)
                _Both(bar, bars.overall).update(journal.committed(job.table))
                t0 = clock()
                copy_table(src, tgt, job, chunk_size, _Both(bar, bars.overall), journal)
                timings[job.table] = clock() - t0
                bar.close()
    bars.close()
    schema.check_references(tgt.connection, plan.models)
    # Only a resumed copy can find some of them built already.
    deferred = schema.unbuilt(tgt.connection, steps.deferred) if report.resumed else steps.deferred
    schema.build_deferred(tgt.connection, deferred)
    report.sequences_reset = len(tgt.adapter.reset_sequences(plan.models))
    for job in plan.jobs:
        report.tables.append(
            TableResult(job.table, job.label, job.source_rows, tgt.adapter.count(job.table),
                        round(timings[job.table], 3))
        )
    report.findings += [
        Finding(FindingKind.COUNT_MISMATCH, Severity.ERROR,
                f"{t.table}: {t.source_rows} rows on the source, {t.target_rows} on the target.",
                table=t.table, model=t.model)
        for t in report.tables if not t.ok
    ]
    journal.complete()
    report.seconds = round(clock() - started, 3)
    return report


def _schema(plan: Plan, journal: Journal, drop: bool) -> schema.SchemaSteps:
    """Create the target tables, unless an interrupted copy already made all of them.

    With ``drop``, the project's tables already there go first: replaced, or
    left by a schema step that was cut short (the journal proves them empty).
    """
    tgt = plan.target
    if journal.state != SCHEMA:
        return schema.create_tables(tgt.connection, plan.models, collect_only=True)
    if drop and plan.target_tables:
        tgt.adapter.drop_tables(plan.target_tables)
    steps = schema.create_tables(tgt.connection, plan.models)
    journal.schema_done()
    return steps


def copy(source: str, target: str, *, replace: bool = False, resume: bool = False,
         chunk_size: int = DEFAULT_CHUNK_SIZE, progress: bool = False,
         confirm: Callable[[Plan], bool] | None = None) -> CopyReport:
    """Copy every table of the project from ``source`` to ``target``."""
    if chunk_size < 1:
        raise PortadbError("The chunk size must be a positive number of rows.")
    if resume and replace:
        raise PortadbError("--resume continues a copy and --replace starts it again; choose one.")
    src, tgt = open_endpoints(source, target)
    try:
        plan = make_plan(src, tgt)
        check_preconditions(plan, replace or resume)
        journal = Journal.reopen(plan) if resume else None
        if plan.target_tables and not resume and confirm is not None and not confirm(plan):
            raise PreconditionError("Copy cancelled; nothing was written.")
        return run(plan, replace=replace, chunk_size=chunk_size, progress=progress,
                   journal=journal)
    except DatabaseError as e:  # a server gone away, a full disk, a missing privilege
        raise TransferError(
            f"The copy into {tgt.display} stopped: {first_line(e)}; "
            "run the same copy with --resume to continue."
        ) from e
    finally:
        close(src, tgt)


class _Both:
    """Feed one table's bar and the overall bar together."""

    def __init__(self, *bars):
        self.bars = bars

    def update(self, n: int) -> None:
        for bar in self.bars:
            bar.update(n)


def _plan_findings(plan: Plan) -> list[Finding]:
    return (
        [Finding(FindingKind.UNOWNED_TABLE, Severity.WARNING,
                 f"Table {t} belongs to no model and was not copied.", table=t)
         for t in plan.unowned_tables]
        + [Finding(FindingKind.UNMANAGED_MODEL, Severity.WARNING,
                   f"Model {m} is unmanaged; its table was not copied.", model=m)
           for m in plan.unmanaged_models]
        + [Finding(FindingKind.NOT_REPLAYED, Severity.WARNING,
                   f"Not replayed on the target: {op}.")
           for op in plan.not_replayed]
    )


def _sqlite_exists(name: str) -> bool:
    return name == ":memory:" or name.startswith("file:") or os.path.exists(name)
