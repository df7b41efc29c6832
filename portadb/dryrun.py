"""The dry-run: everything a copy would do, and every value that would not make it.

It follows the copy's own code path and only swaps the sinks: the target's
models are described by the child process but never migrated (the report
lists each migration that would run and the operations models cannot
express); a schema built from the models is collected by the schema editor
(``collect_sql``, the way ``sqlmigrate`` previews migrations) instead of run;
rows are read and checked (:mod:`portadb.scan`) instead of written. Neither
database is written to.

A target that already holds tables is compared with the models through
Django's own introspection (``connection.introspection``): it works on any
alias and backend, the way ``inspectdb`` reads a database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from django.core import checks as django_checks

from . import options, parallel, pool, schema
from .endpoints import close, connect_endpoints, name_endpoints
from .exceptions import PreconditionError
from .plan import MIGRATE, Misguessed, Plan, confirm_guess, make_plan
from .preconditions import check_preconditions, name_refusal
from .reports.model import Finding, FindingKind, PlannedTable, PlanReport, Severity
from .scan import scan_values
from .targetproject import children


def dry_run(source: str, target: str, *, replace: bool = False,
            chunk_size: int = options.DEFAULT_CHUNK_SIZE, progress: bool = False,
            models: Sequence[str] = (), exclude: Sequence[str] = (), jobs: int | None = None,
            clock: Callable[[], float] = time.perf_counter) -> PlanReport:
    """What copying ``source`` to ``target`` would do, without writing anything.

    ``jobs`` worker processes scan the source's rows, as many as would copy
    them (default: :func:`~portadb.options.auto_jobs`).
    """
    options.check_chunk_size(chunk_size)
    options.check_jobs(jobs)
    src, tgt = name_endpoints(source, target)
    try:
        # They only describe (a dry run never migrates), while this process connects.
        with children(src, tgt) as (project, theirs):
            connect_endpoints(src, tgt)  # a database that connecting creates goes at close()
            # The scan starts on this process's view of the target's models while the child
            # describes them (see copy()); where the child's differ, all is planned again on them.
            def report(guess: bool) -> PlanReport:
                plan = make_plan(src, tgt, models or (), exclude or (), project=project,
                                 source_project=theirs, guess=guess)
                try:
                    return plan_report(plan, replace=replace, chunk_size=chunk_size, progress=progress,
                                       jobs=jobs, clock=clock)
                except Exception:
                    confirm_guess(plan)  # an error stands only on the target's own models
                    raise

            try:
                return report(theirs is None)
            except Misguessed:
                return report(False)
    finally:
        close(src, tgt)


def plan_report(plan: Plan, *, replace: bool, chunk_size: int, progress: bool = False,
                jobs: int | None = None, clock: Callable[[], float] = time.perf_counter) -> PlanReport:
    """The :class:`PlanReport` of ``plan``: schema steps, copy order, value scan (in ``jobs``
    processes where the source allows)."""
    src, tgt = plan.source, plan.target
    report = PlanReport(source=src.display, target=tgt.display,
                        source_inventory=plan.source_inventory,
                        not_replayed=plan.not_replayed, schema_path=plan.path,
                        schema_reason=plan.path_reason, raw_operations=plan.raw_operations)
    try:
        check_preconditions(plan, replace)
    except PreconditionError as e:
        report.findings.append(Finding(FindingKind.PRECONDITION, Severity.ERROR, str(e)))
    report.findings += plan.findings()
    report.target_state, report.schema_differences = target_state(plan, replace)
    report.schema_steps, report.deferred_steps = ddl(plan, replace)
    report.tables = copy_order(plan)
    report.findings += unholdable_fields(plan)
    rows = sum(job.source_rows for job in plan.jobs)
    jobs = jobs or options.auto_jobs(rows, chunk_size)
    report.workers = jobs if pool.readable(src, jobs) else 1
    with src.adapter.snapshot():
        scan = scan_values(plan, chunk_size, clock, progress, workers=report.workers,
                           shared=src.adapter.share_snapshot() if report.workers > 1 else None,
                           started=lambda: confirm_guess(plan))
    confirm_guess(plan)  # a report on a guess of the target's models only where the child saw them so
    report.values = scan.summaries()
    report.refused_rows = len({(r.table, r.pk) for r in scan.refusals})
    report.rows_scanned = scan.rows_read
    report.scan_seconds = round(scan.seconds, 3)
    # The copy reads and checks as the scan did, then writes every value, in as many workers.
    values = sum(job.source_rows * len(job.columns) for job in plan.jobs)
    writers = jobs if parallel.usable(src, tgt, jobs) else 1
    report.estimated_seconds = round(scan.seconds + values / tgt.adapter.write_rate / writers, 1)
    return report


def target_state(plan: Plan, replace: bool = False) -> tuple[str, list[str]]:
    """How the target looks now, and how its project tables differ from the models."""
    present = [t for t in plan.target.adapter.table_names() if not t.startswith("portadb_")]
    if not present:
        return "empty", []
    planned = {m._meta.db_table: m for m in plan.models}
    ours = [t for t in present if t in planned]
    state = (f"holds {len(present)} tables, {len(ours)} of them this project's"
             + ((" (--replace would drop them)" if replace else " (a copy needs --replace)") if ours else ""))
    differences = [f"{t}: table missing on the target" for t in planned if ours and t not in present]
    return state, differences + schema_differences(plan.target.connection, [planned[t] for t in ours])


def schema_differences(connection, models) -> list[str]:
    """Columns missing, extra, or of another nullability than the models say.

    Column types are not compared: introspection maps several Django types
    onto one column type (the false positives ``sqldiff`` is known for).
    """
    found = []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            columns = {c.name: c for c in connection.introspection.get_table_description(cursor, table)}
            fields = {f.column: f for f in model._meta.local_concrete_fields}
            found += [f"{table}.{c}: column missing on the target" for c in fields if c not in columns]
            found += [f"{table}.{c}: column on the target that no field describes"
                      for c in columns if c not in fields]
            for name in fields.keys() & columns.keys():
                f, null = fields[name], bool(columns[name].null_ok)
                if getattr(f, "generated", False):
                    continue  # a generated column is created without NOT NULL, whatever the field says
                if null != f.null and not (f.empty_strings_allowed and
                                           connection.features.interprets_empty_strings_as_nulls):
                    found.append(f"{table}.{name}: {'NULL' if null else 'NOT NULL'} on the target,"
                                 f" the model says {'NULL' if f.null else 'NOT NULL'}")
    return sorted(found)


def ddl(plan: Plan, replace: bool) -> tuple[list[str], list[str]]:
    """The DDL a copy would run, collected and never executed: before and after the rows.

    Where the project's migrate builds the target, each migration is listed
    with its operations (``sqlmigrate``, with the target as the default
    database, shows one's SQL).
    """
    drop = ([f"-- drop the {len(plan.target_tables)} project tables on the target: "
             + ", ".join(plan.target_tables)] if replace and plan.target_tables else [])
    views = schema.dependent_views(plan.target.connection, plan.target_tables) if drop else {}
    drop += [f"-- and with them the views that read them: {', '.join(views)}"] if views else []
    if name_refusal(plan):  # Django's schema editor would write such a name unescaped
        return drop + ["-- none: a table or column name the target cannot hold (see the errors)"], []
    if plan.path == MIGRATE:  # its SQL depends on what the database holds as each step runs
        return (drop + [f"-- migrate {step}" for step in plan.project.steps()],
                ["-- the indexes, keys and foreign keys migrate made are dropped before the rows and"
                 " built again after them, as the target defines them"])
    steps = schema.create_tables(plan.target.connection, plan.models, collect_only=True)
    return drop + [raw_sql(s) for s in steps.create], [raw_sql(s) for s in steps.deferred]


def raw_sql(statement) -> str:
    """One statement as the schema editor wrote it, without its final ``;`` (the renderers lay it out)."""
    return str(statement).strip().rstrip(";")


def copy_order(plan: Plan) -> list[PlannedTable]:
    sizes = {t.name: t.size for t in plan.source_inventory.tables}
    return [
        PlannedTable(job.table, job.label, job.source_rows, sizes.get(job.table),
                     [f"{c.name}: {c.description}" for c in job.columns if c.description != "identity"])
        for job in plan.jobs
    ]


def unholdable_fields(plan: Plan) -> list[Finding]:
    """Fields the target has no column for, or that its backend's system checks object to."""
    connection = plan.target.connection
    found = []
    for model in plan.models:
        label = model._meta.label
        for f in model._meta.local_concrete_fields:
            if f.db_type(connection) is None:
                found.append(Finding(FindingKind.UNHOLDABLE_FIELD, Severity.ERROR,
                                     f"{label}.{f.name} has no column type on {connection.vendor}.",
                                     table=model._meta.db_table, model=label, field=f.name))
                continue
            for message in connection.validation.check_field(f):
                error = message.level >= django_checks.ERROR
                found.append(Finding(FindingKind.UNHOLDABLE_FIELD,
                                     Severity.ERROR if error else Severity.WARNING,
                                     f"{label}.{f.name}: {message.msg} ({message.id})",
                                     table=model._meta.db_table, model=label, field=f.name))
    return found
