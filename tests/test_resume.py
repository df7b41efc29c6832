"""A copy killed with SIGKILL anywhere resumes to an exact copy: no row twice, none missing."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connections

import portadb
from portadb import journal, schema
from portadb.backends import adapter_for
from portadb.exceptions import PreconditionError
from portadb.models import project_models
from portadb.reports import FindingKind as K

from . import databases as db
from . import processes
from .backends import TARGETS, target_of
from .zoo import models as m

POSTGRESQL = target_of("postgresql")
# (point, n): where the child stops itself before it is killed; see tests/interrupt.py.
POINTS = {
    "schema": ("schema", 6),  # some tables created, others not (or migrate done, nothing loaded)
    "migrating": ("migrating", 1),  # the project's migrate building the target
    "first-chunk": ("chunk", 1),  # inside the very first chunk's transaction
    "mid-chunk": ("chunk", 45),  # inside a chunk in the middle of a table
    "between-tables": ("table", 12),
    "finalize": ("deferred", 3),  # some indexes and foreign keys built, others not
}


def killed_copy(source: str, target: str, point: str) -> None:
    """Start a copy with 3 rows per chunk and SIGKILL it at ``point``."""
    proc = processes.start("copy", f"--from={source}", f"--to={target}", "--chunk-size=3",
                           stop=point)
    processes.wait_stopped(proc)
    processes.kill(proc)


def assert_identical(source: str, target: str) -> None:
    before, after = db.snapshot(source), db.snapshot(target)
    assert after.keys() >= before.keys()  # the target also has empty PostgreSQL-only tables
    assert not any(after[t] for t in after.keys() - before.keys())
    for table, rows in before.items():
        assert len(after[table]) == len(rows), f"{table}: {len(after[table])} rows, not {len(rows)}"
        assert after[table] == rows, table


def chunks_before(source: str, target: str, table: str) -> int:
    """How many 3-row chunks a copy commits before it reaches ``table``."""
    from portadb.endpoints import close, open_endpoints
    from portadb.plan import make_plan

    src, tgt = open_endpoints(source, target)
    try:
        jobs = make_plan(src, tgt).jobs
    finally:
        close(src, tgt)
    order = [j.table for j in jobs]
    return sum(-(-j.source_rows // 3) for j in jobs[: order.index(table)])


def count(alias: str, table: str) -> int:
    return adapter_for(connections[alias]).count(table)


def journal_rows(alias: str) -> dict[str, int]:
    """Rows committed per table, added up over the table's parts."""
    rows: dict[str, int] = {}
    for table, n in journal.TableRow.objects.using(alias).values_list("table", "rows"):
        rows[table] = rows.get(table, 0) + n
    return rows


#: The zoo's migrate builds only a PostgreSQL target (pgzoo's extension): the other targets have no
#: "migrating" point to stop at.
KILLS = [pytest.param(target, where, id=f"{where}-{target}") for where in POINTS for target in TARGETS
         if where != "migrating" or target == POSTGRESQL]


@pytest.mark.slow
@pytest.mark.parametrize("target, where", KILLS)
def test_killed_copy_resumes_to_an_identical_copy(zoo_source, empty, target, where):
    empty(target)
    killed_copy(zoo_source, target, ":".join(map(str, POINTS[where])))

    # What the journal says is committed is exactly what the target holds.
    if where not in ("schema", "migrating"):
        present = set(connections[target].introspection.table_names())
        for table, rows in journal_rows(target).items():
            assert table in present
            assert count(target, table) == rows, table

    report = portadb.copy(zoo_source, target, resume=True, chunk_size=3)
    assert report.ok and report.resumed, portadb.render(report)
    assert_identical(zoo_source, target)
    # Every deferred index and foreign key exists, none twice: what migrate built, or what the models say.
    if report.schema_path == "migrate":
        assert not [f for f in report.findings if f.kind is K.SCHEMA_DRIFT]
        assert journal.RunRow.objects.using(target).get().schema.count('"snapshot"') == 1
    else:
        steps = schema.create_tables(connections[target], project_models(target), collect_only=True)
        assert schema.unbuilt(connections[target], steps.deferred) == []


