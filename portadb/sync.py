"""``portadb sync``: bring a target that a portadb copy built up to date with its source.

A live site keeps writing while it is copied. ``sync`` compares both sides
table by table as ``verify`` does (chunk digests, narrowed to the rows of the
chunks that differ: :mod:`portadb.verify.compare`), or, where an earlier sync
kept the source's fingerprints, only the key buckets whose fingerprint changed
(:mod:`portadb.fingerprints`), or, after ``copy --track-changes``, only the keys the
source's change log names (:mod:`portadb.tracking`), and moves only the rows that differ.
In one target transaction, the target's rows that the source lacks or holds
with other values are deleted, children before parents, and the source's
rows that the target lacks or holds otherwise are read by key and written
through the copy's own checks and conversions (:func:`~portadb.transfer.prepare_chunk`),
parents before children; foreign keys are checked at the commit where the
backend can defer them. The whole sync commits or nothing of it does: a
killed sync is run again. Sequences then continue past the keys, materialized
views are refreshed, and every row the sync wrote or deleted is read back on
both sides and compared. The
sync's one transaction also keeps the fingerprints of what the target then holds;
after it commits, the change log's entries it read are deleted from the source.

The source is read in one snapshot throughout: the target ends equal to the
source as it was when the sync began.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from . import drift, fingerprints, guard, options, tracking
from .backends import adapter_for
from .changes import Differences, TableDelta, apply, read_back, would_refuse
from .counts import Counts, counted
from .endpoints import Endpoint, close, identity, open_endpoints
from .exceptions import OptionError, PreconditionError, TransferError, first_line
from .finalize import refresh_derived
from .inspect import applied_migrations
from .journal import Record, record, table_shapes
from .plan import Plan, TableJob, make_plan, some_of
from .processes import collector_paused
from .progress import Progress, Tee
from .reports.model import Finding, FindingKind, Severity, TableCheck
from .reports.sync_report import SyncedTable, SyncReport
from .scheduler import meanwhile
from .sequences import follow_source
from .targetproject import children
from .verify import check_sequences
from .verify.remote import target_reader


def sync(source: str, target: str, *, models: Sequence[str] = (), exclude: Sequence[str] = (),
         dry_run: bool = False, chunk_size: int = options.DEFAULT_CHUNK_SIZE, progress: bool = False,
         on_error: str = "abort", reject_file: str | None = None, jobs: int | None = None) -> SyncReport:
    """Bring ``target``, which a complete :func:`portadb.copy` built from ``source``, up to date.

    ``models``/``exclude`` narrow the tables (default: those the copy copied);
    ``dry_run`` compares and reports what would change, writing nothing;
    ``on_error`` and ``reject_file`` as for :func:`portadb.copy`; ``jobs=1``
    reads the target in this process (default: a forked reader on a second
    core, as ``verify``). Refuses (:class:`~portadb.exceptions.PreconditionError`)
    a target that no complete portadb copy from this source built, or whose
    tables changed since.
    """
    options.check_chunk_size(chunk_size)
    options.check_jobs(jobs)
    options.check_on_error(on_error, reject_file)
    if dry_run and (reject_file or on_error != "abort"):
        raise OptionError("--dry-run writes nothing; leave out --on-error and --reject-file.")
    src, tgt = open_endpoints(source, target, target_must_exist=True)
    try:
        built = check_built(src, tgt, record(tgt))
        check_migrations(src, tgt)
        plan = _copied_plan(src, tgt, built, models or (), exclude or ())
        plan.jobs = synced_jobs(plan, built, explicit=bool(models or exclude))
        return run(plan, dry_run=dry_run, chunk_size=chunk_size, progress=progress, on_error=on_error,
                   reject_file=reject_file, forked=jobs != 1, token=built.schema.get("tracking"))
    except DatabaseError as e:
        raise TransferError(
            f"The sync of {tgt.display} stopped: {first_line(e)}; nothing of it was committed:"
            " run the same sync again."
        ) from e
    finally:
        close(src, tgt)


def check_built(src: Endpoint, tgt: Endpoint, built: Record | None) -> Record:
    """What the journal says of the copy that built ``tgt``; refuses a target no complete
    portadb copy from ``src`` built."""
    if built is None:
        raise PreconditionError(
            f"{tgt.display} was not built by a portadb copy (it holds no portadb_run);"
            " copy it first with portadb copy."
        )
    if not built.complete:
        raise PreconditionError(f"{tgt.display} holds {built.describe()}; finish it with"
                                " portadb copy --resume first.")
    if list(built.identity) != list(identity(src.alias)):
        raise PreconditionError(
            f"{tgt.display} was copied from {built.source}, not from {src.display};"
            " sync it from there, or copy again with --replace."
        )
    return built


def check_migrations(src: Endpoint, tgt: Endpoint) -> None:
    """Refuses a sync across migrations: one applied on one side alone may have changed the
    schema the rows go into (an index, a unique constraint, a view), and the sync would carry its
    ``django_migrations`` row without that change."""
    ours, theirs = applied_migrations(src), applied_migrations(tgt)
    if ours == theirs:
        return
    sides = [f"the {side} has applied {some_of(sorted(names), shown=5)}, which the {other} has not"
             for side, other, names in (("source", "target", ours - theirs),
                                        ("target", "source", theirs - ours)) if names]
    raise PreconditionError(
        f"The migrations differ: {'; '.join(sides)}. Run the project's migrate where they are"
        f" missing (with that database as the default), then sync; or copy again with --replace."
    )


def _copied_plan(src: Endpoint, tgt: Endpoint, built: Record, models: Sequence[str],
                 exclude: Sequence[str]) -> Plan:
    """The plan of the copy that built ``tgt``, for the tables selected.

    Planned with this process's models first: where every table is one the copy copied, with
    the columns and key it recorded, that is the copy's plan, and the target's project (a
    second Python process, which costs a Django start-up) need not be asked. Else it is
    planned as the copy planned it (:mod:`portadb.targetproject`); :func:`synced_jobs` then
    says what changed.
    """
    if connections[DEFAULT_DB_ALIAS].vendor == src.vendor:  # else the source's models need a child
        plan = make_plan(src, tgt, models, exclude, sizes=False)
        if all(built.shape.get(job.table) == shape for job, shape in
               zip(plan.jobs, table_shapes(plan.jobs).values(), strict=True)):
            return plan
    with children(src, tgt) as (project, theirs):
        return make_plan(src, tgt, models, exclude, sizes=False, project=project, source_project=theirs)


def synced_jobs(plan: Plan, built: Record, explicit: bool) -> list[TableJob]:
    """The jobs of the tables the copy that built the target copied; refuses a target whose
    tables or schema changed since."""
    tgt = plan.target
    not_copied = [job.label for job in plan.jobs if job.table not in built.shape]
    if explicit and not_copied:
        raise PreconditionError(f"The copy that built {tgt.display} did not copy {', '.join(not_copied)};"
                                " copy them first.")
    jobs = [job for job in plan.jobs if job.table in built.shape]
    now = table_shapes(jobs)
    changed = sorted(t for t in now if now[t] != built.shape[t])
    present = set(tgt.adapter.table_names())
    changed += [job.table for job in jobs if job.table not in present]
    snapshot = built.schema.get("snapshot")
    if snapshot:
        changed += drift.drift(snapshot, drift.snapshot(tgt.connection, snapshot.keys()))
    if changed:
        raise PreconditionError(
            f"The schema changed since the copy that built {tgt.display} ({'; '.join(changed)});"
            " copy again with --replace."
        )
    return jobs


def run(plan: Plan, *, dry_run: bool = False, chunk_size: int = options.DEFAULT_CHUNK_SIZE,
        progress: bool = False, on_error: str = "abort", reject_file: str | None = None,
        forked: bool = True, clock: Callable[[], float] = time.perf_counter,
        token: str | None = None) -> SyncReport:
    """Compare, then (unless ``dry_run``) write what differs, reset sequences, read it back.
    ``token``: the change log the copy that built the target installed on the source, if any."""
    started = clock()
    src, tgt = plan.source, plan.target
    report = SyncReport(source=src.display, target=tgt.display, dry_run=dry_run)
    with src.adapter.snapshot(), collector_paused():
        log = tracking.read(src, token, plan.jobs)
        deltas = compare(plan, chunk_size, progress, forked, log)
        report.tables = [d.report for d in deltas]
        report.compare_seconds = round(clock() - started, 3)
        changed = [d for d in deltas if d.touched]
        if dry_run:
            report.findings += would_refuse(plan, changed, chunk_size)
        else:
            wrote = bool(changed or any(d.buckets for d in deltas))
            if wrote:
                fingerprints.create(tgt)
                with guard.for_copy(plan, on_error, reject_file, chunk_size, command="sync") as policy:
                    apply(plan, deltas, policy, chunk_size)
                report.findings += policy.findings()
                if policy.rejected:
                    report.reject_file = reject_file
            try:
                _finish(plan, report, changed)
            except DatabaseError as e:
                if not wrote:
                    raise
                raise TransferError(
                    f"The sync of {tgt.display} committed, then stopped before it had checked what it"
                    f" wrote: {first_line(e)}; run the same sync again to finish it, then portadb verify."
                ) from e
    report.findings += _log_findings(src, token, log) + _still_different(report) + [
        Finding(FindingKind.SEQUENCE_BEHIND, Severity.ERROR, s.problem(), table=s.table)
        for s in report.sequences if not s.ok]
    if log is not None and not dry_run:  # what the target now holds: the entries read are done
        report.findings += _consume(src, log, [t.table for t in report.tables
                                               if not (t.rejected or t.still_different)])
    report.apply_seconds = round(clock() - started - report.compare_seconds, 3)
    report.seconds = round(clock() - started, 3)
    return report


def _finish(plan: Plan, report: SyncReport, changed: list[TableDelta]) -> None:
    """After the sync's commit: every row written or deleted read back on both sides, the
    sequences checked, the tables written counted again."""
    src, tgt = plan.source, plan.target
    # The tables written are counted again in a second session while this one reads back.
    tables = [delta.job.table for delta in changed]
    with meanwhile(tgt.alias, lambda c: {t: adapter_for(c).count(t) for t in tables},
                   side_by_side=tgt.adapter.parallel_reads) as counted:
        for delta in changed:
            read_back(src, tgt, delta)
    for delta in changed:
        delta.report.target_rows = counted[0][delta.job.table]
    # After the commit (MySQL's ALTER TABLE would commit) and the other session's counts; the
    # counters just followed are not read from the live source again.
    report.findings += follow_source(src, tgt, [job.model for job in plan.jobs])
    present = set(tgt.adapter.table_names())
    report.sequences = check_sequences(tgt, [delta.job.model for delta in changed], present,
                                       warnings=report.findings)
    try:  # last: a run again would find nothing to write, and so nothing to refresh
        refresh_derived(tgt, tables)
    except DatabaseError as e:
        raise TransferError(
            f"The sync of {tgt.display} committed and was read back, but a materialized view over the"
            f" tables it wrote could not be refreshed: {first_line(e)}; refresh it with"
            " REFRESH MATERIALIZED VIEW."
        ) from e


def compare(plan: Plan, chunk_size: int, progress: bool, forked: bool,
            log: tracking.Log | None = None) -> list[TableDelta]:
    """Every table's differences, both sides read in key order (the target in a forked reader);
    of a table the change log ``log`` can speak for, only the rows of the keys it names."""
    tgt = plan.target
    bars = Progress(progress, sum(job.source_rows for job in plan.jobs))
    models = [job.model for job in plan.jobs]
    with tgt.adapter.snapshot():
        # Where the forked reader reads in this snapshot, this process counts the target's rows.
        shared = tgt.adapter.share_snapshot() if forked else None
        # Without ``forked`` the target is read in a thread of this process (``counts_only`` forks none).
        with target_reader(tgt, models, counts_only=not forked, shared=shared) as remote, \
                _finder(plan, forked) as finder, counted(plan, remote, shared is not None) as counts:
            deltas = [_compared(plan, job, chunk_size, bars, log, remote, finder, counts)
                      for job in plan.jobs]
    bars.close()
    return deltas


def _compared(plan: Plan, job: TableJob, chunk_size: int, bars: Progress, log: tracking.Log | None,
              remote, finder: fingerprints.Finder, counts: Counts) -> TableDelta:
    """One table's differences: by the change log, by the fingerprints kept, or in full."""
    src, tgt = plan.source, plan.target
    t0 = time.perf_counter()
    table_bar = bars.table(job.table, job.source_rows)
    bar = Tee(table_bar, bars.overall)
    pair = Differences(job.model, src, tgt, _fields(job))
    check = TableCheck(job.table, job.label, counts.source[job.table], 0)
    found_by, buckets = "", None
    if (logged := _logged(log, job, check.source_rows, lambda: counts.target(job.table))) is not None:
        pair.compare(_counted(pair.key_chunks(((k,) for k in logged), remote), bar), check)
        check.target_rows = counts.target(job.table)
        if check.source_rows == check.target_rows + len(pair.missing) - len(pair.extra):
            found_by = "change log"
            # Kept fingerprints no longer hold for what the sync writes: the next sync
            # without a log compares the table in full.
            buckets = "drop" if pair.missing or pair.changed or pair.extra else None
        else:  # a write the log missed: the table is compared in full below
            log.distrusted[job.table] = "its rows do not add up to what it logged"
            pair = Differences(job.model, src, tgt, _fields(job))
            check = TableCheck(job.table, job.label, check.source_rows, check.target_rows)
    if not found_by:
        counts.settle()  # no thread may run while the finder forks, or this connection reads
        check.target_rows = counts.target(job.table)
    if not found_by and finder.kept(job):
        # Only the buckets whose fingerprint changed are read.
        buckets = finder.changes(job, check.source_rows)
        keys = ((k,) for bucket, _ in buckets for k in fingerprints.keys(bucket))
        pair.compare(_counted(pair.key_chunks(keys, remote), bar), check)
        found_by = "fingerprints"
    elif not found_by:
        pair.compare(_counted(pair.chunks(chunk_size, remote), bar), check)
        if not pair.layout.by_range:
            pair.find_extras(check, chunk_size)
        buckets = "all" if fingerprints.usable(job) and check.source_rows else None
    bar.update(max(0, check.source_rows - check.compared_rows))
    table_bar.close()
    result = SyncedTable(job.table, job.label, check.source_rows, check.target_rows,
                         chunks=check.chunks, chunks_different=check.chunks_different,
                         skipped_rows=check.source_rows - check.compared_rows,
                         inserted=len(pair.missing), updated=len(pair.changed),
                         deleted=len(pair.extra), seconds=round(time.perf_counter() - t0, 3),
                         found_by=found_by)
    return TableDelta(job, pair, result, buckets)


