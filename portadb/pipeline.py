"""The phases of a copy, in the order pgloader and ``loaddata`` taught us; nothing else.

endpoints -> plan -> preconditions -> schema -> load -> finalize -> (verify) -> report.
Everything that can refuse the copy is checked before the first write; each
phase lives in its own module, and this one only puts them in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError

from . import drift, fingerprints, guard, options, parallel, schema, tracking
from .endpoints import close, connect_endpoints, name_endpoints
from .exceptions import OptionError, PreconditionError, TransferError, first_line
from .finalize import complete_target, count_tables, lost_views, schema_drift
from .journal import PORTADB_TABLES, SCHEMA, Journal
from .journal import drop as drop_journal
from .parts import count, cut
from .plan import MIGRATE, MODELS, Misguessed, Plan, confirm_guess, make_plan
from .preconditions import check_committed, check_preconditions, check_unchanged
from .processes import collector_paused
from .progress import Progress, Tee
from .reports.model import CopyReport, Finding, FindingKind, Severity
from .targetproject import children
from .transfer import copy_table
from .verify import verify_endpoints


def copy(source: str, target: str, *, replace: bool = False, resume: bool = False,
         chunk_size: int = options.DEFAULT_CHUNK_SIZE, progress: bool = False,
         confirm: Callable[[Plan], bool] | None = None,
         models: Sequence[str] = (), exclude: Sequence[str] = (),
         verify: bool = False, on_error: str = "abort",
         reject_file: str | None = None, jobs: int | None = None, for_sync: bool = False,
         track_changes: bool = False) -> CopyReport:
    """Copy every table of the project (or of ``models`` minus ``exclude``) from ``source`` to ``target``.

    ``verify`` proves the copy afterwards (:func:`portadb.verify`). ``for_sync`` keeps the
    source's fingerprints on the target (:mod:`portadb.fingerprints`; one more pass over the
    source's rows), so that the first :func:`portadb.sync` reads only the rows that changed
    (a resumed copy keeps none of the parts the interruption cut). ``track_changes`` first
    installs the change log on the source (:mod:`portadb.tracking`): every later sync reads
    only the rows written since.
    """
    options.check_chunk_size(chunk_size)
    options.check_resume(resume, replace)
    options.check_jobs(jobs)
    options.check_on_error(on_error, reject_file)
    src, tgt = name_endpoints(source, target)
    try:
        # The child that sees (and later migrates) the target starts now, while this process loads
        # the drivers, connects and plans.
        with children(src, tgt) as (project, theirs):
            connect_endpoints(src, tgt)
            # A first copy onto a fresh target need not wait for the child's view of the target's
            # models: it starts on this process's own (the same where the models do not depend
            # on the vendor), and starts again on the child's where that differs.
            guess = theirs is None and not (resume or track_changes or for_sync) and on_error == "abort"

            def attempt(guessing: bool) -> tuple[Plan, CopyReport]:
                plan = make_plan(src, tgt, models or (), exclude or (), sizes=False,  # no report shows sizes
                                 project=project, source_project=theirs, guess=guessing)
                if plan.guessed and not _fresh(plan):
                    confirm_guess(plan)  # a guess writes only onto a fresh target
                with _on_guess(plan):
                    return plan, _planned(plan, replace=replace, resume=resume, chunk_size=chunk_size,
                                          progress=progress, confirm=confirm, on_error=on_error,
                                          reject_file=reject_file, jobs=jobs, for_sync=for_sync,
                                          track_changes=track_changes)

            try:
                plan, report = attempt(guess)
            except Misguessed:  # built again as the child sees the target's models
                plan, report = attempt(False)
        if verify:
            report.verification = verify_endpoints(src, tgt, plan.models, progress=progress, jobs=jobs)
        return report
    except DatabaseError as e:  # a server gone away, a full disk, a missing privilege
        raise TransferError(
            f"The copy into {tgt.display} stopped: {first_line(e)}; "
            "run the same copy with --resume to continue."
        ) from e
    finally:
        close(src, tgt)


def _planned(plan: Plan, *, replace: bool, resume: bool, chunk_size: int, progress: bool,
             confirm: Callable[[Plan], bool] | None, on_error: str, reject_file: str | None,
             jobs: int | None, for_sync: bool, track_changes: bool) -> CopyReport:
    """Check ``plan``, then carry it out (resumed where asked) as :func:`copy` was told."""
    src = plan.source
    check_preconditions(plan, replace or resume)
    journal = Journal.reopen(plan) if resume else None
    if journal is not None and journal.schema.get("guessed") and journal.schema.get("path") != plan.path:
        # Killed before the child's answer, on a guess the answer now proves wrong.
        raise PreconditionError(
            f"The interrupted copy into {plan.target.display} built tables from models the target's"
            " backend does not have; copy again with --replace.")
    if journal is not None:
        check_committed(plan, journal)
        check_unchanged(plan, journal, chunk_size)
        if journal.schema.get("path", plan.path) != plan.path:
            plan.path, plan.path_reason = journal.schema["path"], "as the interrupted copy did"
    if plan.target_tables and not resume and confirm is not None and not confirm(plan):
        raise PreconditionError("Copy cancelled; nothing was written.")
    # A resumed copy goes on with the change log its first run installed, asked or not.
    resumed_log = journal is not None and bool(journal.schema.get("tracking"))
    tracked = _track(plan, journal) if track_changes or resumed_log else None
    report = run(plan, replace=replace, chunk_size=chunk_size, progress=progress,
                 on_error=on_error, reject_file=reject_file, journal=journal, jobs=jobs,
                 for_sync=for_sync, tracked=tracked)
    if tracked is None and (left := tracking.lingering(src)):
        report.findings.append(Finding(FindingKind.CHANGE_LOG, Severity.WARNING, left))
    return report


def _fresh(plan: Plan) -> bool:
    """Whether the copy of ``plan`` builds everything it writes on the target: no table of it,
    and no journal, is there yet (so that undoing a wrong guess drops only what it wrote)."""
    return plan.path == MODELS and not plan.target_tables and not (
        set(PORTADB_TABLES) & set(plan.target.adapter.table_names()))


@contextmanager
def _on_guess(plan: Plan) -> Iterator[None]:
    """What a copy on a guess of the target's models writes stays only where the child confirms
    the guess: anything that stops it first (an error, Ctrl-C) asks the child, and where the
    guess was wrong, what it wrote is dropped; :class:`Misguessed` then tells the caller to
    copy again (an interruption stays one)."""
    try:
        yield
    except BaseException as stopped:
        try:
            confirm_guess(plan)
        except Misguessed:
            _undo(plan)
            if isinstance(stopped, Exception):
                raise Misguessed from stopped
            stopped.nothing_kept = True  # Ctrl-C: there is nothing to resume (see the command)
        raise
    try:
        confirm_guess(plan)  # where the copy ended before the load asked
    except Misguessed:
        _undo(plan)
        raise


def _undo(plan: Plan) -> None:
    """Drop what a copy on a wrong guess wrote on its fresh target (:func:`_fresh`): the journal
    first, so that what a failure here leaves is never taken for a copy to resume."""
    plan.guessed = False
    tgt = plan.target
    drop_journal(tgt)
    made = {m._meta.db_table for m in plan.unselected_missing + plan.models}
    tgt.adapter.drop_tables(sorted(made & set(tgt.adapter.table_names())))


def _settle(plan: Plan, journal: Journal) -> None:
    """:func:`~portadb.plan.confirm_guess`, and the journal forgets the guess (a copy killed
    before this is resumed only where the child's view builds the target the same way)."""
    if plan.guessed:
        confirm_guess(plan)
        journal.note_schema(guessed=False)


def run(plan: Plan, *, replace: bool = False, chunk_size: int = options.DEFAULT_CHUNK_SIZE,
        progress: bool = False, clock: Callable[[], float] = time.perf_counter,
        on_error: str = "abort", reject_file: str | None = None,
        journal: Journal | None = None, jobs: int | None = None, for_sync: bool = False,
        tracked: tuple[str, dict[str, str]] | None = None) -> CopyReport:
    """Carry out ``plan``: schema, rows, constraints, sequences, counts.

    Pass the :class:`~portadb.journal.Journal` of an interrupted copy to
    resume it; without one a fresh journal is started on the target.
    ``jobs`` worker processes copy tables, and parts of big tables, side by
    side where both backends allow (default: :func:`~portadb.options.auto_jobs`).
    ``tracked``: the token of the change log installed on the source, and the tables it
    leaves out with why (:func:`portadb.tracking.install`).
    """
    started = clock()
    src, tgt = plan.source, plan.target
    report = CopyReport(source=src.display, target=tgt.display, resumed=journal is not None,
                        schema_path=plan.path, schema_reason=plan.path_reason)
    report.findings += plan.findings()
    # The policy for refused values; with reject, it scans the source first, in the snapshot.
    jobs = jobs or options.auto_jobs(sum(j.source_rows for j in plan.jobs), chunk_size)
    with src.adapter.snapshot(), \
            guard.for_copy(plan, on_error, reject_file, chunk_size,
                           earlier=journal.rejected() if journal is not None else None,
                           workers=jobs) as policy:
        report.workers = jobs if policy.parallel_safe and parallel.usable(src, tgt, jobs) else 1
        journal = journal or Journal.begin(plan, cut(src, plan.jobs, report.workers, chunk_size))
        if plan.guessed:
            journal.note_schema(guessed=True)
        if tracked is not None and not report.resumed:
            journal.note_schema(tracking=tracked[0])
            report.findings += _tracking_findings(plan, tracked[1])
        deferred = _prepare_target(plan, journal, drop=replace or report.resumed)
        keep = fingerprints.keep_part if for_sync else None
        if keep:
            fingerprints.create(tgt)
        loaded = _load(plan, journal, policy, chunk_size, progress, report.workers, clock, keep)
    report.findings += policy.findings()
    if policy.rejected:
        report.reject_file = reject_file
    report.sequences_reset, behind = complete_target(plan, deferred, resumed=report.resumed,
                                                     replace=replace, jobs=jobs)
    report.findings += behind
    report.removed_rows = journal.schema.get("removed", {})
    report.findings += schema_drift(plan, journal.schema.get("snapshot"))
    report.findings += lost_views(plan.target, journal.schema.get("dropped_views", {}))
    report.tables, mismatches = count_tables(plan, loaded, policy.rejected)
    report.findings += mismatches
    journal.complete()
    report.seconds = round(clock() - started, 3)
    return report


def _track(plan: Plan, journal: Journal | None) -> tuple[str, dict[str, str]]:
    """The change log's token: installed now, or (a resumed copy) the one the first run installed."""
    if journal is None:
        return tracking.install(plan.source, plan.jobs)
    if not journal.schema.get("tracking"):
        raise OptionError("The interrupted copy was started without --track-changes; resume it without,"
                          " or copy again with --replace --track-changes.")
    return journal.schema["tracking"], {}


def _tracking_findings(plan: Plan, untracked: dict[str, str]) -> list[Finding]:
    """What the report says of the change log: where it is, and the tables left out of it."""
    tracked = len(plan.jobs) - len(untracked)
    findings = [Finding(FindingKind.CHANGE_LOG, Severity.WARNING,
                        f"{plan.source.display} now logs every write to {tracked} tables for portadb sync"
                        " (--track-changes); after the cutover remove the log with"
                        f" {tracking.untrack_hint(plan.source)}.")]
    findings += [Finding(FindingKind.CHANGE_LOG, Severity.INFO,
                         f"{label} is not in the change log: {why}; portadb sync compares it in full.",
                         model=label) for label, why in untracked.items()]
    return findings


def _prepare_target(plan: Plan, journal: Journal, drop: bool) -> list[schema.BuildStep]:
    """Build the target's tables, unless an interrupted copy already made all of them.

    With ``drop``, the project's tables already there go first: replaced, or
    left by a schema step that was cut short (the journal proves them empty).
    Returns what is built after the data.
    """
    if journal.state != SCHEMA:
        return journal.deferred  # as the interrupted run kept them
    if plan.path == MIGRATE:
        return _migrate_target(plan, journal, drop)
    tgt = plan.target
    if drop and plan.target_tables:
        _drop(plan, journal, plan.target_tables)
    # Unselected models whose tables are missing get them empty: the schema is the whole project's.
    steps = schema.create_tables(tgt.connection, plan.unselected_missing + plan.models)
    # Keys built after the data are cheaper (binary COPY into bare tables).
    deferred = schema.defer_keys(tgt.connection, [job.table for job in plan.jobs]) + steps.deferred
    journal.schema_done(deferred)
    return deferred


def _migrate_target(plan: Plan, journal: Journal, drop: bool) -> list[schema.BuildStep]:
    """The project's own migrate builds the target; what loads faster built later is taken apart.

    The rows migrations and ``post_migrate`` made in the tables the copy
    fills (content types, permissions, a CMS's first pages) are removed, so
    that the source's rows arrive with their own keys.
    """
    tgt = plan.target
    present = set(tgt.adapter.table_names())
    if drop:  # replaced, or a migrate that was cut short: what it made goes
        before = set(journal.schema.get("existing", present))
        made = set(journal.schema.get("created", ())) | (present - before)
        _drop(plan, journal, sorted(present & (plan.project_tables() | made) - set(PORTADB_TABLES)))
        present = set(tgt.adapter.table_names())
    journal.note_schema(existing=sorted(present))
    created = plan.project.migrate()
    journal.note_schema(created=created)
    tables = [job.table for job in plan.jobs]
    built = drift.snapshot(tgt.connection, set(created) | set(tables))
    deferred = schema.take_apart(tgt.connection, tables)
    removed = tgt.adapter.empty_tables(tables)
    journal.note_schema(snapshot=built, removed=removed)
    journal.schema_done(deferred)
    return deferred


def _drop(plan: Plan, journal: Journal, tables: list[str]) -> None:
    """Drop ``tables``, noting the views that go with them: the report names those the build
    does not make again (:func:`~portadb.finalize.lost_views`)."""
    views = schema.dependent_views(plan.target.connection, tables)
    if views:
        journal.note_schema(dropped_views={**journal.schema.get("dropped_views", {}), **views})
    plan.target.adapter.drop_tables(tables)


def _load(plan: Plan, journal: Journal, policy, chunk_size: int, progress: bool, workers: int,
          clock: Callable[[], float], keep: Callable | None = None) -> dict[str, tuple[float, int]]:
    """Stream every table's rows into the target; per table, the seconds it took and its source
    rows, counted in the snapshot its rows were read in (a source being written meanwhile changes
    neither). ``keep`` as :func:`~portadb.transfer.copy_table` takes it."""
    src, tgt = plan.source, plan.target
    bars = Progress(progress, sum(j.source_rows for j in plan.jobs))
    loaded: dict[str, tuple[float, int]] = {}
    with tgt.adapter.load_session(), collector_paused():
        if workers > 1:
            loaded = parallel.copy_tables(src, tgt, plan.jobs, journal.parts, chunk_size, workers,
                                          bars.overall, policy.table, journal, keep,
                                          shared=src.adapter.share_snapshot(),
                                          started=lambda: _settle(plan, journal))
        _settle(plan, journal)  # the rows go on, in one process, once the target's models are known
        for job in plan.jobs:
            if job.table in loaded:
                continue  # copied by the workers
            bar = bars.table(job.table, job.source_rows)
            both = Tee(bar, bars.overall)
            both.update(journal.committed(job.table))
            t0, rows = clock(), 0
            for part in (p for p in journal.parts if p.table == job.table):
                rows += count(src.adapter, part, job.key)
                copy_table(src, tgt, job, chunk_size, both, policy.table(job, part), journal, part, keep)
            loaded[job.table] = (clock() - t0, rows)
            bar.close()
    bars.close()
    return loaded
