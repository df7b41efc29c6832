"""SQLite: ``executemany`` inside one transaction per chunk."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import sqlite3
import uuid
from collections import deque
from collections.abc import Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from itertools import repeat
from operator import attrgetter, methodcaller

from django.conf import settings
from django.db import OperationalError
from django.db.backends.sqlite3.operations import DatabaseOperations
from django.db.models.expressions import Col

from ..columns import DOUBLE_DIGITS, ScaledIntegers, UuidBytes, non_null, scaled_integers
from .base import Adapter as BaseAdapter

# SQLite stores whatever bytes it is given as TEXT; invalid UTF-8 is kept as
# lone surrogates so the value checks can name it instead of the read failing.
# A partial of str (not a Python function) keeps the decoding in C.
_lenient_text = partial(str, encoding="utf-8", errors="surrogateescape")


class _StrictFirst:
    """A read cursor that decodes text in C, and leniently only a result that needs it.

    sqlite3 decodes TEXT in C only with its default text factory; the lenient
    one costs a call per value, a quarter of reading a table. A result holding
    invalid UTF-8 fails strict decoding and is read again leniently. The query
    runs in :meth:`fetchall`, where both attempts can see it.
    """

    def __init__(self, cursor, raw):
        self._cursor, self._raw = cursor, raw
        self._query: tuple = ()

    def execute(self, sql: str, params=()):
        self._query = (sql, params)
        return self

    def fetchall(self) -> list:
        lenient = self._raw.text_factory
        self._raw.text_factory = str
        try:
            self._cursor.execute(*self._query)
            return self._cursor.fetchall()
        except (sqlite3.OperationalError, OperationalError) as e:
            if "decode" not in str(e):
                raise
        finally:
            self._raw.text_factory = lenient
        self._cursor.execute(*self._query)
        return self._cursor.fetchall()


class Adapter(BaseAdapter):
    vendor = "sqlite"
    display_name = "SQLite"
    names = ("sqlite", "sqlite3")
    engines = ("sqlite",)

    @classmethod
    def describe(cls, alias: str, conf: dict) -> str:
        return f"{alias} (sqlite:{conf.get('NAME') or ''})"

    @classmethod
    def identity(cls, alias: str, conf: dict) -> tuple:
        name = str(conf.get("NAME") or "")
        if name in ("", ":memory:") or name.startswith("file:"):
            return (cls.vendor, alias)  # in memory: every alias is a database of its own
        return (cls.vendor, os.path.realpath(name))
    # SQLite enforces neither lengths nor types: every check can fire on its values.
    enforces_max_length = False
    # Django's decimal converter quantizes to the field's decimal_places.
    decimals_at_scale = True
    write_rate = 1_000_000

    @contextmanager
    def snapshot(self):
        self.connection.ensure_connection()
        raw = self.connection.connection
        previous = raw.text_factory
        raw.text_factory = _lenient_text
        try:
            with super().snapshot():
                yield
        finally:
            raw.text_factory = previous

    @contextmanager
    def read_cursor(self):
        with self.connection.cursor() as cursor:
            yield _StrictFirst(cursor, self.connection.connection)

    def select_column(self, column: str) -> str:
        # Django connects with PARSE_DECLTYPES, so the driver itself would parse
        # "date"/"datetime"/"time" columns (raising on February 30th) and turn a
        # "bool" 2 into False. Unary + is a no-op that hides the declared type:
        # the value arrives as stored and the checks see it.
        return "+" + self.quote(column)

    def schema_editor(self, **kwargs):
        """Django's SQLite editor, minus its check of every foreign key on exit.

        Tables are created before the rows arrive, and a table a selection keeps
        may point at one that is still empty; the copy checks the foreign keys
        once the rows are in (``references.check_references``).
        """
        django_editor = self.connection.SchemaEditorClass

        class LoadEditor(django_editor):
            def __exit__(self, exc_type, exc_value, traceback):
                super(django_editor, self).__exit__(exc_type, exc_value, traceback)
                self.connection.enable_constraint_checking()

        return LoadEditor(self.connection, **kwargs)

    #: One writer at a time: a second process would only wait for the lock.
    parallel_writes = False

    @property
    def parallel_reads(self) -> bool:
        name = str(self.connection.settings_dict.get("NAME") or "")
        return bool(name) and name != ":memory:" and "mode=memory" not in name

    def has_collation(self, name: str) -> bool:
        # Built in, plus what the connection registered (none with Django's backend).
        return name.upper() in ("BINARY", "NOCASE", "RTRIM")

    def begin_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = ON")

    def end_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = OFF")

    def next_auto_value(self, table: str, column: str) -> int | None:
        # An INTEGER PRIMARY KEY takes max(rowid) + 1, or with AUTOINCREMENT
        # one past the larger of that and sqlite_sequence's high-water mark.
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            seq = 0
            if cursor.fetchone():
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                seq = row[0] if row else 0
        highest = self.max_value(table, column) or 0
        return max(seq, highest) + 1

    def missing(self) -> bool:
        name = str(self.connection.settings_dict.get("NAME") or "")
        in_memory = name in ("", ":memory:") or name.startswith("file:")
        return not in_memory and not os.path.exists(name)

    def remove_created(self) -> None:
        self.connection.close()
        name = str(self.connection.settings_dict["NAME"])
        if os.path.exists(name) and os.path.getsize(name) == 0:
            os.remove(name)

    def table_sizes(self) -> dict[str, int]:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
                return dict(cursor.fetchall())
        except Exception:  # dbstat is a compile-time option of SQLite
            return {}

    def fast_reader(self, reader, expression):
        """Django's datetime, date and UUID converters, with the common case done first.

        ``fromisoformat`` is what Django's ``parse_datetime``/``parse_date`` try
        first, and a UUID is made from the 32 hex digits Django stores the way
        ``uuid.UUID`` makes it; anything else (every non-string, every string
        these refuse) goes to Django's own converter, so the values are the
        same, made in a third of the time.
        """
        func = getattr(reader, "__func__", None)
        django = partial(reader, expression=expression, connection=self.connection)
        if func is DatabaseOperations.convert_datetimefield_value:
            tz = self.connection.timezone if settings.USE_TZ else None
            if tz not in (None, dt.timezone.utc):
                return None
            return partial(_datetime, dt.datetime.fromisoformat, tz, django)
        if func is DatabaseOperations.convert_datefield_value:
            return partial(_date, dt.date.fromisoformat, django)
        if func is DatabaseOperations.convert_uuidfield_value:
            return partial(_uuid, django)
        return None

    def column_reader(self, reader, expression, scaled: bool = False, forms: frozenset = frozenset()):
        """Django's datetime, date, UUID, boolean and decimal converters over a whole column at once.

        ``fromisoformat``, ``replace``, ``int`` and the decimal context's methods are
        mapped over the column's values in C; a column that holds a value
        they refuse (a string Django's regular expressions parse, a number in
        a date column, ...) is converted value by value by the reader itself.
        Where ``forms`` allow, a decimal column whose every value is exactly a
        number of the field's scale comes as :class:`~portadb.columns.ScaledIntegers`,
        and a UUID column of 32 hex digits each as :class:`~portadb.columns.UuidBytes`.
        """
        func = getattr(reader, "__func__", None)
        if func is DatabaseOperations.convert_datetimefield_value:
            tz = self.connection.timezone if settings.USE_TZ else None
            if tz not in (None, dt.timezone.utc):
                return None
            fast = partial(_datetimes, tz)
        elif func is DatabaseOperations.convert_datefield_value:
            fast = _dates
        elif func is DatabaseOperations.convert_uuidfield_value:
            fast = _uuids
        elif func is DatabaseOperations.convert_booleanfield_value:
            fast = _booleans
        elif _is_decimal_converter(reader) and isinstance(expression, Col):
            field = expression.output_field
            quantum = Decimal(1).scaleb(-field.decimal_places)
            quantize = None if scaled else methodcaller("quantize", quantum, context=field.context)
            fast = partial(_decimals, quantize)
        else:
            return None
        one = self.fast_reader(reader, expression) or partial(reader, expression=expression,
                                                              connection=self.connection)
        many = partial(_by_column, fast, one)
        if getattr(fast, "func", None) is _decimals and ScaledIntegers in forms \
                and expression.output_field.decimal_places <= DOUBLE_DIGITS:
            field = expression.output_field
            return partial(_scaled_integers, field.decimal_places, field.max_digits, many)
        if fast is _uuids and UuidBytes in forms:
            return partial(_uuid_bytes, many)
        return many


def _is_decimal_converter(reader) -> bool:
    # A closure of get_decimalfield_converter(): 15 significant digits, then the field's scale.
    return (getattr(reader, "__module__", None) == DatabaseOperations.__module__
            and reader.__qualname__.startswith("DatabaseOperations.get_decimalfield_converter."))


def _by_column(fast, one, values: Sequence) -> list:
    """``fast`` over the column's non-NULL values; ``one`` value by value if it refuses any."""
    try:
        return non_null(fast, values)
    except (TypeError, ValueError, ArithmeticError, LookupError):
        return list(map(one, values))


