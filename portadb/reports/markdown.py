"""Reports as Markdown, for a ticket or a pull request."""

from __future__ import annotations

from functools import singledispatch

from .errors import ErrorReport
from .findings import (
    cell,
    markdown_lines,
    megabytes,
    readable_sql,
    rows,
    schema_line,
    status,
    sync_summary,
    verify_summary,
    workers,
)
from .model import CopyReport, Inventory, PlanReport, VerifyReport
from .sync_report import SyncReport


@singledispatch
def render(report) -> str:
    raise TypeError(f"no Markdown form for {type(report).__name__}")


@render.register
def _(report: CopyReport) -> str:
    lines = [
        "## portadb copy",
        "",
        f"- **Source:** `{report.source}`",
        f"- **Target:** `{report.target}`",
        f"- **Result:** {'OK' if report.ok else 'FAILED'}: {report.target_rows:,} of "
        f"{report.source_rows:,} rows in {len(report.tables)} tables, {report.seconds:.1f} s,"
        f" {workers(report.workers)}",
        f"- **Sequences reset:** {report.sequences_reset}",
        f"- **{_bold_label(schema_line(report.schema_path, report.schema_reason, report.removed_rows))}",
        f"- **Rejected rows:** {report.rejected_rows:,}"
        + (f" (in `{report.reject_file}`)" if report.reject_file else ""),
        "",
        "| table | model | source rows | target rows | rejected | seconds | status |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for t in report.tables:
        lines.append(
            f"| `{t.table}` | {t.model} | {t.source_rows:,} | {t.target_rows:,} | {t.rejected:,} |"
            f" {t.seconds:.2f} | {status(t.ok)} |"
        )
    lines += markdown_lines(report.findings)
    text = "\n".join(lines) + "\n"
    if report.verification is not None:
        text += "\n" + render(report.verification)
    return text


@render.register
def _(report: SyncReport) -> str:
    lines = [
        f"## portadb sync{' --dry-run' if report.dry_run else ''}",
        "",
        f"- **Source:** `{report.source}`",
        f"- **Target:** `{report.target}`",
        f"- **Result:** {sync_summary(report)}",
        f"- **Rejected rows:** {report.rejected_rows:,}"
        + (f" (in `{report.reject_file}`)" if report.reject_file else ""),
        "",
        "| table | model | source rows | target rows | inserted | updated | deleted | read back | status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for t in report.tables:
        lines.append(
            f"| `{t.table}` | {t.model} | {t.source_rows:,} | {t.target_rows:,} | {t.inserted:,} |"
            f" {t.updated:,} | {t.deleted:,} | {t.verified_rows:,} | {status(report.dry_run or t.ok)} |"
        )
    lines += markdown_lines(report.findings)
    return "\n".join(lines) + "\n"


@render.register
def _(report: VerifyReport) -> str:
    lines = [
        "## portadb verify",
        "",
        f"- **Source:** `{report.source}`",
        f"- **Target:** `{report.target}`",
        f"- **Result:** {verify_summary(report)}",
        "",
        "| table | model | source rows | target rows | compared | checksum | status |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    bad = report.differing_tables
    for t in report.tables:
        lines.append(
            f"| `{t.table}` | {t.model} | {rows(t.source_rows)} | {rows(t.target_rows)} |"
            f" {t.compared_rows:,} | `{t.source_checksum[:16]}` | {status(t.table not in bad)} |"
        )
    lines += markdown_lines(report.findings)
    diffs = [(t.table, d) for t in report.tables for d in t.differences]
    if diffs:
        lines += ["", "### Differing values", "", "| table | pk | field | source | target |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{t}` | `{d.pk!r}` | {d.field} | `{d.source_value!r}` | `{d.target_value!r}` |"
                  for t, d in diffs]
    return "\n".join(lines) + "\n"


@render.register
def _(report: PlanReport) -> str:
    inv = report.source_inventory
    lines = [
        "## portadb copy --dry-run",
        "",
        f"- **Source:** `{report.source}` ({len(inv.tables)} tables, {inv.total_rows:,} rows"
        f"{megabytes(inv.size)})",
        f"- **Target:** `{report.target}` ({report.target_state})",
        f"- **{_bold_label(schema_line(report.schema_path, report.schema_reason, would=True))}",
        f"- **Result:** {'OK: the copy would succeed' if report.ok else 'FINDINGS: the copy would stop'}",
        f"- **Scan:** {report.rows_scanned:,} rows in {report.scan_seconds:.1f} s,"
        f" {workers(report.workers)},"
        f" {report.refused_rows:,} rows refused",
        f"- **Estimated copy time:** {report.estimated_seconds:.0f} s",
    ]
    if report.values:
        lines += ["", "### Values the target would refuse", "",
                  "| model | field | kind | rows | first pks | reason | value |",
                  "|---|---|---|---:|---|---|---|"]
        for v in report.values:
            lines.append(f"| {v.model} | `{v.field}` | {v.kind.value} | {v.count} |"
                         f" {', '.join(map(repr, v.first_pks))} | {cell(v.reason)} | `{cell(v.preview)}` |")
    lines += ["", "### Copy order", "", "| table | model | rows | conversions |", "|---|---|---:|---|"]
    for t in report.tables:
        lines.append(f"| `{t.table}` | {t.model} | {t.rows:,} | {cell('; '.join(t.conversions))} |")
    if report.raw_operations:
        lines += ["", "### Operations the target's migrations would run that models cannot express", ""]
        lines += [f"- `{op}`" for op in report.raw_operations]
    if report.schema_differences:
        lines += ["", "### Target schema differences", ""]
        lines += [f"- {d}" for d in report.schema_differences]
    lines += ["", "### DDL", "", "```sql"] + [f"{readable_sql(s)};"
                                           for s in report.schema_steps + report.deferred_steps]
    lines += ["```"]
    lines += markdown_lines(report.findings)
    return "\n".join(lines) + "\n"


@render.register
def _(inv: Inventory) -> str:
    lines = [
        f"## portadb inspect: `{inv.database}`",
        "",
        f"{len(inv.tables)} tables, {inv.total_rows:,} rows{megabytes(inv.size)};"
        f" {inv.applied_migrations} migrations applied, {len(inv.pending_migrations)} pending.",
        "",
        "| table | rows | bytes | model |",
        "|---|---:|---:|---|",
    ]
    for t in inv.tables:
        size = f"{t.size:,}" if t.size is not None else "-"
        lines.append(f"| `{t.name}` | {t.rows:,} | {size} | {t.model or '(no model)'} |")
    if inv.copy:
        lines += ["", f"**portadb journal:** {inv.copy}" + (" (removed)" if inv.forgotten else "")]
    if inv.change_log is not None:
        lines += ["", f"**portadb change log:** the writes to {inv.change_log} tables"
                  + (" (removed)" if inv.untracked else "")]
    for title, items in (("Pending migrations", inv.pending_migrations),
                         ("Tables no model owns", inv.unowned_tables),
                         ("Unmanaged models", inv.unmanaged_models)):
        if items:
            lines += ["", f"### {title}", ""] + [f"- `{i}`" for i in items]
    return "\n".join(lines) + "\n"


@render.register
def _(report: ErrorReport) -> str:
    return f"## portadb {report.command}\n\n- **Error:** {report.message}\n"


def _bold_label(line: str) -> str:
    """``Label: text`` as ``Label:** text`` after a ``- **`` (a Markdown list item with a bold label)."""
    return line.replace(": ", ":** ", 1)
