"""Checks of numeric columns: integer ranges, booleans, finite floats, decimal digits."""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Context, Decimal, InvalidOperation
from functools import partial
from operator import is_not

from ..columns import DOUBLE_DIGITS, scaled_column
from ..convert import django_reading
from ..reports.model import FindingKind as K
from .base import ColumnCheck, each, preview


def integer_check(field, kind, source, target, want) -> ColumnCheck | None:
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
    packs = _TYPE_CODES.get(bounds)  # an array of this type code holds exactly these integers
    nullable = field.null

    def problem(value):
        if type(value) is not int:
            return K.NOT_AN_INTEGER, f"{preview(value)} is not an integer"
        if lo is not None and not lo <= value <= hi:
            return (K.INTEGER_OUT_OF_RANGE,
                    f"{value} is outside {name}'s range on {target.vendor} ({lo} to {hi})")
        return None

    def check(values):
        # The common case in one C pass: every value an integer within the bounds, or within
        # 64 bits and then the bounds. What the array refuses (text, a float, a NULL of a column
        # without them, a number out of range) is checked as below. Only where the source's column
        # holds any type (SQLite: int, float, str, bytes or None, of which an array takes the ints
        # alone): a typed driver may give a bool, which an array takes too.
        if types:
            try:
                packed = array(packs or "q", [v for v in values if v is not None] if nullable else values)
            except (TypeError, OverflowError):
                pass
            else:
                if packs or lo is None or not packed or (lo <= min(packed) and max(packed) <= hi):
                    return []
        kinds = set(map(type, values))
        if kinds == {int}:
            present = values  # most columns: no NULL, no list made
        elif kinds == _INT_OR_NULL:
            present = [v for v in values if v is not None]
        else:
            return [] if kinds <= {type(None)} else each(values, problem)
        if lo is None or (lo <= min(present) and max(present) <= hi):
            return []
        return each(values, problem)

    return check


_INT_OR_NULL = frozenset({int, type(None)})
#: The integers each of C's short, int and long long holds, signed and unsigned, and its type code.
_TYPE_CODES = {
    (0, 2 ** (8 * array(code).itemsize) - 1) if code.isupper()
    else (-(2 ** (8 * array(code).itemsize - 1)), 2 ** (8 * array(code).itemsize - 1) - 1): code
    for code in "hHiIqQ"
}


def boolean_check(field, kind, source, target, want) -> ColumnCheck | None:
    if not want(K.NOT_A_BOOLEAN):
        return None

    def problem(value):
        if type(value) in (int, bool) and value in (0, 1):
            return None
        return K.NOT_A_BOOLEAN, f"{preview(value)} is neither 0 nor 1 (Django would read it as {bool(value)})"

    def check(values):
        if set(values) <= {0, 1, None} and set(map(type, values)) <= {int, bool, type(None)}:
            return []
        return each(values, problem)

    return check


def float_check(field, kind, source, target, want) -> ColumnCheck | None:
    # MySQL refuses infinities and NaN; SQLite stores NaN as NULL.
    refuse_all = target.refuses_non_finite_float
    finite = (refuse_all or not target.stores_float_nan) and want(K.NOT_FINITE)
    types = want(K.NOT_A_NUMBER)
    if not finite and not types:
        return None

    def problem(value):
        if type(value) not in (int, float):
            return K.NOT_A_NUMBER, f"{preview(value)} is not a number"
        if finite and not math.isfinite(value) and (refuse_all or math.isnan(value)):
            becomes = "" if refuse_all else " (it would become NULL)"
            return K.NOT_FINITE, f"{value} cannot be stored in a {target.vendor} float column{becomes}"
        return None

    def check(values):
        present = [v for v in values if v is not None]
        if set(map(type, present)) <= {int, float} and (
            not finite or all(map(math.isfinite, present))
        ):
            return []
        return each(values, problem)

    return check


def decimal_check(field, kind, source, target, want) -> ColumnCheck | None:
    check = _decimal_check(field, kind, source, target, want)
    keeps = target.decimal_digits
    if keeps is None or field.max_digits <= keeps or source.decimal_digits or not want(K.TOO_MANY_DIGITS):
        return check
    return _kept_digits_check(check, keeps, field, target)


def _kept_digits_check(check: ColumnCheck | None, keeps: int, field, target) -> ColumnCheck:
    """``check``, and a decimal ``target`` would not give back refused: every value of at most
    ``keeps`` significant digits comes back; of the others, the target says what it stores
    (:meth:`~portadb.backends.limits.Limits.stored_decimal`, in the words of
    :attr:`~portadb.backends.limits.Limits.decimal_storage`)."""

    def problem(value):
        number = _as_decimal(value)
        if number is None or not number.is_finite():
            return None  # the other checks name it
        significant = len("".join(map(str, number.as_tuple().digits)).strip("0")) or 1
        if significant <= keeps:
            return None
        became = target.stored_decimal(field, number)
        if became == number:
            return None
        return (K.TOO_MANY_DIGITS, f"{number} would come back from {target.vendor} as {became}: it"
                f" keeps a decimal of more than {keeps} significant digits (this one has {significant})"
                f" {target.decimal_storage}".rstrip())

    rounded = Context(prec=keeps).plus

    def both(values):
        found = check(values) if check is not None else []
        present = list(filter(partial(is_not, None), values))
        if set(map(type, present)) <= {Decimal} and list(map(rounded, present)) == present:
            return found  # each at most ``keeps`` significant digits, in one C-level pass
        named = {i for i, *_ in found}
        return found + [p for p in each(values, problem) if p[0] not in named]

    return both


