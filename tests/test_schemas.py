"""The JSON Schemas shipped in portadb/reports/schemas: they describe the reports exactly, and are used.

Every JSON report the suite renders is validated against them (tests/schemas.py,
installed by the conftest); these tests check that the check is real and that
the schemas keep up with the dataclasses they describe.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from jsonschema import ValidationError

import portadb
from portadb.reports import (
    CopyReport,
    ErrorReport,
    Finding,
    FindingKind,
    Inventory,
    PlannedTable,
    PlanReport,
    RowDifference,
    SequenceCheck,
    Severity,
    SyncedTable,
    SyncReport,
    TableCheck,
    TableInfo,
    TableResult,
    ValueSummary,
    VerifyReport,
    json_schema,
    jsondata,
)

from . import schemas

ROOT = Path(__file__).resolve().parent.parent

#: (dataclass, path to its object schema: kind, then keys; "[]" for a list's items).
DESCRIBED = [
    (CopyReport, ("copy",)),
    (TableResult, ("copy", "tables", "[]")),
    (Finding, ("copy", "$defs", "finding")),
    (VerifyReport, ("verify",)),
    (VerifyReport, ("copy", "$defs", "verify")),
    (TableCheck, ("verify", "tables", "[]")),
    (RowDifference, ("verify", "tables", "[]", "differences", "[]")),
    (SequenceCheck, ("verify", "sequences", "[]")),
    (PlanReport, ("plan",)),
    (PlannedTable, ("plan", "tables", "[]")),
    (ValueSummary, ("plan", "values", "[]")),
    (Inventory, ("inspect",)),
    (Inventory, ("plan", "$defs", "inventory")),
    (TableInfo, ("inspect", "tables", "[]")),
    (SyncReport, ("sync",)),
    (SyncedTable, ("sync", "tables", "[]")),
    (SequenceCheck, ("sync", "sequences", "[]")),
    (ErrorReport, ("error",)),
]


def _object(path: tuple[str, ...]) -> dict:
    node, rest = json_schema(path[0]), list(path[1:])
    while rest:
        step = rest.pop(0)
        if step == "$defs":
            node = node["$defs"][rest.pop(0)]
        elif step == "[]":
            node = node["items"]
        else:
            node = node["properties"][step]
    return node


@pytest.mark.parametrize("cls,path", DESCRIBED, ids=[f"{c.__name__}@{'/'.join(p)}" for c, p in DESCRIBED])
def test_each_schema_describes_exactly_the_fields(cls, path):
    node = _object(path)
    fields = {f.name for f in dataclasses.fields(cls)}
    # jsondata.to_dict adds ``ok`` to a report and to its table rows that have one;
    # the inventory inside a dry-run report is a plain dataclass dict, without it.
    if len(path) == 1 or path == ("copy", "$defs", "verify") or cls in (TableResult, TableCheck, SyncedTable):
        fields.add("ok")
    assert set(node["properties"]) == fields
    assert set(node["required"]) == fields


def test_finding_kinds_and_severities_are_the_closed_lists():
    for kind in ("copy", "verify", "plan"):
        finding = json_schema(kind)["$defs"]["finding"]
        assert finding == json_schema("copy")["$defs"]["finding"]  # one definition, repeated alike
        assert finding["properties"]["kind"]["enum"] == [k.value for k in FindingKind]
        assert finding["properties"]["severity"]["enum"] == [s.value for s in Severity]
    assert json_schema("plan")["properties"]["values"]["items"]["properties"]["kind"]["enum"] == \
        [k.value for k in FindingKind]


def test_the_copy_schema_embeds_the_verify_schema_alike():
    embedded, verify = json_schema("copy")["$defs"]["verify"], json_schema("verify")
    assert embedded["properties"] == verify["properties"] and embedded["required"] == verify["required"]


def test_the_schemas_are_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'portadb = ["py.typed", "reports/schemas/*.json"]' in pyproject
    shipped = sorted(p.stem for p in (ROOT / "portadb" / "reports" / "schemas").glob("*.json"))
    assert shipped == sorted(jsondata.KINDS)
    with pytest.raises(ValueError, match="no report kind"):
        json_schema("nope")


def test_every_json_report_of_the_suite_is_validated():
    """The conftest's hook is in place, and a report that breaks its schema fails the test that renders it."""
    assert jsondata.render is schemas.checked_render
    before = schemas.validated["count"]
    portadb.render(ErrorReport(command="copy", error="EndpointError", message="No."), "json")
    assert schemas.validated["count"] == before + 1

    broken = CopyReport(source="a", target="b", tables=[TableResult("t", "app.M", -1, 0, 0.0)])
    with pytest.raises(ValidationError, match="-1 is less than the minimum of 0"):
        portadb.render(broken, "json")
    unknown_key = ErrorReport(command="copy", error="EndpointError", message="No.")
    unknown_key.extra = 1  # not a field: asdict leaves it out, so the report stays valid
    portadb.render(unknown_key, "json")
    with pytest.raises(ValidationError, match="Additional properties are not allowed"):
        schemas.validate({**jsondata.to_dict(unknown_key), "extra": 1})
