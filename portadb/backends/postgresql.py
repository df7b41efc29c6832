"""PostgreSQL: reads in a REPEATABLE READ snapshot, writes through binary COPY."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from functools import partial

from django.conf import settings
from django.db import models, transaction

from ..columns import ScaledIntegers, UuidBytes, as_values, non_null
from ..reports.model import FindingKind as K
from .base import Adapter as BaseAdapter
from .base import field_vendor

# Built-in fields whose get_db_prep_save on PostgreSQL returns a value of the
# field's Python type unchanged (to_python is the identity for it and the
# backend's adapt_*_value returns it as it is; UUID and interval are native).
_STORED_AS_READ = frozenset({
    models.BooleanField, models.DecimalField, models.DateField, models.DateTimeField,
    models.TimeField, models.DurationField, models.UUIDField,
})

# Column types whose binary COPY format psycopg writes from the Python value
# Django reads: bool, int2/4/8, text, bytea, float4/8, varchar, bpchar, date,
# time, numeric, uuid, interval, jsonb (from the stored JSON text, below).
# timestamptz only with USE_TZ, where every datetime read is aware.
_BINARY_TYPES = frozenset({16, 20, 21, 23, 25, 17, 700, 701, 1043, 1042, 1082, 1083, 1700, 2950, 1186, 3802})
_TIMESTAMPTZ = 1184
_JSONB = 3802
_BOOL = 16


class Adapter(BaseAdapter):
    vendor = "postgresql"
    display_name = "PostgreSQL"
    names = ("postgresql", "postgres")
    engines = ("postgresql", "postgis")
    extra = "postgresql"
    default_port = 5432
    # text, varchar and jsonb refuse U+0000.
    refuses_nul = True
    # GenericIPAddressField is inet, JSONField is jsonb.
    validates_ip_addresses = True
    normalises_json = True
    refuses_lone_surrogates_in_json = True
    # Typed columns and enforced foreign keys: values read from PostgreSQL
    # cannot fail these checks. Infinities in float columns can, for MySQL.
    enforced_checks = frozenset({
        K.TOO_LONG, K.INTEGER_OUT_OF_RANGE, K.DECIMAL_OVERFLOW, K.NUL_CHARACTER, K.INVALID_UTF8,
        K.INVALID_JSON, K.IMPOSSIBLE_DATE, K.TIMEZONE, K.NOT_AN_INTEGER, K.NOT_A_NUMBER, K.NOT_A_BOOLEAN,
        K.INVALID_UUID, K.INVALID_IP, K.WRONG_TYPE, K.DANGLING_REFERENCE,
    })
    validates_foreign_keys_when_built = True
    # numeric(p, s) returns s decimal places.
    decimals_at_scale = True
    stores_decimals_at_scale = True
    column_forms = frozenset({ScaledIntegers, UuidBytes})
    write_rate = 800_000

    def __init__(self, connection):
        super().__init__(connection)
        self._types: dict[tuple, list[int] | None] = {}

    def cannot_hold(self, field) -> str | None:
        reason = super().cannot_hold(field)
        if reason is None and field_vendor(field) == self.vendor:
            db_type = field.db_type(self.connection)
            if db_type and not self.has_type(db_type):
                return f"the type {db_type} does not exist on the target (create its extension first)"
        return reason

    def has_type(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT to_regtype(%s)", [name])
            return cursor.fetchone()[0] is not None

    def has_collation(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [name])
            return cursor.fetchone() is not None

    def begin_read_only(self, cursor) -> None:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    @contextmanager
    def load_session(self):
        # A commit need not wait for its WAL flush: a server crash can lose the
        # last chunks, but whole, together with their journal entries, so a
        # resumed copy redoes them. Nothing else in the session changes.
        with self.connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        try:
            with super().load_session():
                yield
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")

    @contextmanager
    def build_session(self, side_by_side: bool = False):
        if not side_by_side:
            yield  # an index build may use the idle cores for parallel workers
            return
        # Each core has a session of its own already: parallel workers would
        # only add their coordination (about a sixth of the builds' CPU time).
        with self.connection.cursor() as cursor:
            cursor.execute("SET max_parallel_maintenance_workers = 0")
        try:
            yield
        finally:
            if self.alive():
                with self.connection.cursor() as cursor:
                    cursor.execute("RESET max_parallel_maintenance_workers")

    @contextmanager
    def read_cursor(self):
        with self.connection.cursor() as cursor:
            if settings.USE_TZ:
                # Django's timestamptz loader extends psycopg's pure-Python one;
                # psycopg's own, in C, reads the same aware datetimes (in the
                # session's time zone, which Django sets) in half the time.
                from psycopg.types.datetime import TimestamptzLoader

                cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
            yield cursor

    def defer_keys(self, tables: Sequence[str]) -> list[tuple[str, str, str]]:
        # One sorted build after the data costs far less than keeping a
        # B-tree (a random UUID's above all) up to date row by row.
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)"
                " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
                " WHERE k.contype IN ('p', 'u') AND k.conrelid = ANY(%s::regclass[])"
                " ORDER BY k.contype, c.relname, k.conname",
                [[self.quote(t) for t in tables]],
            )
            found = cursor.fetchall()
            for table, name, _ in found:
                cursor.execute(f"ALTER TABLE {self.quote(table)} DROP CONSTRAINT {self.quote(name)}")
        return [(table, self.quote(name),
                 f"ALTER TABLE {self.quote(table)} ADD CONSTRAINT {self.quote(name)} {definition}")
                for table, name, definition in found]

    def stores_as_read(self, field) -> bool:
        return type(field) in _STORED_AS_READ

    def write_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        """COPY ``rows`` in; binary when every column type allows it, text otherwise.

        Binary COPY is about a third cheaper for the client. A value of an
        unexpected Python type (SQLite lets a text column hold an integer) makes
        the binary attempt fail before anything is stored: the chunk is then
        written again as text, inside the same transaction.
        """
        rows = rows if isinstance(rows, list) else list(rows)
        types = self.copy_types(table, columns)
        if types is not None:
            try:
                with transaction.atomic(using=self.connection.alias):
                    self._copy(table, columns, rows, types)
                return
            except Exception:  # noqa: BLE001 - retried as text, which reports the real error
                pass
        self._copy(table, columns, rows, None)

    def write_columns(self, table: str, columns: Sequence[str], values: Sequence[Sequence]) -> None:
        """Binary COPY with some columns encoded a whole column at a time.

        Decimals read as exact integers (:class:`~portadb.columns.ScaledIntegers`)
        become numeric's binary format without a ``Decimal`` for each, UUIDs
        read as bytes (:class:`~portadb.columns.UuidBytes`) go as they are; booleans
        and JSON text are encoded by C loops instead of a Python dumper call per
        value. The encoded bytes go through psycopg's C dumper for bytes
        (binary COPY sends no types). A column that cannot be encoded goes
        the way of :meth:`write_rows`.
        """
        types = self.copy_types(table, columns)
        if types is None or _BYTEA in types:  # bytea's dumper must stay the one for Binary()
            return self.write_rows(table, columns, list(zip(*map(as_values, values))))
        wire, encoded = list(types), list(values)
        for i, oid in enumerate(types):
            if oid == _NUMERIC and isinstance(values[i], ScaledIntegers):
                encode = partial(_numerics, values[i].scale)
            elif oid == _UUID and isinstance(values[i], UuidBytes):
                encode = list  # uuid's binary format: the 16 bytes
            else:
                encode = _ENCODERS.get(oid)
            if encode is None:
                continue
            try:
                encoded[i] = non_null(encode, values[i])
            except (KeyError, TypeError, ValueError, UnicodeEncodeError):
                continue  # left to the column type's own dumper, which says what is wrong
            wire[i] = _BYTEA
        # A form left unencoded (a value of another type than the column's) is
        # Django's values again: its type's dumper then says what is wrong.
        encoded = [as_values(e) if e is v else e for e, v in zip(encoded, values)]
        try:
            with transaction.atomic(using=self.connection.alias):
                self._copy(table, columns, list(zip(*encoded)), wire, encoded=True)
            return
        except Exception:  # noqa: BLE001 - retried as text, which reports the real error
            pass
        self._copy(table, columns, list(zip(*map(as_values, values))), None)

    def _copy(self, table, columns, rows, types, encoded: bool = False) -> None:
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(" (FORMAT BINARY)" if types else ""),
        )
        with self.connection.cursor() as cursor:
            raw = cursor.cursor
            if types:
                for dumper in _binary_dumpers():
                    raw.adapters.register_dumper(None, dumper)
                if encoded:
                    # Encoded columns are declared bytea: psycopg's (C) dumper
                    # of bytes sends them as they are.
                    from psycopg.types.string import BytesBinaryDumper

                    raw.adapters.register_dumper(None, BytesBinaryDumper)
            with raw.copy(statement) as copy:
                if types:
                    copy.set_types(types)
                write = copy.write_row
                for row in rows:
                    write(row)

    def copy_types(self, table: str, columns: Sequence[str]) -> list[int] | None:
        """The type oids of ``columns`` when all can be COPYed in binary, else ``None``."""
        key = (table, tuple(columns))
        if key not in self._types:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT attname, atttypid FROM pg_attribute"
                    " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    [self.quote(table)],
                )
                oids = dict(cursor.fetchall())
            allowed = _BINARY_TYPES | ({_TIMESTAMPTZ} if settings.USE_TZ else set())
            types = [oids.get(c) for c in columns]
            self._types[key] = types if all(t in allowed for t in types) else None
        return self._types[key]

    def drop_tables(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        with self.connection.cursor() as cursor:
            names = ", ".join(self.quote(t) for t in tables)
            cursor.execute(f"DROP TABLE IF EXISTS {names} CASCADE")

    def next_auto_value(self, table: str, column: str) -> int | None:
        # pg_sequence_last_value() reads the sequence without nextval()'s side
        # effect; it is NULL until the first nextval() or setval(..., true).
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.seqstart, s.seqincrement, pg_sequence_last_value(s.seqrelid)"
                " FROM pg_sequence s WHERE s.seqrelid = pg_get_serial_sequence(%s, %s)::regclass",
                [self.quote(table), column],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        start, increment, last = row
        return start if last is None else last + increment

    def table_sizes(self) -> dict[str, int]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                " WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)"
            )
            return dict(cursor.fetchall())

_BYTEA = 17
_BOOL_BYTES = {True: b"\x01", False: b"\x00"}.__getitem__
_JSONB_VERSION = b"\x01".__add__


def _encode_json(values: Sequence) -> list:
    if set(map(type, values)) - {str}:
        raise TypeError("not all text")
    return list(map(_JSONB_VERSION, map(str.encode, values)))


_NUMERIC = 1700
_UUID = 2950
_NUMERIC_POSITIVE, _NUMERIC_NEGATIVE = 0x0000, 0x4000


def _numerics(scale: int, numbers: Sequence[int]) -> list:
    """numeric's binary format of each ``n * 10**-scale`` (no NULLs), all in one layout.

    The format: digit count, weight (of the first base-10000 digit), sign,
    display scale, then the digits. The server strips the leading zero
    digits a fixed layout leaves, and checks the column's precision.
    """
    pad = -scale % 4  # to whole base-10000 digits after the point
    after = (scale + pad) // 4
    top = max(map(abs, numbers), default=0) * 10**pad
    for count, encode in _NUMERIC_LAYOUTS:
        if top < 10 ** (4 * count):
            return list(map(partial(encode, count - after - 1, scale, 10**pad), numbers))
    raise ValueError("too many digits for the layouts: left to the decimal dumper")


_PACK3 = struct.Struct(">hhHH3H").pack
_PACK5 = struct.Struct(">hhHH5H").pack


# Two unrolled encoders rather than one loop over the digits: the loop costs
# about twice as much per value, and a chunk's values share one layout.
def _numeric3(weight: int, scale: int, pad: int, n: int) -> bytes:
    sign = _NUMERIC_POSITIVE
    if n < 0:
        sign, n = _NUMERIC_NEGATIVE, -n
    n, d2 = divmod(n * pad, 10000)
    d0, d1 = divmod(n, 10000)
    return _PACK3(3, weight, sign, scale, d0, d1, d2)


def _numeric5(weight: int, scale: int, pad: int, n: int) -> bytes:
    sign = _NUMERIC_POSITIVE
    if n < 0:
        sign, n = _NUMERIC_NEGATIVE, -n
    n, d4 = divmod(n * pad, 10000)
    n, d3 = divmod(n, 10000)
    n, d2 = divmod(n, 10000)
    d0, d1 = divmod(n, 10000)
    return _PACK5(5, weight, sign, scale, d0, d1, d2, d3, d4)


#: (base-10000 digits, encoder): the shortest that holds a column's largest value is used.
_NUMERIC_LAYOUTS = ((3, _numeric3), (5, _numeric5))

#: Binary COPY encodings of a whole column's values (no NULLs), by type oid, in C loops.
_ENCODERS = {
    _BOOL: lambda values: list(map(_BOOL_BYTES, values)),
    _JSONB: _encode_json,
}

_dumpers: list = []


def _binary_dumpers() -> list:
    """Dumpers for binary COPY that refuse what text COPY would refuse, and keep JSON text as stored."""
    if not _dumpers:
        from psycopg.adapt import Dumper
        from psycopg.pq import Format

        class JsonTextBinaryDumper(Dumper):
            """jsonb from the stored JSON text: never encoded a second time."""

            format = Format.BINARY
            oid = _JSONB

            def dump(self, obj):
                return b"\x01" + (obj.encode() if isinstance(obj, str) else bytes(obj))

        class StrictBoolBinaryDumper(Dumper):
            """Only True and False: psycopg's own would store a stray 2 as true."""

            format = Format.BINARY
            oid = _BOOL

            def dump(self, obj):
                if obj is True:
                    return b"\x01"
                if obj is False:
                    return b"\x00"
                raise TypeError(f"{obj!r} is not a boolean")

        _dumpers.extend([JsonTextBinaryDumper, StrictBoolBinaryDumper])
    return _dumpers
