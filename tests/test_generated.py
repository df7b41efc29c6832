"""GeneratedField columns are computed by the target, never written (Django 5.0+), and verify
tells their values apart from the copied ones."""

from __future__ import annotations

import django
import pytest
from django.apps.registry import Apps
from django.db import connections, models
from django.db.models import F
from django.db.models.functions import Lower

import portadb
from portadb.backends import adapter_for
from portadb.convert import columns_for, convert_rows
from portadb.endpoints import open_endpoints
from portadb.reports import FindingKind, Severity
from portadb.verify import verify_endpoints

from .backends import TARGETS, backend_of, source_of

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


def lowered_model():
    meta = type("Meta", (), {"apps": Apps(), "app_label": "portadb_generated", "db_table": "gen_lowered"})
    return type("Lowered", (models.Model,), {
        "__module__": __name__,
        "Meta": meta,
        "name": models.CharField(max_length=20),
        "lowered": models.GeneratedField(expression=Lower("name"), db_persist=True,
                                         output_field=models.CharField(max_length=20)),
    })


@pytest.fixture
def lowered_on_both(empty):
    """A function: source and target each holding ``Lowered`` with the given names (id from 1)."""
    made = []

    def make(target: str, source_names: list[str], target_names: list[str]):
        Lowered = lowered_model()
        pair = (source_of("sqlite"), empty(target))
        for alias, names in zip(pair, (source_names, target_names)):
            with connections[alias].schema_editor() as editor:
                editor.create_model(Lowered)
            made.append(alias)
            Lowered.objects.using(alias).bulk_create(
                Lowered(id=i, name=name) for i, name in enumerate(names, 1))
            adapter_for(connections[alias]).reset_sequences([Lowered])
        return Lowered, pair

    yield make
    for alias in made:
        with connections[alias].schema_editor() as editor:
            editor.delete_model(lowered_model())


@pytest.mark.parametrize("target", [t for t in TARGETS if backend_of(t).vendor != "sqlite"])
def test_verify_tells_values_the_target_computes_apart_from_copied_ones(lowered_on_both, target):
    """SQLite's lower() changes ASCII letters only; PostgreSQL's and MariaDB's change Ω too. The
    copied names are equal: identical, with a warning naming the generated column's values."""
    Lowered, (source, target) = lowered_on_both(target, ["ABC", "ΩMEGA"], ["ABC", "ΩMEGA"])
    src, tgt = open_endpoints(source, target, target_must_exist=True)
    report = verify_endpoints(src, tgt, [Lowered])

    assert report.tables[0].ok and report.tables[0].table == "gen_lowered", portadb.render(report)
    assert not [f for f in report.findings if f.kind == FindingKind.VALUE_DIFFERENT]
    [found] = [f for f in report.findings if f.kind == FindingKind.GENERATED_DIFFERENT]
    assert found.severity == Severity.WARNING and found.table == "gen_lowered"
    assert "1 row differs in lowered" in found.message
    assert "source 'Ωmega', target 'ωmega'" in found.message


@pytest.mark.parametrize("target", [t for t in TARGETS if backend_of(t).vendor != "sqlite"])
def test_a_copied_value_that_differs_is_still_a_difference(lowered_on_both, target):
    Lowered, (source, target) = lowered_on_both(target, ["ABC"], ["ABD"])
    src, tgt = open_endpoints(source, target, target_must_exist=True)
    report = verify_endpoints(src, tgt, [Lowered])

    assert not report.tables[0].ok
    [difference] = report.tables[0].differences
    assert (difference.field, difference.source_value, difference.target_value) == ("name", "ABC", "ABD")


@pytest.mark.parametrize("target", TARGETS)
def test_a_target_built_by_the_models_shows_no_difference_in_generated_columns(empty, target):
    """Django creates a generated column without NOT NULL: the dry run's diff of a non-empty
    target against the models named every such column (``NULL on the target``)."""
    from portadb.dryrun import schema_differences

    Lowered = lowered_model()
    target = empty(target)
    with connections[target].schema_editor() as editor:
        editor.create_model(Lowered)
    try:
        assert schema_differences(connections[target], [Lowered]) == []
    finally:
        with connections[target].schema_editor() as editor:
            editor.delete_model(Lowered)
