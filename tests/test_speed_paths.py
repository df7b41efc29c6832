"""The fast paths keep the copy exact: worker processes, binary COPY, keys built after the data."""

from __future__ import annotations

import pytest
from django.db import connections

import portadb

from . import databases as db


def test_two_jobs_copy_every_value(zoo_source, empty):
    target = empty("postgresql")
    report = portadb.copy(zoo_source, target, jobs=2, chunk_size=7)
    assert report.ok, portadb.render(report)
    before, after = db.snapshot(zoo_source), db.snapshot(target)
    for table in before:
        assert after[table] == before[table], table
    assert {t.table for t in report.tables if t.seconds > 0} >= {"zoo_everything", "auth_permission"}


def test_keys_and_unique_constraints_are_back_after_the_copy(zoo_source, empty):
    target = empty("postgresql")
    portadb.copy(zoo_source, target)
    with connections[target].cursor() as cursor:
        constraints = connections[target].introspection.get_constraints(cursor, "zoo_plainauto")
    assert any(c["primary_key"] for c in constraints.values())
    assert any(c["unique"] and c["columns"] == ["name"] for c in constraints.values())
    with pytest.raises(Exception, match="duplicate key"):
        with connections[target].cursor() as cursor:
            cursor.execute("INSERT INTO zoo_plainauto (id, name) VALUES (10, 'again')")
