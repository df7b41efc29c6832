"""Prove that the target holds the same data as the source, or show where it does not.

Both sides are read in primary-key order, chunk by chunk, through the same
normalising path (:mod:`.canonical`), and compared table by table
(:mod:`.compare`): by worker processes that each compare both sides of whole
tables and key ranges of big ones (:mod:`.parallel`), or, in one process, with
the target's side read in a forked process on the second core
(:mod:`.remote`). Then the target's sequences are checked against
its keys and the applied migrations of both sides compared; :mod:`.findings`
turns what differs into the report's findings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from django.db import DatabaseError
from django.db.migrations.recorder import MigrationRecorder

from .. import drift, options, schema
from ..endpoints import Endpoint, close, open_endpoints
from ..exceptions import CounterUnreadable, PreconditionError, VerificationError, first_line
from ..fields import key_fields
from ..inspect import applied_migrations
from ..journal import record
from ..models import label, project_models, shared_models
from ..processes import collector_paused
from ..progress import Progress, Tee
from ..reports.model import Finding, FindingKind, SequenceCheck, Severity, VerifyReport
from ..selection import select_models
from ..sequences import auto_keys, source_next
from . import parallel
from .compare import check_table
from .findings import findings
from .remote import target_reader


def verify(source: str, target: str, *, models: Sequence[str] | None = None,
           exclude: Sequence[str] | None = None, sample: float | None = None,
           counts_only: bool = False, chunk_size: int = options.VERIFY_CHUNK_SIZE,
           progress: bool = False, jobs: int | None = None) -> VerifyReport:
    """Compare ``target`` with ``source``: counts, content, sequences, migrations.

    ``models``/``exclude`` are app labels or ``app_label.Model`` labels;
    ``sample`` (between 0 and 1) compares that fraction of key chunks only;
    ``counts_only`` skips the content; ``progress``: tqdm bars on a terminal, as
    the copy shows; ``jobs``: worker processes comparing tables and key ranges of
    big tables at once (default: one per CPU and one more, as each waits on the
    databases in turn). Nothing is written on either side.
    Returns a :class:`portadb.reports.VerifyReport`; ``report.ok`` is true
    when the two hold the same data.
    """
    options.check_sample(sample)
    options.check_chunk_size(chunk_size)
    options.check_jobs(jobs)
    select_models(project_models(), models or (), exclude or ())  # unknown labels: refuse early
    src, tgt = open_endpoints(source, target, target_must_exist=True)
    try:
        chosen = select_models(shared_models(src.alias, tgt.alias), models or (), exclude or ())
        return verify_endpoints(src, tgt, chosen, sample=sample, counts_only=counts_only,
                                chunk_size=chunk_size, progress=progress, jobs=jobs)
    finally:
        close(src, tgt)


def verify_endpoints(src: Endpoint, tgt: Endpoint, chosen: Sequence[type], *,
                     sample: float | None = None, counts_only: bool = False,
                     chunk_size: int = options.VERIFY_CHUNK_SIZE, progress: bool = False,
                     jobs: int | None = None,
                     clock: Callable[[], float] = time.perf_counter) -> VerifyReport:
    """:func:`verify` over two open endpoints and a list of models."""
    started = clock()
    report = VerifyReport(source=src.display, target=tgt.display, counts_only=counts_only,
                          sample=sample, chunk_size=chunk_size)
    try:
        with src.adapter.snapshot(), tgt.adapter.snapshot(), collector_paused():
            present = (set(src.adapter.table_names()), set(tgt.adapter.table_names()))
            fields = {m._meta.db_table: _compared_fields(tgt, m, present[1], report) for m in chosen}
            bars = Progress(progress and not counts_only)
            whole = not counts_only and sample is None  # every row compared: workers may share it
            rows = _source_rows(src, chosen, present[0]) if bars.enabled or whole else {}
            report.workers = _workers(src, tgt, jobs, sum(rows.values()), chunk_size) if whole else 1
            bars.set_total(sum(rows.values()))
            both = [m for m in chosen if m._meta.db_table in present[0] & present[1]]
            checked = (parallel.check_tables(src, tgt, both, fields, rows, chunk_size, report.workers,
                                             bars.overall) if report.workers > 1 else {})
            with target_reader(tgt, chosen, counts_only or report.workers > 1) as remote:
                for model in chosen:
                    table, t0 = model._meta.db_table, clock()
                    if table in checked:
                        report.tables.append(checked[table])
                        continue
                    bar = bars.table(table, rows.get(table, 0))
                    try:
                        with parallel.read_errors(model):
                            check = check_table(src, tgt, model, present, sample, counts_only, chunk_size,
                                                remote, fields[table], Tee(bar, bars.overall),
                                                rows.get(table))
                    finally:
                        bar.close()
                    check.seconds = round(clock() - t0, 3)
                    report.tables.append(check)
            bars.close()
            if not counts_only:
                report.findings += _generated_differences(src, tgt, both, present, sample, chunk_size)
            report.sequences = check_sequences(tgt, chosen, present[1], src, report.findings)
            _compare_migrations(src, tgt, present, report)
            report.findings += built_state(tgt)
    except DatabaseError as e:
        raise VerificationError(f"Could not read the databases while verifying: {first_line(e)}") from e
    report.findings = findings(report) + report.findings
    report.seconds = round(clock() - started, 3)
    return report


def _workers(src: Endpoint, tgt: Endpoint, jobs: int | None, rows: int, chunk_size: int) -> int:
    """The processes that compare every row: ``jobs`` (default one per CPU and one more), where
    both sides can be read by several; a caller running other threads gets one (forking it
    could deadlock the workers)."""
    # A worker waits on each database in turn, a core then idle: one more worker than
    # the CPUs fills it (a million rows on 2 cores: 3.27 s with 2 workers, 2.95 s with 3).
    jobs = jobs or options.auto_jobs(rows, chunk_size, beyond_cpus=1)
    if threading.active_count() > 1:
        return 1
    return jobs if parallel.usable(src, tgt, jobs) else 1


def _compared_fields(tgt: Endpoint, model, present: set[str], report: VerifyReport) -> list | None:
    """The copied fields whose columns the target's table has too (``None``: all the model's);
    a finding names the others.

    A model whose fields depend on the database vendor has columns here that
    the target's version has not: their values are not compared. Generated
    columns are compared apart (:func:`_generated_differences`).
    """
    table = model._meta.db_table
    if table not in present:
        return None
    on_target = set(tgt.adapter.column_types(table))
    fields = [f for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]
    missing = [f.column for f in fields if f.column not in on_target]
    if not missing:
        return None if len(fields) == len(model._meta.local_concrete_fields) else fields
    report.findings.append(Finding(
        FindingKind.VENDOR_DEPENDENT_MODEL, Severity.WARNING,
        f"{table}: the target's table has no column {', '.join(missing)}; those values were not compared.",
        table=table, model=label(model)))
    return [f for f in fields if f.column in on_target]


def _generated_differences(src: Endpoint, tgt: Endpoint, chosen: Sequence[type], present,
                           sample: float | None, chunk_size: int) -> list[Finding]:
    """A warning per table whose generated columns differ. The copy does not write them: each
    database computes them from the copied columns, and its functions may differ (SQLite's
    ``lower()`` changes ASCII letters only). Not a difference of the copied data."""
    found = []
    for model in chosen:
        table, own = model._meta.db_table, model._meta.local_concrete_fields
        generated = [f for f in own if getattr(f, "generated", False)]
        if not generated or not {f.column for f in generated} <= set(tgt.adapter.column_types(table)):
            continue
        fields = [f for f in own if f in generated or f in key_fields(model)]
        check = check_table(src, tgt, model, present, sample, False, chunk_size, fields=fields)
        if not check.different_rows:
            continue
        first = check.differences[0]
        rows = f"{check.different_rows:,} row{'s differ' if check.different_rows > 1 else ' differs'}"
        columns = ", ".join(sorted({d.field for d in check.differences}))
        found.append(Finding(
            FindingKind.GENERATED_DIFFERENT, Severity.WARNING,
            f"{table}: {rows} in {columns}, which each database computes itself"
            f" (GeneratedField, not copied); its expression gives other values on the target: first"
            f" pk {first.pk!r} field {first.field}: source {first.source_value!r},"
            f" target {first.target_value!r}.",
            table=table, model=label(model), pk=first.pk, field=first.field))
    return found


def _source_rows(src: Endpoint, chosen: Sequence[type], present: set[str]) -> dict[str, int]:
    """Rows per table on the source, for the progress bars' totals (counted only where bars show)."""
    tables = [m._meta.db_table for m in chosen]
    return {table: src.adapter.count(table) for table in tables if table in present}


