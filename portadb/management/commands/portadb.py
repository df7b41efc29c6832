"""``manage.py portadb``: argparse in, one API call, a rendered report out."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError

from portadb import __version__
from portadb.endpoints import mask
from portadb.exceptions import Interrupted, OptionError, PortadbError, first_line
from portadb.options import (
    DEFAULT_CHUNK_SIZE,
    MAX_AUTO_JOBS,
    ON_ERROR,
    VERIFY_CHUNK_SIZE,
    check_confirmable,
    check_writable,
)
from portadb.reports import FORMATS, ErrorReport, render
from portadb.schema import dependent_views

#: What each copy option would do that a dry run cannot.
_DRY = {"--resume": "resume", "--verify": "verify", "--for-sync": "keep fingerprints of",
        "--track-changes": "track changes after"}

#: Django's options of every command that a user may type after the subcommand too.
DJANGO_COMMON = ("--settings", "--pythonpath", "--traceback", "--no-color", "--force-color", "--skip-checks")


class Command(BaseCommand):
    help = "Copy a Django project's database to another backend, and prove the copy."

    def get_version(self) -> str:
        return __version__

    def run_from_argv(self, argv):
        try:
            super().run_from_argv(argv)
        finally:
            # The process ends next (call_command does not come here): Python's last collections
            # need not walk every object Django and the drivers loaded (0.06-0.09 s a command).
            gc.freeze()

    def get_check_kwargs(self, options):
        # Django 6.1 checks every model against every database alias unless told which: a
        # target that is not created yet, or a server that is down, would end in a traceback
        # before portadb could say so in a sentence. portadb connects and asks them itself.
        return {**super().get_check_kwargs(options), "databases": []}

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="subcommand")
        copy = sub.add_parser("copy", help="Copy every table of the project to another database.")
        _endpoints(copy)
        copy.add_argument("--replace", action="store_true",
                          help="Drop the project's tables already on the target, then copy.")
        copy.add_argument("--resume", action="store_true",
                          help="Continue an interrupted copy after its last committed chunk.")
        copy.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                          help="Do not ask before replacing tables (answer yes); without a terminal, "
                               "--replace needs it.")
        copy.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="ROWS",
                          help=f"Rows per read and per commit (default {DEFAULT_CHUNK_SIZE}).")
        copy.add_argument("--jobs", type=int, default=None, metavar="N",
                          help="Copy in N processes at once, big tables cut into key ranges (default:"
                               f" one per CPU, at most {MAX_AUTO_JOBS}; 1 where the target is SQLite);"
                               " with --dry-run, N processes scan the rows.")
        _selection(copy)
        copy.add_argument("--verify", action="store_true",
                          help="After the copy, verify every row as 'portadb verify' does.")
        copy.add_argument("--for-sync", action="store_true",
                          help="Keep the source's fingerprints on the target (one more pass over the"
                               " source), so that the first 'portadb sync' reads only what changed.")
        copy.add_argument("--track-changes", action="store_true",
                          help="First install triggers on the source that log the key of every row"
                               " written to it (portadb_change), so that each 'portadb sync' reads only"
                               " those rows; 'portadb inspect --untrack' removes them.")
        copy.add_argument("--dry-run", action="store_true",
                          help="Write nothing; report the schema steps, the copy order and every "
                               "value the target would refuse.")
        copy.add_argument("--on-error", choices=ON_ERROR, default="abort",
                          help="abort (default): stop before writing a chunk holding a value the "
                               "target would refuse; reject: copy the rest, refused rows go to "
                               "--reject-file.")
        copy.add_argument("--reject-file", metavar="FILE",
                          help="JSON Lines file for the rows --on-error=reject leaves out.")
        _output(copy)
        _common(copy, parser)
        inspect = sub.add_parser("inspect", help="Tables, rows, sizes and migrations of one database.")
        inspect.add_argument("--database", default="default", metavar="DATABASE",
                             help="A DATABASES alias, a vendor name or a database URL (default: default).")
        inspect.add_argument("--forget", action="store_true",
                             help="Remove portadb's journal of the copy that built this database"
                                  " (portadb_run; the project never reads it).")
        inspect.add_argument("--untrack", action="store_true",
                             help="Remove the change log that 'copy --track-changes' installed on this"
                                  " database (its triggers, portadb_change and portadb_tracking).")
        _output(inspect)
        _common(inspect, parser)

        sync = sub.add_parser("sync", help="Bring a target that a copy built up to date with its source.")
        _endpoints(sync)
        _selection(sync)
        sync.add_argument("--dry-run", action="store_true",
                          help="Write nothing; report, table by table, the rows a sync would insert,"
                               " update and delete.")
        sync.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="ROWS",
                          help=f"Rows per compared chunk and per write (default {DEFAULT_CHUNK_SIZE}).")
        sync.add_argument("--jobs", type=int, default=None, metavar="N",
                          help="1: read the target in this process (default: in a second process, "
                               "as verify does); the writes are one transaction.")
        sync.add_argument("--on-error", choices=ON_ERROR, default="abort",
                          help="abort (default): write nothing if a changed row holds a value the target"
                               " would refuse; reject: sync the rest, refused rows go to --reject-file.")
        sync.add_argument("--reject-file", metavar="FILE",
                          help="JSON Lines file for the rows --on-error=reject leaves out.")
        _output(sync)
        _common(sync, parser)

        verify = sub.add_parser("verify", help="Prove that the target holds the same data as the source.")
        _endpoints(verify)
        _selection(verify)
        verify.add_argument("--sample", type=float, metavar="FRACTION",
                            help="Compare the content of only this fraction of key chunks, e.g. 0.1.")
        verify.add_argument("--counts-only", action="store_true",
                            help="Compare row counts, sequences and migrations, not the content.")
        verify.add_argument("--chunk-size", type=int, default=None, metavar="ROWS",
                            help=f"Rows per compared chunk (default {VERIFY_CHUNK_SIZE}).")
        verify.add_argument("--jobs", type=int, default=None, metavar="N",
                            help="Compare in N processes at once, big tables cut into key ranges"
                                 f" (default: one per CPU and one more, at most {MAX_AUTO_JOBS}).")
        _output(verify)
        _common(verify, parser)

    def handle(self, *args, subcommand, **options):
        try:
            self.check_options(subcommand, options)
            with self.sql_echo(options["verbosity"] >= 3), _terminate_as_interrupt():
                report = getattr(self, f"do_{subcommand}")(**options)
        except CommandError:
            raise
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Interrupted)
            signum = getattr(e, "signum", signal.SIGINT)
            self.fail(subcommand, options, e, _interrupted(subcommand, options, signum,
                                                           getattr(e, "nothing_kept", False)), 128 + signum)
        except PortadbError as e:
            self.fail(subcommand, options, e, mask(str(e)))
        except Exception as e:  # a bug of portadb: still one sentence and status 2
            if options.get("traceback"):
                raise
            self.fail(subcommand, options, e, mask(
                f"portadb stopped on an unexpected {type(e).__name__}: {first_line(e)}; "
                "run it again with --traceback and report the traceback."))
        try:
            shown = self.write_report(report, options)
        except OSError as e:  # checked before the work, yet a disk can fill up
            raise CommandError(f"Could not write the report {options['output']!r}: {e.strerror}.",
                               returncode=2) from e
        if report.exit_code:
            raise CommandError(_failure_sentence(report, shown), returncode=report.exit_code)

    def check_options(self, subcommand: str, options: dict) -> None:
        """What the command alone knows, refused before any work: the report file, a terminal."""
        if options.get("output"):
            check_writable(options["output"], "the report")
        if subcommand == "copy" and not options["dry_run"]:
            check_confirmable(options["replace"], options["interactive"], sys.stdin.isatty())

    def fail(self, subcommand: str, options: dict, error: BaseException, message: str, status: int = 2):
        """Exit 2 (or ``status``) with one sentence; the report goes where the report would have gone."""
        name = f"{subcommand} --dry-run" if options.get("dry_run") else subcommand
        report = ErrorReport(command=name, error=type(error).__name__, message=message)
        try:
            if options.get("output") or options["format"] in ("json", "junit"):
                self.write_report(report, options)
        except OSError:
            pass  # the sentence on standard error is what is left
        raise CommandError(message, returncode=status) from error

    def do_copy(self, *, source, target, replace, resume, interactive, chunk_size, verbosity,
                models, exclude, verify, dry_run=False, on_error="abort", reject_file=None,
                jobs=None, for_sync=False, track_changes=False, **_):
        import portadb

        if dry_run:
            if reject_file or on_error != "abort":
                raise OptionError("--dry-run writes nothing; leave out --on-error and --reject-file.")
            ignored = [name for name, given in (("--resume", resume), ("--verify", verify),
                                                ("--for-sync", for_sync),
                                                ("--track-changes", track_changes)) if given]
            if ignored:  # each acts on a copy's writes, which a dry run has not
                why = f", so it has nothing to {_DRY[ignored[0]]}" if len(ignored) == 1 else ""
                raise OptionError(f"--dry-run copies nothing{why}; leave out {' and '.join(ignored)}.")
            return portadb.plan(source, target, replace=replace, chunk_size=chunk_size,
                                progress=verbosity >= 1, models=_labels(models),
                                exclude=_labels(exclude), jobs=jobs)
        return portadb.copy(
            source, target, replace=replace, resume=resume, chunk_size=chunk_size, verify=verify,
            jobs=jobs,
            progress=verbosity >= 1, models=_labels(models), exclude=_labels(exclude),
            confirm=self.confirm_replace if interactive else None,
            on_error=on_error, reject_file=reject_file, for_sync=for_sync, track_changes=track_changes,
        )

    def do_sync(self, *, source, target, models, exclude, dry_run, chunk_size, jobs, on_error,
                reject_file, verbosity, **_):
        import portadb

        return portadb.sync(source, target, models=_labels(models), exclude=_labels(exclude),
                            dry_run=dry_run, chunk_size=chunk_size, jobs=jobs, on_error=on_error,
                            reject_file=reject_file, progress=verbosity >= 1)

    def do_verify(self, *, source, target, models, exclude, sample, counts_only, chunk_size,
                  verbosity, jobs=None, **_):
        import portadb

        return portadb.verify(source, target, models=_labels(models), exclude=_labels(exclude),
                              sample=sample, counts_only=counts_only, chunk_size=chunk_size,
                              progress=verbosity >= 1, jobs=jobs)

    def do_inspect(self, *, database, forget=False, untrack=False, **_):
        import portadb

        return portadb.inspect(database, forget=forget, untrack=untrack)

    @contextmanager
    def sql_echo(self, enabled: bool):
        """At ``-v 3``, every schema statement as Django's schema editor logs it."""
        if not enabled:
            yield
            return
        handler = _StreamHandler(self.stderr)
        logger = logging.getLogger("django.db.backends.schema")
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)

    def confirm_replace(self, plan) -> bool:
        views = dependent_views(plan.target.connection, plan.target_tables)
        # On standard error: standard output is the report's (--format=json > report.json).
        self.stderr.write(
            f"{plan.target.display} holds {len(plan.target_tables)} tables of this project.\n"
            "They will be DROPPED and copied again from the source.\n"
            + (f"The views that read them go with them: {', '.join(views)}.\n" if views else "")
            + "Type 'yes' to continue, or 'no' to cancel: ", style_func=str, ending="")  # not red
        self.stderr.flush()
        answer = input()
        return answer.strip().lower() == "yes"

    def write_report(self, report, options) -> bool:
        """Render ``report`` to ``--output`` or standard output; whether it was written."""
        verbosity = options["verbosity"]
        if verbosity == 0 and not options["output"]:
            return False
        text = render(report, options["format"], verbosity)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            self.stdout.write(text, ending="")
        return True


