"""The canonical form of a value: equal on both sides exactly when the data is the same.

Both sides of a verification are read through their own Django converters
(what the ORM would hand the application), then each value takes one
canonical form, so that a float, a timestamp, a decimal or a collation never
raises a false alarm:

* an aware datetime as whole microseconds since the epoch (the same instant
  whatever the session time zone), a date as its ISO text, times and durations as they are;
* a ``DecimalField`` value as the text of its number at the field's scale, a float as itself
  (``-0.0`` is ``0.0``, NaN is the text ``'nan'``: equal to itself);
* JSON parsed from the stored text (:mod:`.jsontext`), keys sorted, numbers compared by value
  (PostgreSQL's ``jsonb`` rewrites ``1e+16`` as ``10000000000000000``); JSON
  ``null`` stays distinct from SQL ``NULL``;
* UUIDs as their number, booleans as booleans, binary values as bytes (hashed
  in reports).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from itertools import repeat
from operator import attrgetter, eq, floordiv, itemgetter, sub

from django.db import models

from ..backends import adapter_for
from ..columns import ScaledIntegers, UuidBytes, each_value, non_null, then_column, then_each
from ..fields import INTEGER_TYPES
from .jsontext import canonical_json, canonical_jsons

# A canonical value is a Python value whose equality and repr() are the same
# whichever engine it was read from: text, integers, booleans, times,
# durations and bytes as they are; a date as its ISO text; an aware datetime as whole microseconds
# since 1970-01-01 UTC; a UUID as its 128-bit number; a float as itself; a
# DecimalField value as the text of its number at the field's scale (text, not
# Decimal: digests marshal text, and fall back to repr() for a Decimal); JSON
# as sorted, compact text.
# Reports show them readably again (see shown.py).

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = dt.timedelta(microseconds=1)
_WIDE = decimal.Context(prec=1000)
_PLAIN_KINDS = INTEGER_TYPES | {
    "CharField", "TextField", "SlugField", "EmailField", "URLField", "GenericIPAddressField",
    "TimeField", "DurationField",
}


def canonicaliser(field: models.Field, connection) -> Callable[[Sequence], list] | None:
    """The function from a column of ``connection``'s raw values of ``field`` to their canonical forms.

    ``None`` when the driver's values already are canonical (integers, text,
    dates... without converters), which spares most columns a Python call per value.
    A value Django's converters cannot read (a SQLite decimal with more digits
    than the field, which a reject copy left behind) takes the form
    :func:`unreadable`: a difference, never a crash.
    """
    canon = _canonicaliser(field, connection)
    return None if canon is None else partial(_guarded, canon)


def _guarded(canon: Callable[[Sequence], list], values: Sequence) -> list:
    try:
        return canon(values)
    except _UNREADABLE:
        return [_one_guarded(canon, v) for v in values]


def _one_guarded(canon: Callable[[Sequence], list], value):
    try:
        return canon([value])[0]
    except _UNREADABLE as e:
        return unreadable(value, e)


#: What Django's converters raise on a value they cannot read.
_UNREADABLE = (ArithmeticError, ValueError, TypeError, LookupError, AttributeError)


def unreadable(value, error: Exception) -> str:
    """The canonical form of a stored value Django cannot read: the value and why, as text."""
    if isinstance(value, memoryview):
        value = bytes(value)
    return f"<unreadable {value!r}: {type(error).__name__}>"


def _canonicaliser(field: models.Field, connection) -> Callable[[Sequence], list] | None:
    expression = field.get_col(field.model._meta.db_table)
    readers = connection.ops.get_db_converters(expression)
    output = expression.output_field
    if isinstance(output, models.JSONField):
        # The stored text, not from_db_value: JSON null is not NULL.
        if not readers:
            return canonical_jsons
        canon = canonical_json
    else:
        readers += expression.get_db_converters(connection)
        canon = _for_field(output, adapter_for(connection))
        if canon is None and not readers:
            return None
    column = canon.column if isinstance(canon, DecimalText) else _BY_COLUMN.get(canon)
    if not readers:
        return column or partial(each_value, canon)
    if len(readers) == 1:
        # The copy's fast readers (SQLite datetimes, dates, UUIDs, decimals): the same values, sooner.
        (reader,), adapter = readers, adapter_for(connection)
        forms = _FORMS.get(DecimalText if isinstance(canon, DecimalText) else canon, frozenset())
        many = adapter.column_reader(reader, expression, forms=forms)
        if many is not None:
            if column is not None:
                return partial(then_column, many, column)
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
        places = field.decimal_places
        return DecimalText(places) if adapter.decimals_at_scale else _decimal_at(places)
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
    """A float as itself, but ``-0.0`` is ``0.0`` and NaN the text ``'nan'``, equal to itself."""
    if value is None:
        return None
    value = float(value)
    if value == 0:
        return 0.0
    return "nan" if math.isnan(value) else value


def canonical_floats(values: Sequence) -> list:
    """:func:`_float` over a column: C loops where every value is a float and none is NaN."""
    try:
        return non_null(_plain_floats, values)
    except TypeError:
        return list(map(_float, values))


def _plain_floats(values: Sequence) -> list:
    if set(map(type, values)) - {float} or any(map(math.isnan, values)):
        raise TypeError("not only floats, or a NaN")
    return [0.0 if v == 0 else v for v in values] if 0.0 in values else list(values)


def _boolean(value):
    return value if value is None or type(value) is bool else canonical(value)


def canonical_datetime(value):
    if value is None:
        return None
    if type(value) is not dt.datetime:
        return canonical(value)
    return _instant(value)


def _instant(value: dt.datetime):
    """Microseconds since the epoch for an aware datetime; a naive one keeps its ISO text."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.isoformat(timespec="microseconds")
    return (value - EPOCH) // MICROSECOND


