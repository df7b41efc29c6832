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
    # Values the target would refuse, or that would change on the way
    # (portadb.checks); one per row, field and reason.
    TOO_LONG = "too_long"
    INTEGER_OUT_OF_RANGE = "integer_out_of_range"
    DECIMAL_OVERFLOW = "decimal_overflow"
    NUL_CHARACTER = "nul_character"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    IMPOSSIBLE_DATE = "impossible_date"
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
    #: A row refused because it refers to (or is part of) a refused row.
    DEPENDS_ON_REFUSED = "depends_on_refused"
    # Plan-level findings (the dry-run).
    UNHOLDABLE_FIELD = "unholdable_field"
    SCHEMA_DIFFERENCE = "schema_difference"
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


def render(report, fmt: str = "text", verbosity: int = 1) -> str:
    """``report`` as ``text``, ``json``, ``markdown`` or ``junit`` (JUnit XML)."""
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2, default=str) + "\n"
    if fmt == "junit":
        return junit(report)
    kind = getattr(report, "kind", "copy")
    if fmt == "markdown":
        return _MARKDOWN[kind](report)
    return _TEXT[kind](report, verbosity)


def to_dict(report) -> dict:
    """A JSON-ready dict: field names as keys, enums as their values, plus ``ok``."""
    data = asdict(report, dict_factory=_plain_dict)
    data["ok"] = report.ok
    for row, table in zip(data.get("tables", []), getattr(report, "tables", [])):
        if hasattr(table, "ok"):
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
        f"portadb copy{' (resumed)' if report.resumed else ''}: {report.source} -> {report.target}",
        f"{'OK' if report.ok else 'FAILED'}: {report.target_rows:,} of {report.source_rows:,} rows"
        f" in {len(report.tables)} tables, {report.seconds:.1f} s;"
        f" {report.sequences_reset} sequences reset",
    ]
    if report.rejected_rows:
        lines.append(f"REJECTED: {report.rejected_rows:,} rows, written to {report.reject_file}")
    shown = report.tables if verbosity >= 2 else [t for t in report.tables if not t.ok]
    if shown:
        width = max(len(t.table) for t in shown)
        lines.append("")
        lines.append(f"{'table':<{width}}  {'source':>10}  {'target':>10}  {'rejected':>8}"
                     f"  {'seconds':>7}  status")
        for t in shown:
            lines.append(
                f"{t.table:<{width}}  {t.source_rows:>10,}  {t.target_rows:>10,}  {t.rejected:>8,}"
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
        f"- **Rejected rows:** {report.rejected_rows:,}"
        + (f" (in `{report.reject_file}`)" if report.reject_file else ""),
        "",
        "| table | model | source rows | target rows | rejected | seconds | status |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for t in report.tables:
        lines.append(
            f"| `{t.table}` | {t.model} | {t.source_rows:,} | {t.target_rows:,} | {t.rejected:,} |"
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
    def exit_code(self) -> int:
        """0 when source and target hold the same data, 1 otherwise."""
        return 0 if self.ok else 1



# -- the dry-run ---------------------------------------------------------------


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


def _verify_summary(report: VerifyReport) -> str:
    rows = sum(t.source_rows or 0 for t in report.tables)
    if report.counts_only:
        how = "row counts only"
    elif report.sample is not None:
        how = f"{report.compared_rows:,} rows compared (sample {report.sample:g})"
    else:
        how = f"{report.compared_rows:,} rows compared"
    bad = _bad_tables(report)
    verdict = "IDENTICAL" if report.ok else f"DIFFERENT ({len(bad)} of {len(report.tables)} tables)"
    return (
        f"{verdict}: {rows:,} rows in {len(report.tables)} tables, {how};"
        f" {sum(s.ok for s in report.sequences)} of {len(report.sequences)} sequences past their keys;"
        f" {report.migrations_compared} migrations compared; {report.seconds:.1f} s"
    )


def _bad_tables(report: VerifyReport) -> set[str]:
    """Tables that differ, or whose sequence or migration rows are wrong."""
    return {t.table for t in report.tables if not t.ok} | {f.table for f in report.errors if f.table}


def _verify_text(report: VerifyReport, verbosity: int) -> str:
    lines = [f"portadb verify: {report.source} -> {report.target}", _verify_summary(report)]
    bad = _bad_tables(report)
    shown = report.tables if verbosity >= 2 else [t for t in report.tables if t.table in bad]
    if shown:
        width = max(len(t.table) for t in shown)
        lines += ["", f"{'table':<{width}}  {'source':>10}  {'target':>10}  {'compared':>10}  status"]
        for t in shown:
            lines.append(
                f"{t.table:<{width}}  {_rows(t.source_rows):>10}  {_rows(t.target_rows):>10}"
                f"  {t.compared_rows:>10,}  {_status(t.table not in bad)}"
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
    bad = _bad_tables(report)
    for t in report.tables:
        lines.append(
            f"| `{t.table}` | {t.model} | {_rows(t.source_rows)} | {_rows(t.target_rows)} |"
            f" {t.compared_rows:,} | `{t.source_checksum[:16]}` | {_status(t.table not in bad)} |"
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
    if report.verification is None:
        return text
    return text + "\n" + _verify_text(report.verification, verbosity)


def _copy_markdown_verified(report: CopyReport) -> str:
    text = _copy_markdown(report)
    return text if report.verification is None else text + "\n" + _verify_markdown(report.verification)




def _plan_text(report: PlanReport, verbosity: int) -> str:
    inv = report.source_inventory
    verdict = "the copy would succeed" if report.ok else "the copy would STOP"
    lines = [
        f"portadb copy --dry-run: {report.source} -> {report.target}",
        f"{'OK' if report.ok else 'FINDINGS'}: {verdict}; nothing was written.",
        f"Source: {len(inv.tables)} tables, {inv.total_rows:,} rows{_size(_inventory_size(inv))};"
        f" {inv.applied_migrations} migrations applied, {len(inv.pending_migrations)} pending.",
        f"Target: {report.target_state}.",
        f"Scan: {report.rows_scanned:,} rows in {report.scan_seconds:.1f} s;"
        f" {report.refused_rows:,} rows would be refused.",
        f"Estimated copy time: {report.estimated_seconds:.0f} s.",
    ]
    if report.values:
        lines += ["", "Values the target would refuse:"]
        for v in report.values:
            pks = ", ".join(map(repr, v.first_pks)) + (", ..." if v.count > len(v.first_pks) else "")
            lines.append(f"  {v.model}.{v.field} [{v.kind.value}] {v.count}x (pk {pks}):"
                         f" {v.reason} (value {v.preview})")
    if report.schema_differences:
        lines += ["", "Target schema differs from the models:"]
        lines += [f"  {d}" for d in report.schema_differences]
    if verbosity >= 2:
        lines += ["", "Copy order:"]
        for t in report.tables:
            lines.append(f"  {t.table} ({t.model}): {t.rows:,} rows")
            lines += [f"    {c}" for c in t.conversions]
    if verbosity >= 3:
        lines += ["", "DDL:"] + [f"{s};" for s in report.schema_steps + report.deferred_steps]
    for finding in report.findings:
        if verbosity >= 2 or finding.severity is not Severity.INFO:
            lines.append(f"{finding.severity.value}: {finding.message}")
    return "\n".join(lines) + "\n"


def _plan_markdown(report: PlanReport) -> str:
    inv = report.source_inventory
    lines = [
        "## portadb copy --dry-run",
        "",
        f"- **Source:** `{report.source}` ({len(inv.tables)} tables, {inv.total_rows:,} rows"
        f"{_size(_inventory_size(inv))})",
        f"- **Target:** `{report.target}` ({report.target_state})",
        f"- **Result:** {'OK: the copy would succeed' if report.ok else 'FINDINGS: the copy would stop'}",
        f"- **Scan:** {report.rows_scanned:,} rows in {report.scan_seconds:.1f} s,"
        f" {report.refused_rows:,} rows refused",
        f"- **Estimated copy time:** {report.estimated_seconds:.0f} s",
    ]
    if report.values:
        lines += ["", "### Values the target would refuse", "",
                  "| model | field | kind | rows | first pks | reason | value |",
                  "|---|---|---|---:|---|---|---|"]
        for v in report.values:
            lines.append(f"| {v.model} | `{v.field}` | {v.kind.value} | {v.count} |"
                         f" {', '.join(map(repr, v.first_pks))} | {_cell(v.reason)} | `{_cell(v.preview)}` |")
    lines += ["", "### Copy order", "", "| table | model | rows | conversions |", "|---|---|---:|---|"]
    for t in report.tables:
        lines.append(f"| `{t.table}` | {t.model} | {t.rows:,} | {_cell('; '.join(t.conversions))} |")
    if report.schema_differences:
        lines += ["", "### Target schema differences", ""]
        lines += [f"- {d}" for d in report.schema_differences]
    lines += ["", "### DDL", "", "```sql"] + [f"{s};" for s in report.schema_steps + report.deferred_steps]
    lines += ["```"]
    if report.findings:
        lines += ["", "### Findings", ""]
        lines += [f"- **{f.severity.value}** ({f.kind.value}): {f.message}" for f in report.findings]
    return "\n".join(lines) + "\n"


def _inspect_text(inv, verbosity: int) -> str:
    lines = [
        f"portadb inspect: {inv.database}",
        f"{len(inv.tables)} tables, {inv.total_rows:,} rows{_size(_inventory_size(inv))};"
        f" {inv.applied_migrations} migrations applied, {len(inv.pending_migrations)} pending.",
    ]
    if inv.tables:
        width = max(len(t.name) for t in inv.tables)
        lines += ["", f"{'table':<{width}}  {'rows':>10}  {'bytes':>12}  model"]
        for t in inv.tables:
            size = f"{t.size:,}" if t.size is not None else "-"
            lines.append(f"{t.name:<{width}}  {t.rows:>10,}  {size:>12}  {t.model or '(no model)'}")
    lines += [f"pending migration: {m}" for m in inv.pending_migrations]
    lines += [f"table no model owns: {t}" for t in inv.unowned_tables]
    lines += [f"unmanaged model: {m}" for m in inv.unmanaged_models]
    return "\n".join(lines) + "\n"


def _inspect_markdown(inv) -> str:
    lines = [
        f"## portadb inspect: `{inv.database}`",
        "",
        f"{len(inv.tables)} tables, {inv.total_rows:,} rows{_size(_inventory_size(inv))};"
        f" {inv.applied_migrations} migrations applied, {len(inv.pending_migrations)} pending.",
        "",
        "| table | rows | bytes | model |",
        "|---|---:|---:|---|",
    ]
    for t in inv.tables:
        size = f"{t.size:,}" if t.size is not None else "-"
        lines.append(f"| `{t.name}` | {t.rows:,} | {size} | {t.model or '(no model)'} |")
    for title, items in (("Pending migrations", inv.pending_migrations),
                         ("Tables no model owns", inv.unowned_tables),
                         ("Unmanaged models", inv.unmanaged_models)):
        if items:
            lines += ["", f"### {title}", ""] + [f"- `{i}`" for i in items]
    return "\n".join(lines) + "\n"


def _inventory_size(inv) -> int | None:
    sizes = [t.size for t in inv.tables if t.size is not None]
    return sum(sizes) if sizes else None


def _size(size: int | None) -> str:
    return f", {size / 1e6:.1f} MB" if size is not None else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_TEXT = {"copy": _copy_text_verified, "verify": _verify_text, "plan": _plan_text,
         "inspect": _inspect_text}
_MARKDOWN = {"copy": _copy_markdown_verified, "verify": _verify_markdown, "plan": _plan_markdown,
             "inspect": _inspect_markdown}
