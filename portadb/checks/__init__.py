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

from ..fields import INTEGER_TYPES, TEXT_TYPES, base_field
from .base import VALUE_KINDS, ColumnCheck, Problem, Refusal, preview
from .identifiers import ip_check, uuid_check
from .json_values import json_check
from .numbers import boolean_check, decimal_check, digits, duration_check, float_check, integer_check
from .size import size_check
from .temporal import date_check, datetime_check, time_check
from .text import binary_check, text_check

__all__ = ["VALUE_KINDS", "ColumnCheck", "Problem", "Refusal", "column_checks", "digits", "preview",
           "size_check"]


def column_checks(field, source, target) -> list[ColumnCheck]:
    """The checks one column needs from ``source``'s adapter to ``target``'s adapter."""
    base = base_field(field)  # a foreign key's column is its target's column type
    kind = base.get_internal_type()
    skip = source.enforced_checks
    builder = _BUILDERS.get(kind)
    if builder is None and kind in TEXT_TYPES:
        builder = text_check
    if builder is None:
        return []
    check = builder(base, kind, source, target, lambda k: k not in skip)
    return [check] if check is not None else []


_BUILDERS = {
    "JSONField": json_check,
    "BooleanField": boolean_check,
    "FloatField": float_check,
    "DecimalField": decimal_check,
    "DateField": date_check,
    "DateTimeField": datetime_check,
    "TimeField": time_check,
    "UUIDField": uuid_check,
    "GenericIPAddressField": ip_check,
    "IPAddressField": ip_check,
    "DurationField": duration_check,
    "BinaryField": binary_check,
    **dict.fromkeys(INTEGER_TYPES, integer_check),
}


