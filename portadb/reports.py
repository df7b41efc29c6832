"""Reports are data; this module also renders them as text, JSON or Markdown.

Nothing else in portadb prints. JSON keys are the dataclass field names, with a
``schema_version`` that changes only when a key changes meaning or goes away.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "markdown", "junit")


class FindingKind(str, enum.Enum):
    """The closed list of things a report can point out."""

    COUNT_MISMATCH = "count_mismatch"
    DANGLING_REFERENCE = "dangling_reference"
    UNOWNED_TABLE = "unowned_table"
    UNMANAGED_MODEL = "unmanaged_model"
    NOT_REPLAYED = "not_replayed"
    VENDOR_ONLY_MODEL = "vendor_only_model"
    # Verification: what differs between source and target.
    TABLE_MISSING = "table_missing"
    ROW_MISSING = "row_missing"
    ROW_EXTRA = "row_extra"
    VALUE_DIFFERENT = "value_different"
    SEQUENCE_BEHIND = "sequence_behind"
    MIGRATIONS_DIFFERENT = "migrations_different"


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
    #: The :class:`VerifyReport` of ``copy(verify=True)``.
    verification: VerifyReport | None = None
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
        verified = self.verification is None or self.verification.ok
        return not self.errors and all(t.ok for t in self.tables) and verified

    @property
    def exit_code(self) -> int:
        """0 when every count matches and nothing is wrong, 1 otherwise."""
        return 0 if self.ok else 1


def render(report, fmt: str = "text", verbosity: int = 1) -> str:
    """``report`` as ``text``, ``json``, ``markdown`` or ``junit`` (JUnit XML)."""
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2, default=str) + "\n"
    if fmt == "junit":
        return junit(report)
    if fmt == "markdown":
        return _MARKDOWN[report.kind](report)
    return _TEXT[report.kind](report, verbosity)


def to_dict(report) -> dict:
    """A JSON-ready dict: field names as keys, enums as their values, plus ``ok``."""
    data = asdict(report, dict_factory=_plain_dict)
    data["ok"] = report.ok
    if hasattr(report, "tables"):
        for row, table in zip(data["tables"], report.tables):
            row["ok"] = table.ok
    if getattr(report, "verification", None) is not None:
        data["verification"] = to_dict(report.verification)
    return data


def _plain_dict(items):
    return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in items}


def _status(ok: bool) -> str:
    return "ok" if ok else "DIFFERENT"


def _copy_text(report: CopyReport, verbosity: int) -> str:
    lines = [
        f"portadb copy: {report.source} -> {report.target}",
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




# -- verification -------------------------------------------------------------


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
class VerifyReport:
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
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

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
    def exit_code(self) -> int:
        """0 when source and target hold the same data, 1 otherwise."""
        return 0 if self.ok else 1


def _verify_summary(report: VerifyReport) -> str:
    rows = sum(t.source_rows or 0 for t in report.tables)
    if report.counts_only:
        how = "row counts only"
    elif report.sample is not None:
        how = f"{report.compared_rows:,} rows compared (sample {report.sample:g})"
    else:
        how = f"{report.compared_rows:,} rows compared"
    bad = sum(not t.ok for t in report.tables)
    verdict = "IDENTICAL" if report.ok else f"DIFFERENT ({bad} of {len(report.tables)} tables)"
    return (
        f"{verdict}: {rows:,} rows in {len(report.tables)} tables, {how};"
        f" {sum(s.ok for s in report.sequences)} of {len(report.sequences)} sequences past their keys;"
        f" {report.migrations_compared} migrations compared; {report.seconds:.1f} s"
    )


def _verify_text(report: VerifyReport, verbosity: int) -> str:
    lines = [f"portadb verify: {report.source} -> {report.target}", _verify_summary(report)]
    shown = report.tables if verbosity >= 2 else [t for t in report.tables if not t.ok]
    if shown:
        width = max(len(t.table) for t in shown)
        lines += ["", f"{'table':<{width}}  {'source':>10}  {'target':>10}  {'compared':>10}  status"]
        for t in shown:
            lines.append(
                f"{t.table:<{width}}  {_rows(t.source_rows):>10}  {_rows(t.target_rows):>10}"
                f"  {t.compared_rows:>10,}  {_status(t.ok)}"
            )
    for finding in report.findings:
        if verbosity >= 2 or finding.severity is not Severity.INFO:
            lines.append(f"{finding.severity.value}: {finding.message}")
    for t in report.tables:
        for d in t.differences:
            lines.append(f"  {t.table} pk={d.pk!r} {d.field}: source {d.source_value!r},"
                         f" target {d.target_value!r}")
    return "\n".join(lines) + "\n"


def _verify_markdown(report: VerifyReport) -> str:
    lines = [
        "## portadb verify",
        "",
        f"- **Source:** `{report.source}`",
        f"- **Target:** `{report.target}`",
        f"- **Result:** {_verify_summary(report)}",
        "",
        "| table | model | source rows | target rows | compared | checksum | status |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for t in report.tables:
        lines.append(
            f"| `{t.table}` | {t.model} | {_rows(t.source_rows)} | {_rows(t.target_rows)} |"
            f" {t.compared_rows:,} | `{t.source_checksum[:16]}` | {_status(t.ok)} |"
        )
    if report.findings:
        lines += ["", "### Findings", ""]
        lines += [f"- **{f.severity.value}** ({f.kind.value}): {f.message}" for f in report.findings]
    diffs = [(t.table, d) for t in report.tables for d in t.differences]
    if diffs:
        lines += ["", "### Differing values", "", "| table | pk | field | source | target |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{t}` | `{d.pk!r}` | {d.field} | `{d.source_value!r}` | `{d.target_value!r}` |"
                  for t, d in diffs]
    return "\n".join(lines) + "\n"


def _rows(n: int | None) -> str:
    return "absent" if n is None else f"{n:,}"


def junit(report) -> str:
    """JUnit XML for CI: one test case per table, failing with that table's findings."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites")
    for part in [report, getattr(report, "verification", None)]:
        if part is not None:
            suites.append(_junit_suite(part))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_suite(report):
    from xml.etree import ElementTree as ET

    by_table: dict[str | None, list[Finding]] = {}
    for f in report.findings:
        by_table.setdefault(f.table, []).append(f)
    cases = [(t.table, t.model, t.seconds) for t in report.tables]
    cases += [(name, "portadb", 0.0) for name in by_table if name not in {c[0] for c in cases}]
    suite = ET.Element("testsuite", name=f"portadb {report.kind}", tests=str(len(cases)),
                       time=f"{report.seconds:.3f}")
    failures = 0
    for name, model, seconds in cases:
        case = ET.SubElement(suite, "testcase", classname=model or "portadb",
                             name=name or report.kind, time=f"{seconds:.3f}")
        bad = [f for f in by_table.get(name, []) if f.severity is Severity.ERROR]
        if bad:
            failures += 1
            failure = ET.SubElement(case, "failure", type=bad[0].kind.value, message=bad[0].message)
            failure.text = "\n".join(f"{f.kind.value}: {f.message}" for f in bad)
    suite.set("failures", str(failures))
    return suite


def _copy_text_verified(report: CopyReport, verbosity: int) -> str:
    text = _copy_text(report, verbosity)
    return text if report.verification is None else text + _verify_text(report.verification, verbosity)


def _copy_markdown_verified(report: CopyReport) -> str:
    text = _copy_markdown(report)
    return text if report.verification is None else text + "\n" + _verify_markdown(report.verification)


_TEXT = {"copy": _copy_text_verified, "verify": _verify_text}
_MARKDOWN = {"copy": _copy_markdown_verified, "verify": _verify_markdown}