def _decimal_check(field, kind, source, target, want) -> ColumnCheck | None:
    # NaN is a number of a PostgreSQL numeric(p, s): copied exactly between two such databases.
    keeps_nan = source.holds_decimal_nan and target.holds_decimal_nan
    if not want(K.DECIMAL_OVERFLOW) and not want(K.NOT_A_NUMBER):
        if not want(K.NOT_FINITE) or keeps_nan:
            return None
        return _non_finite_check(target)
    places = field.decimal_places
    whole = field.max_digits - places

    read = django_reading(field, source.connection)  # Django 5.2 reads no text of SQLite's here

    def problem(value):
        number = _as_decimal(value, source.decimal_digits)
        if number is None:
            return K.NOT_A_NUMBER, f"{preview(value)} is not a decimal number"
        if not number.is_finite():
            if keeps_nan and number.is_nan():
                return None
            return _not_finite(number, target)
        total, after = digits(number)
        if type(value) is float:
            number = f"{number.normalize():f}"  # as read, without the zeros of its 15 digits
        if after > places:
            return (K.DECIMAL_OVERFLOW, f"{number} has {after} decimal places; the field keeps {places},"
                    f" so it would be rounded{_read_as(read, value)}")
        if total - after > whole:
            return (K.DECIMAL_OVERFLOW,
                    f"{number} has {total - after} digits before the point; max_digits="
                    f"{field.max_digits} with decimal_places={places} allows {whole}")
        if type(value) is str and (error := _unreadable(read, value)):
            return K.NOT_A_NUMBER, f"{preview(value)} is text that Django cannot read as a decimal ({error})"
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
        if types <= {float, int} and exact and _at_scale(values, places, field.max_digits):
            return []
        if types <= {float, int, Decimal}:
            text = " ".join(map(str, present))
            if not (_NOT_PLAIN.search(text) or too_many_places.search(text)
                    or too_many_digits.search(text)):
                return []
        return each(values, problem)

    return check


def _read_as(read: Callable, value) -> str:
    """", as Django reads it: ``read(value)``" where Django reads ``value`` (an app sees no more)."""
    try:
        return f" (Django reads it as {read(value)})"
    except Exception:  # noqa: BLE001 - whatever a converter raises, there is no reading to show
        return ""


def _unreadable(read: Callable, value) -> str | None:
    """Why ``read(value)`` fails, or ``None``."""
    try:
        read(value)
    except Exception as e:  # whatever a converter raises, Django would raise reading the row
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return None


def _non_finite_check(target) -> ColumnCheck:
    """Only NaN and the infinities, for a typed source whose column enforces the digits."""
    def check(values):
        try:
            if all(map(Decimal.is_finite, filter(partial(is_not, None), values))):
                return []
        except TypeError:  # not only decimals
            pass
        return each(values, lambda v: _not_finite(v, target) if not _finite(v) else None)

    return check


def _finite(value) -> bool:
    return not isinstance(value, Decimal) or value.is_finite()


def _not_finite(number: Decimal, target) -> tuple[K, str]:
    return (K.NOT_FINITE, f"{number} is no number a DecimalField column of {target.vendor} can"
            " store (Django refuses to write it)")


def _at_scale(values: Sequence, places: int, max_digits: int) -> bool:
    """Whether each number is exactly a decimal of ``places`` that fits (see :func:`scaled_integers`);
    ``values`` the chunk's column, NULLs and all, which its reader then converts without doing it again."""
    try:
        scaled_column(values, places, max_digits)
    except (ValueError, OverflowError):
        return False
    return True


#: Exponents, infinities and NaN: left to the value-by-value check.
_NOT_PLAIN = re.compile(r"[eEnN]")


def _as_decimal(value, float_digits: int | None = None) -> Decimal | None:
    # A float is a stored REAL (SQLite's). Django reads it to ``float_digits``
    # significant digits (the source's ``decimal_digits``) before its scale:
    # 14147.329999999998, the sum SQLite made of 14147.30 and 0.03, is 14147.33.
    # Without a number of digits, its shortest repr.
    try:
        if type(value) is float:
            if float_digits and math.isfinite(value):
                return Context(prec=float_digits).create_decimal_from_float(value)
            return Decimal(repr(value))
        if type(value) in (int, Decimal):
            return Decimal(value)
        if type(value) is str:
            return Decimal(value.strip())
    except InvalidOperation:
        return None
    return None


def digits(number: Decimal) -> tuple[int, int]:
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


def duration_check(field, kind, source, target, want) -> ColumnCheck | None:
    # Stored as integer microseconds where there is no interval type (SQLite's may hold anything).
    if want(K.NOT_AN_INTEGER):
        return integer_check(field, "BigIntegerField", source, target, lambda k: k is K.NOT_AN_INTEGER)
    if not source.holds_extreme_dates or target.holds_extreme_dates:
        return None  # an interval type on both sides, or microseconds on the source
    # An interval to microseconds: months (read as the server's text) have no length in
    # them, and a timedelta reaches 2**66 microseconds, a bigint (SQLite's too) 2**63.

    def problem(value):
        if type(value) is str:
            return (K.DATE_OUT_OF_RANGE, f"is the interval {value!r}: months and years have no fixed"
                    f" length, and a duration on {target.vendor} is a number of microseconds")
        if not -2**63 <= value // _MICROSECOND < 2**63:
            return K.INTEGER_OUT_OF_RANGE, f"is more microseconds than {target.vendor}'s bigint holds"
        return None

    def check(values):
        return [] if set(map(type, values)) <= _DURATION_OR_NULL and not any(
            map(_TOO_LONG.__lt__, map(abs, filter(None, values)))) else each(values, problem)

    return check


_MICROSECOND = timedelta(microseconds=1)
_DURATION_OR_NULL = frozenset({timedelta, type(None)})
#: The longest duration a bigint of microseconds holds either way.
_TOO_LONG = timedelta(microseconds=2**63 - 1)


