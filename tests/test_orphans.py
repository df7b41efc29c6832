"""A killed copy leaves no writer behind: its workers die with it, and a resume takes the target over.

``kill -9`` of the copy's main process with ``--jobs 2``, then at once
``--resume`` or ``--replace``: no row twice, none missing. The workers are
slowed (tests/interrupt.py, ``slow``) so that they would still be committing
when the next run starts, had they outlived their parent.
"""

from __future__ import annotations

import signal
import time

import pytest

import portadb
from portadb import journal

from . import processes
from .backends import target_of
from .test_resume import assert_identical

SERVERS = [target_of("postgresql"), target_of("mysql")]


def committed(alias: str) -> int:
    return sum(journal.TableRow.objects.using(alias).values_list("rows", flat=True))


def killed_with_workers(source: str, target: str):
    """Start a two-worker copy, wait until its workers commit, SIGKILL the main process only.

    Waits for the main process alone (its output pipes stay open while any
    worker lives); returns it, for :func:`reap`.
    """
    proc = processes.start("copy", f"--from={source}", f"--to={target}", "--chunk-size=2", "--jobs=2",
                           stop="slow:40")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if committed(target) >= 10:
                break
        except Exception:  # noqa: BLE001 - the journal is not there yet
            pass
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("the workers committed nothing")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc


def reap(proc) -> None:
    proc.communicate(timeout=60)


@pytest.mark.parametrize("target", SERVERS)
def test_workers_die_with_the_copy(zoo_source, empty, target):
    target = empty(target)
    proc = killed_with_workers(zoo_source, target)
    time.sleep(0.3)
    before = committed(target)
    time.sleep(1.0)
    assert committed(target) == before  # nobody is writing any more
    assert before < 271  # the copy was far from done
    reap(proc)


@pytest.mark.slow
@pytest.mark.parametrize("again", ["resume", "replace"])
@pytest.mark.parametrize("target", SERVERS)
def test_a_resume_or_replace_right_after_a_kill_makes_an_exact_copy(zoo_source, empty, target, again):
    target = empty(target)
    proc = killed_with_workers(zoo_source, target)
    report = portadb.copy(zoo_source, target, jobs=2, **{again: True})
    reap(proc)
    assert report.ok, portadb.render(report)
    assert_identical(zoo_source, target)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["int", "term"])
def test_ctrl_c_and_sigterm_stop_the_copy_in_one_sentence_and_it_resumes(zoo_source, empty, signum, status):
    target = empty(target_of("postgresql"))
    proc = processes.start("copy", f"--from={zoo_source}", f"--to={target}", "--chunk-size=2", "--jobs=2",
                           stop="slow:40")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if committed(target) >= 10:
                break
        except Exception:  # noqa: BLE001 - the journal is not there yet
            pass
        time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)  # returns only once the workers are gone too
    assert proc.returncode == status, (out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "run the same copy with --resume to continue" in err
    report = portadb.copy(zoo_source, target, resume=True)
    assert report.ok and report.resumed
    assert_identical(zoo_source, target)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_source_written_during_the_copy_is_copied_as_its_snapshot(empty, jobs):
    """The counts a report compares come from the snapshot the rows were read in."""
    import threading

    import psycopg

    from . import databases as db
    from .backends import second_target_of

    source = second_target_of("postgresql")
    db.require(source)
    db.build_zoo(source)
    target = empty(target_of("mysql"))
    conf = connections_settings(source)
    stop = threading.Event()

    def write():
        with psycopg.connect(**db.pg_params(conf, conf["NAME"]), autocommit=True) as c:
            n = 0
            while not stop.is_set():
                n += 1
                c.execute("INSERT INTO zoo_tag (name) VALUES (%s)", [f"written meanwhile {n}"])
                time.sleep(0.002)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        report = portadb.copy(source, target, chunk_size=2, jobs=jobs)
    finally:
        stop.set()
        writer.join()
    assert report.ok, portadb.render(report)
    tags = next(t for t in report.tables if t.table == "zoo_tag")
    assert tags.source_rows == tags.target_rows > 3


def connections_settings(alias: str) -> dict:
    from django.conf import settings

    return settings.DATABASES[alias]