_tzinfo = attrgetter("tzinfo")
_create_decimal = decimal.Context(prec=15).create_decimal_from_float


def _datetimes(tz, values):
    if tz is None:
        return list(map(dt.datetime.fromisoformat, values))
    # UTC: parsed with an offset, in C (replace(tzinfo=) is a slow call per value),
    # for the two forms Django writes; a value with an offset of its own then
    # fails to parse. Anything else is left to the reader.
    if not set(map(len, values)) <= _STORED_DATETIME_LENGTHS:
        raise ValueError("not as Django stores datetimes: left to the reader")
    parsed = list(map(dt.datetime.fromisoformat, map(str.__add__, values, repeat("+00:00"))))
    if None in map(_tzinfo, parsed):
        raise ValueError("parsed without the offset: left to the reader")
    return parsed


#: "2024-02-29 23:59:59" and "2024-02-29 23:59:59.999999"
_STORED_DATETIME_LENGTHS = frozenset({19, 26})


# What Django's converter makes of 1 and 0 (and of 1.0, True, ...: equal keys);
# any other value is a KeyError, and the column goes to the converter itself.
_booleans_of = {1: True, 0: False}.__getitem__


def _booleans(values):
    return list(map(_booleans_of, values))


def _dates(values):
    return list(map(dt.date.fromisoformat, values))


