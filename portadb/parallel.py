"""``--jobs N``: copy tables in N worker processes, the largest parts first.

A copy is bound by the client's CPU (reading, converting, encoding rows) long
before the target's ingest rate, so a second process on a second core nearly
halves the transfer. The work is dealt out in parts (:mod:`portadb.parts`): a
big table is cut into key ranges, so that its rows do not all go through one
worker. Each worker (forked, see :mod:`portadb.processes`) reads in a
snapshot of the source -- the copy's own where the backend can share it
(PostgreSQL exports it; on SQLite without WAL the copy's shared lock holds
writers off), else its own -- and commits each chunk as
:func:`portadb.transfer.copy_table` does, so the per-chunk guarantees hold.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence

from .endpoints import Endpoint
from .exceptions import TransferError
from .parts import Part, count
from .plan import TableJob
from .processes import collector_paused, end_child, fork_context, forking, start_child, transportable
from .transfer import copy_table


def usable(source: Endpoint, target: Endpoint, workers: int) -> bool:
    """Whether ``workers`` processes can share this copy (else it runs in one)."""
    if workers < 2 or not forking():
        return False
    return source.adapter.parallel_reads and target.adapter.parallel_writes


def copy_tables(source: Endpoint, target: Endpoint, jobs: Sequence[TableJob], parts: Sequence[Part],
                chunk_size: int, workers: int, bar, guard_for: Callable | None = None,
                journal=None, keep: Callable | None = None,
                shared: str | None = None) -> dict[str, tuple[float, int]]:
    """Copy every part of ``jobs``' tables in ``workers`` processes; per table, the seconds from
    its first part's start to its last part's end and its source rows (each part counted in the
    snapshot a worker read it in).

    ``bar`` (the overall progress bar) is fed from the workers' chunks. Each
    worker builds a part's chunk guard with ``guard_for(job, part)`` (see
    :mod:`portadb.guard`) and records its chunks in ``journal``, as a copy in
    one process does, with ``keep`` (see :func:`~portadb.transfer.copy_table`), in the snapshot
    ``shared`` names (:meth:`~portadb.backends.base.Adapter.share_snapshot`) or, without one, its
    own. A worker's error is raised here with its type and data.
    """
    context = fork_context()
    tasks, results = context.Queue(), context.Queue()
    by_table = {job.table: job for job in jobs}
    processes = [
        context.Process(target=_work, daemon=True,
                        args=(source, target, by_table, chunk_size, tasks, results, guard_for, journal,
                              keep, shared))
        for _ in range(workers)
    ]
    # Forked before the first put(), which starts the queue's feeder thread:
    # a fork while another thread runs can deadlock the child.
    for process in processes:
        process.start()
    for part in sorted(parts, key=lambda p: -p.rows):
        tasks.put(part)
    for _ in range(workers):
        tasks.put(None)
    spans, failure, running = {}, None, workers
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
                table, start, end, rows = data
                first, last, counted = spans.get(table, (start, end, 0))
                spans[table] = (min(first, start), max(last, end), counted + rows)
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
    return {table: (end - start, rows) for table, (start, end, rows) in spans.items()}


def _work(source, target, by_table, chunk_size, tasks, results, guard_for, journal, keep, shared) -> None:
    start_child()
    try:
        with source.adapter.snapshot(shared), target.adapter.load_session(), collector_paused():
            while (part := tasks.get()) is not None:
                started = time.monotonic()  # one clock for all processes
                job = by_table[part.table]
                guard = guard_for(job, part) if guard_for else None
                rows = count(source.adapter, part, job.key)
                copy_table(source, target, job, chunk_size, _QueueBar(results), guard, journal, part, keep)
                results.put(("done", part.table, started, time.monotonic(), rows))
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
