"""Prove that the target holds the same data as the source.

Both sides are read in primary-key order, chunk by chunk, through the same
normalising path: each side's own Django converters (what the ORM would hand
the application), then one canonical form per value, so that a float, a
timestamp, a decimal or a collation never raises a false alarm:

* an aware datetime as whole microseconds since the epoch (the same instant
  whatever the session time zone), dates, times and durations as they are;
* a ``DecimalField`` value at the field's scale, a float by ``repr``
  (``-0.0`` is ``0.0``, NaN equals NaN);
* JSON parsed from the stored text, keys sorted, numbers compared by value
  (PostgreSQL's ``jsonb`` rewrites ``1e+16`` as ``10000000000000000``); JSON
  ``null`` stays distinct from SQL ``NULL``;
* UUIDs as their number, booleans as booleans, binary values as bytes (hashed
  in reports).

Each chunk's canonical rows are compared and hashed (equal rows, one digest);
a chunk that differs is narrowed to its rows: missing and extra primary keys,
then the fields that differ, with both values.

Chunks are driven by the source. Integer keys sort the same everywhere, so the
target is read by key range (``last < pk <= high``, and unbounded after the last
chunk, which catches extra rows). Any other key (text, UUID, dates) sorts by
each database's collation, and those differ between engines (``'Z' < 'a'`` in
SQLite, not in MariaDB's ``utf8mb4_unicode_ci``), so the target is read by the
source chunk's exact key set instead and rows are matched in Python; a target
holding more rows than were matched is then scanned for the keys the source
lacks.

The target's side is read and normalised in a forked process on the second
core (:class:`portadb.parallel.Forked`) while this one does the source's: each
chunk crosses back as its digest, and its rows only when the digests differ.
Where no process can be forked (Windows; a caller that runs other threads;
a target in this process's memory), a helper thread reads the target instead.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import json.encoder
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import attrgetter, floordiv, itemgetter, sub

from django.db import DatabaseError, models
from django.db.migrations.recorder import MigrationRecorder

from .backends import adapter_for
from .convert import each_value, non_null, then_each
from .endpoints import Endpoint
from .exceptions import PortadbError, first_line
from .models import label, project_models, shared_models
from .parallel import Forked, forking
from .reports import (
    Finding,
    FindingKind,
    RowDifference,
    SequenceCheck,
    Severity,
    TableCheck,
    VerifyReport,
)
from .selection import select_models
from .transfer import collector_paused

DEFAULT_CHUNK_SIZE = 20_000
#: Keys listed per ``IN (...)`` query when a chunk is fetched by its key set.
KEYS_PER_QUERY = 2_000
#: Keys per chunk (at most) when only a sample of chunks is compared.
SAMPLE_CHUNK_SIZE = 1_000
#: How many differing rows, missing and extra keys a table check keeps.
SHOWN = 10

_INTEGER_KEYS = {
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
    "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}


class VerificationError(PortadbError):
    """A database could not be read while verifying."""


def verify(source: str, target: str, *, models: Sequence[str] | None = None,
           exclude: Sequence[str] | None = None, sample: float | None = None,
           counts_only: bool = False, chunk_size: int = DEFAULT_CHUNK_SIZE) -> VerifyReport:
    """Compare ``target`` with ``source``: counts, content, sequences, migrations.

    ``models``/``exclude`` are app labels or ``app_label.Model`` labels;
    ``sample`` (between 0 and 1) compares that fraction of key chunks only;
    ``counts_only`` skips the content. Nothing is written on either side.
    Returns a :class:`portadb.reports.VerifyReport`; ``report.ok`` is true
    when the two hold the same data.
    """
    _check_options(sample, chunk_size)
    select_models(project_models(), models or (), exclude or ())  # unknown labels: refuse early
    from .pipeline import open_endpoints

    src, tgt = open_endpoints(source, target, target_must_exist=True)
    try:
        chosen = select_models(shared_models(src.alias, tgt.alias), models or (), exclude or ())
        return verify_endpoints(src, tgt, chosen, sample=sample, counts_only=counts_only,
                                chunk_size=chunk_size)
    finally:
        src.close()
        tgt.close()


def verify_endpoints(src: Endpoint, tgt: Endpoint, chosen: Sequence[type], *,
                     sample: float | None = None, counts_only: bool = False,
                     chunk_size: int = DEFAULT_CHUNK_SIZE,
                     clock: Callable[[], float] = time.perf_counter) -> VerifyReport:
    """:func:`verify` over two open endpoints and a list of models."""
    started = clock()
    report = VerifyReport(source=src.display, target=tgt.display, counts_only=counts_only,
                          sample=sample, chunk_size=chunk_size)
    try:
        with src.adapter.snapshot(), tgt.adapter.snapshot(), collector_paused(), \
                _target_reader(tgt, chosen, counts_only) as remote:
            present = (set(src.adapter.table_names()), set(tgt.adapter.table_names()))
            for model in chosen:
                t0 = clock()
                check = _check_table(src, tgt, model, present, sample, counts_only, chunk_size, remote)
                check.seconds = round(clock() - t0, 3)
                report.tables.append(check)
            _check_sequences(tgt, chosen, present[1], report)
            _check_migrations(src, tgt, present, report)
    except DatabaseError as e:
        raise VerificationError(f"Could not read the databases while verifying: {first_line(e)}") from e
    report.findings = _findings(report) + report.findings
    report.seconds = round(clock() - started, 3)
    return report


# -- one table ---------------------------------------------------------------------


@contextmanager
def _target_reader(tgt: Endpoint, chosen: Sequence[type], counts_only: bool):
    """The forked process that reads the target's side, or ``None`` where there is none."""
    # Forking a process that runs other threads can deadlock the child (a
    # lock held by another thread is never released there): a thread then.
    if counts_only or not forking() or threading.active_count() > 1 or not tgt.adapter.parallel_reads:
        yield None
        return
    # The child's own connection, not this one's: resolved there, after the fork.
    remote = Forked(_TargetServer(tgt, chosen), lambda: tgt.adapter.snapshot(), VerificationError)
    try:
        yield remote
    finally:
        remote.close()