class _StreamHandler(logging.Handler):
    def __init__(self, stream):
        super().__init__(logging.DEBUG)
        self.stream = stream

    def emit(self, record) -> None:
        self.stream.write(mask(record.getMessage()))


def _endpoints(parser) -> None:
    parser.add_argument("--from", dest="source", required=True, metavar="DATABASE",
                        help="Source: a DATABASES alias, a vendor name or a database URL.")
    parser.add_argument("--to", dest="target", required=True, metavar="DATABASE",
                        help="Target: a DATABASES alias, a vendor name or a database URL.")


def _selection(parser) -> None:
    parser.add_argument("--models", action="append", default=[], metavar="LABEL",
                        help="Only these apps or models (app_label or app_label.ModelName;"
                             " repeat or separate with commas).")
    parser.add_argument("-e", "--exclude", action="append", default=[], metavar="LABEL",
                        help="Leave out these apps or models (app_label or app_label.ModelName).")


def _labels(values) -> list[str]:
    return [label for value in values or () for label in value.split(",") if label.strip()]


def _common(parser, top) -> None:
    """Django's own options, accepted after the subcommand as well as before it.

    Django puts them on the command's parser only; users type them anywhere.
    Not given here, they keep the value given before the subcommand (or the default).
    """
    parser.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3],
                        default=argparse.SUPPRESS,
                        help="0 silent, 1 a summary (default), 2 a line per table, 3 the SQL.")
    known = {o: a for a in top._actions for o in a.option_strings}
    for name in DJANGO_COMMON:
        action = known.get(name)
        if action is None:  # --skip-checks only exists where system checks run
            continue
        if action.nargs == 0:
            parser.add_argument(name, action="store_true", default=argparse.SUPPRESS, help=action.help)
        else:
            parser.add_argument(name, default=argparse.SUPPRESS, metavar=name.strip("-").upper(),
                                help=action.help)


