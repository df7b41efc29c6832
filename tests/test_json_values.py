"""JSON at the edges: what every target takes copies exactly and verifies IDENTICAL; what one
target refuses is named with that target's own reason, before anything is written."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import TextField
from django.db.models.functions import Cast

import portadb
from portadb.reports import FindingKind as K

from . import databases as db
from .backends import SERVER_TARGETS, TARGETS, direction_id, source_of, target_of
from .zoo import models as m

#: JSON every backend stores: an integer longer than Python reads by default, numbers beyond
#: a double (``jsonb`` writes ``1e400`` as its 401 digits), 30 levels of nesting.
TAKEN = ["[" + "1" * 5000 + "]", '{"big": 1e400, "whole": -2.5E+401, "small": 2.5e-300}',
         "[" * 30 + '"deep"' + "]" * 30]

#: (JSON, {vendor: words of the reason}) -- what a target refuses, and why.
REFUSED = [
    ("[" * 40 + "]" * 40, {"mysql": "nested 31 levels at most"}),
    ("[" * 1500 + "]" * 1500, {"mysql": "nests 1,500 levels deep", "postgresql": "900 levels at most"}),
    ('{"n": [1e200000]}', {"postgresql": "200,001 digits before the decimal point"}),
    ("[0.5e-16383]", {"postgresql": "16,384 digits after the decimal point"}),
]


def _set_json(alias: str, texts: list[str]) -> list[int]:
    """Put ``texts`` into the first rows of the SQLite zoo's ``Everything``; their keys."""
    pks = list(m.Everything.objects.using(alias).order_by("pk").values_list("pk", flat=True)[:len(texts)])
    with sqlite3.connect(settings.DATABASES[alias]["NAME"]) as conn:
        conn.executemany("UPDATE zoo_everything SET json = ? WHERE id = ?", zip(texts, pks))
    return pks


def _stored(alias: str, pks: list[int]) -> dict:
    """The stored JSON of ``pks``, parsed with every number exact."""
    rows = (m.Everything.objects.using(alias).filter(pk__in=pks)
            .annotate(stored=Cast("json", TextField())).values_list("pk", "stored"))
    return {pk: json.loads(text, parse_float=Decimal, parse_int=Decimal) for pk, text in rows}


@pytest.mark.parametrize("target", [pytest.param(t, id=direction_id((source_of("sqlite"), t)))
                                    for t in TARGETS])
def test_json_every_target_takes_copies_exactly(zoo_source, empty, target):
    pks = _set_json(zoo_source, TAKEN)
    target = empty(target)
    report = portadb.copy(zoo_source, target)
    assert report.ok, portadb.render(report)
    assert _stored(target, pks) == _stored(zoo_source, pks)
    checked = portadb.verify(zoo_source, target)
    assert checked.ok and checked.exit_code == 0, portadb.render(checked, verbosity=2)


@pytest.mark.parametrize("target", [pytest.param(t, id=direction_id((source_of("sqlite"), t)))
                                    for t in SERVER_TARGETS])
def test_json_a_target_refuses_is_named_with_its_reason(zoo_source, empty, target, tmp_path):
    vendor = db.vendor_of(target)
    pks = _set_json(zoo_source, [text for text, _ in REFUSED])
    expected = {pk: why[vendor] for pk, (_, why) in zip(pks, REFUSED) if vendor in why}
    target = empty(target)
    planned = portadb.plan(zoo_source, target)
    assert {(v.table, v.kind) for v in planned.values} == {("zoo_everything", K.INVALID_JSON)}
    assert set(planned.values[0].first_pks) == set(expected), portadb.render(planned)

    path = tmp_path / "rejects.jsonl"
    report = portadb.copy(zoo_source, target, on_error="reject", reject_file=str(path))
    with open(path, encoding="utf-8") as fh:
        found = {line["pk"]: line["reason"] for line in map(json.loads, fh)}
    assert set(found) == set(expected)
    for pk, words in expected.items():
        assert words in found[pk], found[pk]
    assert report.ok and _stored(target, pks) == _stored(zoo_source, sorted(set(pks) - set(expected)))


WIDE = "[" + ", ".join(['{"a": [1, 2]}'] * 40) + "]"  # 80 brackets, 3 levels


@pytest.mark.parametrize("source, target, values, flagged", [
    ("sqlite", "mysql", [WIDE, WIDE, '["' + "[" * 40 + '"]'], []),  # brackets in a string: no nesting
    ("sqlite", "mysql", [WIDE, "[" * 32 + "]" * 32, WIDE], [1]),
    ("sqlite", "postgresql", ['{"sku": "E1234", "n": 1e300}', '{"code": "e99999"}'], []),  # in a string
    ("sqlite", "postgresql", ['{"sku": "E1234"}', "[1e200000]", "[1E-17000]"], [1, 2]),
    ("sqlite", "postgresql", ["[" + "1" * 20000 + "]", "[0." + "1" * 20000 + "]"], [1]),
    ("postgresql", "sqlite", [WIDE, "[" * 1000 + "]" * 1000], [1]),  # jsonb holds it; portadb checks 900
    ("postgresql", "mysql", [WIDE, "[" * 40 + "]" * 40], [1]),
])
def test_json_chunks_are_flagged_exactly_where_a_value_is_refused(source, target, values, flagged):
    """The chunk-wide fast path and the value-by-value check agree."""
    from django.db import connections

    from portadb.backends import adapter_for
    from portadb.checks import column_checks

    field = m.Everything._meta.get_field("json")
    checks = column_checks(field, adapter_for(connections[source_of(source)]),
                           adapter_for(connections[target_of(target)]))
    assert sorted({i for check in checks for i, *_ in check(values)}) == flagged
