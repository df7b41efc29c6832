"""Stream rows: keyset chunks from the source, converted, into the target's bulk path."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from . import options
from .columns import ColumnForm, Transposed
from .convert import convert_columns, converts
from .endpoints import Endpoint
from .exceptions import DataError, TransferError, first_line
from .fields import base_field, may_be_large
from .parts import Part
from .plan import TableJob

#: Times a chunk the server rolled back (``retry_codes``) is written again before the copy stops.
RETRIES = 3


def read_chunks(endpoint: Endpoint, job: TableJob, chunk_size: int,
                start: Sequence | None = None, through: Sequence | None = None) -> Iterator[list]:
    """Yield ``job``'s rows in primary-key order, ``chunk_size`` at a time (see :func:`keyset`),
    after the key ``start`` and up to the key ``through`` where given."""
    adapter = endpoint.adapter
    return keyset(adapter, job.table, job.column_names, job.key, chunk_size,
                  None if start is None else list(start),
                  sizes=large_values(adapter, [c.field for c in job.columns]),
                  through=None if through is None else list(through))


def large_values(adapter, fields: Sequence) -> list[str]:
    """``adapter``'s expressions of the size of each value of ``fields`` that may be large
    (:func:`~portadb.fields.may_be_large`)."""
    return [adapter.size_sql(f.column, base_field(f).get_internal_type()) for f in fields
            if may_be_large(f, adapter.enforces_max_length)]


def keyset(adapter, table: str, columns: Sequence[str], key: Sequence[str], chunk_size: int,
           start: list | None = None, sizes: Sequence[str] = (),
           budget: int = options.CHUNK_BYTES, through: list | None = None) -> Iterator[list]:
    """Yield the raw rows of ``columns`` of ``table`` in ``key`` order, ``chunk_size`` at a time.

    Keyset pagination (``key > last ORDER BY key LIMIT n``): each query starts
    where the previous one ended, so nothing is read twice and no table is ever
    held whole in memory. ``start`` is a key to read after (a resumed copy),
    ``through`` the last key to read (in the database's own order).

    ``sizes`` (:func:`large_values`): where values may be large, the database
    first adds up the sizes of the next ``chunk_size`` rows' values; a chunk
    over ``budget`` bytes holds only the rows that fit (at least one).
    """
    key_index = [columns.index(k) for k in key]
    statement = adapter.select_chunk_sql if through is None else adapter.select_through_sql
    first = statement(table, columns, key, after=False)
    after = statement(table, columns, key, after=True)
    upper = [] if through is None else list(through)
    last = start
    with adapter.read_cursor() as cursor:
        while True:
            bound = [] if last is None else list(last)
            limit = chunk_size
            if sizes:
                limit = _rows_within(cursor, adapter, table, key, sizes, bound, chunk_size, budget)
            cursor.execute(after if bound else first, [*bound, *upper, limit])
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            if len(rows) < limit:
                return
            last = [rows[-1][i] for i in key_index]


def _rows_within(cursor, adapter, table: str, key: Sequence[str], sizes: Sequence[str], bound: list,
                 chunk_size: int, budget: int) -> int:
    """How many of the next ``chunk_size`` rows fit ``budget`` bytes of large values (at least 1)."""
    cursor.execute(adapter.chunk_sizes_sql(table, key, sizes, after=bool(bound), total=True),
                   [*bound, chunk_size])
    total = cursor.fetchall()[0][0]
    if (total or 0) <= budget:
        return chunk_size
    cursor.execute(adapter.chunk_sizes_sql(table, key, sizes, after=bool(bound)), [*bound, chunk_size])
    running = list(accumulate(int(row[0]) for row in cursor.fetchall()))
    return max(1, bisect_right(running, budget))


def copy_table(source: Endpoint, target: Endpoint, job: TableJob, chunk_size: int, bar,
               guard=None, journal=None, part: Part | None = None, keep=None) -> int:
    """Copy one table, or ``part`` of it; each chunk commits on its own. Returns the rows written.

    ``guard`` (see :mod:`portadb.guard`) sees each chunk before anything of it
    is converted or written: it raises, or returns the rows to write. With a
    :class:`~portadb.journal.Journal`, reading starts after the part's last
    committed key and each chunk commits together with its journal entry.
    ``keep(source, target, job, part)`` follows a part read whole in this
    snapshot and written whole (``copy --for-sync``: :func:`portadb.fingerprints.keep_part`).
    """
    written = 0
    adapter = target.adapter
    key_index = job.key_index
    part = part or Part(job.table)
    after = journal.after(part) if journal else part.after
    whole = journal is None or journal.positions[part].key is None
    convert = converts(job.columns)
    for read in read_chunks(source, job, chunk_size, after, part.through):
        rows, converted = prepare_chunk(read, job, target, guard, convert)
        try:
            for attempt in range(RETRIES + 1):
                try:
                    with transaction.atomic(using=target.alias):
                        write_chunk(adapter, job, rows, converted)
                        if journal:
                            # The last key *read*: a resumed copy must not read rejected rows again.
                            journal.advance(part, [read[-1][i] for i in key_index], len(rows),
                                            len(read) - len(rows))
                    break
                except DatabaseError as e:  # rolled back whole by the server: the chunk runs again
                    if attempt == RETRIES or not adapter.rolled_back(e):
                        raise
        except Exception as e:
            where, why = f"rows {_pk_range(read, job)}", e
            if len(rows) > 1 and (found := refused_row(target, job, rows, converted)):
                where, why = found  # the server's own reason, for the one row it refuses
            raise TransferError(
                f"Could not write {job.label} {where} to {target.display}: "
                f"{first_line(why)}; run the same copy with --resume to continue."
            ) from e
        written += len(rows)
        whole = whole and len(rows) == len(read)
        bar.update(len(read))
    if keep is not None and whole:
        keep(source, target, job, part)
    return written


def prepare_chunk(read: list, job: TableJob, target: Endpoint, guard=None,
                  convert: bool = True) -> tuple[Sequence, list | None]:
    """The rows of ``read`` that ``guard`` lets through, and their columns as the target
    stores them (``None`` where no column needs converting: the rows are written as read)."""
    # The checks and the conversion share one transposition of the chunk.
    by_column = Transposed(read)
    rows = guard(read, by_column) if guard is not None else read
    if rows is not read:
        by_column = Transposed(rows)
    return rows, (_converted(by_column(), job, read, target) if rows and convert else None)


def write_chunk(adapter, job: TableJob, rows: Sequence, converted: list | None,
                table: str | None = None) -> None:
    """Write what :func:`prepare_chunk` returned, in the caller's transaction (into ``table``, where
    given: a table of the same columns)."""
    if converted is not None:
        adapter.write_columns(table or job.table, job.column_names, converted)
    elif rows:
        adapter.write_rows(table or job.table, job.column_names, rows)


def _converted(by_column: list, job: TableJob, read: list, target: Endpoint) -> list:
    """The chunk's columns as the target stores them; a value Django's fields refuse is a
    value problem, not the target's (the checks name every one they know first)."""
    try:
        return convert_columns(by_column, job.columns)
    except (ValidationError, ArithmeticError, ValueError, TypeError) as e:
        raise DataError(
            f"Could not prepare {job.label} rows {_pk_range(read, job)} for {target.display}: "
            f"{first_line(e)}; nothing of this chunk was written."
        ) from e


