"""The reports as data: what each command found, with no rendering in it.

JSON keys are these dataclasses' field names, with a ``schema_version`` that
changes only when a key changes meaning or goes away; the renderers are the
other modules of :mod:`portadb.reports`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

SCHEMA_VERSION = 1
#: Primary keys a report keeps per table, field and kind of refused value.
FIRST_PKS = 10


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
    # Verification: what differs between source and target.
    TABLE_MISSING = "table_missing"
    ROW_MISSING = "row_missing"
    ROW_EXTRA = "row_extra"
    VALUE_DIFFERENT = "value_different"
    SEQUENCE_BEHIND = "sequence_behind"
    MIGRATIONS_DIFFERENT = "migrations_different"
    # Values the target would refuse, or that would change on the way
    # (portadb.checks); one per row, field and reason.
    TOO_LONG = "too_long"
    INTEGER_OUT_OF_RANGE = "integer_out_of_range"
    DECIMAL_OVERFLOW = "decimal_overflow"
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


class Severity(str, enum.Enum):
    ERROR = "error"  # the copy is not exact
    WARNING = "warning"  # something the user must look at; the copy is exact
    INFO = "info"


@dataclass
class Finding:
    """One thing worth a user's attention, located as precisely as known."""

    kind: FindingKind
    severity: Severity
    message: str
    table: str | None = None
    model: str | None = None
    pk: object = None
    field: str | None = None


