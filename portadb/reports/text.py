"""Reports as plain text for a terminal: ``-v 1`` a summary, ``-v 2`` a line per table and a dry run's DDL."""

from __future__ import annotations

from functools import singledispatch

from .errors import ErrorReport
from .findings import (
    megabytes,
    pk_list,
    readable_sql,
    rows,
    schema_line,
    status,
    sync_summary,
    text_lines,
    verify_summary,
    workers,
)
from .model import CopyReport, Inventory, PlanReport, VerifyReport
from .sync_report import SyncReport


@singledispatch
def render(report, verbosity: int = 1) -> str:
    raise TypeError(f"no text form for {type(report).__name__}")


@render.register
def _(report: CopyReport, verbosity: int = 1) -> str:
    lines = [
        f"portadb copy{' (resumed)' if report.resumed else ''}: {report.source} -> {report.target}",
        f"{'OK' if report.ok else 'FAILED'}: {report.target_rows:,} of {report.source_rows:,} rows"
        f" in {len(report.tables)} tables, {report.seconds:.1f} s, {workers(report.workers)};"
        f" {report.sequences_reset} sequences reset",
        schema_line(report.schema_path, report.schema_reason, report.removed_rows),
    ]
    if verbosity >= 2:
        lines += [f"  removed {rows:,} rows of {table} that migrations made" for table, rows
                  in report.removed_rows.items()]
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
                f"  {t.seconds:>7.2f}  {status(t.ok)}"
            )
    lines += text_lines(report.findings, verbosity)
    text = "\n".join(lines) + "\n"
    if report.verification is not None:
        text += "\n" + render(report.verification, verbosity)
    return text


@render.register
def _(report: VerifyReport, verbosity: int = 1) -> str:
    lines = [f"portadb verify: {report.source} -> {report.target}", verify_summary(report)]
    bad = report.differing_tables
    shown = report.tables if verbosity >= 2 else [t for t in report.tables if t.table in bad]
    if shown:
        width = max(len(t.table) for t in shown)
        lines += ["", f"{'table':<{width}}  {'source':>10}  {'target':>10}  {'compared':>10}  status"]
        for t in shown:
            lines.append(
                f"{t.table:<{width}}  {rows(t.source_rows):>10}  {rows(t.target_rows):>10}"
                f"  {t.compared_rows:>10,}  {status(t.table not in bad)}"
            )
    lines += text_lines(report.findings, verbosity)
    for t in report.tables:
        for d in t.differences:
            lines.append(f"  {t.table} pk={d.pk!r} {d.field}: source {d.source_value!r},"
                         f" target {d.target_value!r}")
    return "\n".join(lines) + "\n"


@render.register
def _(report: SyncReport, verbosity: int = 1) -> str:
    lines = [f"portadb sync{' --dry-run' if report.dry_run else ''}: {report.source} -> {report.target}",
             sync_summary(report)]
    if report.rejected_rows:
        lines.append(f"REJECTED: {report.rejected_rows:,} rows, written to {report.reject_file}")
    shown = report.tables if verbosity >= 2 else [t for t in report.tables if t.changed_rows or not t.ok]
    if shown:
        width = max(len(t.table) for t in shown)
        lines += ["", f"{'table':<{width}}  {'source':>10}  {'target':>10}  {'inserted':>8}  {'updated':>8}"
                      f"  {'deleted':>8}  status"]
        lines += [f"{t.table:<{width}}  {t.source_rows:>10,}  {t.target_rows:>10,}  {t.inserted:>8,}"
                  f"  {t.updated:>8,}  {t.deleted:>8,}  {status(report.dry_run or t.ok)}" for t in shown]
    lines += text_lines(report.findings, verbosity)
    return "\n".join(lines) + "\n"


@render.register
def _(report: PlanReport, verbosity: int = 1) -> str:
    inv = report.source_inventory
    verdict = "the copy would succeed" if report.ok else "the copy would STOP"
    lines = [
        f"portadb copy --dry-run: {report.source} -> {report.target}",
        f"{'OK' if report.ok else 'FINDINGS'}: {verdict}; nothing was written.",
        f"Source: {len(inv.tables)} tables, {inv.total_rows:,} rows{megabytes(inv.size)};"
        f" {inv.applied_migrations} migrations applied, {len(inv.pending_migrations)} pending.",
        f"Target: {report.target_state}.",
        schema_line(report.schema_path, report.schema_reason, would=True),
        f"Scan: {report.rows_scanned:,} rows in {report.scan_seconds:.1f} s, {workers(report.workers)};"
        f" {report.refused_rows:,} rows would be refused.",
        f"Estimated copy time: {report.estimated_seconds:.0f} s.",
    ]
    if report.values:
        lines += ["", "Values the target would refuse:"]
        for v in report.values:
            lines.append(f"  {v.model}.{v.field} [{v.kind.value}] {v.count}x"
                         f" (pk {pk_list(v.first_pks, v.count)}): {v.reason} (value {v.preview})")
    if report.raw_operations:
        lines += ["", "Operations the target's migrations would run that models cannot express:"]
        lines += [f"  {op}" for op in report.raw_operations]
    if report.schema_differences:
        lines += ["", "Target schema differs from the models:"]
        lines += [f"  {d}" for d in report.schema_differences]
    if verbosity >= 2:
        lines += ["", "Copy order:"]
        for t in report.tables:
            lines.append(f"  {t.table} ({t.model}): {t.rows:,} rows")
            lines += [f"    {c}" for c in t.conversions]
    if verbosity >= 2:
        lines += ["", "DDL:"] + [f"{readable_sql(s)};" for s in report.schema_steps + report.deferred_steps]
    lines += text_lines(report.findings, verbosity)
    return "\n".join(lines) + "\n"


@render.register
def _(inv: Inventory, verbosity: int = 1) -> str:
    lines = [
        f"portadb inspect: {inv.database}",
        f"{len(inv.tables)} tables, {inv.total_rows:,} rows{megabytes(inv.size)};"
        f" {inv.applied_migrations} migrations applied, {len(inv.pending_migrations)} pending.",
    ]
    if inv.tables:
        width = max(len(t.name) for t in inv.tables)
        lines += ["", f"{'table':<{width}}  {'rows':>10}  {'bytes':>12}  model"]
        for t in inv.tables:
            size = f"{t.size:,}" if t.size is not None else "-"
            lines.append(f"{t.name:<{width}}  {t.rows:>10,}  {size:>12}  {t.model or '(no model)'}")
    if inv.copy:
        lines.append(f"portadb journal: {inv.copy}" + ("; removed (--forget)." if inv.forgotten else
                     "; 'portadb inspect --forget' removes it (the project never reads it)."))
    if inv.change_log is not None:
        lines.append(f"portadb change log: the writes to {inv.change_log} tables (copy --track-changes)"
                     + ("; removed (--untrack)." if inv.untracked else
                        "; 'portadb inspect --untrack' removes its triggers and tables."))
    lines += [f"pending migration: {m}" for m in inv.pending_migrations]
    lines += [f"table no model owns: {t}" for t in inv.unowned_tables]
    lines += [f"unmanaged model: {m}" for m in inv.unmanaged_models]
    return "\n".join(lines) + "\n"


@render.register
def _(report: ErrorReport, verbosity: int = 1) -> str:
    return f"portadb {report.command}: ERROR: {report.message}\n"