class _TargetServer:
    """Runs in the forked process: the target's canonical chunks, as digests."""

    def __init__(self, endpoint: Endpoint, chosen: Sequence[type]):
        self.endpoint = endpoint
        # By table: the models reach the child with the fork, not through the pipe.
        self.models = {m._meta.db_table: m for m in chosen}
        self.side: _Side | None = None
        self.layout: _KeyLayout | None = None
        # The last two chunks: the parent asks one chunk ahead of its comparison.
        self.kept: dict[int, list] = {}
        self.count = 0

    def __call__(self, request):
        kind = request[0]
        try:
            if kind == "table":
                model = self.models[request[1]]
                self.layout = _key_layout(model)
                self.side = _Side(self.endpoint, model, self.layout.columns)
                return None
            if kind == "rows":
                return self.kept[request[1]]
            self.count += 1
            rows = self.kept[self.count] = self.side.chunk(request, self.layout)
            self.kept.pop(self.count - 2, None)
            return self.count, _digest(rows)
        except DatabaseError as e:
            raise VerificationError(f"Could not read the databases while verifying: {first_line(e)}") from e


def _check_table(src, tgt, model, present, sample, counts_only, chunk_size, remote=None) -> TableCheck:
    table = model._meta.db_table
    check = TableCheck(table=table, model=label(model), source_rows=None, target_rows=None)
    if table in present[0]:
        check.source_rows = src.adapter.count(table)
    if table in present[1]:
        check.target_rows = tgt.adapter.count(table)
    if counts_only or check.source_rows is None or check.target_rows is None:
        return check
    pair = _Pair(model, src, tgt)
    step = min(chunk_size, SAMPLE_CHUNK_SIZE)
    if sample is not None and check.source_rows > step:
        chunks = pair.sampled_chunks(sample, step)
    else:  # small tables are compared whole: cheaper than sampling them
        chunks = pair.chunks(chunk_size, remote)
    _compare(pair, chunks, check)
    if not pair.by_range and sample is None:
        _find_extras(pair, check, chunk_size)
    return check


def _compare(pair: _Pair, chunks: Iterator[tuple[list, list]], check: TableCheck) -> None:
    src_total, tgt_total = hashlib.blake2b(digest_size=16), hashlib.blake2b(digest_size=16)
    for src_rows, tgt in chunks:
        check.chunks += 1
        check.compared_rows += len(src_rows)
        src_digest = _digest(src_rows)
        same = tgt.same_as(src_rows, src_digest)
        tgt_digest = src_digest if same else tgt.digest()
        src_total.update(src_digest)
        tgt_total.update(tgt_digest)
        if not same:
            check.chunks_different += 1
            _narrow(pair, src_rows, tgt.rows(), check)
    check.source_checksum = src_total.hexdigest()
    check.target_checksum = tgt_total.hexdigest()
    pair.matched = check.compared_rows - check.missing_count