def built_state(tgt: Endpoint) -> list[Finding]:
    """What the journal of the copy that built the target says is not done: an unfinished copy, a
    key, index or foreign key it did not build (or that went since), a schema no longer migrate's."""
    try:
        built = record(tgt)
    except PreconditionError:  # an older portadb's journal: nothing to go by
        return []
    if built is None:
        return []
    unbuilt = schema.unbuilt(tgt.connection, built.deferred)
    if not built.complete:  # what it has not built yet is the rest of its work: said once
        left = sum(step.kind != schema.UNIQUE_INDEX for step in unbuilt)  # a key is its index + attach
        rest = f" ({left} keys, indexes and foreign keys not built yet)" if unbuilt else ""
        return [Finding(FindingKind.COPY_UNFINISHED, Severity.ERROR,
                        f"The target holds {built.describe()}{rest}; resume it with portadb copy --resume.")]
    found = [Finding(FindingKind.SCHEMA_DRIFT, Severity.ERROR,
                     f"The copy built {step.describe()}, which is not on the target.", table=step.table)
             for step in unbuilt]
    if built.schema.get("snapshot"):
        now = drift.snapshot(tgt.connection, built.schema["snapshot"].keys())
        found += [Finding(FindingKind.SCHEMA_DRIFT, Severity.ERROR,
                          f"The target's schema differs from what its migrate built: {line}.",
                          table=line.split(":")[0]) for line in drift.drift(built.schema["snapshot"], now)]
    return found


