"""The phases of a copy, in the order pgloader and ``loaddata`` taught us.

endpoints -> inspect -> plan -> schema -> transfer -> finalize -> report.
Everything that can refuse the copy is checked before the first write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from django.db import DatabaseError

from . import parallel, schema
from .capabilities import check_target_can_hold, left_behind
from .endpoints import Endpoint, check_distinct, resolve
from .exceptions import EndpointError, PortadbError, PreconditionError, SelectionError
from .inspect import inventory, not_replayed
from .models import label, project_models, shared_models
from .plan import Plan, table_jobs
from .progress import Progress
from .reports import CopyReport, Finding, FindingKind, Severity, TableResult
from .selection import missing_rows, outside_references, select_models
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
        raise EndpointError(f"The database file {name!r} does not exist.")
    try:
        conn.ensure_connection()
    except Exception as e:
        raise EndpointError(f"Cannot connect to {endpoint.display}: {_first_line(e)}") from e


def make_plan(source: Endpoint, target: Endpoint, models: Sequence[str] = (),
              exclude: Sequence[str] = ()) -> Plan:
    """Inspect both sides and decide every table job; nothing is written."""
    try:
        inv = inventory(source)
        # The target gets every table it can have; rows come for those also on the source.
        everything = project_models(target.alias)
        models = select_models(shared_models(source.alias, target.alias), models, exclude)
        unselected = [m for m in everything if m not in models]
        present = {t.name for t in inv.tables}
        missing = [m._meta.db_table for m in models if m._meta.db_table not in present]
        if missing:
            raise PreconditionError(
                f"The source {source.display} lacks the tables {', '.join(missing)}; "
                "run migrate (or createcachetable) on it first."
            )
        counts = {t.name: t.rows for t in inv.tables}
        planned = {m._meta.db_table for m in everything}
        on_target = set(target.adapter.table_names())
        target_tables = sorted({m._meta.db_table for m in models} & on_target)
        return Plan(
            source=source,
            target=target,
            jobs=table_jobs(models, source, target, counts),
            source_inventory=inv,
            target_tables=target_tables,
            unowned_tables=[t for t in inv.unowned_tables if t not in planned],
            unmanaged_models=inv.unmanaged_models,
            not_replayed=not_replayed(source),
            unselected=unselected,
            unselected_missing=[m for m in unselected if m._meta.db_table not in on_target],
            left_behind=left_behind(source, target),
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
    check_target_can_hold(plan.target, plan.models + plan.unselected_missing, plan.left_behind,
                          {t.name: t.rows for t in inv.tables})
    check_selection(plan)
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
        steps = schema.create_tables(tgt.connection, plan.unselected_missing + plan.models)
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
         confirm: Callable[[Plan], bool] | None = None,
         models: Sequence[str] = (), exclude: Sequence[str] = (),
         verify: bool = False, jobs: int = 1) -> CopyReport:
    """Copy every table of the project (or of ``models`` minus ``exclude``) from ``source`` to ``target``.

    ``verify`` proves the copy afterwards (:func:`portadb.verify`).
    """
    if chunk_size < 1:
        raise PortadbError("The chunk size must be a positive number of rows.")
    if jobs < 1:
        raise PortadbError("The number of jobs must be at least 1.")
    src, tgt = open_endpoints(source, target)
    try:
        plan = make_plan(src, tgt, models or (), exclude or ())
        check_preconditions(plan, replace)
        if plan.target_tables and confirm is not None and not confirm(plan):
            raise PreconditionError("Copy cancelled; nothing was written.")
        report = run(plan, replace=replace, chunk_size=chunk_size, progress=progress,
                     jobs=jobs)
        if verify:
            from .verify import verify_endpoints

            report.verification = verify_endpoints(src, tgt, plan.models)
        return report
    finally:
        close(src, tgt)


def check_selection(plan: Plan) -> None:
    """Refuse a selection whose foreign keys point at rows the target will not hold."""
    for ref in outside_references(plan.models, plan.unselected):
        held = ref.referenced not in plan.unselected_missing
        missing = missing_rows(ref, plan.source.alias, plan.target.alias if held else None)
        if missing:
            raise SelectionError(
                f"{ref.describe()}, which is not selected, and the target lacks the rows "
                f"{', '.join(map(repr, missing))}; select {ref.referenced._meta.label} too."
            )


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
        + [Finding(FindingKind.VENDOR_ONLY_MODEL, Severity.WARNING,
                   f"Model {label(m)} exists only on {m._meta.required_db_vendor} and holds no rows;"
                   " it is not on the target.", model=label(m))
           for m in plan.left_behind]
        + [Finding(FindingKind.NOT_REPLAYED, Severity.WARNING,
                   f"Not replayed on the target: {op}.")
           for op in plan.not_replayed]
    )


def _sqlite_exists(name: str) -> bool:
    return name == ":memory:" or name.startswith("file:") or os.path.exists(name)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
