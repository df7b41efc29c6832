"""Reports as JSON for CI: the dataclass fields as keys, enums as their values, plus ``ok``.

Each report kind has a JSON Schema shipped in the package
(``portadb/reports/schemas/<kind>.json``, :func:`json_schema`); the test
suite validates every JSON report it produces against it.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict
from functools import cache
from importlib import resources

#: The report kinds, each with its schema: ``report.kind`` -> file name.
KINDS = ("copy", "verify", "plan", "sync", "inspect", "error")


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


@cache
def json_schema(kind: str) -> dict:
    """The JSON Schema (draft 2020-12) of the JSON report of ``kind`` (``copy``, ``verify``, ...)."""
    if kind not in KINDS:
        raise ValueError(f"no report kind {kind!r}; the kinds are {', '.join(KINDS)}")
    text = resources.files(__package__).joinpath("schemas", f"{kind}.json").read_text(encoding="utf-8")
    return json.loads(text)


def _plain_dict(items):
    return {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in items}
