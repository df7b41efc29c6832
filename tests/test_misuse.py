"""Every misuse is one sentence, exit status 2, no traceback, and writes nothing.

The expected sentences are read from ``docs/misuse.rst``: the page and the
program cannot drift apart. ``<...>`` in the page stands for a part that
depends on the machine (a path, the list of aliases).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

import portadb
from portadb.backends import adapter_for

from . import databases as db
from . import processes
from .backends import source_of, target_of
from .baddata import spoil
from .test_identifiers import odd_env
from .test_resume import killed_copy

SQLITE_SOURCE, POSTGRESQL, MYSQL = source_of("sqlite"), target_of("postgresql"), target_of("mysql")
REJECT_FILE = os.path.join(settings.WORK_DIR, "misuse-rejects.jsonl")
DOC = Path(__file__).resolve().parent.parent / "docs" / "misuse.rst"


@dataclass
class Case:
    title: str
    #: ``portadb copy`` arguments; ``{name}`` fields are filled from :func:`places`
    #: (``{source}``: the SQLite zoo, ``{target}``: the PostgreSQL target the test empties).
    args: list[str]
    setup: Callable[[str, str], None] | None = None
    #: Run in a child process with this environment (for what cannot happen in-process).
    env: dict = field(default_factory=dict)
    #: Run in a child process without a terminal and without ``--noinput``.
    child: bool = False


def places() -> dict[str, str]:
    pg = settings.DATABASES[POSTGRESQL]
    return {
        "source": SQLITE_SOURCE,
        "target": POSTGRESQL,
        "mysql": MYSQL,
        "reject_file": REJECT_FILE,
        "source_file": settings.DATABASES[SQLITE_SOURCE]["NAME"],
        "pg_user": pg.get("USER") or "postgres",
        "pg_port": str(pg.get("PORT") or 5432),
        "pg_name": pg["NAME"],
    }


def copied(source: str, target: str) -> None:
    assert portadb.copy(source, target).ok


def interrupted(source: str, target: str) -> None:
    killed_copy(source, target, "chunk:20")


def unapplied_migration(source: str, target: str) -> None:
    call_command("migrate", "sessions", "zero", database=source, verbosity=0)


def dropped_table(source: str, target: str) -> None:
    with connections[source].cursor() as cursor:
        cursor.execute("DROP TABLE zoo_ticket")  # no other table refers to it


#: The project of tests/settings_odd.py, with names a target cannot hold.
LONG_TABLE = odd_env("t" * 73)
LONG_COLUMN = odd_env("odd table", column="c" * 70)
QUOTED_TABLE = odd_env('odd"name')
PERCENT_TABLE = odd_env("odd%name")


def odd_project(env: dict, alias: str = SQLITE_SOURCE):
    """A setup that migrates the odd project of ``env`` into ``alias`` (the zoo stays beside it)."""
    def setup(source: str, target: str) -> None:
        if alias != source:
            db.recreate(alias, prepare=False)
        migrated = processes.manage("migrate", f"--database={alias}", "-v", "0", env=env)
        assert migrated.returncode == 0, migrated.stderr
    return setup


def interrupted_reject_copy(lose) -> Callable[[str, str], None]:
    """A setup: a --on-error=reject copy of spoiled data killed once it rejected rows, then
    ``lose(path)`` done to its reject file."""
    def setup(source: str, target: str) -> None:
        spoil(source)
        order = [t.table for t in portadb.plan(source, target).tables]
        proc = processes.start("copy", f"--from={source}", f"--to={target}", "--chunk-size=3",
                               "--on-error=reject", f"--reject-file={REJECT_FILE}",
                               stop=f"table:{order.index('zoo_everything') + 1}")
        processes.wait_stopped(proc)
        processes.kill(proc)
        lose(Path(REJECT_FILE))
    return setup


def cut_short(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-3]), encoding="utf-8")


RESUME_REJECT = ["--from={source}", "--to={target}", "--resume", "--on-error=reject",
                 "--reject-file={reject_file}"]

CASES = [
    Case("Unknown alias", ["--from=nope", "--to={target}"]),
    Case("Vendor name matching several aliases", ["--from={source}", "--to=postgres"]),
    Case("Oracle by vendor name", ["--from={source}", "--to=oracle"]),
    Case("Same database twice", ["--from={source}", "--to={source}"]),
    Case("Same database twice, once as a URL",
         ["--from={target}", "--to=postgres://{pg_user}@localhost:{pg_port}/{pg_name}"]),
    Case("Same SQLite file twice, once as a URL", ["--from=sqlite:///{source_file}", "--to={source}"]),
    Case("Target already holds the project", ["--from={source}", "--to={target}"], copied),
    Case("Target holds an interrupted copy", ["--from={source}", "--to={target}"], interrupted),
    Case("Unapplied source migrations", ["--from={source}", "--to={target}"], unapplied_migration),
    Case("Source table missing", ["--from={source}", "--to={target}"], dropped_table),
    Case("Source SQLite file missing", ["--from=sqlite:////nonexistent/db.sqlite3", "--to={target}"]),
    # MySQLdb, not psycopg: the tests' pgzoo models import psycopg when Django starts.
    Case("Driver not installed", ["--from={source}", "--to=mysql://root@127.0.0.1:3306/portadb_none"],
         env={"PORTADB_TEST_HIDE_MODULES": "MySQLdb", "PORTADB_TEST_NO_MYSQL_ALIASES": "1"}),
    Case("Unsupported database", ["--from={source}", "--to=oracle://scott:tiger@localhost:1521/orcl"]),
    Case("Unreadable URL", ["--from={source}", "--to=postgres://u:secret@db.example:notaport/x"]),
    Case("Unknown URL scheme", ["--from={source}", "--to=nosuchdb://host/name"]),
    Case("Server unreachable", ["--from={source}", "--to=postgres://{pg_user}:secret@127.0.0.1:1/x"]),
    # A child: Django 6.1 checks every alias's backend before a command runs (call_command skips it).
    Case("Target database not created", ["--from={source}", "--to=new"],
         env={"PORTADB_TEST_EXTRA_URL": "mysql://root@127.0.0.1:3306/portadb_never_created"}),
    Case("Chunk size not positive", ["--from={source}", "--to={target}", "--chunk-size=0"]),
    Case("--resume and --replace together", ["--from={source}", "--to={target}", "--resume", "--replace"]),
    Case("Nothing to resume", ["--from={source}", "--to={target}", "--resume"]),
    Case("Report file in a missing folder",
         ["--from={source}", "--to={target}", "--output=/nonexistent/r.json"]),
    Case("--replace without a terminal",
         ["--from={source}", "--to={target}", "--replace"], copied, child=True),
    Case("Table name longer than the target holds", ["--from={source}", "--to={target}"],
         odd_project(LONG_TABLE), env=LONG_TABLE),
    Case("Column name longer than the target holds", ["--from={source}", "--to={target}"],
         odd_project(LONG_COLUMN), env=LONG_COLUMN),
    Case("Table name holding the target's quote character", ["--from={mysql}", "--to={target}"],
         odd_project(QUOTED_TABLE, MYSQL), env=QUOTED_TABLE),
    Case("Table name holding %", ["--from={source}", "--to={target}"], odd_project(PERCENT_TABLE),
         env=PERCENT_TABLE),
    Case("In-memory SQLite target", ["--from={source}", "--to=sqlite:///:memory:"]),
    Case("Reject file deleted before --resume", RESUME_REJECT, interrupted_reject_copy(Path.unlink)),
    Case("Reject file cut short before --resume", RESUME_REJECT, interrupted_reject_copy(cut_short)),
]


def documented() -> dict[str, str]:
    """``{misuse: message}`` from the list-table in docs/misuse.rst."""
    rows = {}
    for row in DOC.read_text(encoding="utf-8").split("\n   * - ")[1:]:
        cells = [c.strip() for c in row.split("\n     - ")]
        message = cells[2].split("\n\n")[0]  # the table ends at the first blank line
        rows[cells[0]] = " ".join(message.split()).removeprefix("``").removesuffix("``")
    rows.pop("Misuse", None)  # the header row
    return rows


def fingerprint(alias: str):
    """What a write would change: a SQLite file's bytes, a server database's tables and row counts."""
    conf = settings.DATABASES[alias]
    if "sqlite" in conf["ENGINE"]:
        path = conf["NAME"]
        return hashlib.sha256(Path(path).read_bytes()).hexdigest() if os.path.exists(path) else None
    adapter = adapter_for(connections[alias])
    state = sorted((t, adapter.count(t)) for t in adapter.table_names())
    connections[alias].close()
    return state


def matches(documented: str, message: str) -> bool:
    """Whether ``message`` is the documented one, ``<...>`` matching anything."""
    pattern = "".join(".+?" if part.startswith("<") else re.escape(part)
                      for part in re.split(r"(<[^>]*>)", documented))
    return re.fullmatch(pattern, message) is not None


def run(case: Case) -> tuple[int, str]:
    args = [a.format(**places()) for a in case.args]
    if case.env or case.child:
        result = processes.run("copy", *args, env=case.env)
        lines = result.stderr.strip().splitlines()
        assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
        return result.returncode, lines[0].removeprefix("CommandError: ")
    with pytest.raises(CommandError) as caught:  # never another exception: that is a traceback
        call_command("portadb", "copy", *args, "--noinput", verbosity=0)
    return caught.value.returncode, str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.title)
def test_misuse_is_one_sentence_and_writes_nothing(case, zoo_source, empty):
    target = empty(POSTGRESQL)
    if case.setup:
        case.setup(zoo_source, target)
    before = {alias: fingerprint(alias) for alias in (zoo_source, target)}

    status, message = run(case)

    assert status == 2
    assert {alias: fingerprint(alias) for alias in (zoo_source, target)} == before
    assert not os.path.exists("/nonexistent/db.sqlite3")
    expected = documented().get(case.title)
    assert expected, f"docs/misuse.rst lacks a row for {case.title!r}; the message is: {message}"
    assert matches(expected, message), f"docs/misuse.rst says:\n{expected}\nthe command says:\n{message}"
    assert "secret" not in message and "tiger" not in message


def test_every_documented_misuse_is_tested():
    assert set(documented()) == {c.title for c in CASES}


def test_a_failing_case_is_still_caught_by_the_check():
    """The doc check is not vacuous: a message that differs from the page fails it."""
    expected = documented()["Nothing to resume"]
    assert matches(expected, "Nothing to resume: postgresql (x) holds no journal of an interrupted copy.")
    assert not matches(expected, "Nothing to resume: the target holds something else.")

