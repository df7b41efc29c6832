"""``--jobs N``: copy tables in N worker processes, the largest tables first.

A copy is bound by the client's CPU (reading, converting, encoding rows) long
before the target's ingest rate, so a second process on a second core nearly
halves the transfer. Each worker (forked, see :mod:`portadb.processes`) reads
in its own snapshot of the source and commits each chunk as
:func:`portadb.transfer.copy_table` does, so the per-chunk guarantees hold.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence

from .endpoints import Endpoint
from .exceptions import TransferError
from .plan import TableJob
from .processes import collector_paused, end_child, fork_context, forking, start_child, transportable
from .transfer import copy_table


def usable(source: Endpoint, target: Endpoint, workers: int) -> bool:
    """Whether ``workers`` processes can share this copy (else it runs in one)."""
    if workers < 2 or not forking():
        return False
    return source.adapter.parallel_reads and target.adapter.parallel_writes


def copy_tables(source: Endpoint, target: Endpoint, jobs: Sequence[TableJob], chunk_size: int,
                workers: int, bar, guard_for: Callable | None = None,
                journal=None) -> dict[str, tuple[float, int]]:
    """Copy every job in ``workers`` processes; per table, the seconds and its source rows (counted
    in the snapshot the worker read it in).

    ``bar`` (the overall progress bar) is fed from the workers' chunks. Each
    worker builds a table's chunk guard with ``guard_for(job)`` (see
    :mod:`portadb.guard`) and records its chunks in ``journal``, as a copy in
    one process does. A worker's error is raised here with its type and data.
    """
    context = fork_context()
    tasks, results = context.Queue(), context.Queue()
    by_table = {job.table: job for job in jobs}
    processes = [
        context.Process(target=_work, daemon=True,
                        args=(source, target, by_table, chunk_size, tasks, results, guard_for, journal))
        for _ in range(workers)
    ]
    # Forked before the first put(), which starts the queue's feeder thread:
    # a fork while another thread runs can deadlock the child.
    for process in processes:
        process.start()
    for job in sorted(jobs, key=lambda j: -j.source_rows):
        tasks.put(job.table)
    for _ in range(workers):
        tasks.put(None)
    seconds, failure, running = {}, None, workers
    try:
        while running:
            try:
                kind, *data = results.get(timeout=1)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    break
                continue
            if kind == "rows":
                bar.update(data[0])
            elif kind == "done":
                seconds[data[0]] = (data[1], data[2])
            elif kind == "error":
                failure = failure or data[0]
            elif kind == "exit":
                running -= 1
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the workers stop now, mid-chunk
        for process in processes:
            process.terminate()
        raise
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    if failure is None and any(p.exitcode for p in processes):
        failure = TransferError("A copy worker stopped unexpectedly; the copy is incomplete.")
    if failure is not None:
        raise failure
    return seconds


def _work(source, target, by_table, chunk_size, tasks, results, guard_for, journal) -> None:
    start_child()
    try:
        with source.adapter.snapshot(), target.adapter.load_session(), collector_paused():
            while (table := tasks.get()) is not None:
                started = time.perf_counter()
                job = by_table[table]
                guard = guard_for(job) if guard_for else None
                rows = source.adapter.count(table)
                copy_table(source, target, job, chunk_size, _QueueBar(results), guard, journal)
                results.put(("done", table, time.perf_counter() - started, rows))
    except Exception as e:  # reported to the parent, which raises it
        results.put(("error", transportable(e, TransferError)))
        _drain(tasks)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the chunk is not committed; the parent says so
        pass
    finally:
        end_child()
        results.put(("exit",))


def _drain(tasks) -> None:
    """Take the remaining tables off the queue so the other workers stop soon."""
    while tasks.get() is not None:
        pass


class _QueueBar:
    """A progress bar in a worker: each update goes to the parent's bar."""

    def __init__(self, results):
        self.results = results

    def update(self, n: int) -> None:
        self.results.put(("rows", n))
