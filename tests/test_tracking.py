"""The change log: after ``copy --track-changes`` a sync compares only the keys the source's
triggers logged, and never trusts the log further than it can check it.

Every direction: the zoo is copied with the log installed, the source changes
(inserts, updates of every field type, deletes, rows moving in and out of
foreign key relations), the sync reads the log, and both sides are read back
independently and compared value by value. Then the log is broken in each
way a live site can break it (a trigger dropped or disabled, a table
truncated, a write on the target alone, the log replaced by another copy's):
the sync notices, compares in full, and still ends equal.
"""

from __future__ import annotations

from array import array

import pytest
from django.db import connections

import portadb
from portadb import fingerprints, tracking
from portadb.backends import adapter_for
from portadb.endpoints import connect, resolve
from portadb.exceptions import OptionError
from portadb.reports import FindingKind

from . import databases as db
from . import processes
from .backends import direction_id, second_target_of, target_of
from .rows import create_one
from .test_identifiers import INJECTION, canary_alive, plant, raw_quote
from .test_sync import CHUNK, DIRECTIONS, NOT_FINGERPRINTED, assert_equal, change
from .zoo import models as m


@pytest.fixture
def tracked(zoo_source, empty):
    """Return a function: ``(source, target)`` after a complete copy with ``track_changes``."""

    def make(source: str, target: str, **options) -> tuple[str, str]:
        empty(target)
        if source != zoo_source:  # a server source: the zoo copied there first
            portadb.copy(zoo_source, empty(source))
        report = portadb.copy(source, target, chunk_size=CHUNK, track_changes=True, **options)
        assert report.ok, portadb.render(report)
        assert [f for f in report.findings if f.kind == FindingKind.CHANGE_LOG]
        return source, target

    return make


def log_entries(alias: str) -> int:
    return tracking.log_model().objects.using(alias).count()


def by_table(report) -> dict:
    return {t.table: t for t in report.tables}


@pytest.mark.parametrize("direction", DIRECTIONS, ids=direction_id)
def test_every_change_arrives_by_the_change_log(tracked, direction):
    source, target = tracked(*direction)
    change(source)
    assert log_entries(source) > 0
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok and report.exit_code == 0, portadb.render(report, verbosity=2)
    assert_equal(source, target)
    assert report.inserted >= 12 and report.updated >= 7 and report.deleted >= 4
    tables = by_table(report)
    for table in ("zoo_everything", "zoo_book", "zoo_author"):
        assert tables[table].found_by == "change log" and tables[table].changed_rows
        assert tables[table].source_rows - tables[table].skipped_rows <= tables[table].changed_rows
    assert all(tables[t].found_by == "" for t in NOT_FINGERPRINTED if t in tables)  # no integer key
    assert log_entries(source) == 0  # the entries the sync read are done
    assert "not in the change log" in portadb.render(report)

    again = portadb.sync(source, target, chunk_size=CHUNK)
    assert again.ok and not again.changed_tables, portadb.render(again, verbosity=2)
    assert by_table(again)["zoo_everything"].skipped_rows == by_table(again)["zoo_everything"].source_rows
    change(source, seed=5, relations=False)
    third = portadb.sync(source, target, chunk_size=CHUNK)
    assert third.ok and third.updated >= 6 and third.inserted >= 12, portadb.render(third, verbosity=2)
    assert_equal(source, target)
    for model in (m.Everything, m.Book, m.PlainAuto):  # the sequences continue past the new keys
        create_one(model, target)


@pytest.mark.slow
@pytest.mark.parametrize("direction", [DIRECTIONS[1], DIRECTIONS[5]], ids=direction_id)
def test_a_killed_sync_consumes_nothing_and_the_next_one_ends_equal(tracked, direction):
    source, target = tracked(*direction)
    change(source, seed=2)
    before, logged = db.snapshot(target), log_entries(source)
    proc = processes.start("sync", f"--from={source}", f"--to={target}", f"--chunk-size={CHUNK}",
                           stop="sync:4")
    processes.wait_stopped(proc)
    processes.kill(proc)
    assert db.snapshot(target) == before and log_entries(source) == logged
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok, portadb.render(report, verbosity=2)
    assert_equal(source, target)
    assert log_entries(source) == 0