def _consume(src: Endpoint, log: tracking.Log, tables: list[str]) -> list[Finding]:
    """Delete the log entries the sync read; the sync has committed, so a failure here only
    leaves them for the next sync, which compares those rows again."""
    try:
        tracking.consume(src, log, tables)
    except DatabaseError as e:
        return [Finding(FindingKind.CHANGE_LOG, Severity.WARNING,
                        f"The sync committed, but the change log's entries it read could not be deleted from"
                        f" {src.display} ({first_line(e)}); the next sync compares those rows again.")]
    return []


def _logged(log: tracking.Log | None, job: TableJob, source_rows: int,
            target_rows: Callable[[], int]) -> Sequence[int] | None:
    """The keys of ``job``'s table that the change log names, where it can speak for the table
    and they are few enough that reading them one by one beats reading the table in order."""
    keys = log.keys.get(job.table) if log is not None else None
    if keys is None or len(keys) <= tracking.MOST * source_rows:  # the target's rows change nothing
        return keys
    rows = max(source_rows, target_rows())
    if rows > tracking.BIG and len(keys) > tracking.MOST * rows:
        return None
    return keys


def _log_findings(src: Endpoint, token: str | None, log: tracking.Log | None) -> list[Finding]:
    """Where the change log the copy installed could not be used, and why; a log no copy of
    this target installed, that the site goes on paying for."""
    if not token and (left := tracking.lingering(src)):
        return [Finding(FindingKind.CHANGE_LOG, Severity.WARNING, left)]
    if token and log is None:
        return [Finding(FindingKind.CHANGE_LOG, Severity.WARNING,
                        f"The change log that the copy installed on {src.display} is gone or was replaced;"
                        " every table was compared as without one.")]
    return [Finding(FindingKind.CHANGE_LOG, Severity.INFO,
                    f"{table}: the change log was not used ({why}); the table was compared in full.",
                    table=table) for table, why in (log.distrusted.items() if log else ())]


@contextmanager
def _finder(plan: Plan, forked: bool) -> Iterator[fingerprints.Finder]:
    finder = fingerprints.Finder(plan.source, plan.target, plan.jobs, forked)
    try:
        yield finder
    finally:
        finder.close()


def _fields(job: TableJob) -> list | None:
    """The model's fields that the copy copies (a vendor-dependent model has fewer on the target)."""
    names = set(job.column_names)
    fields = [f for f in job.model._meta.local_concrete_fields if f.column in names]
    return None if len(fields) == len(job.model._meta.local_concrete_fields) else fields


def _counted(chunks: Iterator, bar) -> Iterator:
    for chunk in chunks:
        yield chunk
        bar.update(len(chunk[0]))


def _still_different(report: SyncReport) -> list[Finding]:
    """A finding per table whose rows, read back, are not the source's (a sync must never leave one)."""
    return [Finding(FindingKind.VALUE_DIFFERENT, Severity.ERROR,
                    f"{t.table}: {t.still_different} rows the sync wrote still differ from the source"
                    f" (pk {', '.join(map(repr, t.different_pks)) or 'of rejected rows'}).",
                    table=t.table, model=t.model)
            for t in report.tables if t.still_different]
