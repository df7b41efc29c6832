"""The findings block every renderer shows, and the figures several of them share."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Finding, Severity


def text_lines(findings: Sequence[Finding], verbosity: int) -> list[str]:
    """``severity: message`` per finding; informational ones from ``-v 2`` on."""
    return [f"{f.severity.value}: {f.message}" for f in findings
            if verbosity >= 2 or f.severity is not Severity.INFO]


def markdown_lines(findings: Sequence[Finding]) -> list[str]:
    """A ``### Findings`` section, or nothing when there are none."""
    if not findings:
        return []
    return ["", "### Findings", ""] + [f"- **{f.severity.value}** ({f.kind.value}): {f.message}"
                                        for f in findings]


def status(ok: bool) -> str:
    return "ok" if ok else "DIFFERENT"


def rows(n: int | None) -> str:
    """A row count, or ``absent`` for a table that does not exist on that side."""
    return "absent" if n is None else f"{n:,}"


def megabytes(size: int | None) -> str:
    return f", {size / 1e6:.1f} MB" if size is not None else ""


def pk_list(pks: Sequence, count: int) -> str:
    """The first primary keys, with ``...`` when there are more than shown."""
    return ", ".join(map(repr, pks)) + (", ..." if count > len(pks) else "")


def cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def verify_summary(report) -> str:
    """The one-line verdict of a :class:`~portadb.reports.VerifyReport`."""
    total = sum(t.source_rows or 0 for t in report.tables)
    if report.counts_only:
        how = "row counts only"
    elif report.sample is not None:
        how = f"{report.compared_rows:,} rows compared (sample {report.sample:g})"
    else:
        how = f"{report.compared_rows:,} rows compared"
    bad = report.differing_tables
    verdict = "IDENTICAL" if report.ok else f"DIFFERENT ({len(bad)} of {len(report.tables)} tables)"
    return (
        f"{verdict}: {total:,} rows in {len(report.tables)} tables, {how};"
        f" {sum(s.ok for s in report.sequences)} of {len(report.sequences)} sequences past their keys;"
        f" {report.migrations_compared} migrations compared;"
        f" {report.seconds:.1f} s, {workers(report.workers)}"
    )


def schema_line(path: str, reason: str, removed: dict[str, int] | None = None, would: bool = False) -> str:
    """How the target's schema is (or would be) built, and what migrate made that the copy removed."""
    verb = "would be built" if would else "built"
    how = "by the project's migrate on the target" if path == "migrate" else "from the models"
    line = f"Schema: {verb} {how} ({reason})"
    if removed:
        line += (f"; {sum(removed.values()):,} rows migrations made in {len(removed)} copied tables were"
                 " removed first")
    return line + "."


def readable_sql(statement: str, indent: str = "    ") -> str:
    """``CREATE TABLE t (a ..., b ...)`` with one column or constraint a line; other SQL as it is.

    Django writes a statement on one line; sqlparse's reindent pushes each
    column further right. Only the table's list is split, at its own commas
    (never inside parentheses, quotes or identifiers), so the SQL stays the same.
    """
    if not statement.lstrip().upper().startswith("CREATE TABLE"):
        return statement
    parts, depth, quote, start, opened = [], 0, "", 0, -1
    for i, ch in enumerate(statement):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
            if depth == 1 and opened < 0:
                opened = start = i + 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and opened >= 0:
                parts.append(statement[start:i])
                items = "".join(f"\n{indent}{p.strip()}," for p in parts).rstrip(",")
                return f"{statement[:opened].rstrip()}{items}\n){statement[i + 1:]}"
        elif ch == "," and depth == 1 and opened >= 0:
            parts.append(statement[start:i])
            start = i + 1
    return statement


def workers(n: int) -> str:
    """How many processes loaded the rows, in words."""
    return "1 worker" if n == 1 else f"{n} workers"


def sync_summary(report) -> str:
    """The one-line outcome of a sync (or what its dry run would do)."""
    total = sum(t.source_rows for t in report.tables)
    skipped = sum(t.skipped_rows for t in report.tables)
    unchanged = "".join(
        f", {n:,} {how}" for by, how in (("change log", "not in the change log"),
                                         ("fingerprints", "unchanged by their fingerprints"))
        if (n := sum(t.skipped_rows for t in report.tables if t.found_by == by)))
    where = (f"in {len(report.changed_tables)} of {len(report.tables)} tables"
             f" ({total - skipped:,} of {total:,} source rows compared{unchanged}), {report.seconds:.1f} s")
    if report.dry_run:
        return (f"{'OK' if report.ok else 'FINDINGS'}: the sync would insert {report.inserted:,},"
                f" update {report.updated:,} and delete {report.deleted:,} rows {where};"
                " nothing was written.")
    verdict = "OK" if report.ok else "FAILED"
    checked = "; every row written read back equal" if report.ok and report.changed_tables else ""
    return (f"{verdict}: {report.inserted:,} rows inserted, {report.updated:,} updated,"
            f" {report.deleted:,} deleted {where}{checked}")
