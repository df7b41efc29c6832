"""portadb sync: after a copy, what changed on the source arrives, and nothing else is written.

Every direction: the zoo is copied, then the source changes (inserts,
updates of every field type, deletes, rows that move in and out of foreign
key relations), then ``sync``; the two sides are then read independently
(Django's ORM) and compared value by value.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connections
from django.db.models import Count
from django.test import override_settings

import portadb
from portadb import fingerprints, journal
from portadb.backends import adapter_for
from portadb.exceptions import OptionError, PreconditionError, TransferError, ValueRefused

from . import databases as db
from . import processes
from .backends import BACKENDS, backend_of, direction_id
from .rows import create_one
from .test_misuse import fingerprint
from .zoo import models as m

CHUNK = 3
#: Models only PostgreSQL holds: not on a target of another vendor.
LEFT_BEHIND = {"pgzoo_arrays", "pgzoo_ranges", "pgzoo_texts"}
#: Tables whose key is not one integer column: always compared whole.
NOT_FINGERPRINTED = {"zoo_ticket", "zoo_code", "zoo_cache"}
#: A writable source per vendor: SQLite's zoo file, a server's second target.
WRITABLE = {b.vendor: b.source if not b.server else b.second_target for b in BACKENDS}
DIRECTIONS = [(WRITABLE[s.vendor], t.target) for s in BACKENDS for t in BACKENDS]


@pytest.fixture
def copied(request, zoo_source, empty):
    """Return a function: ``(source, target)`` after a complete copy of the zoo from source to target."""

    def make(source: str, target: str) -> tuple[str, str]:
        empty(target)
        if source != zoo_source:  # a server source: the zoo copied there first
            portadb.copy(zoo_source, empty(source))
        report = portadb.copy(source, target, chunk_size=CHUNK)
        assert report.ok, portadb.render(report)
        return source, target

    return make


def change(alias: str, seed: int = 0, relations: bool = True) -> None:
    """Insert, update (every field type) and delete rows on ``alias``; with ``relations``, move
    rows between parents and delete parents with their children."""
    rng = random.Random(seed)
    with override_settings(DATABASE_ROUTERS=[db.PinRouter(alias)]):
        rows = list(m.Everything.objects.order_by("pk"))
        fields = [f for f in m.Everything._meta.concrete_fields if not f.primary_key
                  and f.name not in ("slug", "email")]  # unique together: left alone
        for row in rng.sample(rows, 6):  # each takes every value of another row
            donor = rng.choice([r for r in rows if r.pk != row.pk])
            for f in fields:
                setattr(row, f.attname, getattr(donor, f.attname))
            row.text = f"changed {row.pk} ✓ {rng.random()}"
            row.save()
        nulled = rows[-1]
        for f in fields:
            if f.null:
                setattr(nulled, f.attname, None)
        nulled.save()
        for model in (m.Everything, m.Tag, m.Author, m.Book, m.Category, m.Ticket, m.Code, m.Pizzeria,
                      m.Reading, m.Comment, m.SmallAuto, m.PlainAuto):
            create_one(model, alias)
        m.Ticket.objects.filter(pk=m.Ticket.objects.order_by("pk").first().pk).delete()  # a UUID key
        m.Code.objects.filter(pk=m.Code.objects.order_by("pk").last().pk).delete()  # a text key
        if not relations:
            return
        books, authors = list(m.Book.objects.order_by("pk")), list(m.Author.objects.order_by("pk"))
        moved = books[1]
        moved.author = authors[-1]  # a child moves to another parent
        moved.save()
        authors[0].favourite_book = books[-1]  # into a relation ...
        authors[0].save()
        m.Author.objects.filter(pk=authors[1].pk).update(favourite_book=None)  # ... and out of one
        m.Book.objects.filter(pk=books[0].pk).delete()  # its readings go with it
        m.Author.objects.filter(pk=authors[2].pk).delete()  # its books, and theirs
        parent = m.Category.objects.filter(children__isnull=False).first()
        if parent is not None:
            m.Category.objects.filter(pk=parent.pk).delete()  # a parent and its subtree
        tags, books = list(m.Tag.objects.order_by("pk")), list(m.Book.objects.order_by("pk"))
        books[2].tags.set(tags[:2])
        books[3].tags.clear()
    connections[alias].close()


def assert_equal(source: str, target: str) -> None:
    before, after = db.snapshot(source), db.snapshot(target)
    for table in (before.keys() | after.keys()) - LEFT_BEHIND:
        assert after.get(table) == before.get(table), table


@pytest.mark.parametrize("direction", DIRECTIONS, ids=direction_id)
def test_every_change_arrives_and_nothing_else_is_written(copied, direction):
    source, target = copied(*direction)
    change(source)
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok and report.exit_code == 0, portadb.render(report, verbosity=2)
    assert_equal(source, target)
    held = db.snapshot(target)  # the rows the report says the target holds are those it holds
    assert {t.table: t.target_rows for t in report.tables} == {t.table: len(held[t.table])
                                                               for t in report.tables}
    assert report.inserted >= 12 and report.updated >= 7 and report.deleted >= 4
    assert sum(t.verified_rows for t in report.tables) == report.inserted + report.updated + report.deleted
    assert {t.table for t in report.changed_tables} >= {"zoo_everything", "zoo_book", "zoo_author"}
    again = portadb.sync(source, target, chunk_size=CHUNK)  # by the fingerprints the first one kept
    assert again.ok and not again.changed_tables, portadb.render(again, verbosity=2)
    everything = {t.table: t for t in again.tables}["zoo_everything"]
    assert everything.skipped_rows == everything.source_rows  # no bucket changed: none read
    change(source, seed=5, relations=False)  # and once more, found by the fingerprints
    third = portadb.sync(source, target, chunk_size=CHUNK)
    assert third.ok and third.updated >= 6 and third.inserted >= 12, portadb.render(third, verbosity=2)
    assert sum(t.skipped_rows for t in third.tables) > 0
    assert_equal(source, target)
    for model in (m.Everything, m.Book, m.PlainAuto):  # the sequences continue past the new keys
        create_one(model, target)


@pytest.mark.parametrize("direction", [d for d in DIRECTIONS if backend_of(d[1]).vendor == "sqlite"],
                         ids=direction_id)
def test_a_sync_with_nothing_to_do_writes_nothing(copied, direction):
    """SQLite counts every write transaction in its file header: the count stays. (The first sync
    after a copy keeps the source's fingerprints; no project row changes.)"""
    source, target = copied(*direction)
    before = db.snapshot(target)
    first = portadb.sync(source, target)
    assert first.ok and not first.changed_tables and db.snapshot(target) == before
    path = Path(settings.DATABASES[target]["NAME"])
    connections[target].close()
    counter = path.read_bytes()[24:28]
    report = portadb.sync(source, target)
    connections[target].close()
    assert report.ok and not report.changed_tables and report.inserted == report.deleted == 0
    assert path.read_bytes()[24:28] == counter


@pytest.mark.parametrize("direction", DIRECTIONS[:3], ids=direction_id)
def test_dry_run_names_the_changes_and_writes_nothing(copied, direction):
    source, target = copied(*direction)
    change(source, seed=1)
    before = db.snapshot(target)
    planned = portadb.sync(source, target, dry_run=True, chunk_size=CHUNK)
    assert planned.ok and planned.dry_run
    assert db.snapshot(target) == before
    done = portadb.sync(source, target, chunk_size=CHUNK, jobs=1)  # the target read in a thread
    by_table = {t.table: (t.inserted, t.updated, t.deleted) for t in done.tables}
    assert {t.table: (t.inserted, t.updated, t.deleted) for t in planned.tables} == by_table
    assert "would insert" in portadb.render(planned) and "nothing was written" in portadb.render(planned)


@pytest.mark.slow
@pytest.mark.parametrize("direction", [DIRECTIONS[1], DIRECTIONS[5]], ids=direction_id)
def test_a_killed_sync_leaves_the_target_as_it_was_and_runs_again(copied, direction):
    source, target = copied(*direction)
    change(source, seed=2)
    before = db.snapshot(target)
    proc = processes.start("sync", f"--from={source}", f"--to={target}", f"--chunk-size={CHUNK}",
                           stop="sync:4")
    processes.wait_stopped(proc)
    processes.kill(proc)
    assert db.snapshot(target) == before  # one transaction: nothing of it committed
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok, portadb.render(report, verbosity=2)
    assert_equal(source, target)


@pytest.mark.parametrize("direction", DIRECTIONS[:3], ids=direction_id)
def test_a_sync_killed_after_its_commit_leaves_no_sequence_behind(copied, direction):
    """Killed once its writes committed, before it read them back: the sequences are past the new
    keys already (reset inside the sync's transaction), and the next sync finds nothing to write."""
    source, target = copied(*direction)
    change(source, seed=3)
    proc = processes.start("sync", f"--from={source}", f"--to={target}", stop="synced:1")
    processes.wait_stopped(proc)
    processes.kill(proc)
    assert_equal(source, target)  # the rows are there: the sync had committed
    report = portadb.sync(source, target)
    assert report.ok and not report.changed_tables, portadb.render(report, verbosity=2)
    for model in (m.Everything, m.Book, m.PlainAuto):  # new rows get new keys
        create_one(model, target)


@pytest.mark.parametrize("direction", DIRECTIONS, ids=direction_id)
def test_keys_of_rows_deleted_on_the_source_since_the_copy_stay_unused(copied, direction):
    """Rows added and deleted on the source after the copy leave no row to write, but a counter
    the target's must follow: its next new row must not take the keys of theirs."""
    source, target = copied(*direction)
    made = [create_one(m.PlainAuto, source) for _ in range(2)]
    m.PlainAuto.objects.using(source).filter(pk__in=[o.pk for o in made]).delete()

    report = portadb.sync(source, target)

    assert report.ok and not report.changed_tables, portadb.render(report, verbosity=2)
    assert create_one(m.PlainAuto, target).pk == made[-1].pk + 1


def test_a_failure_after_the_commit_says_the_sync_committed(copied, monkeypatch):
    """A database error while reading back must not say that nothing was committed."""
    synced = importlib.import_module("portadb.sync")  # ``portadb.sync`` is also the function
    source, target = copied("default", "postgresql")
    create_one(m.Tag, source)

    def lost(*args):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(synced, "read_back", lost)
    with pytest.raises(TransferError, match="committed, then stopped .* run the same sync again"):
        portadb.sync(source, target)
    assert_equal(source, target)
    monkeypatch.undo()
    report = portadb.sync(source, target)
    assert report.ok and not report.changed_tables, portadb.render(report, verbosity=2)


def test_refuses_a_target_no_copy_of_this_source_built(zoo_source, copied, empty):
    target = empty("postgresql")
    db.migrate(target)
    with pytest.raises(PreconditionError, match="was not built by a portadb copy"):
        portadb.sync(zoo_source, target)
    source, target = copied("postgresql2", "mysql")
    with pytest.raises(PreconditionError, match="was copied from .* not from"):
        portadb.sync(zoo_source, target)


def test_refuses_a_schema_changed_since_the_copy(copied):
    source, target = copied("default", "postgresql")
    with connections[target].cursor() as cursor:
        cursor.execute('ALTER TABLE "zoo_tag" ADD COLUMN "extra" integer')
    with pytest.raises(PreconditionError, match="schema changed since the copy.*zoo_tag"):
        portadb.sync(source, target)


def test_options_are_refused_before_any_work(zoo_source):
    with pytest.raises(OptionError, match="--dry-run writes nothing"):
        portadb.sync(zoo_source, "postgresql", dry_run=True, on_error="reject", reject_file="x.jsonl")
    with pytest.raises(OptionError, match="chunk size"):
        portadb.sync(zoo_source, "postgresql", chunk_size=0)


@pytest.mark.parametrize("target", ["postgresql", "mysql"])
def test_a_value_the_target_refuses_stops_the_sync_or_is_rejected(copied, target, tmp_path):
    """SQLite does not enforce max_length; the target's char(100) refuses 150 characters."""
    source, target = copied("default", target)
    with connections[source].cursor() as cursor:
        cursor.execute("UPDATE zoo_everything SET char = %s WHERE id = (SELECT MIN(id) FROM zoo_everything)",
                       ["x" * 150])
        cursor.execute("UPDATE zoo_tag SET name = 'renamed' WHERE id = (SELECT MIN(id) FROM zoo_tag)")
        cursor.execute("SELECT MIN(id) FROM zoo_everything")
        (pk,) = cursor.fetchone()
    before = db.snapshot(target)
    planned = portadb.sync(source, target, dry_run=True)
    assert not planned.ok and planned.exit_code == 1
    assert [(f.table, f.pk, f.field) for f in planned.errors] == [("zoo_everything", pk, "char")]
    with pytest.raises(ValueRefused) as refused:
        portadb.sync(source, target, chunk_size=CHUNK)
    assert refused.value.refusals[0].pk == pk and refused.value.refusals[0].field == "char"
    assert "the sync stopped before writing" in str(refused.value) and "--resume" not in str(refused.value)
    assert db.snapshot(target) == before  # nothing of it committed, the renamed tag neither

    path = tmp_path / "rejected.jsonl"
    report = portadb.sync(source, target, chunk_size=CHUNK, on_error="reject", reject_file=str(path))
    assert report.exit_code == 1 and report.rejected_rows == 1 and report.reject_file == str(path)
    assert [(line["table"], line["pk"], line["field"]) for line in map(json.loads, path.open())] == [
        ("zoo_everything", pk, "char")]
    everything = {t.table: t for t in report.tables}["zoo_everything"]
    assert everything.ok and everything.rejected == 1 and everything.updated == 0
    after = db.snapshot(target)
    assert after["zoo_tag"] == db.snapshot(source)["zoo_tag"]
    assert pk not in {row[0] for row in after["zoo_everything"]}  # as a reject copy leaves it
    # No fingerprints of a table the target lacks rows of: the next sync finds the row again.
    assert not fingerprints.model().objects.using(target).filter(table_name="zoo_everything").exists()
    again = portadb.sync(source, target, chunk_size=CHUNK, on_error="reject", reject_file=str(path))
    assert {t.table: t for t in again.tables}["zoo_everything"].rejected == 1


def test_the_command_writes_every_format_and_refuses_in_one_sentence(copied, tmp_path):
    source, target = copied("default", "postgresql")
    change(source, seed=3)
    planned = processes.run("sync", f"--from={source}", f"--to={target}", "--dry-run", "--format=json")
    assert planned.returncode == 0, planned.stderr
    data = json.loads(planned.stdout)
    assert data["kind"] == "sync" and data["dry_run"] and sum(t["inserted"] for t in data["tables"]) >= 12
    for fmt in ("markdown", "junit", "text"):
        done = processes.run("sync", f"--from={source}", f"--to={target}", f"--format={fmt}", "--jobs=1")
        assert done.returncode == 0 and done.stdout and not done.stderr, done.stderr
    assert "OK: 0 rows inserted, 0 updated, 0 deleted" in done.stdout
    assert_equal(source, target)
    refused = processes.run("sync", f"--from={target}", f"--to={source}")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().count("\n") == 0 and "not built by a portadb copy" in refused.stderr


@pytest.mark.parametrize("direction", [DIRECTIONS[1], DIRECTIONS[5], DIRECTIONS[7]], ids=direction_id)
def test_fingerprints_see_the_smallest_change_and_nothing_else_is_read(copied, direction):
    """After a first sync, a float's last bit, a letter's case, a byte, NULL for '' and a JSON key
    are each found by the source's own fingerprint SQL; the other buckets are not read."""
    source, target = copied(*direction)
    assert portadb.sync(source, target).ok
    rows = list(m.Everything.objects.using(source).order_by("pk"))
    assert len(rows) >= 30
    floating = next(r for r in rows if r.floating)
    text = rows[9].char or "abc"
    edits = {floating.pk: {"floating": math.nextafter(floating.floating, math.inf)},
             rows[9].pk: {"char": text.swapcase() if text.swapcase() != text else text + "x"},
             rows[18].pk: {"binary": bytes(rows[18].binary or b"") + b"\x00"},
             rows[27].pk: {"null_char": "" if rows[27].null_char is None else None},
             rows[-1].pk: {"json": {"changed": [1, 2.5, None]}}}
    for pk, values in edits.items():
        m.Everything.objects.using(source).filter(pk=pk).update(**values)
    report = portadb.sync(source, target)
    assert report.ok, portadb.render(report, verbosity=2)
    everything = {t.table: t for t in report.tables}["zoo_everything"]
    assert everything.updated == len(edits) and not everything.inserted and not everything.deleted
    assert everything.source_rows - everything.skipped_rows <= len(edits) * 2 * fingerprints.WIDTH
    assert_equal(source, target)


@pytest.mark.parametrize("direction", [DIRECTIONS[1], DIRECTIONS[2], DIRECTIONS[5]], ids=direction_id)
def test_a_big_table_is_fingerprinted_in_two_processes_and_nothing_at_the_split_is_missed(
        copied, direction, monkeypatch):
    """SQLite without WAL and PostgreSQL share their snapshot: a table's lower half is
    fingerprinted in a forked process. A change on each side of the split, at it, and at both
    ends is found."""
    source, target = copied(*direction)
    assert portadb.sync(source, target).ok
    monkeypatch.setattr(fingerprints, "SPLIT_ROWS", 2)
    starts, changes = [], fingerprints.changes

    def watched(*args, **kwargs):  # this process does the upper half, from the split
        starts.append(kwargs.get("start"))
        return changes(*args, **kwargs)

    monkeypatch.setattr(fingerprints, "changes", watched)
    rows = list(m.Everything.objects.using(source).order_by("pk"))
    split = rows[len(rows) // 2].pk // fingerprints.WIDTH * fingerprints.WIDTH  # first key of the upper half
    edited = {r.pk for r in rows if split - 2 <= r.pk <= split + 1} | {rows[0].pk, rows[-1].pk}
    m.Everything.objects.using(source).filter(pk__in=edited).update(text="edited near the split")
    report = portadb.sync(source, target)
    assert report.ok, portadb.render(report, verbosity=2)
    assert split // fingerprints.WIDTH in starts
    everything = {t.table: t for t in report.tables}["zoo_everything"]
    assert everything.updated == len(edited) and not everything.inserted and not everything.deleted
    assert_equal(source, target)


@pytest.mark.parametrize("target", [b.target for b in BACKENDS])
def test_a_row_written_whose_parent_the_source_lacks_is_refused_by_name(copied, target):
    """Only the rows the sync writes are searched for foreign keys that point at no row (where the
    target checks them at the commit, once the commit has refused one), and nothing is written."""
    source, target = copied("default", target)
    create_one(m.Tag, source)  # a row the sync would write too
    before = db.snapshot(target)
    raw = sqlite3.connect(settings.DATABASES[source]["NAME"], isolation_level=None)
    try:
        raw.execute("PRAGMA foreign_keys = OFF")
        orphan = raw.execute("INSERT INTO zoo_book (title, author_id) VALUES ('Orphan', 999)").lastrowid
    finally:
        raw.close()
    planned = portadb.sync(source, target, dry_run=True)
    assert [(f.table, f.pk, f.field) for f in planned.errors] == [("zoo_book", orphan, "author")]
    with pytest.raises(ValueRefused) as refused:
        portadb.sync(source, target)
    assert [(r.table, r.pk, r.field) for r in refused.value.refusals] == [("zoo_book", orphan, "author")]
    assert "999" in str(refused.value)
    assert db.snapshot(target) == before


@pytest.mark.parametrize("direction", [DIRECTIONS[1], DIRECTIONS[5], DIRECTIONS[6]], ids=direction_id)
def test_a_copy_for_sync_keeps_fingerprints_and_the_first_sync_reads_only_what_changed(
        zoo_source, empty, direction):
    """Each part the copy's workers read keeps its fingerprints; a bucket two parts cut is kept
    in pieces that add up to the whole bucket's."""
    source, target = direction
    empty(target)
    if source != zoo_source:
        portadb.copy(zoo_source, empty(source))
    copied = portadb.copy(source, target, chunk_size=CHUNK, jobs=4, for_sync=True)
    assert copied.ok, portadb.render(copied)
    kept = fingerprints.model().objects.using(target)
    assert {r.table_name for r in kept.all()} >= {"zoo_everything", "zoo_book", "zoo_author"}
    if copied.workers > 1:  # cut in parts: a bucket at their edge is kept in two pieces
        pieces = kept.values("table_name", "bucket").annotate(n=Count("id")).filter(n__gt=1)
        assert pieces.exists()
    last = m.Everything.objects.using(source).order_by("pk").last()
    m.Everything.objects.using(source).filter(pk=last.pk).update(text="changed after the copy")
    report = portadb.sync(source, target, chunk_size=CHUNK)
    assert report.ok, portadb.render(report, verbosity=2)
    everything = {t.table: t for t in report.tables}["zoo_everything"]
    assert everything.updated == 1 and everything.source_rows - everything.skipped_rows <= fingerprints.WIDTH
    read = {t.table for t in report.tables if t.source_rows > t.skipped_rows}
    assert read <= {"zoo_everything", *NOT_FINGERPRINTED}
    change(source, seed=7)
    assert portadb.sync(source, target, chunk_size=CHUNK).ok
    assert_equal(source, target)


def test_a_copy_for_sync_killed_and_resumed_keeps_no_fingerprint_of_the_part_it_cut(zoo_source, empty):
    target = empty("postgresql")
    proc = processes.start("copy", f"--from={zoo_source}", f"--to={target}", "--chunk-size=3", "--for-sync",
                           stop="chunk:40")
    processes.wait_stopped(proc)
    processes.kill(proc)
    committed = dict(journal.TableRow.objects.using(target).values_list("table", "rows"))
    source = adapter_for(connections[zoo_source])
    cut = {table for table, rows in committed.items() if 0 < rows < source.count(table)}
    assert portadb.copy(zoo_source, target, resume=True, chunk_size=CHUNK, for_sync=True).ok
    kept = {r.table_name for r in fingerprints.model().objects.using(target).all()}
    assert cut and not cut & kept and "zoo_everything" in kept | cut
    change(zoo_source, seed=8)
    report = portadb.sync(zoo_source, target, chunk_size=CHUNK)
    assert report.ok, portadb.render(report, verbosity=2)
    assert_equal(zoo_source, target)


@pytest.mark.parametrize("target", ["postgresql", "mysql"])
def test_rows_that_swap_a_unique_value_arrive(copied, target):
    """PostgreSQL's in-place UPDATE checks a unique value row by row: a swap trips it midway,
    and the rows are deleted and inserted instead."""
    source, target = copied("default", target)
    first, second = m.Tag.objects.using(source).order_by("pk")[:2]
    with connections[source].cursor() as cursor:
        for pk, name in [(first.pk, "swapping"), (second.pk, first.name), (first.pk, second.name)]:
            cursor.execute("UPDATE zoo_tag SET name = %s WHERE id = %s", [name, pk])
    report = portadb.sync(source, target)
    assert report.ok, portadb.render(report, verbosity=2)
    assert {t.table: t for t in report.tables}["zoo_tag"].updated == 2
    assert_equal(source, target)


@contextmanager
def writes_seen(alias: str, table: str, what: str):
    """Yield a function that returns ``what`` (SQL) as the target's own trigger saw it, for each row
    written into ``table`` of PostgreSQL database ``alias`` meanwhile, in order."""
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE seen (n serial, what text)")
        cursor.execute("CREATE FUNCTION see() RETURNS trigger LANGUAGE plpgsql AS"
                       f" $$ BEGIN INSERT INTO seen (what) VALUES ({what}); RETURN NULL; END $$")
        cursor.execute(f"CREATE TRIGGER see AFTER INSERT OR UPDATE OR DELETE ON {table}"
                       " FOR EACH ROW EXECUTE FUNCTION see()")

    def seen() -> list[str]:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT what FROM seen ORDER BY n")
            return [what for (what,) in cursor.fetchall()]

    try:
        yield seen
    finally:
        with connections[alias].cursor() as cursor:
            cursor.execute(f"DROP TABLE seen; DROP TRIGGER see ON {table}; DROP FUNCTION see()")


def test_changed_rows_are_updated_in_place_on_postgresql(copied):
    """Not deleted and inserted again: an UPDATE that keeps the keys costs PostgreSQL no foreign
    key checks (the target's own trigger says which writes it saw)."""
    source, target = copied("default", "postgresql")
    with writes_seen(target, "zoo_tag", "TG_OP") as seen:
        tag = m.Tag.objects.using(source).order_by("pk").first()
        m.Tag.objects.using(source).filter(pk=tag.pk).update(name="renamed")
        create_one(m.Tag, source)
        report = portadb.sync(source, target)
        assert report.ok, portadb.render(report, verbosity=2)
        assert sorted(seen()) == ["INSERT", "UPDATE"]
    assert_equal(source, target)


def test_a_sync_waits_for_its_commit_to_be_on_disk(copied):
    """The source's change log is cleared once the sync has committed: a server crash just after
    must not lose the sync (a copy's loads commit without waiting; a sync's must not)."""
    source, target = copied("default", "postgresql")
    with writes_seen(target, "zoo_tag", "current_setting('synchronous_commit')") as seen:
        create_one(m.Tag, source)
        report = portadb.sync(source, target)
        assert report.ok, portadb.render(report, verbosity=2)
        with connections[target].cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert seen() == [cursor.fetchone()[0]] and seen() != ["off"]


@pytest.mark.parametrize("corruption", ["changed", "lost"])
def test_a_row_the_sync_wrote_wrong_is_caught_by_the_read_back(copied, monkeypatch, corruption):
    """A defect that writes a row wrongly, or loses it, inside the sync's own transaction: the
    read-back names the key and the report fails."""
    from portadb import changes

    source, target = copied("default", "postgresql")
    tags = [create_one(m.Tag, source) for _ in range(2)]  # new rows, which no row refers to
    write_chunk = changes.write_chunk

    def corrupting(adapter, job, rows, converted, table=None):
        write_chunk(adapter, job, rows, converted, table)
        if (table or job.table) == "zoo_tag":
            with adapter.connection.cursor() as cursor:
                sql = ("UPDATE zoo_tag SET name = 'corrupted' WHERE id = %s" if corruption == "changed"
                       else "DELETE FROM zoo_tag WHERE id = %s")
                cursor.execute(sql, [tags[1].pk])

    monkeypatch.setattr(changes, "write_chunk", corrupting)
    report = portadb.sync(source, target)
    tag = {t.table: t for t in report.tables}["zoo_tag"]
    assert not report.ok and report.exit_code == 1 and tag.still_different == 1
    if corruption == "changed":
        assert tag.different_pks == [tags[1].pk]
    assert [f.table for f in report.errors] == ["zoo_tag"]


def test_refuses_migrations_applied_on_one_side_since_the_copy(copied):
    """A migration applied on the source after the copy changed the schema its rows go into
    (an index, a unique constraint): its django_migrations row must not reach the target
    without it. Nothing is written; once both sides have the same migrations, the sync runs."""
    source, target = copied("default", "postgresql")
    applied = "INSERT INTO django_migrations (app, name, applied) VALUES ('zoo', '0003_later', %s)"
    with connections[source].cursor() as cursor:
        cursor.execute(applied, ["2026-12-06 12:00:00"])
    before = fingerprint(target)
    with pytest.raises(PreconditionError, match=r"the source has applied zoo\.0003_later, which the"
                                                r" target has not.*migrate"):
        portadb.sync(source, target)
    assert fingerprint(target) == before
    with connections[target].cursor() as cursor:  # the project's migrate on the target, in effect
        cursor.execute(applied, ["2026-12-06 12:00:01"])
    assert portadb.sync(source, target).ok
    with connections[target].cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'zoo' AND name = '0001_initial'")
    with pytest.raises(PreconditionError, match=r"the source has applied zoo\.0001_initial, which"):
        portadb.sync(source, target)
