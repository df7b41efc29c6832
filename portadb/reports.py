"""Reports are data; this module also renders them as text, JSON or Markdown.

Nothing else in portadb prints. JSON keys are the dataclass field names, with a
``schema_version`` that changes only when a key changes meaning or goes away.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "markdown")


class FindingKind(str, enum.Enum):
    """The closed list of things a report can point out."""

    COUNT_MISMATCH = "count_mismatch"
    DANGLING_REFERENCE = "dangling_reference"
    UNOWNED_TABLE = "unowned_table"
    UNMANAGED_MODEL = "unmanaged_model"
    NOT_REPLAYED = "not_replayed"


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


@dataclass
class TableResult:
    """Rows of one table on each side after a copy."""

    table: str
    model: str
    source_rows: int
    target_rows: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows


@dataclass
class CopyReport:
    """The outcome of :func:`portadb.copy`."""

    source: str
    target: str
    tables: list[TableResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sequences_reset: int = 0
    seconds: float = 0.0
    #: Whether this run continued an interrupted copy (``--resume``).
    resumed: bool = False
    kind: str = "copy"
    schema_version: int = SCHEMA_VERSION

    @property
    def source_rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    @property
    def target_rows(self) -> int:
        return sum(t.target_rows for t in self.tables)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors and all(t.ok for t in self.tables)

    @property
    def exit_code(self) -> int:
        """0 when every count matches and nothing is wrong, 1 otherwise."""
        return 0 if self.ok else 1


def render(report, fmt: str = "text", verbosity: int = 1) -> str:
    """``report`` as ``text``, ``json`` or ``markdown``."""
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2, default=str) + "\n"
    if fmt == "markdown":
        return _copy_markdown(report)
    return _copy_text(report, verbosity)


def to_dict(report) -> dict:
    """A JSON-ready dict: field names as keys, enums as their values, plus ``ok``."""
    data = asdict(report, dict_factory=_plain_dict)
    data["ok"] = report.ok
    if hasattr(report, "tables"):
        for row, table in zip(data["tables"], report.tables):
            row["ok"] = table.ok
    return data


def _plain_dict(items):
    return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in items}


def _status(ok: bool) -> str:
    return "ok" if ok else "DIFFERENT"


def _copy_text(report: CopyReport, verbosity: int) -> str:
    lines = [
        f"portadb copy{' (resumed)' if report.resumed else ''}: {report.source} -> {report.target}",
        f"{'OK' if report.ok else 'FAILED'}: {report.target_rows:,} of {report.source_rows:,} rows"
        f" in {len(report.tables)} tables, {report.seconds:.1f} s;"
        f" {report.sequences_reset} sequences reset",
    ]
    shown = report.tables if verbosity >= 2 else [t for t in report.tables if not t.ok]
    if shown:
        width = max(len(t.table) for t in shown)
        lines.append("")
        lines.append(f"{'table':<{width}}  {'source':>10}  {'target':>10}  {'seconds':>7}  status")
        for t in shown:
            lines.append(
                f"{t.table:<{width}}  {t.source_rows:>10,}  {t.target_rows:>10,}"
                f"  {t.seconds:>7.2f}  {_status(t.ok)}"
            )
    for finding in report.findings:
        if verbosity >= 2 or finding.severity is not Severity.INFO:
            lines.append(f"{finding.severity.value}: {finding.message}")
    return "\n".join(lines) + "\n"


def _copy_markdown(report: CopyReport) -> str:
    lines = [
        "## portadb copy",
        "",
        f"- **Source:** `{report.source}`",
        f"- **Target:** `{report.target}`",
        f"- **Result:** {'OK' if report.ok else 'FAILED'}: {report.target_rows:,} of "
        f"{report.source_rows:,} rows in {len(report.tables)} tables, {report.seconds:.1f} s",
        f"- **Sequences reset:** {report.sequences_reset}",
        "",
        "| table | model | source rows | target rows | seconds | status |",
        "|---|---|---:|---:|---:|---|",
    ]
    for t in report.tables:
        lines.append(
            f"| `{t.table}` | {t.model} | {t.source_rows:,} | {t.target_rows:,} |"
            f" {t.seconds:.2f} | {_status(t.ok)} |"
        )
    if report.findings:
        lines += ["", "### Findings", ""]
        lines += [f"- **{f.severity.value}** ({f.kind.value}): {f.message}" for f in report.findings]
    return "\n".join(lines) + "\n"