def test_a_write_the_log_missed_is_found_by_the_counts(tracked):
    """A row written on the target alone, and a trigger dropped on the source: each table is
    compared in full, with a finding that says why."""
    source, target = tracked("default", "postgresql")
    create_one(m.Tag, target)  # the target gains a row no source write logged
    with connections[source].cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'zoo_author'")
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')
        cursor.execute("UPDATE zoo_author SET name = 'unlogged' WHERE id = (SELECT MIN(id) FROM zoo_author)")
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok, portadb.render(report, verbosity=2)
    tables = by_table(report)
    assert tables["zoo_tag"].found_by == "" and tables["zoo_tag"].deleted == 1
    assert tables["zoo_author"].found_by == "" and tables["zoo_author"].updated == 1
    why = {f.table: f.message for f in report.findings if f.kind == FindingKind.CHANGE_LOG}
    assert "do not add up" in why["zoo_tag"] and "triggers are gone" in why["zoo_author"]
    assert_equal(source, target)


def test_a_truncated_or_disabled_table_on_postgresql_is_compared_in_full(tracked):
    source, target = tracked("postgresql2", target_of("sqlite"))
    with connections[source].cursor() as cursor:
        cursor.execute('ALTER TABLE "zoo_tag" DISABLE TRIGGER USER')
        cursor.execute("UPDATE zoo_tag SET name = 'unlogged' WHERE id = (SELECT MIN(id) FROM zoo_tag)")
        cursor.execute('TRUNCATE "zoo_book_tags"')
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok, portadb.render(report, verbosity=2)
    why = {f.table: f.message for f in report.findings if f.kind == FindingKind.CHANGE_LOG}
    assert "disabled" in why["zoo_tag"] and "truncated" in why["zoo_book_tags"]
    assert by_table(report)["zoo_tag"].updated == 1
    assert_equal(source, target)


def test_a_log_replaced_by_another_copy_or_removed_is_not_used(tracked, empty):
    source, target = tracked("default", "postgresql")
    other = empty("mysql")
    assert portadb.copy(source, other, track_changes=True).ok  # the source's log is now the other's
    change(source, seed=3)
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok and not any(t.found_by == "change log" for t in report.tables)
    assert any("gone or was replaced" in f.message for f in report.findings)
    assert_equal(source, target)
    assert portadb.sync(source, other).ok and log_entries(source) == 0  # its own log works
    assert_equal(source, other)

    plain = portadb.copy(source, empty(target_of("sqlite")))  # a copy that does not use the log
    assert plain.ok and any("still logs every write" in f.message for f in plain.findings)
    found = portadb.inspect(source)
    assert found.change_log and "--untrack" in portadb.render(found)
    removed = portadb.inspect(source, untrack=True)
    assert removed.untracked and portadb.inspect(source).change_log is None
    assert not adapter_for(connections[source]).enabled_triggers()
    create_one(m.Everything, source)  # the site writes on without the log
    assert portadb.sync(source, other).ok
    assert_equal(source, other)


def test_fingerprints_kept_by_a_copy_for_sync_are_dropped_where_the_log_wrote(tracked):
    """With both, the log decides; the fingerprints it makes stale go, and a sync without
    the log then compares those tables in full."""
    source, target = tracked("default", "postgresql", for_sync=True)
    m.Everything.objects.using(source).filter(pk=m.Everything.objects.using(source).order_by("pk")[0].pk
                                              ).update(text="changed")
    report = portadb.sync(source, target)
    assert report.ok and by_table(report)["zoo_everything"].found_by == "change log"
    kept = fingerprints.model().objects.using(target)
    assert not kept.filter(table_name="zoo_everything").exists()
    assert kept.filter(table_name="zoo_tag").exists()
    portadb.inspect(source, untrack=True)
    m.Everything.objects.using(source).filter(pk=m.Everything.objects.using(source).order_by("pk")[1].pk
                                              ).update(text="changed again")
    report = portadb.sync(source, target)
    assert report.ok and by_table(report)["zoo_everything"].found_by == ""
    assert_equal(source, target)


