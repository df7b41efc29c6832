"""Issue 15: a new user's first day. One test (or more) per friction found, each failing before the fix.

The item numbers are the issue's; item 9's docs points are in tests/test_docs.py and
tests/test_tutorial.py.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

import portadb

from . import databases as db
from . import processes
from .backends import target_of
from .baddata import spoil
from .test_misuse import fingerprint

POSTGRESQL, MYSQL, SQLITE = target_of("postgresql"), target_of("mysql"), target_of("sqlite")


def portadb_command(*args, **kwargs) -> tuple[int, str, str]:
    """``call_command("portadb", ...)``: (exit status, standard output, the error sentence or "")."""
    out = io.StringIO()
    try:
        call_command("portadb", *args, stdout=out, stderr=io.StringIO(), **kwargs)
    except CommandError as e:
        return e.returncode, out.getvalue(), str(e)
    return 0, out.getvalue(), ""


# -- 1. verify meets a value Django cannot read ----------------------------------------------------


def test_1_verify_of_an_impossible_date_is_one_sentence_and_exit_2(zoo_source, empty):
    target = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, target).ok
    db = sqlite3.connect(settings.DATABASES[zoo_source]["NAME"])
    db.execute("UPDATE zoo_everything SET date = '2021-02-30'"
               " WHERE id = (SELECT MIN(id) FROM zoo_everything)")
    db.commit()
    db.close()

    status, out, message = portadb_command("verify", f"--from={zoo_source}", f"--to={target}")

    # No traceback: the value is a difference, named by row and field, and exit 1 means just that.
    assert status == 1 and "Traceback" not in out + message
    assert message.startswith("zoo_everything: 1 row differs, first pk 1 field date: source \"<unreadable"
                              " '2021-02-30': ValueError>\"")


def test_1_an_unexpected_error_is_still_one_sentence_and_exit_2(zoo_source, monkeypatch):
    """A bug of portadb is no 'difference' (exit 1) either; --traceback shows it whole."""

    def broken(*args, **kwargs):
        raise KeyError("tables")

    monkeypatch.setattr(portadb, "inspect", broken)
    status, _, message = portadb_command("inspect")
    assert status == 2
    assert message == ("portadb stopped on an unexpected KeyError: 'tables'; run it again with --traceback "
                       "and report the traceback.")
    with pytest.raises(KeyError):
        call_command("portadb", "inspect", "--traceback", stdout=io.StringIO())


# -- 2. JUnit for every report kind ----------------------------------------------------------------


def _suites(text: str) -> list[ET.Element]:
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites"
    return list(root)


def test_2_junit_for_inspect_dry_run_copy_and_verify(zoo_source, empty):
    status, out, _ = portadb_command("inspect", "--format=junit")
    (suite,) = _suites(out)
    assert status == 0 and suite.get("name") == "portadb inspect" and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == len(portadb.inspect().tables)

    target = empty(MYSQL)
    status, out, _ = portadb_command("copy", f"--from={zoo_source}", f"--to={target}", "--format=junit",
                                     "--verify")
    copy_suite, verify_suite = _suites(out)
    assert status == 0 and copy_suite.get("name") == "portadb copy"
    assert verify_suite.get("name") == "portadb verify" and verify_suite.get("failures") == "0"

    spoil(zoo_source)
    status, out, _ = portadb_command("copy", f"--from={zoo_source}", f"--to={empty(MYSQL)}", "--dry-run",
                                     "--format=junit")
    (suite,) = _suites(out)
    assert status == 1 and suite.get("name") == "portadb copy --dry-run"
    failing = {case.get("name"): case.find("failure") for case in suite.findall("testcase")
               if case.find("failure") is not None}
    assert "zoo_everything" in failing and int(suite.get("failures")) == len(failing)
    assert "too_long: zoo.Everything.char" in failing["zoo_everything"].text

    status, out, message = portadb_command("inspect", "--database=nope", "--format=junit")
    (suite,) = _suites(out)
    assert status == 2 and suite.get("errors") == "1"
    assert suite.find("testcase/error").get("message") == message


# -- 3. --output checked first; an error report where the report would go --------------------------


def test_3_an_output_folder_that_does_not_exist_is_refused_before_any_work(zoo_source, empty):
    target = empty(POSTGRESQL)
    status, _, message = portadb_command("copy", f"--from={zoo_source}", f"--to={target}",
                                         "--output=/nonexistent/folder/copy.json", "--format=json")
    assert status == 2
    assert message == ("Cannot write the report '/nonexistent/folder/copy.json': '/nonexistent/folder'"
                       " is not a writable directory.")
    assert connections[target].introspection.table_names() == []
    # Checked before the databases: an unreachable server is not what it reports.
    status, _, message = portadb_command("verify", f"--from={zoo_source}", "--to=postgres://u@127.0.0.1:1/x",
                                         "-o", "/nonexistent/folder/verify.json")
    assert status == 2 and "Cannot write the report" in message


@pytest.mark.parametrize("args", [
    ["copy", "--from=nope", "--to=default"],
    ["copy", "--from=default", "--to=nope", "--dry-run"],
    ["verify", "--from=default", "--to=nope"],
    ["inspect", "--database=nope"],
], ids=lambda a: " ".join(a[:1] + a[3:]))
def test_3_an_error_writes_a_json_error_report(zoo_source, tmp_path, args):
    report = tmp_path / "report.json"
    status, out, message = portadb_command(*args, "--format=json", f"--output={report}")
    assert status == 2 and out == ""
    data = json.loads(report.read_text())  # validated against error.json by the conftest as it was made
    assert data == {"command": args[0] + (" --dry-run" if "--dry-run" in args else ""),
                    "error": "EndpointError", "message": message, "kind": "error", "schema_version": 1,
                    "ok": False}
    # Without --output, standard output gets it: a script reading it finds a report.
    status, out, _ = portadb_command(*args, "--format=json")
    assert status == 2 and json.loads(out)["message"] == message


# -- 4. Django's options where a user types them ---------------------------------------------------


def manage(*args: str) -> subprocess.CompletedProcess:
    """``python tests/manage.py portadb <args>``: Django reads --settings and --pythonpath itself."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return processes.checked(subprocess.run(
        [sys.executable, str(Path(__file__).with_name("manage.py")), "portadb", *args],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120))