def test_a_killed_chunk_leaves_nothing_behind(zoo_source, empty):
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, "chunk:45")
    committed = journal_rows(target)
    # 44 chunks committed (a table's last chunk may be short), the 45th rolled back.
    assert sum(-(-rows // 3) for rows in committed.values()) == 44
    for table, rows in committed.items():
        assert count(target, table) == rows


def test_resume_after_a_complete_copy_has_nothing_to_do(zoo_source, empty):
    target = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, target, chunk_size=50).ok
    with pytest.raises(PreconditionError, match=r"^Nothing to resume: the copy into .* finished at"):
        portadb.copy(zoo_source, target, resume=True)


def test_resume_without_a_journal_is_refused(zoo_source, empty):
    target = empty(POSTGRESQL)
    with pytest.raises(PreconditionError, match=r"^Nothing to resume: .* holds no journal"):
        portadb.copy(zoo_source, target, resume=True)


def test_a_fresh_copy_over_an_interrupted_one_points_at_resume(zoo_source, empty):
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, "chunk:20")
    with pytest.raises(PreconditionError, match="did not finish .*the same copy with --resume to continue"):
        portadb.copy(zoo_source, target)


def test_resume_refuses_a_source_changed_below_the_resume_point(zoo_source, empty):
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, "table:12")
    done = [t for t, rows in journal_rows(target).items() if rows]
    assert "zoo_everything" in done
    m.Everything.objects.using(zoo_source).filter(slug="row-3").delete()
    with pytest.raises(PreconditionError, match=r"^Cannot resume zoo\.Everything: the journal records"):
        portadb.copy(zoo_source, target, resume=True)


@pytest.mark.parametrize("target", TARGETS)
def test_resume_refuses_rows_updated_below_the_resume_point(zoo_source, empty, target):
    """A row already copied, then changed on the source: never an OK over the old value."""
    target = empty(target)
    killed_copy(zoo_source, target, f"chunk:{chunks_before(zoo_source, target, 'zoo_everything') + 3}")
    assert journal_rows(target)["zoo_everything"] >= 3
    first = m.Everything.objects.using(zoo_source).order_by("pk").first()
    m.Everything.objects.using(zoo_source).filter(pk=first.pk).update(text="changed after the crash")
    with pytest.raises(PreconditionError, match=rf"^Cannot resume zoo\.Everything: 1 of the rows the "
                       rf"interrupted copy already wrote changed on the source since \(pk {first.pk}\)"):
        portadb.copy(zoo_source, target, resume=True, chunk_size=3)
    # Put back, the resume goes on to an exact copy.
    m.Everything.objects.using(zoo_source).filter(pk=first.pk).update(text=first.text)
    assert portadb.copy(zoo_source, target, resume=True, chunk_size=3).ok
    assert_identical(zoo_source, target)


def test_rows_fixed_above_the_resume_point_are_copied_as_fixed(zoo_source, empty):
    """The abort-fix-resume loop: a change the copy has not reached yet is simply copied."""
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, f"chunk:{chunks_before(zoo_source, target, 'zoo_everything') + 3}")
    position = journal_rows(target)
    assert 0 < position["zoo_everything"] < m.Everything.objects.using(zoo_source).count() - 5
    last = m.Everything.objects.using(zoo_source).order_by("-pk").first()
    m.Everything.objects.using(zoo_source).filter(pk=last.pk).update(char="fixed")
    m.Everything.objects.using(zoo_source).filter(pk=last.pk - 1).delete()
    assert portadb.copy(zoo_source, target, resume=True, chunk_size=3).ok
    assert_identical(zoo_source, target)


def test_resume_refuses_another_source(zoo_source, empty, tmp_path):
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, "chunk:5")
    other = tmp_path / "other.sqlite3"
    other.write_bytes(open(connections[zoo_source].settings_dict["NAME"], "rb").read())
    with pytest.raises(PreconditionError, match=r"^Cannot resume: the interrupted copy read from default"):
        portadb.copy(f"sqlite:///{other}", target, resume=True)