def _digest(rows: list) -> bytes:
    return hashlib.blake2b(repr(rows).encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _Local:
    """The target's canonical rows of a chunk, read in this process."""

    def __init__(self, rows: list):
        self._rows = rows

    def same_as(self, rows: list, digest: bytes) -> bool:
        return rows == self._rows  # equal rows have equal digests: hash only when they differ

    def digest(self) -> bytes:
        return _digest(self._rows)

    def rows(self) -> list:
        return self._rows


class _Remote:
    """The digest of a chunk the forked process read; its rows only when asked for."""

    def __init__(self, remote: Forked, number: int, digest: bytes):
        self._remote = remote
        self._number = number
        self._digest = digest

    def same_as(self, rows: list, digest: bytes) -> bool:
        return digest == self._digest

    def digest(self) -> bytes:
        return self._digest

    def rows(self) -> list:
        return self._remote.ask(("rows", self._number))


def _narrow(pair: _Pair, src_rows: list, tgt_rows: list, check: TableCheck) -> None:
    """Row by row: which keys are missing or extra, which fields differ."""
    src_by_key = {pair.key_of(r): r for r in src_rows}
    tgt_by_key = {pair.key_of(r): r for r in tgt_rows}
    missing = [k for k in src_by_key if k not in tgt_by_key]
    extra = [k for k in tgt_by_key if k not in src_by_key]
    _note(pair, check, "missing", missing)
    _note(pair, check, "extra", extra)
    pair.extras_seen.update(extra)
    for key, row in src_by_key.items():
        other = tgt_by_key.get(key)
        if other is None or other == row:
            continue
        check.different_rows += 1
        if check.different_rows <= SHOWN:
            check.differences += [
                RowDifference(_show_key(pair, key), f.column, shown(f, a), shown(f, b))
                for f, a, b in zip(pair.src.fields, row, other) if a != b
            ]


def _note(pair: _Pair, check: TableCheck, which: str, keys: list) -> None:
    setattr(check, f"{which}_count", getattr(check, f"{which}_count") + len(keys))
    pks = getattr(check, f"{which}_pks")
    pks += [_show_key(pair, k) for k in keys[: SHOWN - len(pks)]]


def _find_extras(pair: _Pair, check: TableCheck, chunk_size: int) -> None:
    """Target keys the source lacks, when the key-set reads cannot account for every target row."""
    if check.target_rows <= pair.matched + len(pair.extras_seen):
        return
    for keys in pair.tgt.key_chunks(chunk_size):
        on_source = {pair.key_of(r) for r in pair.src.rows(pair.src.fetch_keys(keys))}
        extra = [k for k in keys if k not in on_source and k not in pair.extras_seen]
        _note(pair, check, "extra", extra)
        pair.extras_seen.update(extra)


def _show_key(pair: _Pair, key: tuple):
    values = [shown(f, v) for f, v in zip(pair.src.key_fields, key)]
    return values[0] if len(values) == 1 else values


# -- reading both sides the same way ------------------------------------------------


class _Side:
    """One table read through one connection into canonical rows."""

    def __init__(self, endpoint: Endpoint, model, key_columns: list[str]):
        self.endpoint = endpoint
        self.adapter = endpoint.adapter
        self.connection = endpoint.connection
        self.table = model._meta.db_table
        self.fields = list(model._meta.local_concrete_fields)
        self.names = [f.column for f in self.fields]
        self.key_columns = key_columns
        self.canon = [canonicaliser(f, self.connection) for f in self.fields]
        self.key_fields = [self.fields[self.names.index(k)] for k in key_columns]
        self.key_canon = [canonicaliser(f, self.connection) for f in self.key_fields]
        per_query = self.connection.features.max_query_params or KEYS_PER_QUERY
        self.keys_per_query = max(1, min(KEYS_PER_QUERY, per_query // len(key_columns)))

    @contextmanager
    def prefetching(self):
        """A one-thread pool allowed to read through this side's connection (and snapshot)."""
        self.connection.inc_thread_sharing()
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="portadb-verify") as pool:
                yield pool
        finally:
            self.connection.dec_thread_sharing()

    def rows(self, raw: Sequence[Sequence], canon=None) -> list[tuple]:
        """``raw`` driver rows as canonical tuples."""
        canon = canon or self.canon
        if not raw:
            return []
        columns = list(zip(*raw))
        for i, f in enumerate(canon):
            if f is not None:
                columns[i] = f(columns[i])
        return list(zip(*columns))

    def keyset(self, columns: list[str], chunk_size: int) -> Iterator[list]:
        """Raw rows of ``columns`` in this database's key order, ``chunk_size`` at a time."""
        key_index = [columns.index(k) for k in self.key_columns]
        first = self.adapter.select_chunk_sql(self.table, columns, self.key_columns, after=False)
        after = self.adapter.select_chunk_sql(self.table, columns, self.key_columns, after=True)
        last = None
        with self.adapter.read_cursor() as cursor:
            while True:
                cursor.execute(first if last is None else after,
                               [chunk_size] if last is None else [*last, chunk_size])
                rows = cursor.fetchall()
                if rows:
                    yield rows
                if len(rows) < chunk_size:
                    return
                last = [rows[-1][i] for i in key_index]

    def key_chunks(self, chunk_size: int) -> Iterator[list[tuple]]:
        """Canonical keys in this database's order, ``chunk_size`` at a time."""
        for raw in self.keyset(self.key_columns, chunk_size):
            yield self.rows(raw, self.key_canon)

    def chunk(self, request: tuple, layout: _KeyLayout) -> list[tuple]:
        """Canonical rows of ``("range", low, high)`` or ``("keys", keys)``, in canonical key order."""
        if request[0] == "range":
            return self.rows(self.fetch_range(*request[1:]))
        rows = self.rows(self.fetch_keys(request[1]))
        rows.sort(key=layout.sort_key)  # code point order, whatever the collation
        return rows

    def fetch_range(self, low, high) -> list:
        """Raw rows with ``low < key <= high``; ``None`` leaves that end open."""
        sql = self.adapter.select_range_sql(self.table, self.names, self.key_columns,
                                            lower=low is not None, upper=high is not None)
        params = [*(low or ()), *(high or ())]
        with self.adapter.read_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def fetch_keys(self, keys: Sequence[tuple]) -> list:
        """Raw rows whose key is one of the canonical ``keys``."""
        prepared = [self.prepare(k) for k in keys]
        rows = []
        with self.adapter.read_cursor() as cursor:
            for i in range(0, len(prepared), self.keys_per_query):
                batch = prepared[i:i + self.keys_per_query]
                sql = self.adapter.select_keys_sql(self.table, self.names, self.key_columns, len(batch))
                cursor.execute(sql, [v for key in batch for v in key])
                rows += cursor.fetchall()
        return rows

    def prepare(self, key: tuple) -> list:
        """A canonical key as this database's parameter values."""
        return [f.get_db_prep_value(python_value(f, v), self.connection)
                for f, v in zip(self.key_fields, key)]


@dataclass(frozen=True)
class _KeyLayout:
    """Where a table's key is in its rows, and how its chunks are matched."""

    columns: list[str]
    #: The key of a row, always a tuple.
    key_of: Callable
    sort_key: Callable
    #: Integer keys: the target is read by key range, not by key set.
    by_range: bool


def _key_layout(model) -> _KeyLayout:
    from .plan import _key_fields

    key_fields = _key_fields(model)
    columns = [f.column for f in key_fields]
    names = [f.column for f in model._meta.local_concrete_fields]
    index = [names.index(k) for k in columns]
    return _KeyLayout(
        columns=columns,
        key_of=itemgetter(*index) if len(index) > 1 else _one(index[0]),
        sort_key=itemgetter(*index),
        by_range=all(_target(f).get_internal_type() in _INTEGER_KEYS for f in key_fields),
    )


@dataclass
class _Pair:
    """One table on both sides, and the chunks in which they are compared."""

    model: type
    src_endpoint: Endpoint
    tgt_endpoint: Endpoint

    def __post_init__(self):
        self.layout = _key_layout(self.model)
        self.src = _Side(self.src_endpoint, self.model, self.layout.columns)
        self.tgt = _Side(self.tgt_endpoint, self.model, self.layout.columns)
        self.names = self.src.names
        self.key_of = self.layout.key_of
        self.by_range = self.layout.by_range
        self.matched = 0
        self.extras_seen: set = set()

    def chunks(self, chunk_size: int, remote: Forked | None = None) -> Iterator[tuple[list, object]]:
        """Every source chunk's canonical rows with the target's chunk of the same keys.

        With a ``remote`` process the target's chunks are read there, one
        chunk ahead; else in a helper thread while the source's are normalised.
        """
        requests = self._requests(chunk_size)
        if remote is None:
            return self._threaded(requests)
        remote.ask(("table", self.model._meta.db_table))
        return self._pipelined(requests, remote)

    def sampled_chunks(self, fraction: float, chunk_size: int) -> Iterator[tuple[list, object]]:
        """A random ``fraction`` of the source's key chunks, both sides read by those keys."""
        rng = random.Random()
        low = None
        for raw_keys in self.src.keyset(self.src.key_columns, chunk_size):
            high = tuple(raw_keys[-1])
            if rng.random() < fraction:
                if self.by_range:
                    raw = self.src.fetch_range(low, high)
                else:
                    raw = self.src.fetch_keys(self.src.rows(raw_keys, self.src.key_canon))
                request = self._request(raw, low, high)
                yield self._source_rows(raw), _Local(self.tgt.chunk(request, self.layout))
            low = high

    def _requests(self, chunk_size: int) -> Iterator[tuple[list, tuple]]:
        """Each raw source chunk with the request for the target's rows of the same keys."""
        low = None
        ended = False
        for raw in self.src.keyset(self.names, chunk_size):
            ended = len(raw) < chunk_size
            high = None if ended else self.key_of(raw[-1])
            yield raw, self._request(raw, low, high)
            low = high
        if self.by_range and not ended:
            yield [], ("range", low, None)  # the target's rows past the source's last key

    def _request(self, raw: list, low, high) -> tuple:
        if self.by_range:
            return ("range", low, high)
        # A case-insensitive collation may return a row whose key is not the
        # same string; matching in Python then counts it as extra.
        return ("keys", self.src.rows([self.key_of(r) for r in raw], self.src.key_canon))

    def _source_rows(self, raw: list) -> list[tuple]:
        rows = self.src.rows(raw)
        if not self.by_range:
            rows.sort(key=self.layout.sort_key)  # code point order, as the target's chunk
        return rows

    def _pipelined(self, requests, remote: Forked) -> Iterator[tuple[list, _Remote]]:
        """The process reads chunk n + 1 while this one normalises chunk n."""
        pending = None
        for raw, request in requests:
            remote.send(request)
            if pending is not None:
                yield self._source_rows(pending), _Remote(remote, *remote.receive())
            pending = raw
        if pending is not None:
            yield self._source_rows(pending), _Remote(remote, *remote.receive())

    def _threaded(self, requests) -> Iterator[tuple[list, _Local]]:
        with self.tgt.prefetching() as pool:
            for raw, request in requests:
                future = pool.submit(self.tgt.chunk, request, self.layout)
                rows = self._source_rows(raw)
                yield rows, _Local(future.result())


def _one(i: int):
    def get(row):
        return (row[i],)

    return get


def _target(field):
    while field.is_relation and field.target_field is not field:
        field = field.target_field
    return field


# -- the canonical form -------------------------------------------------------------
#
# A canonical value is a Python value whose equality and repr() are the same
# whichever engine it was read from: text, integers, booleans, dates, times,
# durations and bytes as they are; an aware datetime as whole microseconds
# since 1970-01-01 UTC; a UUID as its 128-bit number; a float as its repr; a
# DecimalField value at the field's scale; JSON as sorted, compact text.
# Reports show them readably again (see shown()).

UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_WIDE = decimal.Context(prec=1000)
_PLAIN_KINDS = _INTEGER_KEYS | {
    "CharField", "TextField", "SlugField", "EmailField", "URLField", "GenericIPAddressField",
    "DateField", "TimeField", "DurationField",
}


def canonicaliser(field: models.Field, connection) -> Callable[[Sequence], list] | None:
    """The function from a column of ``connection``'s raw values of ``field`` to their canonical forms.

    ``None`` when the driver's values already are canonical (integers, text,
    dates... without converters), which spares most columns a Python call per value.
    """
    expression = field.get_col(field.model._meta.db_table)
    readers = connection.ops.get_db_converters(expression)
    output = expression.output_field
    if isinstance(output, models.JSONField):
        # The stored text, not from_db_value: JSON null is not NULL.
        if not readers:
            return _json_column
        canon = _json
    else:
        readers += expression.get_db_converters(connection)
        canon = _for_field(output, adapter_for(connection))
        if canon is None and not readers:
            return None
    column = _BY_COLUMN.get(canon)
    if not readers:
        return column or partial(each_value, canon)
    if len(readers) == 1:
        # The copy's fast readers (SQLite datetimes, dates, UUIDs, decimals): the same values, sooner.
        (reader,) = readers
        adapter = adapter_for(connection)
        many = adapter.column_reader(reader, expression)
        if many is not None:
            if column is not None:
                return partial(_then_column, many, column)
            return many if canon is None else partial(then_each, many, canon)
        read_one = (adapter.fast_reader(reader, expression)
                    or partial(reader, expression=expression, connection=connection))
        return partial(each_value, read_one if canon is None else lambda value: canon(read_one(value)))

    def read(value):
        for reader in readers:
            value = reader(value, expression, connection)
        return value if canon is None else canon(value)

    return partial(each_value, read)


def _for_field(field, adapter):
    kind = field.get_internal_type()
    if kind == "DecimalField" and field.decimal_places is not None:
        return None if adapter.decimals_at_scale else _decimal_at(field.decimal_places)
    if kind in _BY_KIND:
        return _BY_KIND[kind]
    if kind in _PLAIN_KINDS and not hasattr(field, "from_db_value"):
        return None  # the driver's or the backend converter's value is canonical
    return canonical


def canonical(value):
    """The canonical form of any Python value a field converter returns."""
    if value is None:
        return None
    convert = _BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    for kind, convert in _BY_TYPE.items():
        if isinstance(value, kind):
            return convert(value)
    return repr(value)


def _same(value):
    return value


def _float(value):
    if value is None:
        return None
    value = float(value)
    return "0.0" if value == 0 else repr(value)


def _boolean(value):
    return value if value is None or type(value) is bool else canonical(value)


def _datetime(value):
    if value is None:
        return None
    if type(value) is not dt.datetime:
        return canonical(value)
    return _instant(value)


def _instant(value: dt.datetime):
    """Microseconds since the epoch for an aware datetime; a naive one keeps its ISO text."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.isoformat(timespec="microseconds")
    return (value - _EPOCH) // _MICROSECOND


def _uuid(value):
    # The 128-bit number: exact, ordered like the UUID, and repr() in C, not Python.
    return value.int if type(value) is uuid.UUID else canonical(value)


def _bytes(value):
    return value if value is None or type(value) is bytes else bytes(value)


def _decimal(value: decimal.Decimal) -> str:
    return str(value.normalize(_WIDE)) if value else "0"


def _decimal_at(places: int):
    exponent = decimal.Decimal(1).scaleb(-places)

    def convert(value):
        if value is None:
            return None
        if not isinstance(value, decimal.Decimal):
            return canonical(value)
        try:
            return value.quantize(exponent, context=_WIDE)
        except decimal.InvalidOperation:
            return str(value)

    return convert


def _sequence(value) -> str:
    return repr([canonical(v) for v in value])


def _mapping(value) -> str:
    return repr(sorted((str(k), canonical(v)) for k, v in value.items()))


_BY_TYPE: dict[type, Callable] = {
    str: _same,
    bool: _same,
    int: _same,
    float: _float,
    decimal.Decimal: _decimal,
    dt.datetime: _instant,
    dt.date: _same,
    dt.time: _same,
    dt.timedelta: _same,
    uuid.UUID: _same,
    bytes: _same,
    bytearray: bytes,
    memoryview: bytes,
    list: _sequence,
    tuple: _sequence,
    dict: _mapping,
}

_BY_KIND: dict[str, Callable] = {
    "FloatField": _float,
    "BooleanField": _boolean,
    "DateTimeField": _datetime,
    "BinaryField": _bytes,
    "UUIDField": _uuid,
}


def _then_column(many: Callable, column: Callable, values: Sequence) -> list:
    return column(many(values))


def _instants(values: Sequence) -> list:
    """:func:`_datetime` over a column: aware datetimes in C loops, any other column value by value."""
    try:
        return non_null(_aware_instants, values)
    except TypeError:  # a naive datetime (minus an aware epoch), a date, text...
        return list(map(_datetime, values))


def _aware_instants(values: Sequence) -> list:
    if set(map(type, values)) - {dt.datetime}:
        raise TypeError("not only datetimes")
    return list(map(floordiv, map(sub, values, repeat(_EPOCH)), repeat(_MICROSECOND)))


_number_of = attrgetter("int")


def _uuid_numbers(values: Sequence) -> list:
    """:func:`_uuid` over a column: the numbers read in a C loop where every value is a UUID."""
    try:
        return non_null(_numbers_of, values)
    except TypeError:
        return list(map(_uuid, values))


def _numbers_of(uuids: Sequence) -> list:
    if set(map(type, uuids)) - {uuid.UUID}:
        raise TypeError("not only UUIDs")
    return list(map(_number_of, uuids))


#: Column-wide versions of canonical forms that are a Python call per value.
_BY_COLUMN: dict[Callable, Callable] = {_datetime: _instants, _uuid: _uuid_numbers}


def _json(value):
    """Stored JSON text in canonical form; SQL NULL stays ``None``, JSON null is ``'null'``.

    Keys sorted, no spaces, numbers by value: PostgreSQL's ``jsonb`` reorders
    keys and writes the float ``1e+16`` as ``10000000000000000``, MySQL's JSON
    type stores numbers as doubles.
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8")
    try:
        parsed = _JSON_DECODER.decode(value) if isinstance(value, str) else value
        return _JSON_ENCODER.encode(parsed)
    except (TypeError, ValueError):
        return f"<invalid JSON {value!r}>"


def _json_column(values: Sequence) -> list:
    """:func:`_json` over a column: plain JSON text parsed and encoded in C, no Python call per value.

    A column holding anything else (bytes, a value with white space around
    it, text that is no JSON) goes value by value through :func:`_json`.
    """
    if _ENCODE_C is not None:
        try:
            return non_null(_json_texts, values)
        except (TypeError, ValueError, StopIteration):
            pass
    return list(map(_json, values))


def _json_texts(texts: Sequence) -> list:
    if set(map(type, texts)) - {str}:
        raise TypeError("not all text")
    parsed = list(map(_JSON_DECODER.scan_once, texts, repeat(0)))
    if [end for _, end in parsed] != list(map(len, texts)):
        raise ValueError("white space or more after a value")
    return list(map("".join, map(_ENCODE_C, [obj for obj, _ in parsed], repeat(0))))


def _json_float(text: str):
    """A JSON number with a fraction or exponent: an exact int when it is whole."""
    number = float(text)
    if number.is_integer():
        return int(decimal.Decimal(text))
    return number


_JSON_DECODER = json.JSONDecoder(parse_float=_json_float)
_JSON_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
# The C encoder _JSON_ENCODER.encode() builds on each call, built once (None without the C module).
_ENCODE_C = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
    {}, _JSON_ENCODER.default, json.encoder.encode_basestring, None, ":", ",", True, False, True)


def shown(field: models.Field, value):
    """A canonical value as a report shows it: JSON-ready, readable, binary hashed."""
    if _is_instant(field, value):
        return _from_instant(value).isoformat(timespec="microseconds")
    if _is_uuid(field, value):
        return str(uuid.UUID(int=value))
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, bytes):
        digest = hashlib.blake2b(value, digest_size=12).hexdigest()
        return f"<{len(value)} bytes blake2b:{digest}>"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _is_instant(field, value) -> bool:
    return type(value) is int and _target(field).get_internal_type() == "DateTimeField"