def _scaled_integers(scale: int, max_digits: int, otherwise, values: Sequence):
    """The column as ScaledIntegers when each value is exactly what Django reads, else ``otherwise(values)``.

    Django reads a REAL ``v`` as ``v`` rounded to 15 significant digits, then
    quantized to the scale. When ``v`` is the double nearest to ``n * 10**-scale``
    for an ``n`` of at most 15 digits (``n / 10**scale == v``, a correctly
    rounded division; :func:`~portadb.columns.scaled_integers`), that decimal
    comes back from ``v`` unchanged: Django reads exactly ``n * 10**-scale``.
    Anything else (text, NaN, a value with more places, -0.0) leaves the
    column to ``otherwise``.
    """
    try:
        return ScaledIntegers(non_null(partial(_exact_integers, scale, max_digits), values), scale)
    except (TypeError, ValueError, OverflowError):  # text, bytes, NaN, infinities, more places
        return otherwise(values)


def _exact_integers(scale: int, max_digits: int, values: Sequence) -> list:
    numbers = scaled_integers(values, scale, max_digits)
    if 0 in numbers and any(math.copysign(1.0, v) < 0 for v in values if v == 0):
        raise ValueError('-0.0: Django reads Decimal("-0.0000")')
    return numbers


def _uuid_bytes(otherwise, values: Sequence):
    """The column as UuidBytes when each value is 32 hex digits, else ``otherwise(values)``."""
    try:
        return UuidBytes(non_null(_sixteen_bytes, values))
    except (TypeError, ValueError):
        return otherwise(values)


def _sixteen_bytes(values: Sequence) -> list:
    # bytes.fromhex reads what uuid.UUID reads in 32 hex digits; it also skips
    # white space, which the length of its result shows.
    if set(map(type, values)) - {str} or set(map(len, values)) - {32}:
        raise ValueError("not 32 hex digits each")
    made = list(map(bytes.fromhex, values))
    if set(map(len, made)) - {16}:
        raise ValueError("white space among the digits")
    return made


def _decimals(quantize, values):
    if quantize is None:
        return list(map(_create_decimal, values))
    return list(map(quantize, map(_create_decimal, values)))


def _datetime(parse, tz, django, value):
    if value.__class__ is not str:
        return django(value)
    try:
        value = parse(value)
    except ValueError:
        return django(value)
    if tz is not None and value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def _date(parse, django, value):
    if value.__class__ is not str:
        return django(value)
    try:
        return parse(value)
    except ValueError:
        return django(value)


def _uuid(django, value):
    if value.__class__ is str and len(value) == 32:
        try:
            number = int(value, 16)  # exactly what uuid.UUID does with 32 characters
        except ValueError:
            return django(value)
        if number >= 0:
            made = _new_uuid(uuid.UUID)
            _set(made, "int", number)
            _set(made, "is_safe", uuid.SafeUUID.unknown)
            return made
    return django(value)


_new_uuid = object.__new__
_set = object.__setattr__
# UUID's slots, filled the way uuid.UUID fills them but from C (map) loops.
_set_int = uuid.UUID.int.__set__
_set_safe = uuid.UUID.is_safe.__set__


def _uuids(values):
    if not values:
        return []
    if set(map(type, values)) != {str} or set(map(len, values)) != {32}:
        raise ValueError("not all 32 hex digits: left to the reader")
    numbers = list(map(int, values, repeat(16)))  # what uuid.UUID does with 32 characters
    if min(numbers) < 0:
        raise ValueError("a negative number: left to the reader")
    made = list(map(_new_uuid, repeat(uuid.UUID, len(numbers))))
    deque(map(_set_int, made, numbers), maxlen=0)
    deque(map(_set_safe, made, repeat(uuid.SafeUUID.unknown)), maxlen=0)
    return made
