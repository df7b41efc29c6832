"""What a verification found, as findings: one per table difference, sequence or migration."""

from __future__ import annotations

from django.db.migrations.recorder import MigrationRecorder

from ..reports.findings import pk_list
from ..reports.model import Finding, FindingKind, Severity, TableCheck, VerifyReport


def findings(report: VerifyReport) -> list[Finding]:
    """The errors of ``report`` (tables that differ, sequences behind their keys, migrations), and a
    warning per counter behind the source's."""
    found = []
    for t in report.tables:
        found += _table_findings(t, report)
    for s in report.sequences:
        if not s.ok:
            found.append(_error(FindingKind.SEQUENCE_BEHIND, s.problem(), table=s.table, field=s.column))
        elif not s.follows_source:
            found.append(Finding(FindingKind.COUNTER_NOT_FOLLOWED, Severity.WARNING, s.problem(),
                                 table=s.table, field=s.column))
    table = MigrationRecorder.Migration._meta.db_table
    for side, names in (("target", report.migrations_missing), ("source", report.migrations_extra)):
        if names:
            found.append(_error(FindingKind.MIGRATIONS_DIFFERENT,
                                f"{table}: {len(names)} applied migrations missing on the {side}: "
                                f"{', '.join(names)}.", table=table, model="migrations.Migration"))
    return found


def _table_findings(t: TableCheck, report: VerifyReport) -> list[Finding]:
    where = {"table": t.table, "model": t.model}
    if t.source_rows is None or t.target_rows is None:
        side = " and ".join(s for s, n in (("source", t.source_rows), ("target", t.target_rows)) if n is None)
        return [_error(FindingKind.TABLE_MISSING, f"{t.table} ({t.model}) does not exist on the {side}.",
                       **where)]
    found = []
    if t.source_rows != t.target_rows:
        found.append(_error(FindingKind.COUNT_MISMATCH, f"{t.table}: {_count(t.source_rows)} on the "
                            f"source, {t.target_rows:,} on the target.", **where))
    if t.missing_count:
        pks = pk_list(t.missing_pks, t.missing_count)
        found.append(_error(FindingKind.ROW_MISSING, f"{t.table}: {_count(t.missing_count)} missing on "
                            f"the target, pk {pks}.", pk=t.missing_pks[0], **where))
    if t.extra_count:
        found.append(_error(FindingKind.ROW_EXTRA, f"{t.table}: {_count(t.extra_count)} on the target "
                            f"only, pk {pk_list(t.extra_pks, t.extra_count)}.", pk=t.extra_pks[0], **where))
    if t.different_rows:
        d = t.differences[0]
        found.append(_error(FindingKind.VALUE_DIFFERENT, f"{t.table}: {_count(t.different_rows)} differ"
                            f"{'s' if t.different_rows == 1 else ''}, "
                            f"first pk {d.pk!r} field {d.field}: source {d.source_value!r}, "
                            f"target {d.target_value!r}.", pk=d.pk, field=d.field, **where))
    return found


def _error(kind: FindingKind, message: str, **where) -> Finding:
    return Finding(kind, Severity.ERROR, message, **where)


def _count(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")
