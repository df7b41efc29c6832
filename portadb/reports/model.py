"""The reports as data: what each command found, with no rendering in it.

JSON keys are these dataclasses' field names, with a ``schema_version`` that
changes only when a key changes meaning or goes away; the renderers are the
other modules of :mod:`portadb.reports`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .kinds import FindingKind, Severity

SCHEMA_VERSION = 1
#: Primary keys a report keeps per table, field and kind of refused value.
FIRST_PKS = 10


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


class HasFindings:
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
class CopyReport(HasFindings):
    """The outcome of :func:`portadb.copy`."""

    source: str
    target: str
    tables: list[TableResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sequences_reset: int = 0
    seconds: float = 0.0
    #: Worker processes that loaded the rows (1: this process alone).
    workers: int = 1
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
    #: Digest of the canonical rows, chunk by chunk, on each side (equal when identical; it
    #: depends on the chunk size and on the key ranges that workers compared).
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
    """The next auto primary key value on the target against the largest key there, and
    against the source's next value (rows deleted there had keys the target must not reuse)."""

    table: str
    column: str
    max_pk: int | None
    #: ``None`` when the target has no sequence or counter for the column.
    next_value: int | None
    #: The source's next value; ``None`` where it has none or was not asked.
    source_next: int | None = None

    @property
    def ok(self) -> bool:
        """Whether a new row gets a key no row on the target has (else the insert fails)."""
        return self.next_value is not None and (self.max_pk is None or self.next_value > self.max_pk)

    @property
    def follows_source(self) -> bool:
        """Whether the next key is not one the source has handed out already (a warning when not:
        the source's counter is read live, and also moves for rows the source rolled back)."""
        return self.next_value is None or self.source_next is None or self.next_value >= self.source_next

    def problem(self) -> str:
        """Why the check failed (or, where it passed, why the counter is behind the source's)."""
        where = f"{self.table}.{self.column}"
        if self.next_value is None:
            return f"{where} has no sequence on the target, but its largest key there is {self.max_pk}."
        gives = f"{where} would next give {self.next_value} on the target"
        if not self.ok:
            return f"{gives}, but its largest key there is {self.max_pk}."
        return (f"{gives}, but {self.source_next} on the source: new rows may take the keys of rows"
                " deleted on the source.")


@dataclass
class VerifyReport(HasFindings):
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
    #: Worker processes that compared the content (1: the command's own process, which reads the
    #: target's side in a second one where it can).
    workers: int = 1
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
class PlanReport(HasFindings):
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
    #: Worker processes that scanned the rows (1: the command's own process alone).
    workers: int = 1
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
    #: What portadb's journal on this database says (``portadb_run``): the copy that built it.
    copy: str | None = None
    #: Whether ``--forget`` removed that journal.
    forgotten: bool = False
    #: Tables whose writes this database logs for ``portadb sync`` (``copy --track-changes``),
    #: or ``None`` without a change log; and whether ``--untrack`` removed it.
    change_log: int | None = None
    untracked: bool = False
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
