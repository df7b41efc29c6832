"""What a copy does with values the target would refuse (``--on-error``).

``abort`` (the default) checks each chunk before it is written and stops at the
first chunk holding a refused value, naming the row, field and reason; nothing
of that chunk is written. ``reject`` first scans the whole source (the
dry-run's scan, inside the copy's own snapshot), then copies every row except
the refused ones and those that depend on them, which go to a JSON Lines file
with their original values (:mod:`portadb.rejects`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from .exceptions import ValueRefused
from .parts import Part
from .plan import Plan, TableJob
from .rejects import RejectFile
from .reports.findings import pk_list
from .reports.model import Finding, Severity, ValueSummary
from .scan import ScanResult, TableChecks, dangling_rows, scan_values

#: Called with a chunk's rows and a function returning them column by column.
ChunkGuard = Callable[[Sequence[Sequence], Callable[[], list]], Sequence[Sequence]]


def for_copy(plan: Plan, on_error: str, reject_file: str | None, chunk_size: int,
             earlier: Mapping[str, int] | None = None, workers: int = 1,
             command: str = "copy") -> Abort | Reject:
    """The policy object of one copy (or of a ``command="sync"``); call inside the source's snapshot.

    ``earlier``: the copy continues an interrupted one, which rejected this
    many rows per table; its reject file is kept (and must hold them).
    ``workers``: processes that may share reject's scan, where they can read
    the copy's own snapshot (what they refuse is what the copy reads).
    """
    if on_error == "reject":
        file = RejectFile(reject_file, earlier)  # a file that lacks rows is refused before the scan
        try:
            shared = plan.source.adapter.share_snapshot() if workers > 1 else None
            return Reject(plan, file, scan_values(plan, chunk_size, workers=workers if shared else 1,
                                                  shared=shared))
        except BaseException:
            file.close()
            raise
    return Abort(plan, command)


class _Policy:
    """A context manager that closes what the policy opened."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass


class Abort(_Policy):
    """Check each chunk; raise :class:`~portadb.exceptions.ValueRefused` on the first refused value."""

    #: Worker processes (``--jobs``) can each build and use their own guards.
    parallel_safe = True

    def __init__(self, plan: Plan, command: str = "copy"):
        self.plan = plan
        self.command = command
        self.rejected: Counter = Counter()

    def table(self, job: TableJob, part: Part | None = None, keys: list | None = None,
              references: bool = True) -> ChunkGuard:
        """The guard of ``job``'s chunks (of ``part``'s, where the table is cut; of the rows of
        ``keys`` alone, each a list of the key's values, where only those are written); without
        ``references``, foreign keys that point at no row are left to the target to refuse."""
        dangling = dangling_rows(self.plan.source, job, part, keys) if references else {}
        checks = TableChecks(job, self.plan.source, self.plan.target, dangling)

        def guard(rows, by_column=None):
            refused = checks.check(rows, by_column)
            if refused:
                raise ValueRefused(refused, self.command)
            return rows

        return guard

    def findings(self) -> list[Finding]:
        return []


class Reject(_Policy):
    """Leave out the rows the scan refused; write them to a JSON Lines file.

    The lines of a chunk reach the file before the chunk commits. A resumed
    copy keeps the lines its interrupted run wrote (the rows of its committed
    chunks are not read again) and writes none of them twice.
    """

    #: One reject file and one count: rows are rejected in this process only.
    parallel_safe = False

    def __init__(self, plan: Plan, file: RejectFile, scan: ScanResult):
        self.plan = plan
        self.scan = scan
        self.refused = scan.refused()
        self.file = file
        self.rejected: Counter = Counter(table for table, _ in self.file.written)

    def table(self, job: TableJob, part: Part | None = None, keys: list | None = None,
              references: bool = True) -> ChunkGuard:
        refused = self.refused.get(job.table)  # the scan searched every foreign key
        if not refused:
            return _identity
        names = job.column_names
        key_index = job.key_index

        def guard(rows, by_column=None):
            kept = []
            for row in rows:
                pk = row[key_index[0]] if len(key_index) == 1 else tuple(row[i] for i in key_index)
                reasons = refused.get(pk)
                if reasons is None:
                    kept.append(row)
                elif not self.file.holds(job.table, pk):  # else rejected in a chunk not committed
                    self.rejected[job.table] += 1
                    self.file.add(job.table, pk, reasons, dict(zip(names, row)))
            if len(kept) == len(rows):
                return rows
            self.file.flush()  # before the chunk commits: a killed copy loses no line
            return kept

        return guard

    def findings(self) -> list[Finding]:
        return summary_findings(self.scan.summaries(), Severity.WARNING, "rejected")

    def close(self) -> None:
        self.file.close()


def _identity(rows, by_column=None):
    return rows


def summary_findings(summaries: Sequence[ValueSummary], severity: Severity, verb: str) -> list[Finding]:
    """One finding per table, field and kind of refused value: the count and the first primary keys."""
    return [
        Finding(
            s.kind, severity,
            f"{s.model}.{s.field}: {s.count} row{'s' if s.count > 1 else ''} {verb}"
            f" (pk {pk_list(s.first_pks, s.count)});"
            f" first: {s.reason} (value {s.preview}).",
            table=s.table, model=s.model, pk=s.first_pks[0], field=s.field,
        )
        for s in summaries
    ]
