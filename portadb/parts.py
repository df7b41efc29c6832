"""Big tables cut into key ranges, so that several workers can copy one table at once.

Most projects keep most of their rows in one table (an event log, order lines,
page revisions). Copied table by table, such a table is one stream on one
core however many workers there are. :func:`cut` gives every table one
:class:`Part`, and a table larger than a worker's fair share several, each a
range of its primary key. Each part is read, written and journaled on its
own, so a resumed copy continues every part after its own last committed key.

Only a table whose key is one integer column is cut: integers sort the same
in every database, so "above this key, at most that one" picks the same rows
on the source, on the target and in a resumed run. The bounds are keys found
on the source at even row offsets; the first part is open below and the
last open above, so a row added anywhere meanwhile still belongs to a part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .endpoints import Endpoint
from .fields import INTEGER_TYPES, base_field
from .plan import TableJob


@dataclass(frozen=True)
class Part:
    """The rows of one table whose key is above ``after`` and at most ``through``
    (``None``: that end open), the ``index``-th part of the table from the lowest key."""

    table: str
    index: int = 0
    after: tuple | None = None
    through: tuple | None = None
    #: About how many source rows it holds (for the order the workers take parts in).
    rows: int = field(default=0, compare=False)


def whole_tables(jobs: Sequence[TableJob]) -> list[Part]:
    """One part per table, each the whole table."""
    return [Part(job.table, rows=job.source_rows) for job in jobs]


def cut(source: Endpoint, jobs: Sequence[TableJob], workers: int, chunk_size: int) -> list[Part]:
    """The parts ``workers`` processes copy ``jobs`` in (see :func:`cut_tables`)."""
    return cut_tables(source, [(job.table, job.key, job.source_rows, splittable(job)) for job in jobs],
                      workers, chunk_size)


def cut_tables(source: Endpoint, tables: Sequence[tuple[str, Sequence[str], int, bool]], workers: int,
               chunk_size: int, per_share: int = 2) -> list[Part]:
    """The parts ``workers`` processes share ``tables`` in, each given as (name, key columns,
    rows, whether it can be cut: its key is one integer column).

    A table is cut into ranges of about a ``per_share``-th of a worker's share
    of all rows (so that the parts of the largest tables can be dealt out
    evenly), never smaller than two chunks.
    """
    total = sum(rows for _, _, rows, _ in tables)
    if workers < 2 or not total:
        return [Part(table, rows=rows) for table, _, rows, _ in tables]
    size = max(total // (per_share * workers), 2 * chunk_size)
    parts = []
    for table, key, rows, cuttable in tables:
        pieces = math.ceil(rows / size)
        if pieces < 2 or not cuttable:
            parts.append(Part(table, rows=rows))
            continue
        parts += _ranges(source, table, key, rows, pieces)
    return parts


def _ranges(source: Endpoint, table: str, key: Sequence[str], rows: int, pieces: int) -> list[Part]:
    """``table`` (of about ``rows`` rows, keyed by one integer column) cut into ``pieces`` key
    ranges of about as many rows each, the first open below and the last open above."""
    bounds: list[tuple] = []
    offsets = [rows * i // pieces for i in range(pieces)]
    for i in range(1, pieces):  # each found from the last: the table's rows skipped once, not once a bound
        step = offsets[i] - offsets[i - 1] - 1 if bounds else offsets[i]
        bound = source.adapter.key_at(table, key, max(step, 0), after=bounds[-1] if bounds else ())
        if bound is None:  # a table that shrank since it was counted
            break
        bounds.append(bound)
    edges = [None, *bounds, None]
    return [Part(table, i, edges[i], edges[i + 1], rows // (len(edges) - 1)) for i in range(len(edges) - 1)]


def splittable(job: TableJob) -> bool:
    """Whether ``job``'s table can be cut: its key is one integer column."""
    if len(job.key) != 1:
        return False
    column = next(c for c in job.columns if c.name == job.key[0])
    return base_field(column.field).get_internal_type() in INTEGER_TYPES


def count(adapter, part: Part, key: Sequence[str]) -> int:
    """The source rows of ``part`` now (in the caller's snapshot)."""
    with adapter.connection.cursor() as cursor:
        cursor.execute(adapter.count_range_sql(part.table, key, part.after is not None,
                                               part.through is not None),
                       [*(part.after or ()), *(part.through or ())])
        return cursor.fetchone()[0]