def refused_row(target: Endpoint, job: TableJob, rows: Sequence, converted: list | None
                ) -> tuple[str, Exception] | None:
    """The first row of a chunk the target refused that it refuses on its own, and its error:
    ``("(pk=5)", error)``. Halves of the chunk are written again, each in a transaction rolled
    back (about 15 writes of up to half a chunk, only after a failure); ``None`` where no single
    row fails alone (rows that collide with each other) or the connection is gone."""
    lo, hi = 0, len(rows)
    try:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _refuses(target, job, rows, converted, lo, mid) is not None:
                hi = mid
            else:
                lo = mid
        error = _refuses(target, job, rows, converted, lo, lo + 1)
    except _Gone:  # the chunk's own error says why
        return None
    if error is None:
        return None
    return f"(pk={rows[lo][job.column_names.index(job.key[0])]!r})", error


def _refuses(target: Endpoint, job: TableJob, rows: Sequence, converted: list | None,
             start: int, stop: int) -> Exception | None:
    """The error writing rows ``start`` to ``stop`` raises, in a transaction rolled back either way."""
    columns = None if converted is None else [
        c.part(start, stop) if isinstance(c, ColumnForm) else c[start:stop] for c in converted]
    try:
        with transaction.atomic(using=target.alias):
            write_chunk(target.adapter, job, rows[start:stop], columns)
            transaction.set_rollback(True, using=target.alias)
    except Exception as e:  # the driver's, Django's or the adapter's: whatever the chunk raised
        if not target.connection.is_usable():
            raise _Gone from e
        return e
    return None


class _Gone(Exception):
    """The connection died while a refused chunk was searched for its row."""


def _pk_range(rows, job: TableJob) -> str:
    i = job.column_names.index(job.key[0])
    return f"(pk {rows[0][i]!r} to {rows[-1][i]!r})"
