"""Worker processes: ``--jobs N`` copies tables in N of them; verify reads its target in one.

``--jobs N`` copies the largest tables first.

A copy is bound by the client's CPU (reading, converting, encoding rows) long
before the target's ingest rate, so a second process on a second core nearly
halves the transfer. Workers are forked: they inherit the settings, the app
registry and the plan, and open their own connections (an inherited one is
never used or closed in a child: that would break the parent's session).
Each worker reads in its own snapshot of the source and commits each chunk as
:func:`portadb.transfer.copy_table` does, so the per-chunk guarantees hold.
"""

from __future__ import annotations

import collections
import multiprocessing
import queue
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from . import exceptions
from .endpoints import Endpoint
from .exceptions import TransferError
from .plan import TableJob
from .transfer import collector_paused, copy_table

# Connections inherited from the parent: kept referenced, never closed, so no
# finalizer in a child ever talks on the parent's sockets.
_inherited: list = []


def usable(source: Endpoint, target: Endpoint, workers: int) -> bool:
    """Whether ``workers`` processes can share this copy (else it runs in one)."""
    if workers < 2 or not forking():
        return False
    return source.adapter.parallel_reads and target.adapter.parallel_writes


def copy_tables(source: Endpoint, target: Endpoint, jobs: Sequence[TableJob], chunk_size: int,
                workers: int, bar, guard_for: Callable = None, journal=None) -> dict[str, float]:
    """Copy every job in ``workers`` processes; return seconds per table.

    ``bar`` (the overall progress bar) is fed from the workers' chunks. Each
    worker builds a table's chunk guard with ``guard_for(job)`` (see
    :mod:`portadb.guard`) and records its chunks in ``journal``, as a copy in
    one process does.
    """
    context = multiprocessing.get_context("fork")
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
                seconds[data[0]] = data[1]
            elif kind == "error":
                failure = failure or data
            elif kind == "exit":
                running -= 1
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    if failure is None and any(p.exitcode for p in processes):
        failure = ("TransferError", "A copy worker stopped unexpectedly; the copy is incomplete.")
    if failure:
        error = getattr(exceptions, failure[0], None)
        if not (isinstance(error, type) and issubclass(error, exceptions.PortadbError)):
            error = TransferError
        raise error(failure[1])
    return seconds


def _work(source, target, by_table, chunk_size, tasks, results, guard_for, journal) -> None:
    _forget_inherited_connections()
    try:
        with source.adapter.snapshot(), target.adapter.load_session(), collector_paused():
            while (table := tasks.get()) is not None:
                started = time.perf_counter()
                job = by_table[table]
                guard = guard_for(job) if guard_for else None
                copy_table(source, target, job, chunk_size, _QueueBar(results), guard, journal)
                results.put(("done", table, time.perf_counter() - started))
    except Exception as e:  # reported to the parent, which raises it
        name = type(e).__name__ if isinstance(e, exceptions.PortadbError) else "TransferError"
        results.put(("error", name, str(e) or repr(e)))
        _drain(tasks)
    finally:
        from django.db import connections

        connections.close_all()
        results.put(("exit",))


class Forked:
    """A forked process that answers requests one at a time: ``handle(request)``.

    ``setup()`` is entered in the child before the first request (a snapshot,
    say). :meth:`send` returns at once, so the parent works while the child
    does; :meth:`receive` waits for the answer. A failure in the child comes
    back as ``error(message)``, raised in the parent.
    """

    def __init__(self, handle: Callable, setup: Callable[[], AbstractContextManager],
                 error: type[Exception] = exceptions.PortadbError):
        self.error = error
        context = multiprocessing.get_context("fork")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, handle, setup), daemon=True)
        self._process.start()
        child.close()
        self._waiting = 0  # requests sent whose answers are still in the pipe
        self._early: collections.deque = collections.deque()  # answers taken out of turn by ask()

    def send(self, request) -> None:
        self._pipe.send(request)
        self._waiting += 1

    def receive(self):
        """The answer to the oldest request not yet received."""
        return self._early.popleft() if self._early else self._next()

    def ask(self, request):
        """Send ``request`` and return its answer; earlier answers wait for :meth:`receive`."""
        self.send(request)
        while self._waiting > 1:
            self._early.append(self._next())
        return self._next()

    def _next(self):
        try:
            kind, answer = self._pipe.recv()
        except EOFError:
            raise self.error("A worker process stopped unexpectedly.") from None
        self._waiting -= 1
        if kind == "error":
            raise self.error(answer)
        return answer

    def close(self) -> None:
        try:
            self._pipe.send(None)
        except OSError:  # the child is gone already
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
        self._pipe.close()


def forking() -> bool:
    """Whether worker processes can be forked here (not on Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _serve(pipe, handle, setup) -> None:
    _forget_inherited_connections()
    try:
        with setup(), collector_paused():
            while (request := pipe.recv()) is not None:
                pipe.send(("ok", handle(request)))
    except EOFError:  # the parent went away
        pass
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it
        try:
            pipe.send(("error", str(e) or repr(e)))
        except OSError:
            pass
    finally:
        from django.db import connections

        connections.close_all()


def _forget_inherited_connections() -> None:
    from asgiref.local import Local
    from django.db import connections

    _inherited.extend(connections.all(initialized_only=True))
    connections._connections = Local(connections.thread_critical)


def _drain(tasks) -> None:
    """Take the remaining tables off the queue so the other workers stop soon."""
    while tasks.get() is not None:
        pass


class _QueueBar:
    def __init__(self, results):
        self.results = results

    def update(self, n: int) -> None:
        self.results.put(("rows", n))
