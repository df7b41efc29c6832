"""Value checks: every source value against what the target column can hold.

Checks are built once per table from each field and the *target's* limits (its
backend adapter says what it refuses) and run column by column on each chunk of
rows exactly as the source driver returned them -- before Django's converters,
``get_db_prep_value`` or the target's driver could round, coerce or drop
anything. The dry-run and the real copy run the same checks, so a row the
dry-run flags is a row the copy refuses, and the other way round.

A check that cannot fire is not built: a column read from a database whose
column type already refuses the bad value (a PostgreSQL ``date`` cannot hold
February 30th) skips that check, and a column of a target that stores any text
(a PostgreSQL ``text``) has no length check. Most columns of a clean chunk pass
a single column-wide test (``max(map(len, values))``, one regular expression
over the joined text) without a per-value loop.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import re
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import repeat

from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.ipv6 import clean_ipv6_address

from .convert import DOUBLE_DIGITS, scaled_integers
from .reports import FindingKind as K

#: (row index in the chunk, kind, reason) for one refused value.
Problem = tuple[int, K, str]
ColumnCheck = Callable[[Sequence], list[Problem]]

#: Every kind of finding a value check, a foreign key or a unique constraint can raise.
VALUE_KINDS = frozenset({
    K.TOO_LONG, K.INTEGER_OUT_OF_RANGE, K.DECIMAL_OVERFLOW, K.NUL_CHARACTER, K.INVALID_UTF8,
    K.INVALID_JSON, K.IMPOSSIBLE_DATE, K.TIMEZONE, K.FOUR_BYTE_CHARACTER, K.NOT_FINITE,
    K.NOT_AN_INTEGER, K.NOT_A_NUMBER, K.NOT_A_BOOLEAN, K.INVALID_UUID, K.INVALID_IP,
    K.WRONG_TYPE, K.DANGLING_REFERENCE, K.UNIQUE_COLLISION, K.DEPENDS_ON_REFUSED,
})

TEXT_TYPES = frozenset({
    "CharField", "SlugField", "EmailField", "URLField", "FileField", "ImageField",
    "FilePathField", "TextField",
})
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX = re.compile(r"[0-9a-f]*")
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
#: Text types whose column is ``varchar(max_length)``.
_VARCHAR_TYPES = TEXT_TYPES - {"TextField"}


@dataclass(frozen=True)
class Refusal:
    """One value the target would refuse, or that would not arrive unchanged."""

    kind: K
    model: str
    table: str
    #: The row's primary key as the source returns it (a tuple for composite keys).
    pk: object
    field: str
    reason: str
    #: The value exactly as read from the source.
    value: object

    @property
    def preview(self) -> str:
        """A short, printable rendering of the value."""
        return preview(self.value)

    @property
    def message(self) -> str:
        return f"{self.model}(pk={self.pk!r}).{self.field}: {self.reason} (value {self.preview})"


def preview(value: object, width: int = 40) -> str:
    """``repr`` of ``value``, cut to ``width`` characters."""
    if isinstance(value, memoryview):
        value = bytes(value)
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def base_field(field):
    """The field whose column type a relation's column has (an FK to a BigAutoField: the latter)."""
    while field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field
    return field


def column_checks(field, source, target) -> list[ColumnCheck]:
    """The checks one column needs from ``source``'s adapter to ``target``'s adapter."""
    base = base_field(field)  # a foreign key's column is its target's column type
    kind = base.get_internal_type()
    skip = source.enforced_checks
    builder = _BUILDERS.get(kind)
    if builder is None and kind in TEXT_TYPES:
        builder = _text
    if builder is None:
        return []
    check = builder(base, kind, source, target, lambda k: k not in skip)
    return [check] if check is not None else []


# -- text ------------------------------------------------------------------------


def _text_rules(field, kind, target, want):
    """What a text column refuses on ``target``, as (limit, regex of refused characters)."""
    limit = None
    if kind in _VARCHAR_TYPES and field.max_length and target.enforces_max_length and want(K.TOO_LONG):
        limit = field.max_length
    chars = ""
    if target.refuses_nul and want(K.NUL_CHARACTER):
        chars += "\x00"
    if want(K.INVALID_UTF8):
        chars += "\ud800-\udfff"  # invalid UTF-8, kept as lone surrogates by the reader
    if target.max_char_bytes(field) < 4:
        chars += "\U00010000-\U0010ffff"
    return limit, (re.compile(f"[{chars}]") if chars else None)


