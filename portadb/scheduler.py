"""Builds side by side: up to N database sessions, never two that would wait on one table.

A key or constraint locks its table alone (``ALTER TABLE``), a plain index
shares it with other indexes (``CREATE INDEX``), and a foreign key locks both
the table it changes and the one it references. :func:`in_sessions` runs a
list of :class:`Work` items in threads, one session each, and starts an item
only when no running one holds a table it needs: the items behind it go first.
Two foreign keys pointing opposite ways (a cycle) would otherwise deadlock.
An item of a later :attr:`Work.stage` (a foreign key) also waits for the
earlier-stage items of its own tables, and only for those: the foreign keys
of the largest table start while small tables' indexes are still building.
:func:`meanwhile` runs one call in a second session while the caller goes on.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections


@dataclass(frozen=True)
class Work:
    """One build, with the tables it takes alone and those it shares."""

    #: Called with the session's connection.
    call: Callable
    #: No other build may use these tables meanwhile (ALTER TABLE).
    tables: frozenset = frozenset()
    #: Other builds that share them may run meanwhile (CREATE INDEX).
    shared: frozenset = frozenset()
    #: How many statements it runs: with its table's size, what it costs.
    statements: int = 1
    #: It starts only once every item of an earlier stage that uses one of its tables has
    #: ended: a key made of its unique index after the table's indexes, a foreign key (a
    #: later stage still) after the keys, indexes and reference searches of both its tables.
    stage: int = 0

    @property
    def uses(self) -> frozenset:
        return self.tables | self.shared


def in_sessions(alias: str, work: Sequence[Work | Callable], workers: int) -> None:
    """Call each item of ``work`` with a connection of ``alias``, up to ``workers`` at once.

    A plain callable is a :class:`Work` that takes no table. The first error
    stops the others from starting new items and is raised here.
    """
    todo = [item if isinstance(item, Work) else Work(item) for item in work]
    # Per (stage, table): the items not yet ended, taken or not, that a later stage waits for.
    unfinished = Counter((item.stage, table) for item in todo for table in item.uses)
    alone: set[str] = set()
    shared: Counter = Counter()
    errors: list[Exception] = []
    turn = threading.Condition()

    def free(item: Work) -> bool:
        return (alone.isdisjoint(item.uses) and shared.keys().isdisjoint(item.tables)
                and not any(unfinished[stage, t] for stage in range(item.stage) for t in item.uses))

    def take() -> Work | None:
        with turn:
            while todo and not errors:
                for i, item in enumerate(todo):
                    if free(item):
                        alone.update(item.tables)
                        shared.update(item.shared)
                        return todo.pop(i)
                turn.wait()
            return None

    def release(item: Work, error: Exception | None = None) -> None:
        with turn:
            if error is not None:  # noted before a waiting thread can take what waits for the item
                errors.append(error)
            unfinished.subtract((item.stage, table) for table in item.uses)
            alone.difference_update(item.tables)
            shared.subtract(item.shared)
            for table in item.shared:
                if shared[table] <= 0:
                    del shared[table]
            turn.notify_all()

    def run() -> None:
        try:
            while (item := take()) is not None:
                try:
                    item.call(connections[alias])
                except Exception as e:  # re-raised in the calling thread
                    release(item, e)
                    return
                release(item)
        except Exception as e:  # noqa: BLE001 - re-raised in the calling thread
            with turn:
                errors.append(e)
                turn.notify_all()
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=run) for _ in range(min(workers, len(todo)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@contextmanager
def meanwhile(alias: str, call: Callable, side_by_side: bool = True) -> Iterator[list]:
    """Call ``call`` with a second session of ``alias`` in a thread while the block runs.

    The yielded list holds its result once the block has ended; its error is
    raised there. Where not ``side_by_side`` (a database in this process's
    memory has no second session), it is called after the block, with this
    thread's connection.
    """
    result: list = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            result.append(call(connections[alias]))
        except Exception as e:  # re-raised in the calling thread
            errors.append(e)
        finally:
            connections[alias].close()

    thread = threading.Thread(target=run) if side_by_side else None
    if thread:
        thread.start()
    try:
        yield result
    finally:
        if thread:
            thread.join()
    if errors:
        raise errors[0]
    if not thread:
        result.append(call(connections[alias]))
