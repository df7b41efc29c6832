"""A project whose models and migrations depend on the vendor, copied in every direction.

tests/vendorproject: ``Note.search`` exists on PostgreSQL only, ``NoteIndex`` on
SQLite only, migration 0001 adds each vendor's own index with ``RunSQL`` and
0002 writes a note to the default database. Each step runs in a process whose
default database is that vendor's (``VP_DEFAULT_URL``), as the site's own would.
The target must be what the project's own migrate builds on its backend:
compared by introspection with a fresh ``migrate`` there, table by table;
every value equal; ``migrate --check`` clean; new rows insertable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dj_database_url
import pytest
from django.conf import settings

from . import databases as db
from .backends import BACKENDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECTIONS = [(s, t) for s in BACKENDS for t in BACKENDS]


def url(backend, role: str) -> str:
    return backend.url_of(f"vp_{role}", settings.WORK_DIR)


def run(default_url: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``argv`` in a process of the vendor project whose default database is ``default_url``."""
    env = dict(os.environ, VP_DEFAULT_URL=default_url, DJANGO_SETTINGS_MODULE="tests.vendorproject.settings",
               PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, *argv], env=env, cwd=ROOT, capture_output=True, text=True)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def tool(default_url: str, command: str) -> str:
    return run(default_url, "-m", "tests.vendorproject.tool", command).stdout


def fresh(backend, role: str) -> str:
    db.require(backend.target)
    address = url(backend, role)
    db.recreate_database(dj_database_url.parse(address))
    return address


@pytest.fixture(scope="module")
def sources():
    """Each vendor's source, built (migrate, then the notes) the first time it is asked for."""
    built = {}

    def source(backend) -> str:
        if backend.vendor not in built:
            address = fresh(backend, "source")
            tool(address, "build")
            built[backend.vendor] = address
        return built[backend.vendor]

    return source


@pytest.fixture(scope="module")
def references():
    """What a fresh ``migrate`` builds on each vendor, examined (schema and the rows migrate made)."""
    made = {}

    def reference(backend) -> dict:
        if backend.vendor not in made:
            address = fresh(backend, "reference")
            run(address, "-m", "django", "migrate", "-v", "0")
            made[backend.vendor] = json.loads(tool(address, "examine"))
        return made[backend.vendor]

    return reference


def copy(source_url: str, target_url: str, *options: str, check: bool = True):
    return run(source_url, "-m", "django", "portadb", "copy", "--from=default", f"--to={target_url}",
               "--noinput", "--format=json", *options, check=check)


@pytest.mark.parametrize("source, target", DIRECTIONS, ids=[f"{s.vendor}->{t.vendor}" for s, t in DIRECTIONS])
def test_the_target_is_what_its_own_migrate_builds_with_every_value(sources, references, source, target):
    source_url = sources(source)
    before = json.loads(tool(source_url, "examine"))
    target_url = fresh(target, "target")
    # SQLite's own search index cannot go elsewhere: its rows are refused until it is left out.
    exclude = ("--exclude", "notes.NoteIndex") if source.vendor == "sqlite" != target.vendor else ()
    done = copy(source_url, target_url, *exclude)
    report = json.loads(done.stdout)
    assert report["ok"], done.stdout
    assert report["schema_path"] == "migrate"  # 0001 runs SQL of its own on every vendor
    # 0002 made a note and a tag on the target; they gave way to the source's rows.
    assert report["removed_rows"]["notes_note"] == 1 and report["removed_rows"]["notes_tag"] == 1
    verified = run(source_url, "-m", "django", "portadb", "verify", "--from=default", f"--to={target_url}",
                   "--format=json", *exclude, check=False)
    assert json.loads(verified.stdout)["ok"], verified.stdout  # the columns both sides have
    after = json.loads(tool(target_url, "examine-and-insert"))

    reference = references(target)
    assert after["snapshot"] == reference["snapshot"]  # table by table: columns, indexes, constraints
    assert after["migrate_check"] == 0
    assert after["inserted"]
    shared = before["rows"].keys() & after["rows"].keys()
    assert shared >= {"notes_note", "notes_tag", "notes_note_tags", "django_content_type", "auth_permission"}
    for table in shared:
        mine, theirs = before["rows"][table], after["rows"][table]
        assert _only(theirs, mine) == _only(mine, theirs), table
    if source.vendor == "postgresql" != target.vendor:
        assert all(row["search"] is None for row in before["rows"]["notes_note"])  # dropped: NULL only


