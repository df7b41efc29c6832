"""The report of ``portadb sync`` as data: per table, what differed and what moved."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import SCHEMA_VERSION, Finding, HasFindings, SequenceCheck


@dataclass
class SyncedTable:
    """One table of a sync: what differed between the two sides, and what the sync did about it."""

    table: str
    model: str
    #: Rows on the source (in the sync's snapshot) and on the target after the sync
    #: (before it, in a dry run).
    source_rows: int
    target_rows: int
    #: Chunks compared, and those whose digests differed (narrowed to their rows).
    chunks: int = 0
    chunks_different: int = 0
    #: Source rows not read: the change log names none of their keys, or their buckets'
    #: fingerprints are those the last sync kept (see ``found_by``).
    skipped_rows: int = 0
    #: Rows the source holds and the target lacked; holds with other values; lacks.
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    #: Rows left out by ``--on-error=reject`` (written to the reject file).
    rejected: int = 0
    #: Rows the sync wrote or deleted, read back on both sides afterwards, and how many of
    #: them still differ (then the sync failed).
    verified_rows: int = 0
    still_different: int = 0
    #: The first keys that still differ.
    different_pks: list = field(default_factory=list)
    seconds: float = 0.0
    #: How the rows to compare were found: ``"change log"`` (``copy --track-changes``),
    #: ``"fingerprints"``, or ``""``: every row was compared.
    found_by: str = ""

    @property
    def changed_rows(self) -> int:
        return self.inserted + self.updated + self.deleted

    @property
    def ok(self) -> bool:
        return not self.still_different and self.source_rows == self.target_rows + self.rejected


@dataclass
class SyncReport(HasFindings):
    """The outcome of :func:`portadb.sync`: the target brought up to date, or (``dry_run``)
    what would change."""

    source: str
    target: str
    tables: list[SyncedTable] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: The target's sequences after the sync (none in a dry run).
    sequences: list[SequenceCheck] = field(default_factory=list)
    dry_run: bool = False
    #: Seconds comparing, and writing (one target transaction) and reading back.
    compare_seconds: float = 0.0
    apply_seconds: float = 0.0
    seconds: float = 0.0
    #: Where ``--on-error=reject`` wrote the refused rows, if it refused any.
    reject_file: str | None = None
    kind: str = "sync"
    schema_version: int = SCHEMA_VERSION

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables)

    @property
    def updated(self) -> int:
        return sum(t.updated for t in self.tables)

    @property
    def deleted(self) -> int:
        return sum(t.deleted for t in self.tables)

    @property
    def rejected_rows(self) -> int:
        return sum(t.rejected for t in self.tables)

    @property
    def changed_tables(self) -> list[SyncedTable]:
        return [t for t in self.tables if t.changed_rows]

    @property
    def ok(self) -> bool:
        """The target holds what the source holds (a dry run: the sync would run)."""
        tables_ok = self.dry_run or all(t.ok for t in self.tables)
        return not self.errors and tables_ok and all(s.ok for s in self.sequences)

    @property
    def exit_code(self) -> int:
        """0 when the target now holds the source's rows (a dry run: it could), 1 otherwise."""
        return 0 if self.ok and not self.rejected_rows else 1