def test_4_djangos_options_after_the_subcommand(zoo_source, tmp_path):
    (tmp_path / "first_day_settings.py").write_text("from tests.settings import *  # noqa: F403\n")
    result = manage("inspect", "--database=default", "--format=json", "--settings=first_day_settings",
                    f"--pythonpath={tmp_path}",
                    "--no-color", "--skip-checks", "-v", "1")
    assert result.returncode == 0, result.stderr  # the settings module was found on that path
    assert json.loads(result.stdout)["database"].startswith("default (")

    result = manage("inspect", "--settings=no.such.settings")
    assert result.returncode == 1 and "No module named 'no'" in result.stderr

    result = manage("copy", "--from=nope", "--to=default", "--settings=tests.settings", "--traceback")
    assert result.returncode == 1 and "Traceback" in result.stderr and "'nope' is neither" in result.stderr

    result = manage("inspect", "--no-color", "--force-color")  # both reach Django, which refuses the pair
    assert result.returncode == 1 and "can't be used together" in result.stderr


def test_4_version_is_portadbs_and_inspect_defaults_to_default(zoo_source, tmp_path):
    result = processes.run("--version")
    assert result.returncode == 0 and result.stdout.strip() == portadb.__version__
    report = tmp_path / "inventory.md"
    status, out, _ = portadb_command("inspect", "--format=markdown", "-o", str(report))
    assert status == 0 and out == ""
    assert report.read_text().startswith("## portadb inspect: `default (sqlite:")


# -- 5. readable DDL, at -v 2 ----------------------------------------------------------------------


