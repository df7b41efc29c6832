"""Worker processes that share out the parts of tables, the largest first.

:func:`run_parts` forks N processes; each enters the source's snapshot (the
caller's own, where the backend can share it, see
:meth:`~portadb.backends.base.Adapter.share_snapshot`; else its own) and runs
one part (:class:`~portadb.parts.Part`) after another, feeding the parent's
progress bar. The copy (:func:`portadb.parallel.copy_tables`) and the value
scan (:func:`portadb.scan.scan_values`) deal out their work this way.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext

from .endpoints import Endpoint
from .exceptions import PortadbError, TransferError
from .parts import Part
from .processes import collector_paused, end_child, fork_context, forking, start_child, transportable

#: Runs one part in a worker, with a progress bar fed to the parent's: its result is sent back.
PartWork = Callable[[Part, object], object]


def readable(source: Endpoint, workers: int) -> bool:
    """Whether ``workers`` processes can share the reading of ``source``."""
    return workers >= 2 and forking() and source.adapter.parallel_reads


def run_parts(source: Endpoint, parts: Sequence[Part], work: PartWork, workers: int, bar,
              shared: str | None = None,
              session: Callable[[], AbstractContextManager] = nullcontext,
              error: type[PortadbError] = TransferError,
              widths: Mapping[str, int] | None = None,
              started: Callable[[], None] | None = None) -> Iterator[tuple[Part, float, float, object]]:
    """Run ``work`` on every part in ``workers`` forked processes, the largest parts first;
    yield each part with its start, its end (one clock for all processes) and ``work``'s result.

    ``widths``: the values in a row of each table. A part's rows times its table's width is
    its size: a row of a wide table costs more, and a large part taken last would end alone.
    ``started``: called here once the workers have their parts; what it raises stops them.

    Each worker reads in the snapshot ``shared`` names, or its own, inside ``session()``; both
    ``work`` and ``session`` reach the database through an :class:`~portadb.endpoints.Endpoint`
    after the fork (its connection is then the worker's own).
    The first error a worker meets is raised once all have stopped (its type and data kept;
    anything that is not a portadb error as ``error``).
    """
    context = fork_context()
    tasks, results = context.Queue(), context.Queue()
    processes = [
        context.Process(target=_work, daemon=True,
                        args=(source, work, tasks, results, shared, session, error))
        for _ in range(workers)
    ]
    # Forked before the first put(), which starts the queue's feeder thread:
    # a fork while another thread runs can deadlock the child.
    for process in processes:
        process.start()
    for part in sorted(parts, key=lambda p: -p.rows * (widths or {}).get(p.table, 1)):
        tasks.put(part)
    for _ in range(workers):
        tasks.put(None)
    failure, running = None, workers
    try:
        if started is not None:
            started()
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
                yield tuple(data)
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
    dead = [p.exitcode for p in processes if p.exitcode]
    if failure is None and dead:  # killed (a negative status is the signal), or out of memory
        failure = error(f"A worker process stopped unexpectedly (exit status {dead[0]});"
                        " its part is unfinished.")
    if failure is not None:
        raise failure


def _work(source, work, tasks, results, shared, session, error) -> None:
    start_child()
    try:
        with source.adapter.snapshot(shared), session(), collector_paused():
            while (part := tasks.get()) is not None:
                started = time.monotonic()  # one clock for all processes
                result = work(part, _QueueBar(results))
                results.put(("done", part, started, time.monotonic(), result))
    except Exception as e:  # reported to the parent, which raises it
        results.put(("error", transportable(e, error)))
        _drain(tasks)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the chunk is not committed; the parent says so
        pass
    finally:
        end_child()
        results.put(("exit",))


def _drain(tasks) -> None:
    """Take the remaining parts off the queue so the other workers stop soon."""
    while tasks.get() is not None:
        pass


class _QueueBar:
    """A progress bar in a worker: each update goes to the parent's bar."""

    def __init__(self, results):
        self.results = results

    def update(self, n: int) -> None:
        self.results.put(("rows", n))
