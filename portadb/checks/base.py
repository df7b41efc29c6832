"""What every value check shares: the refusal it reports and the loop over a column."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..reports.model import FindingKind as K

#: Every kind of finding a value check, a foreign key or a unique constraint can raise.
VALUE_KINDS = frozenset({
    K.TOO_LONG, K.INTEGER_OUT_OF_RANGE, K.DECIMAL_OVERFLOW, K.NUL_CHARACTER, K.INVALID_UTF8,
    K.INVALID_JSON, K.IMPOSSIBLE_DATE, K.ZERO_DATE, K.DATE_OUT_OF_RANGE, K.TOO_PRECISE,
    K.NONEXISTENT_TIME, K.TIMEZONE, K.FOUR_BYTE_CHARACTER, K.UNSTORABLE_CHARACTER, K.TOO_MANY_DIGITS,
    K.NOT_FINITE,
    K.NOT_AN_INTEGER, K.NOT_A_NUMBER, K.NOT_A_BOOLEAN, K.INVALID_UUID, K.INVALID_IP,
    K.WRONG_TYPE, K.DANGLING_REFERENCE, K.UNIQUE_COLLISION, K.TOO_LARGE, K.DEPENDS_ON_REFUSED,
})

#: (row index in the chunk, kind, reason) for one refused value.
Problem = tuple[int, K, str]
#: A check of one column: the problems of a chunk's values, given column by column.
ColumnCheck = Callable[[Sequence], list[Problem]]


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

    def __reduce__(self):
        # A driver's memoryview (PostgreSQL bytea) does not pickle; its bytes do.
        value = bytes(self.value) if isinstance(self.value, memoryview) else self.value
        return Refusal, (self.kind, self.model, self.table, self.pk, self.field, self.reason, value)

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
        value = bytes(value[:width])
    if isinstance(value, (str, bytes)) and len(value) > width:
        value = value[:width]  # a 50 MB value's repr is never made
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def each(values: Sequence, problem) -> list[Problem]:
    """``problem`` of each non-NULL value, with its row index, where there is one."""
    found = []
    for i, value in enumerate(values):
        if value is not None:
            result = problem(value)
            if result is not None:
                found.append((i, *result))
    return found


def type_name(value) -> str:
    """How a value of an unexpected type is named in a reason."""
    if isinstance(value, (bytes, memoryview)):
        return f"blob of {len(value)} bytes"
    return type(value).__name__
