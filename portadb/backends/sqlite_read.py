"""SQLite's column readers: Django's converters, a whole column at a time in C where they can.

Each function here gives exactly what one of Django's SQLite converters
gives (the tests compare them on odd inputs); a column holding a value the
fast path refuses is converted value by value by Django's converter itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from itertools import repeat
from operator import attrgetter, itemgetter, methodcaller

from django.conf import settings
from django.db.backends.sqlite3.base import DatabaseOperations  # operations first would import in a circle
from django.db.models.expressions import Col

from ..columns import DOUBLE_DIGITS, ScaledIntegers, UtcTexts, UuidBytes, non_null, scaled_column


def fast_reader(connection, reader, expression):
    """Django's datetime, date and UUID converters, with the common case done first.

    ``fromisoformat`` is what Django's ``parse_datetime``/``parse_date`` try
    first, and a UUID is made from the 32 hex digits Django stores the way
    ``uuid.UUID`` makes it; anything else (every non-string, every string
    these refuse) goes to Django's own converter, so the values are the
    same, made in a third of the time.
    """
    func = getattr(reader, "__func__", None)
    django = partial(reader, expression=expression, connection=connection)
    if func is DatabaseOperations.convert_datetimefield_value:
        tz = connection.timezone if settings.USE_TZ else None
        if tz not in (None, dt.timezone.utc):
            return None
        return partial(_datetime, dt.datetime.fromisoformat, tz, django)
    if func is DatabaseOperations.convert_datefield_value:
        return partial(_date, dt.date.fromisoformat, django)
    if func is DatabaseOperations.convert_uuidfield_value:
        return partial(_uuid, django)
    return None

def column_reader(connection, reader, expression, scaled: bool = False, forms: frozenset = frozenset()):
    """Django's datetime, date, UUID, boolean and decimal converters over a whole column at once.

    ``fromisoformat``, ``replace``, ``int`` and the decimal context's methods are
    mapped over the column's values in C; a column that holds a value
    they refuse (a string Django's regular expressions parse, a number in
    a date column, ...) is converted value by value by the reader itself.
    Where ``forms`` allow, a decimal column whose every value is exactly a
    number of the field's scale comes as :class:`~portadb.columns.ScaledIntegers`,
    a UUID column of 32 hex digits each as :class:`~portadb.columns.UuidBytes`, and
    a UTC datetime column in Django's stored form as :class:`~portadb.columns.UtcTexts`.
    """
    func = getattr(reader, "__func__", None)
    if func is DatabaseOperations.convert_datetimefield_value:
        tz = connection.timezone if settings.USE_TZ else None
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
    one = fast_reader(connection, reader, expression) or partial(reader, expression=expression,
                                                          connection=connection)
    many = partial(_by_column, fast, one)
    if getattr(fast, "func", None) is _decimals and ScaledIntegers in forms \
            and expression.output_field.decimal_places <= DOUBLE_DIGITS:
        field = expression.output_field
        return partial(_scaled_integers, field.decimal_places, field.max_digits, many)
    if fast is _uuids and UuidBytes in forms:
        return partial(_uuid_bytes, many)
    if getattr(fast, "func", None) is _datetimes and fast.args == (dt.timezone.utc,) and UtcTexts in forms:
        return partial(_utc_texts, many)
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
        return ScaledIntegers(_exact_integers(scale, max_digits, values), scale, doubles=values)
    except (TypeError, ValueError, OverflowError):  # text, bytes, NaN, infinities, more places
        return otherwise(values)


def _exact_integers(scale: int, max_digits: int, values: Sequence) -> list:
    numbers = scaled_column(values, scale, max_digits)  # as the chunk's check made them
    if 0 in numbers and any(math.copysign(1.0, v) < 0 for v in values if v == 0):
        raise ValueError('-0.0: Django reads Decimal("-0.0000")')
    return numbers


def _utc_texts(otherwise, values: Sequence):
    """The column as UtcTexts when each value is a datetime as Django stores it, else
    ``otherwise(values)``."""
    try:
        return UtcTexts(non_null(_stored_utc, values))
    except (TypeError, ValueError):
        return otherwise(values)


def _stored_utc(values: Sequence) -> Sequence:
    # Each parses as Django parses it (ASCII digits, 19 or 26 characters), and with the
    # separators Django writes: fromisoformat also reads a T or a comma, which MySQL may not.
    _datetimes(dt.timezone.utc, values)
    if set(map(_separators, values)) - {("-", "-", " ", ":", ":")} or set(map(_fraction, values)) - {"", "."}:
        raise ValueError("not each as Django writes a datetime: left to the reader")
    return values


_separators = itemgetter(4, 7, 10, 13, 16)
_fraction = itemgetter(slice(19, 20))


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
