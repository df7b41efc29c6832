"""Big tables cut into key ranges: the ranges cover every row once, workers copy them exactly,
and a killed copy resumes every range after its own last key."""

from __future__ import annotations

import json
import os

import pytest
from django.apps.registry import Apps
from django.db import connections, models

import portadb
from portadb import journal
from portadb.backends import adapter_for
from portadb.convert import columns_for
from portadb.endpoints import Endpoint
from portadb.parts import Part, count, cut
from portadb.plan import TableJob
from portadb.transfer import read_chunks

from . import databases as db
from . import processes
from .backends import TARGETS, target_of


class Log(models.Model):
    id = models.BigAutoField(primary_key=True)
    text = models.CharField(max_length=20)

    class Meta:
        apps = Apps()
        app_label = "portadb_tests"
        db_table = "parts_log"


class Named(models.Model):
    name = models.CharField(max_length=20, primary_key=True)

    class Meta:
        apps = Apps()
        app_label = "portadb_tests"
        db_table = "parts_named"


def job_of(model, alias: str, rows: int) -> TableJob:
    conn = connections[alias]
    return TableJob(model._meta.db_table, model.__name__, model, columns_for(model, conn, conn),
                    [model._meta.pk.column], rows)


@pytest.mark.parametrize("alias", TARGETS)
def test_the_ranges_of_a_big_table_cover_every_row_once(empty, alias):
    alias = empty(alias)
    with connections[alias].schema_editor() as editor:
        editor.create_model(Log)
        editor.create_model(Named)
    # Keys with gaps and a negative one: the bounds are rows found, not arithmetic on keys.
    keys = [-5, *range(1, 900, 3), 10**12]
    Log.objects.using(alias).bulk_create([Log(id=k, text=str(k)) for k in keys])
    Named.objects.using(alias).bulk_create([Named(name=f"n{i:03}") for i in range(300)])
    endpoint = Endpoint(alias, alias)
    log, named = job_of(Log, alias, len(keys)), job_of(Named, alias, 300)

    parts = cut(endpoint, [log, named], workers=2, chunk_size=10)

    cut_log = [p for p in parts if p.table == log.table]
    assert len(cut_log) > 2 and [p.index for p in cut_log] == list(range(len(cut_log)))
    assert cut_log[0].after is None and cut_log[-1].through is None
    assert all(a.through == b.after for a, b in zip(cut_log, cut_log[1:]))
    read = [[row[0] for chunk in read_chunks(endpoint, log, 7, p.after, p.through) for row in chunk]
            for p in cut_log]
    assert [k for keys_of_part in read for k in keys_of_part] == keys  # each row once, in order
    assert [count(adapter_for(connections[alias]), p, log.key) for p in cut_log] == list(map(len, read))
    assert max(map(len, read)) - min(map(len, read)) <= 2  # even shares
    # Each bound is the key at its even row offset, as if counted from the first row.
    pieces = len(cut_log)
    assert [p.through for p in cut_log[:-1]] == [(keys[len(keys) * i // pieces],) for i in range(1, pieces)]
    # A text key sorts by each database's collation: never cut.
    assert [p for p in parts if p.table == named.table] == [Part(named.table)]


def test_one_worker_or_small_tables_are_never_cut(zoo_source):
    from portadb.endpoints import close, open_endpoints
    from portadb.plan import make_plan

    src, tgt = open_endpoints(zoo_source, target_of("postgresql"))
    try:
        jobs = make_plan(src, tgt).jobs
        assert all(p == Part(p.table) for p in cut(src, jobs, workers=1, chunk_size=1))
        assert all(p == Part(p.table) for p in cut(src, jobs, workers=2, chunk_size=10**6))
    finally:
        close(src, tgt)


@pytest.mark.parametrize("target", [target_of("postgresql"), target_of("mysql")])
def test_workers_copy_the_ranges_of_one_table_and_a_kill_resumes_each_range(zoo_source, empty, target):
    target = empty(target)
    proc = processes.start("copy", f"--from={zoo_source}", f"--to={target}", "--chunk-size=3", "--jobs=2",
                           stop="deferred:1")  # every row loaded, keys not yet built
    processes.wait_stopped(proc)
    processes.kill(proc)
    ranges = journal.TableRow.objects.using(target).filter(table="auth_permission")
    assert ranges.count() > 1  # the biggest table was cut
    assert sum(r.rows for r in ranges) == adapter_for(connections[zoo_source]).count("auth_permission")

    report = portadb.copy(zoo_source, target, resume=True, chunk_size=3, jobs=2)
    assert report.ok and report.workers == 2, portadb.render(report)
    assert db.snapshot(target)["auth_permission"] == db.snapshot(zoo_source)["auth_permission"]


def test_the_report_says_how_many_workers_loaded(zoo_source, empty):
    target = empty(target_of("postgresql"))
    report = portadb.copy(zoo_source, target, chunk_size=5)  # by default, one worker per CPU
    cpus = min(len(os.sched_getaffinity(0)), 8)
    assert report.workers == cpus and f"{cpus} worker" in portadb.render(report)
    assert json.loads(portadb.render(report, "json"))["workers"] == cpus
    again = portadb.copy(zoo_source, target, replace=True, jobs=1)
    assert again.workers == 1 and ", 1 worker;" in portadb.render(again)
