"""One table read through one connection into canonical rows, by key range or key set.

Integer keys sort the same everywhere, so a chunk of the target can be read
by key range (:class:`RangeChunk`); any other key (text, UUID, dates) sorts by
each database's collation, and those differ between engines, so such a chunk
is read by the source chunk's exact key set (:class:`KeyChunk`) and sorted
here in code point order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter

from django.core.exceptions import ValidationError

from ..compat import batched
from ..endpoints import Endpoint
from ..fields import INTEGER_TYPES, base_field, key_fields
from ..options import CHUNK_BYTES
from ..transfer import keyset, large_values
from .canonical import canonicaliser
from .digests import digest
from .shown import python_value

#: Keys listed per ``IN (...)`` query when a chunk is fetched by its key set.
KEYS_PER_QUERY = 2_000


@dataclass(frozen=True)
class RangeChunk:
    """The rows whose key is above ``low`` and at most ``high`` (``None``: that end open)."""

    low: tuple | None
    high: tuple | None


@dataclass(frozen=True)
class KeyChunk:
    """The rows whose canonical key is one of ``keys``."""

    keys: list[tuple]


@dataclass(frozen=True)
class KeyLayout:
    """Where a table's key is in its rows, and how its chunks are matched."""

    columns: list[str]
    #: The key of a row, always a tuple.
    key_of: Callable
    sort_key: Callable
    #: Integer keys: the target is read by key range, not by key set.
    by_range: bool

    def sort(self, rows: list) -> None:
        """Sort canonical ``rows`` by key, alike on both sides. Keys of mixed types (a key that
        is no UUID among UUIDs, both sides' rows of it rejected or missing) go by type first."""
        try:
            rows.sort(key=self.sort_key)
        except TypeError:
            rows.sort(key=lambda row: [(type(k).__name__, k) for k in self.key_of(row)])

    @classmethod
    def of(cls, model, compared: Sequence | None = None) -> KeyLayout:
        """``model``'s key in rows of its ``compared`` fields (default: all its concrete fields)."""
        fields = key_fields(model)
        columns = [f.column for f in fields]
        names = [f.column for f in (compared or model._meta.local_concrete_fields)]
        index = [names.index(k) for k in columns]
        return cls(
            columns=columns,
            key_of=itemgetter(*index) if len(index) > 1 else _single(index[0]),
            sort_key=itemgetter(*index),
            by_range=all(base_field(f).get_internal_type() in INTEGER_TYPES for f in fields),
        )


def _single(i: int) -> Callable:
    """The key of a row whose key is one column, as a tuple like a composite key's."""
    def get(row):
        return (row[i],)

    return get


class Chunk:
    """A chunk's canonical values, column by column; its rows are made only when asked for
    (to narrow a chunk whose digests differ): the digest needs no rows."""

    __slots__ = ("columns", "_rows")

    def __init__(self, columns: list[tuple], rows: list[tuple] | None = None):
        self.columns = columns
        self._rows = rows

    @classmethod
    def of_rows(cls, rows: list[tuple]) -> Chunk:
        return cls(list(zip(*rows)), rows)

    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = list(zip(*self.columns))
        return self._rows

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def digest(self) -> bytes:
        return digest(self.columns)


