"""``manage.py portadb``: argparse in, one API call, a rendered report out."""

from __future__ import annotations

import argparse
import sys

from django.core.management.base import BaseCommand, CommandError

from portadb.endpoints import mask
from portadb.exceptions import PortadbError
from portadb.pipeline import DEFAULT_CHUNK_SIZE
from portadb.reports import FORMATS, render


class Command(BaseCommand):
    help = "Copy a Django project's database to another backend, and prove the copy."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="subcommand")
        copy = sub.add_parser("copy", help="Copy every table of the project to another database.")
        _endpoints(copy)
        copy.add_argument("--replace", action="store_true",
                          help="Drop the project's tables already on the target, then copy.")
        copy.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                          help="Do not ask before replacing tables (answer yes).")
        copy.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="ROWS",
                          help=f"Rows per read and per commit (default {DEFAULT_CHUNK_SIZE}).")
        copy.add_argument("--jobs", type=int, default=1, metavar="N",
                          help="Copy tables in N processes at once (default 1).")
        _output(copy)
        _common(copy)

    def handle(self, *args, subcommand, **options):
        try:
            report = getattr(self, f"do_{subcommand}")(**options)
        except PortadbError as e:
            raise CommandError(mask(str(e)), returncode=2) from e
        self.write_report(report, options)
        if report.exit_code:
            raise CommandError(_failure_sentence(report), returncode=report.exit_code)

    def do_copy(self, *, source, target, replace, interactive, chunk_size, verbosity, jobs=1, **_):
        import portadb

        return portadb.copy(
            source, target, replace=replace, chunk_size=chunk_size, jobs=jobs,
            progress=verbosity >= 1,
            confirm=self.confirm_replace if interactive and sys.stdin.isatty() else None,
        )

    def confirm_replace(self, plan) -> bool:
        answer = input(
            f"{plan.target.display} holds {len(plan.target_tables)} tables of this project.\n"
            "They will be DROPPED and copied again from the source.\n"
            "Type 'yes' to continue, or 'no' to cancel: "
        )
        return answer.strip().lower() == "yes"

    def write_report(self, report, options) -> None:
        verbosity = options["verbosity"]
        if verbosity == 0 and not options["output"]:
            return
        text = render(report, options["format"], verbosity)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            self.stdout.write(text, ending="")


def _endpoints(parser) -> None:
    parser.add_argument("--from", dest="source", required=True, metavar="DATABASE",
                        help="Source: a DATABASES alias, a vendor name or a database URL.")
    parser.add_argument("--to", dest="target", required=True, metavar="DATABASE",
                        help="Target: a DATABASES alias, a vendor name or a database URL.")


def _common(parser) -> None:
    # Django puts -v on the top-level parser only; users type it after the subcommand.
    parser.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3],
                        default=argparse.SUPPRESS,
                        help="0 silent, 1 a summary (default), 2 a line per table, 3 the SQL.")


def _output(parser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="Report format (default text).")
    parser.add_argument("--output", metavar="FILE",
                        help="Write the report to FILE instead of standard output.")


def _failure_sentence(report) -> str:
    errors = report.errors
    if errors:
        return mask(errors[0].message)
    return "The copy finished with differences; see the report."