def _is_uuid(field, value) -> bool:
    return type(value) is int and _target(field).get_internal_type() == "UUIDField"


def _from_instant(value: int) -> dt.datetime:
    return _EPOCH + value * _MICROSECOND


def python_value(field: models.Field, value):
    """A canonical value back as the field's Python value (to look a key up)."""
    return field.to_python(_from_instant(value) if _is_instant(field, value) else value)


# -- sequences and migrations -------------------------------------------------------


def _check_sequences(tgt: Endpoint, chosen: Sequence[type], present: set[str],
                     report: VerifyReport) -> None:
    """Every auto primary key's next value on the target is above the largest key there."""
    for model in chosen:
        pk, table = model._meta.pk, model._meta.db_table
        if table not in present or not isinstance(pk, models.AutoField):
            continue
        report.sequences.append(SequenceCheck(
            table=table, column=pk.column,
            max_pk=tgt.adapter.max_value(table, pk.column),
            next_value=tgt.adapter.next_auto_value(table, pk.column),
        ))


def _check_migrations(src: Endpoint, tgt: Endpoint, present, report: VerifyReport) -> None:
    table = MigrationRecorder.Migration._meta.db_table
    applied = [_applied(e) if table in p else set() for e, p in zip((src, tgt), present)]
    report.migrations_compared = len(applied[0] | applied[1])
    report.migrations_missing = sorted(applied[0] - applied[1])
    report.migrations_extra = sorted(applied[1] - applied[0])