def _text_problem(value, limit, pattern, target) -> tuple[K, str] | None:
    if type(value) is not str:
        return K.WRONG_TYPE, f"a {_type_name(value)} in a text column"
    if pattern is not None and (m := pattern.search(value)):
        char = m.group()
        if char == "\x00":
            return K.NUL_CHARACTER, f"contains the NUL character, which {target.vendor} refuses in text"
        if "\ud800" <= char <= "\udfff":
            return K.INVALID_UTF8, "is not valid UTF-8"
        return (K.FOUR_BYTE_CHARACTER,
                f"contains {char!r} (4 bytes in UTF-8), which a utf8mb3 column cannot store")
    if limit is not None and len(value) > limit:
        return K.TOO_LONG, f"{len(value)} characters; max_length is {limit}"
    return None


def _text(field, kind, source, target, want) -> ColumnCheck | None:
    limit, pattern = _text_rules(field, kind, target, want)
    types = want(K.WRONG_TYPE)
    if limit is None and pattern is None and not types:
        return None

    def check(values):
        present = [v for v in values if v is not None]
        if not present:
            return []
        if (
            (not types or set(map(type, present)) == {str})
            and (limit is None or max(map(len, present)) <= limit)
            and (pattern is None or not pattern.search("".join(present)))
        ):
            return []  # the whole column passes without a per-value loop
        return _each(values, lambda v: _text_problem(v, limit, pattern, target))

    return check


def _json(field, kind, source, target, want) -> ColumnCheck | None:
    _, pattern = _text_rules(field, kind, target, want)
    strict = target.normalises_json
    decoder = _STRICT_JSON if strict else _JSON
    surrogates = target.refuses_lone_surrogates_in_json

    def problem(value):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return None  # a bare JSON number
        found = _text_problem(value, None, pattern, target)
        if found:
            return found
        try:
            decoded = decoder.decode(value)
        except ValueError as e:
            return K.INVALID_JSON, f"is not valid JSON ({e})"
        if strict and "\\u0000" in value:
            return K.NUL_CHARACTER, f"holds \\u0000, which {target.vendor} refuses in JSON"
        if surrogates and _SURROGATE_ESCAPE.search(value) and _has_surrogate(decoded):
            return K.INVALID_JSON, f"holds an unpaired surrogate escape, which {target.vendor} refuses"
        return None

    if not want(K.INVALID_JSON) and pattern is None and not strict and not surrogates:
        return None
    scan = decoder.scan_once  # the C scanner: one JSON value from an index, (value, end)

    def check(values):
        # A chunk of JSON text passes in C: one search of its joined text for
        # refused characters and escapes, then each value scanned to its very
        # end. Only a chunk that may hold a refusal is looked at value by value.
        present = [v for v in values if v is not None]
        if present and set(map(type, present)) == {str}:
            joined = "\n".join(present)
            if not ((pattern is not None and pattern.search(joined))
                    or (strict and "\\u0000" in joined)
                    or (surrogates and _SURROGATE_ESCAPE.search(joined))):
                try:
                    ends = [end for _, end in map(scan, present, repeat(0))]
                except (ValueError, StopIteration):
                    pass  # one of them is no JSON (or starts with white space)
                else:
                    if ends == list(map(len, present)):
                        return []
        return _each(values, problem)

    return check


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs):
    made = dict(pairs)
    if len(made) < len(pairs):  # a key came twice: name it
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} appears twice; a normalising JSON column keeps one")
            seen.add(key)
    return made


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_has_surrogate, value))
    return False


#: JSON as the targets parse it: NaN and Infinity are not JSON.
_JSON = json.JSONDecoder(parse_constant=_no_constant)
#: ... and as jsonb keeps it: one value per key.
_STRICT_JSON = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_unique_keys)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


# -- numbers -----------------------------------------------------------------------


def _integer(field, kind, source, target, want) -> ColumnCheck | None:
    bounds = target.integer_range(kind)
    source_bounds = source.integer_range(kind)
    if bounds and not want(K.INTEGER_OUT_OF_RANGE) and source_bounds and \
            bounds[0] <= source_bounds[0] and source_bounds[1] <= bounds[1]:
        bounds = None  # the source column cannot hold anything the target refuses
    types = want(K.NOT_AN_INTEGER)
    if bounds is None and not types:
        return None
    lo, hi = bounds or (None, None)
    name = kind

    def problem(value):
        if type(value) is not int:
            return K.NOT_AN_INTEGER, f"{preview(value)} is not an integer"
        if lo is not None and not lo <= value <= hi:
            return (K.INTEGER_OUT_OF_RANGE,
                    f"{value} is outside {name}'s range on {target.vendor} ({lo} to {hi})")
        return None

    def check(values):
        present = [v for v in values if v is not None]
        if not present:
            return []
        if set(map(type, present)) == {int} and (
            lo is None or (lo <= min(present) and max(present) <= hi)
        ):
            return []
        return _each(values, problem)

    return check


