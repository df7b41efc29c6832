"""Every table's rows on both sides of a sync, each side counted in the snapshot it is read in.

A sync trusts a change log only where the counts add up (:mod:`portadb.tracking`), so
it counts every table on both sides before it compares. The source's are counted
here, in the sync's snapshot. The target's are read where the target's rows are:
by the forked reader (:mod:`portadb.verify.remote`) before the rows it reads; or,
where that reader reads in this process's snapshot of the target
(:meth:`~portadb.backends.base.Adapter.share_snapshot`: PostgreSQL, SQLite
without WAL), by a thread of this process through its own connection while
the reader reads rows, which then need not wait for a count of every table.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from .plan import Plan
from .verify.remote import CountRows


class Counts:
    """The rows of each table of a plan: the source's at once, the target's when asked."""

    def __init__(self, source: dict[str, int], target: dict[str, int] | dict[str, Future],
                 pool: ThreadPoolExecutor | None = None):
        self.source = source
        self._target = target
        self._pool = pool  # the thread that counts the target's, where one does

    def target(self, table: str) -> int:
        """The target's rows of ``table`` (waits for its count)."""
        value = self._target[table]
        return value.result() if isinstance(value, Future) else value

    def settle(self) -> None:
        """Wait for every count, and for the thread that counts to end: the caller may fork."""
        for table in self._target:
            self.target(table)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


@contextmanager
def counted(plan: Plan, remote, shared: bool) -> Iterator[Counts]:
    """The counts of ``plan``'s tables; the target's in the forked reader ``remote``, or, where it
    reads in this process's snapshot (``shared``), in a thread meanwhile (or here, without one)."""
    tables = [job.table for job in plan.jobs]
    adapter = plan.target.adapter  # this thread's connection: in the snapshot
    if remote is not None and not shared:
        remote.send(CountRows(tables))  # answered before the rows the reader is asked for
        source = {table: plan.source.adapter.count(table) for table in tables}
        yield Counts(source, remote.receive())
        return
    if remote is None:
        yield Counts({table: plan.source.adapter.count(table) for table in tables},
                     {table: adapter.count(table) for table in tables})
        return
    adapter.connection.inc_thread_sharing()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="portadb-count") as pool:
            target = {table: pool.submit(adapter.count, table) for table in tables}
            yield Counts({table: plan.source.adapter.count(table) for table in tables}, target, pool)
    finally:
        adapter.connection.dec_thread_sharing()