def _applied(endpoint: Endpoint) -> set[str]:
    rows = MigrationRecorder.Migration.objects.using(endpoint.alias).values_list("app", "name")
    return {f"{app}.{name}" for app, name in rows}


# -- findings ---------------------------------------------------------------------------


def _findings(report: VerifyReport) -> list[Finding]:
    found = []
    for t in report.tables:
        found += _table_findings(t, report)
    for s in report.sequences:
        if not s.ok:
            why = "has no sequence" if s.next_value is None else f"would next give {s.next_value}"
            found.append(_error(FindingKind.SEQUENCE_BEHIND, f"{s.table}.{s.column} {why} on the target, "
                                f"but its largest key there is {s.max_pk}.", table=s.table, field=s.column))
    table = MigrationRecorder.Migration._meta.db_table
    for side, names in (("target", report.migrations_missing), ("source", report.migrations_extra)):
        if names:
            found.append(_error(FindingKind.MIGRATIONS_DIFFERENT,
                                f"{table}: {len(names)} applied migrations missing on the {side}: "
                                f"{', '.join(names)}.", table=table, model="migrations.Migration"))
    return found


def _table_findings(t: TableCheck, report: VerifyReport) -> list[Finding]:
    where = {"table": t.table, "model": t.model}
    if t.source_rows is None or t.target_rows is None:
        side = " and ".join(s for s, n in (("source", t.source_rows), ("target", t.target_rows)) if n is None)
        return [_error(FindingKind.TABLE_MISSING, f"{t.table} ({t.model}) does not exist on the {side}.",
                       **where)]
    found = []
    if t.source_rows != t.target_rows:
        found.append(_error(FindingKind.COUNT_MISMATCH, f"{t.table}: {_rows(t.source_rows)} on the "
                            f"source, {t.target_rows:,} on the target.", **where))
    if t.missing_count:
        pks = _first(t.missing_pks, t.missing_count)
        found.append(_error(FindingKind.ROW_MISSING, f"{t.table}: {_rows(t.missing_count)} missing on "
                            f"the target, pk {pks}.", pk=t.missing_pks[0], **where))
    if t.extra_count:
        found.append(_error(FindingKind.ROW_EXTRA, f"{t.table}: {_rows(t.extra_count)} on the target "
                            f"only, pk {_first(t.extra_pks, t.extra_count)}.", pk=t.extra_pks[0], **where))
    if t.different_rows:
        d = t.differences[0]
        found.append(_error(FindingKind.VALUE_DIFFERENT, f"{t.table}: {_rows(t.different_rows)} differ"
                            f"{'s' if t.different_rows == 1 else ''}, "
                            f"first pk {d.pk!r} field {d.field}: source {d.source_value!r}, "
                            f"target {d.target_value!r}.", pk=d.pk, field=d.field, **where))
    return found


def _error(kind: FindingKind, message: str, **where) -> Finding:
    return Finding(kind, Severity.ERROR, message, **where)


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _first(keys: list, count: int) -> str:
    return ", ".join(map(repr, keys)) + (", ..." if count > len(keys) else "")


# -- helpers ------------------------------------------------------------------------


def _check_options(sample: float | None, chunk_size: int) -> None:
    if sample is not None and not 0 < sample <= 1:
        raise PortadbError("The sample must be a fraction above 0 and at most 1, such as 0.1.")
    if chunk_size < 1:
        raise PortadbError("The chunk size must be a positive number of rows.")