def test_5_ddl_one_column_a_line_at_v2_and_raw_in_json(zoo_source, empty):
    report = portadb.plan(zoo_source, empty(MYSQL))
    create = next(s for s in report.schema_steps if s.startswith("CREATE TABLE `zoo_everything`"))
    assert "\n" not in create  # JSON carries the statement as the database gets it
    assert "DDL:" not in portadb.render(report, "text", 1)

    text = portadb.render(report, "text", 2)
    ddl = text.split("\nDDL:\n", 1)[1]
    assert "CREATE TABLE `zoo_everything` (\n    `id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY,\n" in ddl
    assert "\n    CONSTRAINT `everything_slug_email` UNIQUE (`slug`, `email`)\n);" in ddl
    indents = {len(line) - len(line.lstrip(" ")) for line in ddl.splitlines()}
    assert indents <= {0, 4}  # no staircase
    markdown = portadb.render(report, "markdown")
    assert "CREATE TABLE `zoo_everything` (\n    `id` bigint" in markdown
    data = json.loads(portadb.render(report, "json"))
    assert create in data["schema_steps"]


# -- 6. the abort says what to do next; re-running reads the same way; no empty file ---------------


def test_6_abort_names_the_way_on_and_resume_takes_it(zoo_source, empty, tmp_path):
    spoil(zoo_source)
    target = empty(POSTGRESQL)
    args = [f"--from={zoo_source}", f"--to={target}", "-v", "0"]

    status, _, message = portadb_command("copy", *args)
    assert status == 2
    assert message.endswith("the copy stopped before writing this chunk: fix the values on the source and "
                            "run the same copy with --resume to continue, or add --on-error=reject "
                            "--reject-file=FILE to copy the rest (--dry-run lists every such value).")

    status, _, again = portadb_command("copy", *args)
    assert status == 2 and "holds a copy of this project that did not finish" in again
    assert "run the same copy with --resume to continue it" in again

    rejects = tmp_path / "rejects.jsonl"
    status, _, resumed = portadb_command("copy", *args, "--resume", "--on-error=reject",
                                         f"--reject-file={rejects}")
    assert status == 1 and "rows were rejected" in resumed  # the rest is copied, the refused rows listed
    assert portadb.verify(zoo_source, target, counts_only=True).tables


def test_6_a_refused_copy_to_a_new_sqlite_url_leaves_no_file(zoo_source, tmp_path):
    call_command("migrate", "sessions", "zero", database=zoo_source, verbosity=0)  # now refused
    path = tmp_path / "new.sqlite3"
    status, _, message = portadb_command("copy", f"--from={zoo_source}", f"--to=sqlite:///{path}")
    assert status == 2 and "unapplied migrations" in message
    assert not path.exists()


# -- 7. the journal left on the target -------------------------------------------------------------


@pytest.mark.parametrize("target", [POSTGRESQL, MYSQL, SQLITE])
def test_7_a_complete_copy_leaves_one_journal_row_inspect_names_it_and_forgets_it(zoo_source, empty, target):
    target = empty(target)
    assert portadb.copy(zoo_source, target).ok
    leftovers = [t for t in connections[target].introspection.table_names() if t.startswith("portadb_")]
    assert leftovers == ["portadb_run"]
    assert db.raw_snapshot(target, "portadb_run", ["state"], "state") == [("complete",)]

    status, out, _ = portadb_command("inspect", f"--database={target}")
    assert status == 0
    assert "portadb journal: a complete copy from " in out and "'portadb inspect --forget' removes it" in out

    status, out, _ = portadb_command("inspect", f"--database={target}", "--forget", "--format=json")
    data = json.loads(out)
    assert status == 0 and data["copy"].startswith("a complete copy from ") and data["forgotten"] is True
    connections[target].close()
    assert not [t for t in connections[target].introspection.table_names() if t.startswith("portadb_")]
    assert portadb.verify(zoo_source, target).ok  # the project's data never needed it
    status, _, message = portadb_command("copy", f"--from={zoo_source}", f"--to={target}", "--resume")
    assert status == 2 and "Nothing to resume" in message

    status, out, _ = portadb_command("inspect", f"--database={target}", "--forget", "--format=json")
    assert status == 0 and json.loads(out)["copy"] is None and json.loads(out)["forgotten"] is False


