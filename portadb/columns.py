"""A chunk's column at a time: the forms a column travels in, and helpers over whole columns.

The copy converts, checks and writes a chunk column by column. A source
backend may hand a converted column to the target in a :class:`ColumnForm`
the target encodes itself (``Adapter.column_forms``); everyone else sees
Django's values (:func:`as_values`). The helpers map a function over a
column in C loops where they can (no Python call per value).
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from itertools import repeat

#: Significant decimal digits a double keeps (DBL_DIG).
DOUBLE_DIGITS = 15


class ColumnForm(list):
    """A converted column in a form the target encodes itself, not one value per row as Django reads it.

    A source backend's column reader hands such a form to a target that
    lists it in ``Adapter.column_forms``, where every value of a chunk has it:
    the same data without making a Python object of Django's kind for each
    value. :meth:`values` gives Django's values.
    """

    def values(self) -> list:
        """The values as Django reads them."""
        raise NotImplementedError

    def part(self, start: int, stop: int) -> ColumnForm:
        """The values of rows ``start`` to ``stop``, in the same form."""
        return type(self)(self[start:stop])


class ScaledIntegers(ColumnForm):
    """A ``DecimalField`` column as exact integers: each value is ``n * 10**-scale``."""

    def __init__(self, numbers: Sequence, scale: int, doubles: Sequence | None = None):
        super().__init__(numbers)
        self.scale = scale
        #: The numbers (NULLs where they are) each the double nearest to ``n * 10**-scale``, where
        #: the column was read as such (:func:`scaled_integers`): their text at the scale is that.
        self.doubles = doubles

    def values(self) -> list:
        return [None if n is None else Decimal(n).scaleb(-self.scale) for n in self]

    def part(self, start: int, stop: int) -> ScaledIntegers:
        doubles = None if self.doubles is None else self.doubles[start:stop]
        return ScaledIntegers(self[start:stop], self.scale, doubles)

    def texts(self) -> list:
        """``str()`` of each of :meth:`values`, without a Decimal: plain ``q.r`` in C loops."""
        if self.doubles is not None and self.scale <= 6:
            # Correctly rounded to the scale, the nearest double's text is the decimal's.
            return non_null(partial(each_value, f"%.{self.scale}f".__mod__), self.doubles)
        return non_null(self._texts, self)

    def _texts(self, numbers: Sequence) -> list:
        if self.scale == 0:
            return list(map(str, numbers))
        if self.scale > 6:  # str() of a Decimal below 1e-6 has an exponent
            return list(map(str, ScaledIntegers(numbers, self.scale).values()))
        texts = list(map(f"%d.%0{self.scale}d".__mod__,
                         map(divmod, map(abs, numbers), repeat(10**self.scale))))
        if numbers and min(numbers) < 0:
            return [f"-{t}" if n < 0 else t for n, t in zip(numbers, texts)]
        return texts


class UuidBytes(ColumnForm):
    """A ``UUIDField`` column as the 16 bytes of each UUID."""

    def values(self) -> list:
        return [None if b is None else uuid.UUID(bytes=b) for b in self]

    def numbers(self) -> list:
        """Each UUID's 128-bit number, as ``uuid.UUID(bytes=b).int`` reads it, in C loops."""
        return non_null(lambda present: list(map(int.from_bytes, present, repeat("big"))), self)


class UtcTexts(ColumnForm):
    """A ``DateTimeField`` column (``USE_TZ``) as SQLite stores it: UTC, ``YYYY-MM-DD HH:MM:SS[.ffffff]``."""

    def values(self) -> list:
        return [None if t is None else datetime.fromisoformat(t + "+00:00") for t in self]


def as_values(column: Sequence) -> Sequence:
    """A converted column's values as Django reads them (see :meth:`ColumnForm.values`)."""
    return column.values() if isinstance(column, ColumnForm) else column


def scaled_integers(values: Sequence, scale: int, max_digits: int) -> list[int]:
    """The integers ``n`` with each number of ``values`` the double nearest to ``n * 10**-scale``.

    Each such decimal has at most 15 digits (and ``max_digits``): it is the
    number's shortest repr, and what Django's decimal converter makes of it.
    Raises ``ValueError`` (or ``TypeError``, ``OverflowError``) for any other
    column: text, NaN, infinities, more places or digits. ``scale`` is at
    most :data:`DOUBLE_DIGITS`.
    """
    power = float(10**scale)
    numbers = list(map(round, map(power.__mul__, values)))
    if not all(map(operator.eq, map(operator.truediv, numbers, repeat(power)), values)):
        raise ValueError("not exactly numbers of the scale")
    if numbers and max(map(abs, numbers)) >= 10 ** min(max_digits, DOUBLE_DIGITS):
        raise ValueError("more digits than a double or the field keeps")
    return numbers


def scaled_column(values: Sequence, scale: int, max_digits: int) -> list:
    """:func:`scaled_integers` of a column's values, NULLs kept where they were; raises as it does.

    A chunk's decimal column is asked twice, by its check and by its reader:
    the last column's numbers are kept for the second (with the column, so
    that its identity cannot pass to another).
    """
    global _last_scaled
    last = _last_scaled  # one read: another thread may replace it
    if last[0] is values and last[1] == (scale, max_digits):
        return last[2]
    numbers = non_null(partial(scaled_integers, scale=scale, max_digits=max_digits), values)
    _last_scaled = (values, (scale, max_digits), numbers)
    return numbers


_last_scaled: tuple = (None, None, None)


def each_value(convert: Callable[[object], object], values: Sequence) -> list:
    """``convert`` applied to each of ``values``."""
    return list(map(convert, values))


def then_each(many: Callable[[Sequence], list], convert: Callable[[object], object],
              values: Sequence) -> list:
    """``many`` over the column, then ``convert`` over each of its results."""
    return list(map(convert, many(values)))


def then_column(many: Callable[[Sequence], list], then: Callable[[Sequence], list],
                values: Sequence) -> list:
    """``many`` over the column, then ``then`` over its result."""
    return then(many(values))


def non_null(fast: Callable[[Sequence], list], values: Sequence) -> list:
    """``fast`` over the column's non-NULL values, with the NULLs put back where they were.

    For converters that take a whole column in one C-level pass; whatever
    ``fast`` raises reaches the caller, which then converts value by value.
    """
    # By identity: ``None in values`` asks each Decimal's __eq__, which consults numbers.Rational.
    has_null = any(map(operator.is_, values, repeat(None)))
    present = [v for v in values if v is not None] if has_null else values
    done = fast(present)
    if present is values:
        return done
    made = iter(done)
    return [None if v is None else next(made) for v in values]


class Transposed:
    """A chunk's rows column by column, transposed on the first call only."""

    __slots__ = ("rows", "columns")

    def __init__(self, rows: Sequence[Sequence]):
        self.rows = rows
        self.columns: list | None = None

    def __call__(self) -> list:
        if self.columns is None:
            self.columns = list(zip(*self.rows))
        return self.columns