def _only(rows: list[dict], like: list[dict]) -> list[dict]:
    """``rows`` with the columns that ``like``'s rows have too (a column of one backend only is NULL)."""
    columns = set(like[0]) if like else set()
    return [{k: v for k, v in row.items() if k in columns} for row in rows]


def test_values_a_model_of_the_other_backend_cannot_take_are_refused_with_the_way_out(sources):
    by_vendor = {b.vendor: b for b in BACKENDS}
    sqlite, postgresql = by_vendor["sqlite"], by_vendor["postgresql"]
    # NoteIndex exists only where SQLite is the default database, and holds rows.
    target_url = fresh(postgresql, "target")
    done = copy(sources(sqlite), target_url, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "notes.NoteIndex exists where the source's backend is the default database only (40 rows)" \
        in done.stderr
    assert "--exclude notes.NoteIndex" in done.stderr and "nothing was written" in done.stderr
    # A tsvector with values cannot become text on SQLite.
    source_url = fresh(postgresql, "search")
    tool(source_url, "build")
    tool(source_url, "fill-search")
    done = copy(source_url, fresh(sqlite, "target"), check=False)
    assert done.returncode == 2 and "notes.Note (notes_note) differs" in done.stderr, done.stderr
    assert "search holds values the target has no column for" in done.stderr
    assert "--exclude notes.Note" in done.stderr


@pytest.mark.parametrize("source, target", [(b, o) for b in BACKENDS for o in BACKENDS
                                            if {b.vendor, o.vendor} == {"postgresql", "sqlite"}],
                         ids=lambda b: b.vendor)
def test_a_sync_plans_as_the_copy_did_and_the_change_arrives(source, target):
    """The sync finds, as the copy did, that the target's Note has no search column (or has one):
    the columns it compares and writes are those the target's own models have."""
    source_url = fresh(source, "syncsource")
    tool(source_url, "build")
    target_url = fresh(target, "target")
    exclude = ("--exclude", "notes.NoteIndex") if source.vendor == "sqlite" else ()
    assert json.loads(copy(source_url, target_url, "--track-changes", *exclude).stdout)["ok"]
    run(source_url, "-c", "import django; django.setup(); from tests.vendorproject.notes.models import Note;"
                          " Note.objects.filter(pk=Note.objects.order_by('pk')[0].pk).update(title='synced')")
    done = run(source_url, "-m", "django", "portadb", "sync", "--from=default", f"--to={target_url}",
               "--format=json", *exclude)
    report = json.loads(done.stdout)
    notes = {t["table"]: t for t in report["tables"]}["notes_note"]
    assert report["ok"] and notes["updated"] == 1 and notes["found_by"] == "change log", done.stdout
    after = json.loads(tool(target_url, "examine"))
    assert "synced" in {row["title"] for row in after["rows"]["notes_note"]}


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("target", [b for b in BACKENDS if b.vendor != "sqlite"], ids=lambda b: b.vendor)
def test_a_copy_begun_on_the_sources_models_begins_again_on_the_targets(target, jobs, monkeypatch):
    """Without its raw SQL the project's migrations say nothing of the vendor: only the models
    differ. The copy starts on this process's (SQLite's) view of the target's models while the
    child describes them; when the child's differ, the tables built on the guess go (NoteIndex's
    among them) and the target is built again as its own backend has the models. With two
    workers the answer is read once they are at work; in one process, before its first row."""
    monkeypatch.setenv("VP_RAW_SQL", "0")
    sqlite = next(b for b in BACKENDS if b.vendor == "sqlite")
    source_url, target_url = fresh(sqlite, f"plain_source{jobs}"), fresh(target, f"plain_target{jobs}")
    tool(source_url, "build")
    done = run(source_url, "-m", "django", "portadb", "copy", "--from=default", f"--to={target_url}",
               "--noinput", "--format=json", "--exclude", "notes.NoteIndex", "-v", "3", f"--jobs={jobs}")
    report = json.loads(done.stdout)
    assert report["ok"], done.stdout
    assert report["workers"] == int(jobs)
    assert "notes_noteindex" in done.stderr.split("CREATE TABLE", 1)[1]  # built on the guess
    after = json.loads(tool(target_url, "examine"))
    assert "notes_noteindex" not in after["snapshot"]  # and gone: the target's models have none
    assert ("search" in after["snapshot"]["notes_note"]["columns"]) is (target.vendor == "postgresql")
    assert after["migrate_check"] == 0
    before = json.loads(tool(source_url, "examine"))
    for table in ("notes_note", "notes_tag", "notes_note_tags"):
        assert _only(after["rows"][table], before["rows"][table]) == before["rows"][table], table


def test_ctrl_c_before_the_guess_is_confirmed_leaves_nothing_and_says_copy_again(monkeypatch):
    """Ctrl-C while the child still describes the target (made slow here): the tables begun on
    the guess go, and the sentence does not send the user to a --resume that finds nothing."""
    import signal

    monkeypatch.setenv("VP_RAW_SQL", "0")
    by_vendor = {b.vendor: b for b in BACKENDS}
    source_url = fresh(by_vendor["sqlite"], "plain_source_stopped")
    target_url = fresh(by_vendor["postgresql"], "plain_target_stopped")
    tool(source_url, "build")
    env = dict(os.environ, VP_DEFAULT_URL=source_url, DJANGO_SETTINGS_MODULE="tests.vendorproject.settings",
               PYTHONPATH=ROOT, VP_SLOW_CHILD="3")
    copy = subprocess.Popen([sys.executable, "-m", "django", "portadb", "copy", "--from=default",
                             f"--to={target_url}", "--noinput", "--exclude", "notes.NoteIndex", "-v", "3",
                             "--jobs=1"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            # Ctrl-C as in a terminal: a shell that runs CI in the background starts
                            # it with SIGINT ignored, and every child would inherit that.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in copy.stderr:  # the guess's tables are being made: the child has not answered
        seen.append(line)
        if "CREATE TABLE" in line:
            break
    copy.send_signal(signal.SIGINT)
    stdout, rest = copy.communicate(timeout=60)
    assert copy.returncode == 130, "".join(seen) + rest
    assert rest.strip().splitlines()[-1] == (
        "CommandError: The copy was stopped by Ctrl-C (SIGINT) before it kept anything on the target: "
        "run the same copy again."), rest
    tables = run(target_url, "-c", "import django; django.setup(); from django.db import connection;"
                 " print(connection.introspection.table_names())").stdout
    assert tables.strip() == "[]"


def test_a_dry_run_begun_on_the_sources_models_reports_on_the_targets(monkeypatch):
    """The dry run's scan starts on this process's guess too; its report is the one planned on
    the child's view of the target (built by migrate: Note differs), never the guess's."""
    monkeypatch.setenv("VP_RAW_SQL", "0")
    by_vendor = {b.vendor: b for b in BACKENDS}
    source_url = fresh(by_vendor["sqlite"], "plain_source_dry")
    target_url = fresh(by_vendor["postgresql"], "plain_target_dry")
    tool(source_url, "build")
    done = run(source_url, "-m", "django", "portadb", "copy", "--from=default", f"--to={target_url}",
               "--dry-run", "--format=json", "--exclude", "notes.NoteIndex", "--jobs=2", check=False)
    report = json.loads(done.stdout)
    assert report["schema_path"] == "migrate", done.stdout
    assert "notes.Note" in report["schema_reason"]
    tables = run(target_url, "-c", "import django; django.setup(); from django.db import connection;"
                 " print(connection.introspection.table_names())").stdout
    assert tables.strip() == "[]"  # nothing written