@pytest.mark.parametrize("alias", ["sqlite", "postgresql", "mysql"])
def test_hostile_names_reach_the_triggers_only_as_names(empty, alias):
    """Triggers on tables, and of key columns, named to end their identifier early: every write
    is logged, the canary lives, and ``--untrack`` finds and removes them by their own names."""
    alias = empty(target_of(alias) if alias == "sqlite" else second_target_of(alias))
    plant(alias)
    endpoint = resolve(alias)
    connect(endpoint)
    adapter = endpoint.adapter
    with connections[alias].schema_editor() as editor:
        editor.create_model(tracking.log_model())
        editor.create_model(tracking.tables_model())
    names = sorted(set(INJECTION.values()))
    with connections[alias].cursor() as cursor:
        for n, name in enumerate(names, 1):
            for sql in adapter.track_sql(name, name, n, tracking.LOG):  # the column named as its table
                cursor.execute(sql)
        for name in names:
            table = raw_quote(db.vendor_of(alias), name)
            cursor.execute(f"INSERT INTO {table} VALUES (5, 6)")
            cursor.execute(f"UPDATE {table} SET {table} = 7 WHERE id = 5")
            cursor.execute(f"DELETE FROM {table} WHERE id = 1")
    logged = sorted(tracking.log_model().objects.using(alias).values_list("table_id", "row_key"))
    # Per table: the insert's key, the update's old and new key, the deleted row's.
    assert logged == sorted((n, key) for n in range(1, len(names) + 1) for key in (6, 6, 7, 2))
    assert canary_alive(alias)
    assert {name for _, name in adapter.enabled_triggers()}
    assert portadb.inspect(alias, untrack=True).untracked
    assert not adapter_for(connections[alias]).enabled_triggers() and canary_alive(alias)


def test_the_command_installs_and_refuses_in_one_sentence(zoo_source, empty):
    target = empty("postgresql")
    refused = processes.run("copy", f"--from={zoo_source}", f"--to={target}", "--dry-run", "--track-changes")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "nothing to track changes after" in refused.stderr and log_entries_absent(zoo_source)
    done = processes.run("copy", f"--from={zoo_source}", f"--to={target}", "--track-changes", "--noinput")
    assert done.returncode == 0, done.stderr
    assert f"--database={zoo_source} --untrack" in done.stdout
    shown = processes.run("inspect", f"--database={zoo_source}", "--untrack")
    assert shown.returncode == 0 and "removed (--untrack)" in shown.stdout
    assert log_entries_absent(zoo_source)

    proc = processes.start("copy", f"--from={zoo_source}", f"--to={target}", "--chunk-size=3", "--replace",
                           "--noinput", stop="chunk:20")  # begun without the log
    processes.wait_stopped(proc)
    processes.kill(proc)
    with pytest.raises(OptionError, match="started without --track-changes"):
        portadb.copy(zoo_source, target, resume=True, track_changes=True)
    assert log_entries_absent(zoo_source)


def log_entries_absent(alias: str) -> bool:
    return tracking.LOG not in adapter_for(connections[alias]).table_names()


def test_mysql_tables_whose_foreign_keys_act_on_their_own_are_left_out(zoo_source, empty):
    """InnoDB fires no trigger for the rows an ON DELETE CASCADE removes."""
    source = empty("mysql2")
    portadb.copy(zoo_source, source)
    with connections[source].cursor() as cursor:
        cursor.execute("ALTER TABLE zoo_reading ADD CONSTRAINT reading_book_cascade FOREIGN KEY (book_id)"
                       " REFERENCES zoo_book (id) ON DELETE CASCADE")
    target = empty("postgresql")
    report = portadb.copy(source, target, track_changes=True)
    assert report.ok
    left_out = [f.message for f in report.findings if f.kind == FindingKind.CHANGE_LOG and f.model]
    assert any(msg.startswith("zoo.Reading is not in the change log") and "reading_book_cascade" in msg
               for msg in left_out), left_out
    m.Book.objects.using(source).filter(pk=m.Book.objects.using(source).order_by("pk")[0].pk).delete()
    synced = portadb.sync(source, target)
    assert synced.ok and by_table(synced)["zoo_reading"].found_by == ""
    assert_equal(source, target)