class _Findings:
    """What every report with ``findings`` offers."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


@dataclass
class TableResult:
    """Rows of one table on each side after a copy."""

    table: str
    model: str
    source_rows: int
    target_rows: int
    seconds: float
    #: Rows left out by ``--on-error=reject`` (written to the reject file).
    rejected: int = 0

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows + self.rejected


@dataclass
class CopyReport(_Findings):
    """The outcome of :func:`portadb.copy`."""

    source: str
    target: str
    tables: list[TableResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sequences_reset: int = 0
    seconds: float = 0.0
    #: The :class:`VerifyReport` of ``copy(verify=True)``.
    verification: VerifyReport | None = None
    #: Where ``--on-error=reject`` wrote the refused rows, if it refused any.
    reject_file: str | None = None
    #: Whether this run continued an interrupted copy (``--resume``).
    resumed: bool = False
    #: How the target's schema was built: ``"migrate"`` (the project's own
    #: migrate, in a process where the target is ``default``) or ``"models"``.
    schema_path: str = "models"
    schema_reason: str = ""
    #: Rows migrations made in the copied tables, removed before the copy: ``{table: rows}``.
    removed_rows: dict[str, int] = field(default_factory=dict)
    kind: str = "copy"
    schema_version: int = SCHEMA_VERSION

    @property
    def source_rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    @property
    def target_rows(self) -> int:
        return sum(t.target_rows for t in self.tables)

    @property
    def rejected_rows(self) -> int:
        return sum(t.rejected for t in self.tables)

    @property
    def ok(self) -> bool:
        verified = self.verification is None or self.verification.ok
        return not self.errors and all(t.ok for t in self.tables) and verified

    @property
    def exit_code(self) -> int:
        """0 when every row arrived and nothing is wrong, 1 otherwise."""
        return 0 if self.ok and not self.rejected_rows else 1


# -- verification ----------------------------------------------------------------


@dataclass
class RowDifference:
    """One field of one row whose value differs, in its canonical form on each side."""

    pk: object
    field: str
    source_value: object
    target_value: object


@dataclass
class TableCheck:
    """What verification found for one table."""

    table: str
    model: str
    #: ``None`` when the table does not exist on that side.
    source_rows: int | None
    target_rows: int | None
    #: Rows whose content was compared (fewer with ``sample``, none with ``counts_only``).
    compared_rows: int = 0
    chunks: int = 0
    chunks_different: int = 0
    #: Digest of the canonical rows, chunk by chunk, on each side (equal when identical).
    source_checksum: str = ""
    target_checksum: str = ""
    missing_count: int = 0
    #: The first primary keys on the source that the target lacks.
    missing_pks: list = field(default_factory=list)
    extra_count: int = 0
    #: The first primary keys on the target that the source lacks.
    extra_pks: list = field(default_factory=list)
    different_rows: int = 0
    #: The first differing fields of the first differing rows.
    differences: list[RowDifference] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.source_rows is not None
            and self.source_rows == self.target_rows
            and not (self.missing_count or self.extra_count or self.different_rows)
        )


@dataclass
class SequenceCheck:
    """The next auto primary key value on the target against the largest key there."""

    table: str
    column: str
    max_pk: int | None
    #: ``None`` when the target has no sequence or counter for the column.
    next_value: int | None

    @property
    def ok(self) -> bool:
        return self.next_value is not None and (self.max_pk is None or self.next_value > self.max_pk)


@dataclass
class VerifyReport(_Findings):
    """The outcome of :func:`portadb.verify`: do source and target hold the same data?"""

    source: str
    target: str
    tables: list[TableCheck] = field(default_factory=list)
    sequences: list[SequenceCheck] = field(default_factory=list)
    #: Applied migrations (``app.name``) recorded on one side only.
    migrations_missing: list[str] = field(default_factory=list)
    migrations_extra: list[str] = field(default_factory=list)
    migrations_compared: int = 0
    findings: list[Finding] = field(default_factory=list)
    counts_only: bool = False
    #: The fraction of key chunks compared, ``None`` for all of them.
    sample: float | None = None
    chunk_size: int = 0
    seconds: float = 0.0
    kind: str = "verify"
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and all(t.ok for t in self.tables)
            and all(s.ok for s in self.sequences)
            and not (self.migrations_missing or self.migrations_extra)
        )

    @property
    def compared_rows(self) -> int:
        return sum(t.compared_rows for t in self.tables)

    @property
    def differing_tables(self) -> set[str]:
        """Tables that differ, or whose sequence or migration rows are wrong."""
        return {t.table for t in self.tables if not t.ok} | {f.table for f in self.errors if f.table}

    @property
    def exit_code(self) -> int:
        """0 when source and target hold the same data, 1 otherwise."""
        return 0 if self.ok else 1


# -- the dry-run -----------------------------------------------------------------


@dataclass
class ValueSummary:
    """Values of one field that the target would refuse: how many, and the first rows."""

    kind: FindingKind
    model: str
    table: str
    field: str
    count: int
    #: Primary keys of the first refused rows, in key order.
    first_pks: list = field(default_factory=list)
    #: Why the first value is refused, and a short rendering of it.
    reason: str = ""
    preview: str = ""


@dataclass
class PlannedTable:
    """One table in copy order, with the conversions that are not the identity."""

    table: str
    model: str
    rows: int
    size: int | None = None
    conversions: list[str] = field(default_factory=list)


@dataclass
class PlanReport(_Findings):
    """What :func:`portadb.plan` (``copy --dry-run``) found; nothing was written."""

    source: str
    target: str
    #: The source's :class:`portadb.inspect.Inventory`.
    source_inventory: object = None
    #: ``"empty"``, or what the target already holds.
    target_state: str = "empty"
    #: Differences between the project tables on the target and the models
    #: (Django introspection), one line each.
    schema_differences: list[str] = field(default_factory=list)
    #: DDL that would run before the rows (formatted), then after them.
    schema_steps: list[str] = field(default_factory=list)
    deferred_steps: list[str] = field(default_factory=list)
    not_replayed: list[str] = field(default_factory=list)
    #: How the target's schema would be built (see :class:`CopyReport`), and why.
    schema_path: str = "models"
    schema_reason: str = ""
    #: Operations the target's migrations would run that models cannot express.
    raw_operations: list[str] = field(default_factory=list)
    #: Tables in the order they would be copied.
    tables: list[PlannedTable] = field(default_factory=list)
    #: Refused values per table, field and kind.
    values: list[ValueSummary] = field(default_factory=list)
    refused_rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    rows_scanned: int = 0
    scan_seconds: float = 0.0
    #: A rough duration of the real copy: the scan's read time plus the target's
    #: typical write rate.
    estimated_seconds: float = 0.0
    kind: str = "plan"
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        """True when the copy would succeed with ``--on-error=abort``."""
        return not self.errors and not self.values

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


# -- inspect -------------------------------------------------------------------


@dataclass
class TableInfo:
    """One table of a database and the model that owns it, if any."""

    name: str
    rows: int
    #: ``app_label.Model`` of the owning model, or ``None`` for a table no model owns.
    model: str | None
    #: Bytes on disk (data and indexes), where the database tells.
    size: int | None = None


@dataclass
class Inventory:
    """The tables, row counts and migration state of one database (``portadb inspect``)."""

    database: str
    vendor: str
    tables: list[TableInfo] = field(default_factory=list)
    applied_migrations: int = 0
    pending_migrations: list[str] = field(default_factory=list)
    unmigrated_changes: list[str] = field(default_factory=list)
    unmanaged_models: list[str] = field(default_factory=list)
    kind: str = "inspect"
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return True

    @property
    def exit_code(self) -> int:
        return 0

    @property
    def unowned_tables(self) -> list[str]:
        return [t.name for t in self.tables if t.model is None]

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def size(self) -> int | None:
        """Bytes on disk of every table, where the database tells."""
        sizes = [t.size for t in self.tables if t.size is not None]
        return sum(sizes) if sizes else None