def _boolean(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.NOT_A_BOOLEAN):
        return None

    def problem(value):
        if type(value) in (int, bool) and value in (0, 1):
            return None
        return K.NOT_A_BOOLEAN, f"{preview(value)} is neither 0 nor 1 (Django would read it as {bool(value)})"

    def check(values):
        if set(values) <= {0, 1, None} and set(map(type, values)) <= {int, bool, type(None)}:
            return []
        return _each(values, problem)

    return check


def _float(field, kind, source, target, want) -> ColumnCheck | None:
    finite = target.refuses_non_finite_float
    types = want(K.NOT_A_NUMBER)
    if not finite and not types:
        return None

    def problem(value):
        if type(value) not in (int, float):
            return K.NOT_A_NUMBER, f"{preview(value)} is not a number"
        if finite and not math.isfinite(value):
            return K.NOT_FINITE, f"{value} cannot be stored in a {target.vendor} float column"
        return None

    def check(values):
        present = [v for v in values if v is not None]
        if set(map(type, present)) <= {int, float} and (
            not finite or all(map(math.isfinite, present))
        ):
            return []
        return _each(values, problem)

    return check


def _decimal(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.DECIMAL_OVERFLOW) and not want(K.NOT_A_NUMBER):
        return None
    places = field.decimal_places
    whole = field.max_digits - places

    def problem(value):
        number = _as_decimal(value)
        if number is None:
            return K.NOT_A_NUMBER, f"{preview(value)} is not a decimal number"
        if not number.is_finite():
            return K.NOT_FINITE, f"{number} cannot be stored in a DecimalField"
        digits, after = _digits(number)
        if after > places:
            return (K.DECIMAL_OVERFLOW,
                    f"{number} has {after} decimal places; the field keeps {places}, so it would be rounded")
        if digits - after > whole:
            return (K.DECIMAL_OVERFLOW,
                    f"{number} has {digits - after} digits before the point; max_digits="
                    f"{field.max_digits} with decimal_places={places} allows {whole}")
        return None

    too_many_places = re.compile(rf"\.\d{{{places + 1},}}")
    too_many_digits = re.compile(rf"(?<![\d.])0*[1-9]\d{{{whole},}}" if whole else r"(?<![\d.])0*[1-9]")

    # A double has 15 digits: scales beyond are left to the text checks.
    exact = places <= DOUBLE_DIGITS

    def check(values):
        # Numbers first, in C loops: a chunk of floats and integers that are
        # each exactly a number of the field's scale passes. Else one
        # regular-expression pass over the chunk's text; only a chunk that may
        # hold a refusal is looked at value by value.
        present = [v for v in values if v is not None]
        types = set(map(type, present))
        if types <= {float, int} and exact and _at_scale(present, places, field.max_digits):
            return []
        if types <= {float, int, Decimal}:
            text = " ".join(map(str, present))
            if not (_NOT_PLAIN.search(text) or too_many_places.search(text)
                    or too_many_digits.search(text)):
                return []
        return _each(values, problem)

    return check


def _at_scale(values: Sequence, places: int, max_digits: int) -> bool:
    """Whether each number is exactly a decimal of ``places`` that fits (see :func:`scaled_integers`)."""
    try:
        scaled_integers(values, places, max_digits)
    except (ValueError, OverflowError):
        return False
    return True


#: Exponents, infinities and NaN: left to the value-by-value check.
_NOT_PLAIN = re.compile(r"[eEnN]")


def _as_decimal(value) -> Decimal | None:
    # A float from SQLite is the stored REAL: its shortest repr is the decimal
    # that was written (Django stores Decimals as text SQLite turns into REAL).
    try:
        if type(value) is float:
            return Decimal(repr(value))
        if type(value) in (int, Decimal):
            return Decimal(value)
        if type(value) is str:
            return Decimal(value.strip())
    except InvalidOperation:
        return None
    return None


def _digits(number: Decimal) -> tuple[int, int]:
    """(digits before plus after the point, digits after it), trailing zeros ignored:
    the precision and scale a ``numeric(p, s)`` column needs for ``number``."""
    _, digits, exponent = number.as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0 and exponent < 0:
        digits.pop()
        exponent += 1
    if not any(digits):
        return 0, 0
    after = max(0, -exponent)
    return max(len(digits) + exponent, 0) + after, after


# -- dates and times ---------------------------------------------------------------


def _date(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.IMPOSSIBLE_DATE):
        return None

    def check(values):
        if _all_iso(values, dt.date):
            return []
        return _each(values, lambda v: _temporal(v, dt.date, parse_date, "date"))

    return check