@pytest.mark.parametrize("source", ["default", "mysql2"])
def test_a_log_that_cannot_be_installed_is_refused_and_leaves_nothing(zoo_source, empty, monkeypatch, source):
    """A trigger the source refuses (here, one on a table that does not exist) stops the copy
    before its first write, in one sentence; the triggers already made are taken back (MySQL
    commits each CREATE TRIGGER)."""
    from portadb.exceptions import PreconditionError

    if source != zoo_source:
        portadb.copy(zoo_source, empty(source))
    target = empty("postgresql")
    adapter = type(adapter_for(connections[source]))
    track_sql = adapter.track_sql

    def refused(self, table, key, table_id, log):
        return track_sql(self, "zoo_no_such_table" if table == "zoo_book" else table, key, table_id, log)

    monkeypatch.setattr(adapter, "track_sql", refused)
    with pytest.raises(PreconditionError, match="Could not install the change log on .*--track-changes"):
        portadb.copy(source, target, track_changes=True)
    assert log_entries_absent(source) and not adapter_for(connections[source]).enabled_triggers()
    assert not adapter_for(connections[target]).table_names()


def test_log_entries_that_cannot_be_deleted_after_the_commit_are_compared_again(tracked, monkeypatch):
    """The sync has committed: a source that refuses the deletion (a site holding its write lock too
    long) costs a warning and a second look next time, never a report that says nothing was written."""
    from django.db import OperationalError

    source, target = tracked("default", "postgresql")
    change(source, seed=4, relations=False)
    consume = tracking.consume

    def locked(*args):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tracking, "consume", locked)
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok and report.changed_tables, portadb.render(report, verbosity=2)
    assert any("could not be deleted" in f.message and "database is locked" in f.message
               for f in report.findings)
    assert_equal(source, target)
    assert log_entries(source) > 0
    monkeypatch.setattr(tracking, "consume", consume)
    again = portadb.sync(source, target, chunk_size=CHUNK)
    assert again.ok and not again.changed_tables and log_entries(source) == 0


def test_a_copy_killed_and_resumed_goes_on_with_its_change_log(zoo_source, empty):
    """Writes between the interruption and the resume are in the log; the resumed run, with the
    flag or without it, keeps the first run's log and does not call it a stray."""
    target = empty("postgresql")
    proc = processes.start("copy", f"--from={zoo_source}", f"--to={target}", "--chunk-size=3",
                           "--track-changes", stop="chunk:20")
    processes.wait_stopped(proc)
    processes.kill(proc)
    m.Everything.objects.using(zoo_source).filter(pk=m.Everything.objects.using(zoo_source).order_by("pk")[0].pk
                                                  ).update(text="written while the copy stood still")
    resumed = portadb.copy(zoo_source, target, resume=True, chunk_size=CHUNK)
    assert resumed.ok and not [f for f in resumed.findings if f.kind == FindingKind.CHANGE_LOG]
    change(zoo_source, seed=6)
    report = portadb.sync(zoo_source, target, chunk_size=CHUNK)
    assert report.ok and by_table(report)["zoo_everything"].found_by == "change log"
    assert_equal(zoo_source, target)


@pytest.mark.parametrize("source", ["default", "postgresql2", "mysql2"])
def test_a_sync_deletes_the_log_entries_it_read_and_no_other(tracked, source):
    """Entries are deleted by ranges of consecutive ids: an id between two read ones that the sync
    did not read (a writer's that committed after its snapshot) stays."""
    source, _ = tracked(source, "postgresql")
    for _ in range(12):
        create_one(m.Tag, source)
    ids = list(tracking.log_model().objects.using(source).order_by("id").values_list("id", flat=True))
    read = [i for n, i in enumerate(ids) if n not in (3, 7, 8)]
    log = tracking.Log(entries={"zoo_tag": array("q", read)})
    tracking.consume(resolve(source), log, ["zoo_tag"])
    left = list(tracking.log_model().objects.using(source).order_by("id").values_list("id", flat=True))
    assert left == [ids[3], ids[7], ids[8]]