def test_7_inspect_names_an_unfinished_copy(zoo_source, empty):
    spoil(zoo_source)
    target = empty(POSTGRESQL)
    status, _, _ = portadb_command("copy", f"--from={zoo_source}", f"--to={target}", "-v", "0")
    assert status == 2
    assert portadb.inspect(target).copy.startswith("an unfinished copy from ")
    assert "stopped while loading rows" in portadb.inspect(target).copy


# -- 8. verify shows progress bars -----------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_8_verify_shows_progress_bars_on_a_terminal(zoo_source, empty, monkeypatch):
    target = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, target).ok
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status, _, _ = portadb_command("verify", f"--from={zoo_source}", f"--to={target}")
    assert status == 0
    bars = terminal.getvalue()
    assert "all tables" in bars and "zoo_everything" in bars and "rows" in bars

    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    portadb_command("verify", f"--from={zoo_source}", f"--to={target}", "-v", "0")
    assert quiet.getvalue() == ""


def test_8_bars_on_a_terminal_leave_verify_its_workers(zoo_source, empty, monkeypatch):
    """A bar starts no thread: where another thread runs, verify would not fork its workers."""
    target = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, target).ok
    monkeypatch.setattr(sys, "stderr", Terminal())
    threads = threading.active_count()
    status, out, _ = portadb_command("verify", f"--from={zoo_source}", f"--to={target}", "--jobs=2",
                                     "--chunk-size=5", "--format=json")
    assert status == 0 and json.loads(out)["workers"] == 2
    assert "all tables" in sys.stderr.getvalue()
    assert threading.active_count() == threads


# -- 9. the small ones -----------------------------------------------------------------------------


def test_9_dry_run_at_v0_does_not_point_at_a_report_it_did_not_show(zoo_source, empty):
    spoil(zoo_source)
    target = empty(POSTGRESQL)
    status, out, message = portadb_command("copy", f"--from={zoo_source}", f"--to={target}", "--dry-run",
                                           "-v", "0")
    assert status == 1 and out == "" and "see the report" not in message
    status, _, message = portadb_command("copy", f"--from={zoo_source}", f"--to={target}", "--dry-run")
    assert status == 1 and message.endswith("; see the report.")


def test_9_dry_run_with_replace_does_not_ask_for_replace(zoo_source, empty):
    target = empty(MYSQL)
    assert portadb.copy(zoo_source, target).ok
    assert "(a copy needs --replace)" in portadb.plan(zoo_source, target).target_state
    state = portadb.plan(zoo_source, target, replace=True).target_state
    assert "(--replace would drop them)" in state and "needs --replace" not in state


def test_9_sequences_are_counted_alike_by_copy_and_verify(zoo_source, empty):
    for target in (empty(MYSQL), empty(SQLITE)):
        report = portadb.copy(zoo_source, target, verify=True)
        assert report.ok
        assert report.sequences_reset == len(report.verification.sequences) > 10, target


# -- 10. --replace without a terminal --------------------------------------------------------------


def test_10_replace_without_a_terminal_and_without_noinput_refuses(zoo_source, empty):
    target = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, target).ok
    before = fingerprint(target)
    args = ["copy", f"--from={zoo_source}", f"--to={target}", "--replace"]

    proc = processes.start(*args, stdin=subprocess.DEVNULL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip() == ("CommandError: --replace drops the project's tables on the target and there is no "
                           "terminal to ask; add --noinput to replace them without asking.")
    assert fingerprint(target) == before

    assert processes.run(*args, "--noinput").returncode == 0
    assert os.path.exists(settings.DATABASES[zoo_source]["NAME"])
