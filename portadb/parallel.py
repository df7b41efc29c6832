"""``--jobs N``: copy tables in N worker processes, the largest parts first.

A copy is bound by the client's CPU (reading, converting, encoding rows) long
before the target's ingest rate, so a second process on a second core nearly
halves the transfer. The work is dealt out in parts (:mod:`portadb.parts`): a
big table is cut into key ranges, so that its rows do not all go through one
worker. Each worker (forked, see :mod:`portadb.processes`) reads in a
snapshot of the source -- the caller's own where the backend can share it
(PostgreSQL exports it; on SQLite without WAL the caller's shared lock holds
writers off), else its own. :func:`copy_tables` commits each chunk as
:func:`portadb.transfer.copy_table` does, so the per-chunk guarantees hold;
the dry-run's scan (:func:`portadb.scan.scan_values`) deals out its parts the
same way (:func:`portadb.pool.run_parts`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .endpoints import Endpoint
from .exceptions import TransferError
from .parts import Part, count
from .plan import TableJob
from .pool import readable, run_parts
from .transfer import copy_table


def usable(source: Endpoint, target: Endpoint, workers: int) -> bool:
    """Whether ``workers`` processes can share this copy (else it runs in one)."""
    return readable(source, workers) and target.adapter.parallel_writes


def copy_tables(source: Endpoint, target: Endpoint, jobs: Sequence[TableJob], parts: Sequence[Part],
                chunk_size: int, workers: int, bar, guard_for: Callable | None = None,
                journal=None, keep: Callable | None = None,
                shared: str | None = None,
                started: Callable[[], None] | None = None) -> dict[str, tuple[float, int]]:
    """Copy every part of ``jobs``' tables in ``workers`` processes; per table, the seconds from
    its first part's start to its last part's end and its source rows (each part counted in the
    snapshot a worker read it in).

    ``bar`` (the overall progress bar) is fed from the workers' chunks. Each
    worker builds a part's chunk guard with ``guard_for(job, part)`` (see
    :mod:`portadb.guard`) and records its chunks in ``journal``, as a copy in
    one process does, with ``keep`` (see :func:`~portadb.transfer.copy_table`), in the snapshot
    ``shared`` names (:meth:`~portadb.backends.base.Adapter.share_snapshot`) or, without one, its
    own. A worker's error is raised here with its type and data. ``started`` is called once
    the workers are at work (:func:`~portadb.pool.run_parts`).
    """
    by_table = {job.table: job for job in jobs}

    def work(part: Part, part_bar) -> int:
        job = by_table[part.table]
        guard = guard_for(job, part) if guard_for else None
        rows = count(source.adapter, part, job.key)
        copy_table(source, target, job, chunk_size, part_bar, guard, journal, part, keep)
        return rows

    spans: dict[str, tuple[float, float, int]] = {}
    def session():  # the child's own connection, resolved there (the parent's is not to be shared)
        return target.adapter.load_session()

    for part, start, end, rows in run_parts(source, parts, work, workers, bar, shared, session,
                                            TransferError, started=started):
        first, last, counted = spans.get(part.table, (start, end, 0))
        spans[part.table] = (min(first, start), max(last, end), counted + rows)
    return {table: (end - start, rows) for table, (start, end, rows) in spans.items()}
