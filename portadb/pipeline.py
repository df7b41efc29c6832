"""The phases of a copy, in the order pgloader and ``loaddata`` taught us.

endpoints -> inspect -> plan -> schema -> transfer -> finalize -> report.
Everything that can refuse the copy is checked before the first write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from django.db import DatabaseError

from . import guard, parallel, schema
from .capabilities import check_target_can_hold, left_behind
from .endpoints import Endpoint, check_distinct, resolve
from .exceptions import (
    EndpointError,
    PortadbError,
    PreconditionError,
    SelectionError,
    TransferError,
    first_line,
)
from .inspect import inventory, not_replayed
from .journal import SCHEMA, Journal, interrupted
from .models import label, project_models, shared_models
from .plan import Plan, table_jobs
from .progress import Progress
from .reports import CopyReport, Finding, FindingKind, Severity, TableResult
from .selection import missing_rows, outside_references, select_models
from .transfer import collector_paused, copy_table

DEFAULT_CHUNK_SIZE = 20_000


def open_endpoints(source: str, target: str, *,
                   target_must_exist: bool = False) -> tuple[Endpoint, Endpoint]:
    """Resolve and connect both sides; refuse one database twice.

    A SQLite source must exist (connecting would create it); so must the
    target when it is only read (``target_must_exist``).
    """
    src = resolve(source)
    try:
        tgt = resolve(target)
    except Exception:
        src.close()
        raise
    try:
        check_distinct(src, tgt)
        connect(src, must_exist=True)
        connect(tgt, must_exist=target_must_exist)
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
    if must_exist and endpoint.adapter.missing():
        # Connecting would create it (a SQLite file): never write a source.
        name = str(conn.settings_dict.get("NAME") or "")
        raise EndpointError(f"The database file {name!r} does not exist.")
    try:
        conn.ensure_connection()
    except Exception as e:
        raise EndpointError(f"Cannot connect to {endpoint.display}: {first_line(e)}.") from e


def make_plan(source: Endpoint, target: Endpoint, models: Sequence[str] = (),
              exclude: Sequence[str] = (), sizes: bool = True) -> Plan:
    """Inspect both sides and decide every table job; nothing is written.

    ``sizes``: read the source tables' sizes on disk too (the dry-run reports them).
    """
    try:
        inv = inventory(source, sizes=sizes)
        _check_migrations(source, inv)  # the likelier cause of missing tables: say it first
        # The target gets every table it can have; rows come for those also on the source.
        everything = project_models(target.alias)
        models = select_models(shared_models(source.alias, target.alias), models, exclude)
        unselected = [m for m in everything if m not in models]
        present = {t.name for t in inv.tables}
        missing = [m._meta.db_table for m in models if m._meta.db_table not in present]
        if missing:
            raise PreconditionError(
                f"The source {source.display} lacks the tables {', '.join(missing)} that the "
                "project's models need; create them (migrate, createcachetable) or restore them first."
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
    check_target_can_hold(plan.target, plan.models + plan.unselected_missing, plan.left_behind,
                          {t.name: t.rows for t in inv.tables})
    check_selection(plan)
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
        on_error: str = "abort", reject_file: str | None = None,
        journal: Journal | None = None, jobs: int = 1) -> CopyReport:
    """Carry out ``plan``: schema, rows, constraints, sequences, counts.

    Pass the :class:`~portadb.journal.Journal` of an interrupted copy to
    resume it; without one a fresh journal is started on the target.
    ``jobs`` worker processes copy tables side by side where both backends allow.
    """
    started = clock()
    src, tgt = plan.source, plan.target
    report = CopyReport(source=src.display, target=tgt.display, resumed=journal is not None)
    report.findings += _plan_findings(plan)
    bars = Progress(progress, sum(j.source_rows for j in plan.jobs))
    timings = {}
    # The policy for refused values; with reject, it scans the source first, in the snapshot.
    with src.adapter.snapshot(), \
            guard.for_copy(plan, on_error, reject_file, chunk_size, resumed=journal is not None) as policy:
        journal = journal or Journal.begin(plan)
        steps = _schema(plan, journal, drop=replace or report.resumed)
        with tgt.adapter.load_session(), collector_paused():
            if policy.parallel_safe and parallel.usable(src, tgt, jobs):
                timings = parallel.copy_tables(src, tgt, plan.jobs, chunk_size, jobs, bars.overall,
                                               policy.table, journal)
            for job in plan.jobs:
                if job.table in timings:
                    continue  # copied by the workers
                bar = bars.table(job.table, job.source_rows)
                _Both(bar, bars.overall).update(journal.committed(job.table))
                t0 = clock()
                copy_table(src, tgt, job, chunk_size, _Both(bar, bars.overall), policy.table(job),
                           journal)
                timings[job.table] = clock() - t0
                bar.close()
    bars.close()
    report.findings += policy.findings()
    if policy.rejected:
        report.reject_file = reject_file
    # A target that checks each foreign key as it adds it is searched for the
    # dangling rows only when that fails, to name them.
    checked_when_built = tgt.adapter.validates_foreign_keys_when_built
    # Only a resumed copy can find some of them built already.
    deferred = schema.unbuilt(tgt.connection, steps.deferred) if report.resumed else steps.deferred
    try:
        schema.build_deferred(tgt.connection, deferred, workers=jobs if tgt.adapter.parallel_writes else 1,
                              check=() if checked_when_built else plan.models)
    except TransferError:
        if checked_when_built:
            schema.check_references(tgt.connection, plan.models)
        raise
    if plan.unselected and replace:
        schema.restore_foreign_keys(tgt.connection, plan.unselected, plan.models)
    report.sequences_reset = len(tgt.adapter.reset_sequences(plan.models))
    for job in plan.jobs:
        report.tables.append(
            TableResult(job.table, job.label, job.source_rows, tgt.adapter.count(job.table),
                        round(timings[job.table], 3), rejected=policy.rejected[job.table])
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
        return schema.SchemaSteps(deferred=journal.deferred)  # as the interrupted run kept them
    # Unselected models whose tables are missing get them empty: the schema is the whole project's.
    models = plan.unselected_missing + plan.models
    if drop and plan.target_tables:
        tgt.adapter.drop_tables(plan.target_tables)
    steps = schema.create_tables(tgt.connection, models)
    # Keys built after the data are cheaper (binary COPY into bare tables).
    steps.deferred[:0] = tgt.adapter.defer_keys([job.table for job in plan.jobs])
    journal.schema_done(steps.deferred)
    return steps


def copy(source: str, target: str, *, replace: bool = False, resume: bool = False,
         chunk_size: int = DEFAULT_CHUNK_SIZE, progress: bool = False,
         confirm: Callable[[Plan], bool] | None = None,
         models: Sequence[str] = (), exclude: Sequence[str] = (),
         verify: bool = False, on_error: str = "abort",
         reject_file: str | None = None, jobs: int = 1) -> CopyReport:
    """Copy every table of the project (or of ``models`` minus ``exclude``) from ``source`` to ``target``.

    ``verify`` proves the copy afterwards (:func:`portadb.verify`).
    """
    if chunk_size < 1:
        raise PortadbError("The chunk size must be a positive number of rows.")
    if resume and replace:
        raise PortadbError("--resume continues a copy and --replace starts it again; choose one.")
    if jobs < 1:
        raise PortadbError("The number of jobs must be at least 1.")
    guard.check_options(on_error, reject_file)
    src, tgt = open_endpoints(source, target)
    try:
        plan = make_plan(src, tgt, models or (), exclude or (), sizes=False)  # no report shows them
        check_preconditions(plan, replace or resume)
        journal = Journal.reopen(plan) if resume else None
        if plan.target_tables and not resume and confirm is not None and not confirm(plan):
            raise PreconditionError("Copy cancelled; nothing was written.")
        report = run(plan, replace=replace, chunk_size=chunk_size, progress=progress,
                     on_error=on_error, reject_file=reject_file, journal=journal, jobs=jobs)
        if verify:
            from .verify import verify_endpoints

            report.verification = verify_endpoints(src, tgt, plan.models)
        return report
    except DatabaseError as e:  # a server gone away, a full disk, a missing privilege
        raise TransferError(
            f"The copy into {tgt.display} stopped: {first_line(e)}; "
            "run the same copy with --resume to continue."
        ) from e
    finally:
        close(src, tgt)


def check_selection(plan: Plan) -> None:
    """Refuse foreign keys into rows the target will not hold: unselected or routed elsewhere."""
    chosen = set(plan.models)
    for ref in outside_references(plan.models, [m for m in project_models() if m not in chosen]):
        selectable = ref.referenced in plan.unselected
        held = selectable and ref.referenced not in plan.unselected_missing
        missing = missing_rows(ref, plan.source.alias, plan.target.alias if held else None)
        if missing:
            why, fix = (("is not selected", f"select {ref.referenced._meta.label} too") if selectable
                        else ("has no table on the target (routers or required_db_vendor)",
                              "let it onto the target or leave the referencing model out"))
            raise SelectionError(
                f"{ref.describe()}, which {why}, and the target lacks the rows "
                f"{', '.join(map(repr, missing))}; {fix}."
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
