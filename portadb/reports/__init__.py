"""Reports are data (:mod:`portadb.reports.model`); one module per format renders them.

Nothing else in portadb prints: a command's output is :func:`render` of its
report. Formats: ``text`` (:mod:`.text`), ``json`` (:mod:`.jsondata`),
``markdown`` (:mod:`.markdown`) and ``junit`` (:mod:`.junit`).
"""

from __future__ import annotations

from . import jsondata, junit, markdown, text
from .errors import ErrorReport
from .jsondata import json_schema, to_dict
from .model import (
    SCHEMA_VERSION,
    CopyReport,
    Finding,
    FindingKind,
    Inventory,
    PlannedTable,
    PlanReport,
    RowDifference,
    SequenceCheck,
    Severity,
    TableCheck,
    TableInfo,
    TableResult,
    ValueSummary,
    VerifyReport,
)
from .sync_report import SyncedTable, SyncReport

__all__ = [
    "FORMATS", "SCHEMA_VERSION", "CopyReport", "ErrorReport", "Finding", "FindingKind", "Inventory",
    "PlannedTable", "PlanReport", "RowDifference", "SequenceCheck", "Severity", "TableCheck", "TableInfo",
    "TableResult", "ValueSummary", "VerifyReport", "SyncReport", "SyncedTable", "json_schema", "render",
    "to_dict",
]

FORMATS = ("text", "json", "markdown", "junit")


def render(report, fmt: str = "text", verbosity: int = 1) -> str:
    """``report`` as ``text``, ``json``, ``markdown`` or ``junit`` (JUnit XML)."""
    if fmt == "text":
        return text.render(report, verbosity)
    if fmt == "markdown":
        return markdown.render(report)
    return {"json": jsondata.render, "junit": junit.render}[fmt](report)
