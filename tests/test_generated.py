"""GeneratedField columns are computed by the target, never written (Django 5.0+)."""

from __future__ import annotations

import django
import pytest
from django.apps.registry import Apps
from django.db import connections, models
from django.db.models import F

from portadb.backends import adapter_for
from portadb.convert import columns_for, convert_rows

from .backends import TARGETS, source_of

pytestmark = pytest.mark.skipif(django.VERSION < (5, 0), reason="GeneratedField is Django 5.0+")


def generated_model():
    meta = type("Meta", (), {"apps": Apps(), "app_label": "portadb_generated", "db_table": "gen_double"})
    return type("Double", (models.Model,), {
        "__module__": __name__,
        "Meta": meta,
        "a": models.IntegerField(),
        "twice": models.GeneratedField(expression=F("a") * 2, output_field=models.BigIntegerField(),
                                       db_persist=True),
    })


@pytest.mark.parametrize("target", TARGETS)
def test_generated_columns_are_computed_by_the_target(empty, target):
    Double = generated_model()
    target = empty(target)
    source = connections[source_of("sqlite")]
    columns = columns_for(Double, source, connections[target])
    assert [c.name for c in columns] == ["id", "a"]
    with connections[target].schema_editor() as editor:
        editor.create_model(Double)
    try:
        rows = convert_rows([(1, 21), (2, -4)], columns)
        adapter_for(connections[target]).write_rows("gen_double", [c.name for c in columns], rows)
        got = list(Double.objects.using(target).order_by("id").values_list("id", "a", "twice"))
        assert got == [(1, 21, 42), (2, -4, -8)]
    finally:
        with connections[target].schema_editor() as editor:
            editor.delete_model(Double)
