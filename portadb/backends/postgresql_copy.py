"""PostgreSQL's bulk path: binary COPY, with some columns encoded a whole column at a time.

psycopg writes binary COPY from Python values through one dumper call per
value; the columns this module knows (numeric from exact integers, UUIDs from
their bytes, booleans, JSON text) are encoded here in C loops instead and
declared bytea, so psycopg's C dumper for bytes sends them as they are.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from functools import partial

from django.conf import settings
from django.db import models

from ..columns import ScaledIntegers, UuidBytes, as_values, non_null

# Column types whose binary COPY format psycopg writes from the Python value
# Django reads: bool, int2/4/8, text, bytea, float4/8, varchar, bpchar, date,
# time, numeric, uuid, interval, jsonb (from the stored JSON text, below).
# timestamptz only with USE_TZ, where every datetime read is aware.
BINARY_TYPES = frozenset({16, 20, 21, 23, 25, 17, 700, 701, 1043, 1042, 1082, 1083, 1700, 2950, 1186, 3802})
TIMESTAMPTZ = 1184
JSONB = 3802
BOOL = 16


def encode_columns(types: list[int], values: Sequence[Sequence]) -> tuple[list[int], list]:
    """The oids to declare and the columns to send: those this module encodes, as bytes.

    Decimals read as exact integers (:class:`~portadb.columns.ScaledIntegers`)
    become numeric's binary format without a ``Decimal`` for each, UUIDs read
    as bytes (:class:`~portadb.columns.UuidBytes`) go as they are; booleans and
    JSON text are encoded by C loops. A column that cannot be encoded keeps its
    type and Django's values: its type's dumper then says what is wrong.
    """
    wire, encoded = list(types), list(values)
    for i, oid in enumerate(types):
        if oid == NUMERIC and isinstance(values[i], ScaledIntegers):
            encode = partial(_numerics, values[i].scale)
        elif oid == UUID and isinstance(values[i], UuidBytes):
            encode = list  # uuid's binary format: the 16 bytes
        else:
            encode = _ENCODERS.get(oid)
        if encode is None:
            continue
        try:
            encoded[i] = non_null(encode, values[i])
        except (KeyError, TypeError, ValueError, UnicodeEncodeError):
            continue  # left to the column type's own dumper, which says what is wrong
        wire[i] = BYTEA
    return wire, [as_values(e) if e is v else e for e, v in zip(encoded, values)]


def binary_types(connection, quoted: str, columns: Sequence[str]) -> list[int] | None:
    """The type oids of ``columns`` of the table ``quoted`` when all can be COPYed in binary."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname, atttypid FROM pg_attribute"
                       " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", [quoted])
        oids = dict(cursor.fetchall())
    allowed = BINARY_TYPES | ({TIMESTAMPTZ} if settings.USE_TZ else set())
    types = [oids.get(c) for c in columns]
    return types if all(t in allowed for t in types) else None


def network_prep(connection, field) -> Callable | None:
    """The preparation of an ``inet`` column that also takes what only ``inet`` holds.

    A PostgreSQL source's ``inet`` may hold an address with a netmask
    (``'10.0.0.1/8'``, written by SQL), read as PostgreSQL's text; Django's
    ``get_db_prep_save`` refuses it (it makes an ``ip_address`` of it). That text
    goes to the column as it is; every other value as Django prepares it. A
    source that is not PostgreSQL holds no such value: its addresses are
    checked first (:func:`portadb.checks.identifiers.ip_check`).
    """
    if not isinstance(field, models.GenericIPAddressField):
        return None
    prepare = partial(field.get_db_prep_save, connection=connection)
    return lambda value: value if type(value) is str and "/" in value else prepare(value)


def copy_rows(connection, table: str, columns: Sequence[str], rows: list, types: list | None,
              encoded: bool = False) -> None:
    """``COPY`` ``rows`` into ``table``: binary with ``types`` (oids; ``encoded`` columns declared
    bytea, sent as they are), text without."""
    from psycopg import sql
    from psycopg.copy import QueuedLibpqWriter

    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(" (FORMAT BINARY)" if types else ""),
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if types:
            for dumper in _binary_dumpers():
                raw.adapters.register_dumper(None, dumper)
            if encoded:
                # Encoded columns are declared bytea: psycopg's (C) dumper
                # of bytes sends them as they are.
                from psycopg.types.string import BytesBinaryDumper

                raw.adapters.register_dumper(None, BytesBinaryDumper)
        # A thread sends the encoded rows while this one encodes the next: without
        # it the two took turns with the server (about 8 % of a copy's time).
        # What waits to be sent is at most the chunk, already in memory as rows.
        with raw.copy(statement, writer=QueuedLibpqWriter(raw)) as copy:
            if types:
                copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row)


BYTEA = 17
_BOOL_BYTES = {True: b"\x01", False: b"\x00"}.__getitem__
_JSONB_VERSION = b"\x01".__add__


def _encode_json(values: Sequence) -> list:
    if set(map(type, values)) - {str}:
        raise TypeError("not all text")
    return list(map(_JSONB_VERSION, map(str.encode, values)))


NUMERIC = 1700
UUID = 2950
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
    BOOL: lambda values: list(map(_BOOL_BYTES, values)),
    JSONB: _encode_json,
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
            oid = JSONB

            def dump(self, obj):
                return b"\x01" + (obj.encode() if isinstance(obj, str) else bytes(obj))

        class StrictBoolBinaryDumper(Dumper):
            """Only True and False: psycopg's own would store a stray 2 as true."""

            format = Format.BINARY
            oid = BOOL

            def dump(self, obj):
                if obj is True:
                    return b"\x01"
                if obj is False:
                    return b"\x00"
                raise TypeError(f"{obj!r} is not a boolean")

        _dumpers.extend([JsonTextBinaryDumper, StrictBoolBinaryDumper])
    return _dumpers