def _output(parser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="Report format (default text).")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="Write the report to FILE instead of standard output.")


def _failure_sentence(report, shown: bool) -> str:
    see = "; see the report" if shown else ""
    if report.kind == "sync" and report.dry_run:
        return f"The sync would not run cleanly{see}."
    if report.kind == "plan":
        return (f"The copy would stop: {report.refused_rows} rows hold values the target would "
                f"refuse, {len(report.errors)} other findings{see}.")
    errors = report.errors or getattr(getattr(report, "verification", None), "errors", [])
    if errors:
        return mask(errors[0].message)
    if getattr(report, "rejected_rows", 0):
        return f"{report.rejected_rows} rows were rejected and written to {report.reject_file}."
    return f"The {report.kind} finished with differences{see}."


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM stops the work the way Ctrl-C does: every chunk committed so far stays, one sentence."""
    def interrupt(signum, frame):
        raise Interrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (a test runner's): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted(subcommand: str, options: dict, signum: int, nothing_kept: bool = False) -> str:
    name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C (SIGINT)"
    if subcommand == "copy" and not options.get("dry_run") and nothing_kept:
        # Stopped before the target's own view of its models confirmed the tables begun on a guess.
        return (f"The copy was stopped by {name} before it kept anything on the target:"
                " run the same copy again.")
    if subcommand == "copy" and not options.get("dry_run"):
        return (f"The copy was stopped by {name}; every chunk committed so far is on the target:"
                " run the same copy with --resume to continue.")
    if subcommand == "sync" and not options.get("dry_run"):
        return f"The sync was stopped by {name}; nothing of it was committed: run the same sync again."
    return f"portadb {subcommand} was stopped by {name}; nothing was written."
