"""Reports as JUnit XML for CI: one test case per table, failing with that table's findings.

Every report kind has a form: a copy, a verification, a sync, a dry run (a
table fails with the values the target would refuse), an inventory (one passing
case per table) and an error (one case that errored with the sentence).
"""

from __future__ import annotations

from functools import singledispatch
from xml.etree import ElementTree as ET

from .errors import ErrorReport
from .model import CopyReport, Finding, Inventory, PlanReport, Severity, VerifyReport
from .sync_report import SyncReport


def render(report) -> str:
    suites = ET.Element("testsuites")
    for part in [report, getattr(report, "verification", None)]:
        if part is not None:
            suites.append(_suite(part))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


@singledispatch
def _suite(report) -> ET.Element:
    raise TypeError(f"no JUnit form for {type(report).__name__}")


@_suite.register
def _(report: CopyReport) -> ET.Element:
    return _findings_suite(report, [(t.table, t.model, t.seconds) for t in report.tables])


@_suite.register
def _(report: VerifyReport) -> ET.Element:
    return _findings_suite(report, [(t.table, t.model, t.seconds) for t in report.tables])


@_suite.register
def _(report: SyncReport) -> ET.Element:
    counts = {t.table: [f"count_mismatch: {t.table}: {t.source_rows} rows on the source, {t.target_rows}"
                        " on the target after the sync"] for t in report.tables
              if not report.dry_run and t.source_rows != t.target_rows + t.rejected}
    name = "portadb sync --dry-run" if report.dry_run else "portadb sync"
    return _findings_suite(report, [(t.table, t.model, t.seconds) for t in report.tables], counts, name=name)


@_suite.register
def _(report: PlanReport) -> ET.Element:
    refused: dict[str, list[str]] = {}
    for v in report.values:
        refused.setdefault(v.table, []).append(
            f"{v.kind.value}: {v.model}.{v.field}: {v.count} rows, the first {v.first_pks!r}: {v.reason}")
    return _findings_suite(report, [(t.table, t.model, 0.0) for t in report.tables], refused,
                           seconds=report.scan_seconds, name="portadb copy --dry-run")


@_suite.register
def _(inv: Inventory) -> ET.Element:
    suite = ET.Element("testsuite", name="portadb inspect", tests=str(len(inv.tables)), failures="0",
                       time="0.000")
    for t in inv.tables:
        ET.SubElement(suite, "testcase", classname=t.model or "portadb", name=t.name, time="0.000")
    return suite


@_suite.register
def _(report: ErrorReport) -> ET.Element:
    suite = ET.Element("testsuite", name=f"portadb {report.command}", tests="1", failures="0",
                       errors="1", time="0.000")
    case = ET.SubElement(suite, "testcase", classname="portadb", name=report.command, time="0.000")
    ET.SubElement(case, "error", type=report.error, message=report.message).text = report.message
    return suite


def _findings_suite(report, cases: list[tuple[str, str, float]], refused: dict[str, list[str]] | None = None,
                    *, seconds: float | None = None, name: str | None = None) -> ET.Element:
    """A case per table, failing with its error findings (and ``refused`` lines); one per other place."""
    refused = refused or {}
    by_table: dict[str | None, list[Finding]] = {}
    for f in report.findings:
        by_table.setdefault(f.table, []).append(f)
    known = {c[0] for c in cases}
    cases = cases + [(table, "portadb", 0.0) for table in by_table if table not in known]
    suite = ET.Element("testsuite", name=name or f"portadb {report.kind}", tests=str(len(cases)),
                       time=f"{report.seconds if seconds is None else seconds:.3f}")
    failures = 0
    for table, model, took in cases:
        case = ET.SubElement(suite, "testcase", classname=model or "portadb",
                             name=table or report.kind, time=f"{took:.3f}")
        bad = [f"{f.kind.value}: {f.message}" for f in by_table.get(table, [])
               if f.severity is Severity.ERROR]
        bad += refused.get(table, [])
        if bad:
            failures += 1
            failure = ET.SubElement(case, "failure", type=bad[0].split(":")[0], message=bad[0])
            failure.text = "\n".join(bad)
    suite.set("failures", str(failures))
    return suite