def canonical_uuid(value):
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
            value = value.quantize(exponent, context=_WIDE)
        except decimal.InvalidOperation:
            pass
        return str(abs(value) if value.is_zero() else value)

    return convert


class DecimalText:
    """A decimal the driver read at the field's scale, as the text of its number (``'12.50'``).

    A value at another scale takes the field's where that is exact (``1.5`` is
    ``'1.50'``; ``1.555`` stays); zero has no sign (PostgreSQL keeps none).
    """

    def __init__(self, places: int):
        self.places = places
        self.exponent = decimal.Decimal(1).scaleb(-places)
        self._odd_text = _odd_line(places)

    def __call__(self, value):
        if type(value) is str:  # a number a driver gave as its text (read_cursor's decimals_as_text)
            try:
                value = decimal.Decimal(value)
            except decimal.InvalidOperation:
                return value
        if type(value) is not decimal.Decimal:
            return canonical(value)
        if value.is_finite():
            try:
                exact = value.quantize(self.exponent, context=_WIDE)
            except decimal.InvalidOperation:
                exact = value
            value = abs(exact) if exact.is_zero() else exact if exact == value else value
        return str(value)

    def column(self, values: Sequence) -> list:
        """The texts of a column: ``str`` in a C loop where every value is already plain at
        the scale; a SQLite column read as exact integers without a Decimal for each."""
        if isinstance(values, ScaledIntegers):
            return values.texts()
        try:
            return non_null(self._texts, values)
        except TypeError:
            return list(map(self, values))

    def _texts(self, values: Sequence) -> list:
        kinds = set(map(type, values))
        if kinds == {str} and self.places <= 6:
            # Numbers as text: each line plain at the scale is what str() writes of its
            # Decimal (beyond 6 places str() writes a small one with an exponent).
            if self._odd_text.search("\n".join(values)):
                return list(map(self, values))
            return list(values)
        if kinds - {decimal.Decimal}:
            raise TypeError("not only Decimals")
        texts = list(map(str, values))
        joined = "\n".join(texts)
        if _NOT_PLAIN.search(joined) or _NEGATIVE_ZERO.search(joined) or not self._at_scale(texts, joined):
            return list(map(self, values))
        return texts

    def _at_scale(self, texts: list, joined: str) -> bool:
        if not self.places:
            return "." not in joined
        try:
            return all(map(eq, map(itemgetter(-self.places - 1), texts), repeat(".")))
        except IndexError:  # shorter than the places
            return False


def _odd_line(places: int) -> re.Pattern:
    """A line that is not a number's plain text at ``places``: no sign on zero, no leading zero."""
    fraction = rf"\.\d{{{places}}}" if places else ""
    negative = rf"|-0\.(?!0{{{places}}}$)\d{{{places}}}" if places else ""
    return re.compile(rf"(?m)^(?!(?:(?:-?[1-9]\d*|0){fraction}{negative})$)")


_NOT_PLAIN = re.compile(r"[^0-9.\-\n]")  # an exponent, NaN, Infinity
_NEGATIVE_ZERO = re.compile(r"^-0(?:\.0*)?$", re.MULTILINE)


def date_text(value):
    """A date as its ISO text, which marshal writes (and which sorts as the dates do)."""
    return value.isoformat() if type(value) is dt.date else canonical(value)


def _column(kind: type, fast: Callable, slow: Callable, values: Sequence) -> list:
    """``fast`` over a column in a C loop where every value but NULL is exactly a ``kind``,
    else ``slow`` value by value (they give the same forms)."""
    try:
        return non_null(partial(_only, kind, fast), values)
    except TypeError:
        return list(map(slow, values))


def _only(kind: type, fast: Callable, values: Sequence) -> list:
    if set(map(type, values)) - {kind}:
        raise TypeError(f"not only {kind.__name__}")
    return list(map(fast, values))


#: :func:`date_text` over a column.
date_texts = partial(_column, dt.date, dt.date.isoformat, date_text)


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
#: The column forms a reader may give for a canonical form: no Decimal, no UUID made per value.
_FORMS = {DecimalText: frozenset({ScaledIntegers}), canonical_uuid: frozenset({UuidBytes})}

_BY_KIND: dict[str, Callable] = {
    "FloatField": _float,
    "BooleanField": _boolean,
    "DateTimeField": canonical_datetime,
    "BinaryField": _bytes,
    "UUIDField": canonical_uuid,
    "DateField": date_text,
}


def canonical_datetimes(values: Sequence) -> list:
    """:func:`canonical_datetime` over a column: aware datetimes in C loops, anything else value by value."""
    try:
        return non_null(_aware_instants, values)
    except TypeError:  # a naive datetime (minus an aware epoch), a date, text...
        return list(map(canonical_datetime, values))


def _aware_instants(values: Sequence) -> list:
    if set(map(type, values)) - {dt.datetime}:
        raise TypeError("not only datetimes")
    return list(map(floordiv, map(sub, values, repeat(EPOCH)), repeat(MICROSECOND)))


def canonical_uuids(values: Sequence) -> list:
    """:func:`canonical_uuid` over a column: the numbers read in C loops (where the column comes as
    :class:`~portadb.columns.UuidBytes`, a SQLite one of 32 hex digits each, no UUID is made)."""
    if isinstance(values, UuidBytes):
        return values.numbers()
    return _column(uuid.UUID, attrgetter("int"), canonical_uuid, values)


#: Column-wide versions of canonical forms that are a Python call per value.
_BY_COLUMN: dict[Callable, Callable] = {
    canonical_datetime: canonical_datetimes,
    canonical_uuid: canonical_uuids,
    _float: canonical_floats,
    date_text: date_texts,
}