class TableReader:
    """One table of one database, read into canonical rows."""

    def __init__(self, endpoint: Endpoint, model, layout: KeyLayout, fields: Sequence | None = None):
        self.adapter = endpoint.adapter
        self.connection = endpoint.connection
        self.table = model._meta.db_table
        self.layout = layout
        #: The fields compared (a column the other side's model has not is left out).
        self.fields = list(fields or model._meta.local_concrete_fields)
        self.names = [f.column for f in self.fields]
        self.key_columns = layout.columns
        self.canon = [canonicaliser(f, self.connection) for f in self.fields]
        self.key_fields = [self.fields[self.names.index(k)] for k in self.key_columns]
        self.key_canon = [canonicaliser(f, self.connection) for f in self.key_fields]
        self.keys_per_query = self.adapter.keys_per_query(len(self.key_columns), KEYS_PER_QUERY)

    @contextmanager
    def prefetching(self):
        """A one-thread pool allowed to read through this reader's connection (and snapshot)."""
        self.connection.inc_thread_sharing()
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="portadb-verify") as pool:
                yield pool
        finally:
            self.connection.dec_thread_sharing()

    def rows(self, raw: Sequence[Sequence], canon=None) -> list[tuple]:
        """``raw`` driver rows as canonical tuples."""
        return list(zip(*self.columns(raw, canon)))

    def columns(self, raw: Sequence[Sequence], canon=None) -> list[tuple]:
        """``raw`` driver rows as canonical columns, each a tuple (none without rows)."""
        canon = canon or self.canon
        columns = list(zip(*raw))
        for i, f in enumerate(canon if raw else ()):
            if f is not None:
                columns[i] = tuple(f(columns[i]))
        return columns

    def raw_chunks(self, columns: list[str], chunk_size: int, whole_rows: bool = False,
                   through: Sequence | None = None, start: Sequence | None = None) -> Iterator[list]:
        """Raw rows of ``columns`` in this database's key order, ``chunk_size`` at a time
        (fewer where their values are large: :func:`~portadb.transfer.large_values`;
        ``whole_rows``: where the values of the whole rows are, read later by these keys),
        after the key ``start`` and up to the key ``through``, if given."""
        fields = [f for f in self.fields if whole_rows or f.column in columns]
        return keyset(self.adapter, self.table, columns, self.key_columns, chunk_size,
                      None if start is None else list(start), sizes=large_values(self.adapter, fields),
                      through=None if through is None else list(through))

    def key_chunks(self, chunk_size: int) -> Iterator[list[tuple]]:
        """Canonical keys in this database's order, ``chunk_size`` at a time."""
        for raw in self.raw_chunks(self.key_columns, chunk_size):
            yield self.rows(raw, self.key_canon)

    def chunk(self, request: RangeChunk | KeyChunk) -> list[tuple]:
        """The canonical rows a request asks for, in canonical key order."""
        return self.canonical_chunk(request).rows()

    def canonical_chunk(self, request: RangeChunk | KeyChunk) -> Chunk:
        """:meth:`chunk` as a :class:`Chunk`."""
        if isinstance(request, RangeChunk):
            return Chunk(self.columns(self.fetch_range(request.low, request.high)))
        rows = self.rows(self.fetch_keys(request.keys))
        self.layout.sort(rows)  # code point order, whatever the collation
        return Chunk.of_rows(rows)

    def fetch_range(self, low, high) -> list:
        """Raw rows with ``low < key <= high``; ``None`` leaves that end open."""
        sql = self.adapter.select_range_sql(self.table, self.names, self.key_columns,
                                            lower=low is not None, upper=high is not None)
        params = [*(low or ()), *(high or ())]
        with self.adapter.read_cursor(decimals_as_text=True, key_range=True) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def fetch_keys(self, keys: Sequence[tuple]) -> list:
        """Raw rows whose key is one of the canonical ``keys``."""
        prepared = self.prepared(keys)
        rows = []
        with self.adapter.read_cursor(decimals_as_text=True) as cursor:
            for i in range(0, len(prepared), self.keys_per_query):
                batch = prepared[i:i + self.keys_per_query]
                sql = self.adapter.select_keys_sql(self.table, self.names, self.key_columns, len(batch))
                cursor.execute(sql, self.adapter.key_params(batch))
                rows += cursor.fetchall()
        return rows

    def key_batches(self, keys: Iterable[tuple], most: int) -> Iterator[list[tuple]]:
        """Canonical ``keys`` in batches of at most ``most``, and where values may be large, of
        rows that hold about :data:`~portadb.options.CHUNK_BYTES` here (one row at least)."""
        sizes = large_values(self.adapter, self.fields)
        for batch in batched(keys, most):
            if not sizes:
                yield list(batch)
                continue
            prepared, found = self.prepared(batch), []
            with self.adapter.read_cursor(decimals_as_text=True) as cursor:
                if prepared:
                    sql = self.adapter.key_sizes_sql(self.table, self.key_columns, sizes, len(prepared))
                    cursor.execute(sql, self.adapter.key_params(prepared))
                    found = cursor.fetchall()
            yield from by_bytes(batch, dict(zip(self.rows([row[:-1] for row in found], self.key_canon),
                                                (row[-1] or 0 for row in found))), most)

    def prepared(self, keys: Iterable[tuple]) -> list[list]:
        """:meth:`prepare` of each of ``keys`` that is a value of the key's fields here; no row
        holds another (a source's key that is no UUID, whose row the copy rejected)."""
        found = []
        for key in keys:
            try:
                found.append(self.prepare(key))
            except (ValidationError, ValueError, TypeError):
                continue
        return found

    def prepare(self, key: tuple) -> list:
        """A canonical key as this database's parameter values (integers as they are: a sync asks
        for every key of a bucket, 0 too, which Django's MySQL AutoField would refuse to prepare)."""
        if self.layout.by_range:
            return [int(v) for v in key]
        return [f.get_db_prep_value(python_value(f, v), self.connection)
                for f, v in zip(self.key_fields, key)]


def by_bytes(keys: Iterable, sizes: dict, most: int) -> Iterator[list]:
    """``keys`` in groups of at most ``most`` whose rows hold about
    :data:`~portadb.options.CHUNK_BYTES` by ``sizes`` (one row at least; an unknown size is none)."""
    group, total = [], 0
    for key in keys:
        size = sizes.get(key, 0)
        if group and (len(group) == most or total + size > CHUNK_BYTES):
            yield group
            group, total = [], 0
        group.append(key)
        total += size
    if group:
        yield group
