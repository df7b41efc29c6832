"""Reports as JUnit XML for CI: one test case per table, failing with that table's findings."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from .model import Finding, Severity


def render(report) -> str:
    suites = ET.Element("testsuites")
    for part in [report, getattr(report, "verification", None)]:
        if part is not None:
            suites.append(_suite(part))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _suite(report) -> ET.Element:
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
