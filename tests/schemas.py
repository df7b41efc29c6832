"""Every JSON report the tests produce is checked against its shipped JSON Schema.

:func:`checked_render` wraps :func:`portadb.reports.jsondata.render`: the
conftest installs it for every test, so each JSON report rendered in the test
process (``portadb.render(report, "json")``, ``call_command(... "--format=json")``)
is validated as it is made; :mod:`tests.processes` validates what a child
process wrote. Validation is stricter than the shipped schemas: an object may
hold no key its schema does not describe (consumers may meet new keys; these
tests may not).
"""

from __future__ import annotations

import copy
import json
from functools import cache

from jsonschema import Draft202012Validator

from portadb.reports import json_schema, jsondata

#: How many JSON reports were validated in this process (a test can see the check ran).
validated = {"count": 0}


def strict(schema):
    """``schema`` with ``additionalProperties: false`` on every object that lists its properties."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = strict(copy.deepcopy(json_schema(kind)))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate(data: dict | str) -> dict:
    """Raise ``jsonschema.ValidationError`` unless ``data`` (a JSON report) matches its kind's schema."""
    if isinstance(data, str):
        data = json.loads(data)
    validator(data["kind"]).validate(data)
    validated["count"] += 1
    return data


_render = jsondata.render


def checked_render(report) -> str:
    text = _render(report)
    validate(text)
    return text