def _all_iso(values: Sequence, typed) -> bool:
    """Whether every value is ``None``, a ``typed`` or text its ``fromisoformat`` reads.

    One pass in C over the chunk; a chunk that fails it is checked value by value.
    """
    texts = [v for v in values if v is not None and not isinstance(v, typed)]
    try:
        deque(map(typed.fromisoformat, texts), maxlen=0)
    except (TypeError, ValueError):
        return False
    return True


def _datetime(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.IMPOSSIBLE_DATE) and not want(K.TIMEZONE):
        return None

    def problem(value):
        found = _temporal(value, dt.datetime, parse_datetime, "date and time")
        if found or isinstance(value, dt.datetime):
            return found
        if not settings.USE_TZ and parse_datetime(value).tzinfo is not None:
            return (K.TIMEZONE,
                    "carries a UTC offset in a project with USE_TZ = False; the offset would be lost")
        return None

    def check(values):
        if settings.USE_TZ and _all_iso(values, dt.datetime):
            return []
        return _each(values, problem)

    return check


def _time(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.IMPOSSIBLE_DATE) and not want(K.TIMEZONE):
        return None

    def problem(value):
        found = _temporal(value, dt.time, parse_time, "time")
        if found or isinstance(value, dt.time):
            return found
        try:
            aware = dt.time.fromisoformat(value).tzinfo is not None
        except ValueError:
            aware = False
        if aware:
            return K.TIMEZONE, "carries a UTC offset, which Django drops when it reads a time"
        return None

    return lambda values: _each(values, problem)


def _temporal(value, typed, parse, what) -> tuple[K, str] | None:
    if isinstance(value, typed):
        return None
    if type(value) is not str:
        return K.IMPOSSIBLE_DATE, f"a {_type_name(value)} where a {what} is stored"
    try:
        typed.fromisoformat(value)  # what Django's parser tries first, in C
        return None
    except ValueError:
        pass
    try:
        parsed = parse(value)
    except ValueError as e:
        return K.IMPOSSIBLE_DATE, f"is not a valid {what} ({e})"
    if parsed is None:
        return K.IMPOSSIBLE_DATE, f"is not a {what} Django can read (Django would read NULL)"
    return None


# -- identifiers -------------------------------------------------------------------


def _uuid(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.INVALID_UUID):
        return None

    def problem(value):
        if isinstance(value, uuid.UUID) or (type(value) is str and _HEX32.fullmatch(value)):
            return None
        try:
            uuid.UUID(value if type(value) is str else None)
        except (TypeError, ValueError):
            return K.INVALID_UUID, f"{preview(value)} is not a UUID"
        return None

    def check(values):
        # The chunk's joined text in one match: 32 lowercase hex digits each.
        present = [v for v in values if v is not None]
        if (set(map(type, present)) <= {str} and set(map(len, present)) <= {32}
                and _HEX.fullmatch("".join(present))):
            return []
        return _each(values, problem)

    return check


def _ip(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.INVALID_IP):
        return None
    unpack = getattr(field, "unpack_ipv4", False)
    validates = target.validates_ip_addresses

    def problem(value):
        if type(value) is not str:
            return K.INVALID_IP, f"a {_type_name(value)} where an IP address is stored"
        if _IPV4.fullmatch(value):
            return None
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if validates:
                return K.INVALID_IP, f"{preview(value)} is not an IP address, which {target.vendor} refuses"
            return None  # stored as the text it is
        # Django's GenericIPAddressField rewrites IPv6 addresses on the way in.
        if ":" in value and clean_ipv6_address(value, unpack) != value:
            return (K.INVALID_IP, "is not in canonical form; Django would store it as "
                    f"{clean_ipv6_address(value, unpack)!r}")
        return None

    return lambda values: _each(values, problem)


def _duration(field, kind, source, target, want) -> ColumnCheck | None:
    # Stored as integer microseconds where there is no interval type.
    if not want(K.NOT_AN_INTEGER):
        return None
    return _integer(field, "BigIntegerField", source, target, lambda k: k is K.NOT_AN_INTEGER)


_BUILDERS = {
    "JSONField": _json,
    "BooleanField": _boolean,
    "FloatField": _float,
    "DecimalField": _decimal,
    "DateField": _date,
    "DateTimeField": _datetime,
    "TimeField": _time,
    "UUIDField": _uuid,
    "GenericIPAddressField": _ip,
    "IPAddressField": _ip,
    "DurationField": _duration,
    **{
        name: _integer
        for name in (
            "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
            "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        )
    },
}


def _each(values: Sequence, problem) -> list[Problem]:
    found = []
    for i, value in enumerate(values):
        if value is not None:
            result = problem(value)
            if result is not None:
                found.append((i, *result))
    return found


def _type_name(value) -> str:
    if isinstance(value, (bytes, memoryview)):
        return f"blob of {len(value)} bytes"
    return type(value).__name__
