"""SQLite -> PostgreSQL, the main job: every value of every row survives."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connections

import portadb
from portadb.models import project_models

from . import databases as db
from .zoo import models as m


@pytest.fixture
def copied(zoo_source, empty):
    target = empty("postgresql")
    report = portadb.copy(zoo_source, target)
    return zoo_source, target, report


def test_every_value_of_every_row_is_equal(copied):
    source, target, report = copied
    assert report.ok, portadb.render(report)
    before, after = db.snapshot(source), db.snapshot(target)
    assert before.keys() == after.keys()
    for table in before:
        assert after[table] == before[table], table
    assert sum(len(rows) for rows in before.values()) == report.source_rows > 200


def test_report_counts_every_table(copied):
    source, target, report = copied
    tables = {t.table: t for t in report.tables}
    for name in ("zoo_everything", "zoo_book_tags", "taggit_taggeditem", "django_content_type",
                 "auth_permission", "django_migrations", "zoo_cache", "zoo_pizzeria"):
        assert tables[name].source_rows == tables[name].target_rows > 0, name


def test_json_null_and_sql_null_stay_apart(copied):
    source, target, _ = copied
    def nulls(alias):
        rows = m.Everything.objects.using(alias).filter(json__isnull=True)
        return sorted(rows.values_list("slug", flat=True))
    assert nulls(target) == nulls(source)
    assert "empty" not in nulls(target)  # JSON null is not SQL NULL
    assert m.Everything.objects.using(target).get(slug="empty").json is None


def test_custom_field_database_values_are_copied_as_stored(copied):
    source, target, _ = copied
    columns = ["id", "tags", "price"]
    assert db.raw_snapshot(target, "zoo_everything", columns, "id") == \
        db.raw_snapshot(source, "zoo_everything", columns, "id")


def test_migrate_check_is_clean_and_history_equal(copied):
    source, target, _ = copied
    call_command("migrate", "--check", database=target, verbosity=0)  # SystemExit(1) if not

    def history(alias):
        return db.raw_snapshot(alias, "django_migrations", ["id", "app", "name"], "id")

    assert history(target) == history(source)


def test_new_rows_can_be_created_in_every_model(copied):
    _, target, _ = copied
    from .rows import create_one

    for model in project_models(target):
        if model._meta.auto_created or model._meta.db_table == "django_migrations":
            continue
        create_one(model, target)


def test_sequences_are_past_every_copied_key(copied):
    _, target, _ = copied
    with connections[target].cursor() as cursor:
        for model in project_models(target):
            pk = model._meta.pk
            if not pk.get_internal_type().endswith("AutoField"):
                continue
            table = model._meta.db_table
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk.column])
            (sequence,) = cursor.fetchone()
            cursor.execute(f"SELECT COALESCE(MAX({pk.column}), 0) FROM {table}")
            (highest,) = cursor.fetchone()
            cursor.execute("SELECT nextval(%s)", [sequence])
            assert cursor.fetchone()[0] > highest, table


def test_generic_foreign_keys_resolve(copied):
    source, target, _ = copied
    def targets(alias):
        return [(c.content_type.model, str(c.target)) for c in m.Comment.objects.using(alias).order_by("pk")]
    assert targets(target) == targets(source)


def test_unmanaged_model_is_reported_not_copied(copied):
    _, target, report = copied
    assert any("zoo.Legacy" in f.message for f in report.findings)
    assert "zoo_legacy" not in connections[target].introspection.table_names()


def test_command_prints_report_and_exits_zero(zoo_source, empty):
    target = empty("postgresql")
    out = io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}",
                 "--format=json", stdout=out)
    import json

    data = json.loads(out.getvalue())
    assert data["ok"] is True and data["schema_version"] == 1
    assert {t["table"] for t in data["tables"]} >= {"zoo_everything", "django_migrations"}
