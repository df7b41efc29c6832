"""The phases of a copy, in the order pgloader and ``loaddata`` taught us.

endpoints -> inspect -> plan -> schema -> transfer -> finalize -> report.
Everything that can refuse the copy is checked before the first write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.db import DatabaseError

from . import parallel, schema
from .endpoints import Endpoint, check_distinct, resolve
from .exceptions import EndpointError, PortadbError, PreconditionError
from .inspect import inventory, not_replayed
from .models import project_models
from .plan import Plan, table_jobs
from .progress import Progress
from .reports import CopyReport, Finding, FindingKind, Severity, TableResult
from .transfer import collector_paused, copy_table

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
        raise EndpointError(f"Cannot connect to {endpoint.display}: {_first_line(e)}") from e


def make_plan(source: Endpoint, target: Endpoint) -> Plan:
    """Inspect both sides and decide every table job; nothing is written."""
    try:
        inv = inventory(source)
        models = project_models(target.alias)
        present = {t.name for t in inv.tables}
        missing = [m._meta.db_table for m in models if m._meta.db_table not in present]
        if missing:
            raise PreconditionError(
                f"The source {source.display} lacks the tables {', '.join(missing)}; "
                "run migrate (or createcachetable) on it first."
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
        raise EndpointError(f"Cannot inspect the databases: {_first_line(e)}") from e


def check_preconditions(plan: Plan, replace: bool) -> None:
    """Refuse a source whose models and migrations disagree, or a target in use."""
    inv = plan.source_inventory
    if inv.pending_migrations:
        raise PreconditionError(
            f"The source {plan.source.display} has unapplied migrations "
            f"({', '.join(inv.pending_migrations)}); migrate it first so the models describe its data."
        )
    if inv.unmigrated_changes:
        raise PreconditionError(
            "The models have changes that no migration records "
            f"({'; '.join(inv.unmigrated_changes)}); run makemigrations and migrate first."
        )
    if plan.target_tables and not replace:
        raise PreconditionError(
            f"The target {plan.target.display} already holds {len(plan.target_tables)} tables of "
            "this project; use --replace to drop and recreate them."
        )


def run(plan: Plan, *, replace: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: bool = False, clock: Callable[[], float] = time.perf_counter,
        jobs: int = 1) -> CopyReport:
    """Carry out ``plan``: schema, rows, constraints, sequences, counts."""
    started = clock()
    src, tgt = plan.source, plan.target
    report = CopyReport(source=src.display, target=tgt.display)
    report.findings += _plan_findings(plan)
    bars = Progress(progress, sum(j.source_rows for j in plan.jobs))
    timings = {}
    with src.adapter.snapshot():
        if replace and plan.target_tables:
            tgt.adapter.drop_tables(plan.target_tables)
        steps = schema.create_tables(tgt.connection, plan.models)
        steps.deferred[:0] = tgt.adapter.defer_keys([job.table for job in plan.jobs])
        with tgt.adapter.load_session(), collector_paused():
            if parallel.usable(src, tgt, jobs):
                timings = parallel.copy_tables(src, tgt, plan.jobs, chunk_size, jobs, bars.overall)
            for job in plan.jobs:
                if job.table in timings:
                    continue  # copied by the workers
                bar = bars.table(job.table, job.source_rows)
                t0 = clock()
                copy_table(src, tgt, job, chunk_size, _Both(bar, bars.overall))
                timings[job.table] = clock() - t0
                bar.close()
    bars.close()
    schema.check_references(tgt.connection, plan.models)
    schema.build_deferred(tgt.connection, steps.deferred,
                          workers=jobs if tgt.adapter.parallel_writes else 1)
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
    report.seconds = round(clock() - started, 3)
    return report


def copy(source: str, target: str, *, replace: bool = False,
         chunk_size: int = DEFAULT_CHUNK_SIZE, progress: bool = False,
         confirm: Callable[[Plan], bool] | None = None, jobs: int = 1) -> CopyReport:
    """Copy every table of the project from ``source`` to ``target``."""
    if chunk_size < 1:
        raise PortadbError("The chunk size must be a positive number of rows.")
    if jobs < 1:
        raise PortadbError("The number of jobs must be at least 1.")
    src, tgt = open_endpoints(source, target)
    try:
        plan = make_plan(src, tgt)
        check_preconditions(plan, replace)
        if plan.target_tables and confirm is not None and not confirm(plan):
            raise PreconditionError("Copy cancelled; nothing was written.")
        return run(plan, replace=replace, chunk_size=chunk_size, progress=progress, jobs=jobs)
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


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