def check_sequences(tgt: Endpoint, chosen: Sequence[type], present: set[str],
                    src: Endpoint | None = None, warnings: list | None = None) -> list[SequenceCheck]:
    """Every auto primary key's next value on the target against the largest key there, and
    against the source's next value where ``src`` is given and has the table; a counter either
    side does not let be read adds a warning to ``warnings``."""
    on_source = set(src.adapter.table_names()) if src is not None else set()
    warnings = warnings if warnings is not None else []
    checks = []
    for table, key in auto_keys([m for m in chosen if m._meta.db_table in present]):
        try:
            next_value = tgt.adapter.next_auto_value(table, key.column)
        except CounterUnreadable as e:
            warnings.append(Finding(FindingKind.COUNTER_NOT_FOLLOWED, Severity.WARNING,
                                    f"{table}.{key.column}: the target's counter could not be read ({e});"
                                    " it was not checked.", table=table, field=key.column))
            continue
        checks.append(SequenceCheck(
            table=table, column=key.column, max_pk=tgt.adapter.max_value(table, key.column),
            next_value=next_value,
            source_next=source_next(src, tgt, table, key, warnings) if table in on_source else None,
        ))
    return checks


def _compare_migrations(src: Endpoint, tgt: Endpoint, present, report: VerifyReport) -> None:
    table = MigrationRecorder.Migration._meta.db_table
    applied = [applied_migrations(e) if table in p else set() for e, p in zip((src, tgt), present)]
    report.migrations_compared = len(applied[0] | applied[1])
    report.migrations_missing = sorted(applied[0] - applied[1])
    report.migrations_extra = sorted(applied[1] - applied[0])