def test_resume_refuses_a_changed_plan(zoo_source, empty):
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, "chunk:5")
    run = journal.RunRow.objects.using(target).get()
    run.plan = run.plan.replace('"title"', '"heading"')  # as if a column had been renamed
    run.save(using=target)
    with pytest.raises(PreconditionError, match=r"changed since the copy started \(zoo_book\)"):
        portadb.copy(zoo_source, target, resume=True)


def test_replace_over_an_interrupted_copy_starts_again(zoo_source, empty):
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, "chunk:20")
    report = portadb.copy(zoo_source, target, replace=True, chunk_size=50)
    assert report.ok and not report.resumed
    assert journal.RunRow.objects.using(target).get().state == journal.COMPLETE
    # Complete: the per-table positions, which only a resume needs, are gone.
    assert journal.TABLE_TABLE not in connections[target].introspection.table_names()
    assert_identical(zoo_source, target)


def test_the_journal_keeps_the_deferred_statements_for_a_resumed_copy(zoo_source, empty):
    """A resumed copy builds the keys, indexes and foreign keys the interrupted one took apart, as SQL."""
    target = empty(POSTGRESQL)
    killed_copy(zoo_source, target, "table:3")
    run = journal.RunRow.objects.using(target).get()
    stored, built = json.loads(run.deferred), json.loads(run.schema)
    assert built["path"] == "migrate"
    # What migrate built on the copied tables, as the database describes it, is what comes back.
    expected = {(table, name) for table in journal_rows(target)
                for name, c in built["snapshot"][table]["constraints"].items()
                if c["primary_key"] or c["unique"] or c["foreign_key"] or c["index"]}
    assert {(table, name.strip('"')) for _, table, name, *_ in stored} >= expected
    kinds = {schema.UNIQUE_INDEX, schema.ATTACH, schema.INDEX, schema.FOREIGN_KEY}  # keys from their index
    assert {kind for *_, kind, _ in stored} == kinds
    assert all(table and name for _, table, name, *_ in stored)  # each can be found if already built


@pytest.mark.parametrize("target", TARGETS)
def test_verify_never_proves_a_copy_killed_while_building_keys(zoo_source, empty, target):
    target = empty(target)
    killed_copy(zoo_source, target, "deferred:2")
    report = portadb.verify(zoo_source, target)
    assert not report.ok and report.exit_code == 1
    kinds = {f.kind for f in report.errors}
    # The keys it did not build yet are the rest of its work: said once, not one error each.
    assert K.COPY_UNFINISHED in kinds and K.SCHEMA_DRIFT not in kinds
    assert re.search(r"\(\d+ keys, indexes and foreign keys not built yet\); resume it with portadb"
                     r" copy --resume", portadb.render(report))
    assert portadb.copy(zoo_source, target, resume=True).ok
    assert portadb.verify(zoo_source, target).ok


@pytest.mark.parametrize("target", TARGETS)
def test_verify_names_a_key_gone_after_a_complete_copy(zoo_source, empty, target):
    target = empty(target)
    assert portadb.copy(zoo_source, target).ok
    with connections[target].schema_editor() as editor:
        index = next(i for i in m.Everything._meta.indexes)
        editor.remove_index(m.Everything, index)
    report = portadb.verify(zoo_source, target)
    assert not report.ok
    assert any(f.kind is K.SCHEMA_DRIFT and index.name in f.message for f in report.errors), \
        portadb.render(report)


@pytest.mark.parametrize("target", TARGETS)
def test_a_build_the_killed_run_finished_on_the_server_meanwhile_is_no_error(zoo_source, empty, target):
    """A killed copy's ALTER can run on in the server after the resume looked: built is built."""
    target = empty(target)
    killed_copy(zoo_source, target, "deferred:2")
    steps = journal.record(connections_endpoint(target)).deferred
    # As if the killed run's statements had all finished after the resume's check:
    schema.build_deferred(connections[target], schema.unbuilt(connections[target], steps))
    schema.build_deferred(connections[target], steps)  # each one already there: no error
    assert schema.unbuilt(connections[target], steps) == []


def connections_endpoint(alias: str):
    from portadb.endpoints import resolve

    return resolve(alias)
