"""The closed lists a report's findings come from: what kind of thing, and how serious."""

from __future__ import annotations

import enum


class FindingKind(str, enum.Enum):
    """The closed list of things a report can point out."""

    COUNT_MISMATCH = "count_mismatch"
    DANGLING_REFERENCE = "dangling_reference"
    UNOWNED_TABLE = "unowned_table"
    UNMANAGED_MODEL = "unmanaged_model"
    NOT_REPLAYED = "not_replayed"
    VENDOR_ONLY_MODEL = "vendor_only_model"
    #: A model whose table differs between the source's backend and the target's.
    VENDOR_DEPENDENT_MODEL = "vendor_dependent_model"
    #: The target's schema no longer what its migrate built.
    SCHEMA_DRIFT = "schema_drift"
    #: A view of the target that ``--replace`` dropped with the tables it read (PostgreSQL's
    #: ``CASCADE``) and that the build did not make again.
    VIEW_DROPPED = "view_dropped"
    #: The copy that built the target did not finish (its journal says so).
    COPY_UNFINISHED = "copy_unfinished"
    # Verification: what differs between source and target.
    TABLE_MISSING = "table_missing"
    ROW_MISSING = "row_missing"
    ROW_EXTRA = "row_extra"
    VALUE_DIFFERENT = "value_different"
    SEQUENCE_BEHIND = "sequence_behind"
    #: An auto key's counter that could not follow the source's (unreadable, or out of range).
    COUNTER_NOT_FOLLOWED = "counter_not_followed"
    #: A generated column (computed by each database, not copied) whose values differ.
    GENERATED_DIFFERENT = "generated_different"
    MIGRATIONS_DIFFERENT = "migrations_different"
    # Values the target would refuse, or that would change on the way
    # (portadb.checks); one per row, field and reason.
    TOO_LONG = "too_long"
    INTEGER_OUT_OF_RANGE = "integer_out_of_range"
    DECIMAL_OVERFLOW = "decimal_overflow"
    #: A decimal with more significant digits than the target keeps (SQLite: a double, 15).
    TOO_MANY_DIGITS = "too_many_digits"
    NUL_CHARACTER = "nul_character"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    IMPOSSIBLE_DATE = "impossible_date"
    #: A date with a year, month or day of 0 (MySQL's ``0000-00-00``): Django reads None.
    ZERO_DATE = "zero_date"
    #: A date or time Python cannot hold: ±infinity, before the year 1, after 9999, ``24:00``.
    DATE_OUT_OF_RANGE = "date_out_of_range"
    #: Fractions of a second finer than the microseconds Django keeps.
    TOO_PRECISE = "too_precise"
    #: A naive datetime that the time zone it is stored in skips (a daylight-saving gap).
    NONEXISTENT_TIME = "nonexistent_time"
    TIMEZONE = "timezone"
    FOUR_BYTE_CHARACTER = "four_byte_character"
    #: A character the column's character set does not have (MySQL's latin1, ascii).
    UNSTORABLE_CHARACTER = "unstorable_character"
    NOT_FINITE = "not_finite"
    NOT_AN_INTEGER = "not_an_integer"
    NOT_A_NUMBER = "not_a_number"
    NOT_A_BOOLEAN = "not_a_boolean"
    INVALID_UUID = "invalid_uuid"
    INVALID_IP = "invalid_ip"
    WRONG_TYPE = "wrong_type"
    UNIQUE_COLLISION = "unique_collision"
    #: A row (or value) larger than the target's write path takes in one piece.
    TOO_LARGE = "too_large"
    #: A row refused because it refers to (or is part of) a refused row.
    DEPENDS_ON_REFUSED = "depends_on_refused"
    # Plan-level findings (the dry-run).
    UNHOLDABLE_FIELD = "unholdable_field"
    PRECONDITION = "precondition"
    #: The source's change log (``copy --track-changes``): where it is, what it leaves out,
    #: and a table a sync could not trust it for.
    CHANGE_LOG = "change_log"


class Severity(str, enum.Enum):
    ERROR = "error"  # the copy is not exact
    WARNING = "warning"  # something the user must look at; the copy is exact
    INFO = "info"
