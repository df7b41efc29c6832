"""Reports as JSON for CI: the dataclass fields as keys, enums as their values, plus ``ok``."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict


def render(report) -> str:
    return json.dumps(to_dict(report), indent=2, default=str) + "\n"


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
