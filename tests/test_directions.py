"""Every direction between SQLite, PostgreSQL and MySQL/MariaDB: every value survives.

One copy per direction (a module-scoped fixture); the tests then read both sides.
Server sources are built once per session (migrate + the zoo data) and only read:
portadb never writes to a source.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connections

import portadb
from portadb.models import project_models
from portadb.reports import FindingKind

from . import databases as db
from .backends import DIRECTIONS, VENDORS, backend_of, direction_id, target_of
from .rows import create_one
from .zoo import models as m

CHUNK = 2
LEFT_BEHIND = {"pgzoo_arrays", "pgzoo_ranges", "pgzoo_texts"}


@pytest.fixture(scope="session")
def server_source(django_db_blocker):
    """Return a function building (once per session) a zoo source on a server."""
    built: set[str] = set()

    def build(alias: str) -> str:
        db.require(alias)
        if alias not in built:
            with django_db_blocker.unblock():
                db.build_zoo(alias)
            built.add(alias)
        return alias

    return build


@pytest.fixture(scope="module", params=DIRECTIONS, ids=direction_id)
def copied(request, zoo_template, server_source, django_db_blocker):
    """``(source, target, report)`` after one copy of the zoo in one direction."""
    source, target = request.param
    with django_db_blocker.unblock():
        if backend_of(source).server:
            server_source(source)
        else:
            db.migrated_copy(zoo_template, source)
        db.require(target)
        db.recreate(target)
        # Small chunks: every table is read in several keyset steps (text, UUID, composite keys).
        report = portadb.copy(source, target, chunk_size=CHUNK)
    return source, target, report


def test_every_value_of_every_row_is_equal(copied):
    source, target, report = copied
    assert report.ok, portadb.render(report)
    before, after = db.snapshot(source), db.snapshot(target)
    assert before.keys() - after.keys() <= LEFT_BEHIND  # models only PostgreSQL can hold
    for table in before.keys() | after.keys():
        assert after.get(table, []) == before.get(table, []), table
    assert sum(len(rows) for rows in before.values()) == report.source_rows > 200


def test_untouched_copy_verifies_clean(copied):
    """No false alarm from floats, timestamps, decimals, JSON or collations, in any direction.

    Runs before the tests below that add rows to the target.
    """
    source, target, _ = copied
    report = portadb.verify(source, target, chunk_size=7)
    assert report.ok and not report.findings, portadb.render(report, verbosity=2)
    for t in report.tables:
        assert t.source_rows == t.target_rows == t.compared_rows, t.table
    assert report.sequences and report.migrations_compared > 20


def test_keys_were_read_in_several_chunks(copied):
    source, _, report = copied
    tables = {t.table: t.source_rows for t in report.tables}
    assert tables["zoo_code"] > CHUNK and tables["zoo_ticket"] >= CHUNK  # text and UUID keys
    assert tables["zoo_everything"] > 3 * CHUNK and tables["zoo_book_tags"] > 3 * CHUNK


def test_report_counts_every_table(copied):
    _, _, report = copied
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


def test_stored_json_documents_are_equal(copied):
    """Below the ORM: SQL NULL stays SQL NULL, every document parses to the same value."""
    source, target, _ = copied

    def documents(alias):
        rows = db.raw_snapshot(alias, "zoo_everything", ["slug", "json"], "id")
        return sorted((slug, None if text is None else json.loads(text)) for slug, text in rows)

    assert documents(target) == documents(source)
    assert ("nulls", None) in documents(target)


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


def test_generic_foreign_keys_resolve(copied):
    source, target, _ = copied

    def targets(alias):
        comments = m.Comment.objects.using(alias).order_by("pk")
        return [(c.content_type.model, str(c.target)) for c in comments]

    assert targets(target) == targets(source)


def test_unmanaged_model_is_reported_not_copied(copied):
    _, target, report = copied
    assert any("zoo.Legacy" in f.message for f in report.findings)
    assert "zoo_legacy" not in connections[target].introspection.table_names()


def test_models_only_postgresql_holds_are_reported_when_left_behind(copied):
    source, target, report = copied
    left = {f.model for f in report.findings if f.kind is FindingKind.VENDOR_ONLY_MODEL}
    if db.vendor_of(source) == "postgresql" and db.vendor_of(target) != "postgresql":
        assert left == {"pgzoo.Arrays", "pgzoo.Ranges", "pgzoo.Texts"}
        assert not LEFT_BEHIND & set(connections[target].introspection.table_names())
    else:
        assert left == set()


def test_new_rows_get_keys_past_the_copied_ones(copied):
    """Sequences / AUTO_INCREMENT are usable: a new row in every model, auto keys above the copied.

    Runs last for each direction: it adds rows to the target.
    """
    _, target, _ = copied
    for model in project_models(target):
        if model._meta.auto_created or model._meta.db_table == "django_migrations":
            continue
        pk = model._meta.pk
        highest = model._base_manager.using(target).order_by("-pk").values_list("pk", flat=True)
        highest = highest.first()
        obj = create_one(model, target)
        if pk.get_internal_type().endswith("AutoField") and highest is not None:
            assert obj.pk > highest, model._meta.label


@pytest.mark.parametrize("target_vendor", VENDORS)
def test_command_prints_report_and_exits_zero(zoo_source, empty, target_vendor):
    target = empty(target_of(target_vendor))
    out = io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}",
                 "--format=json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["ok"] is True and data["schema_version"] == 1
    assert {t["table"] for t in data["tables"]} >= {"zoo_everything", "django_migrations"}


@pytest.mark.parametrize("target_vendor", VENDORS)
def test_keys_all_below_one_leave_the_counter_at_its_start(zoo_source, empty, target_vendor):
    """PostgreSQL's setval refuses a value below the sequence's minimum: no key at all above zero."""
    m.SmallAuto.objects.using(zoo_source).all().delete()
    rows = [m.SmallAuto(id=-5, name="a"), m.SmallAuto(id=0, name="b")]
    m.SmallAuto.objects.using(zoo_source).bulk_create(rows)
    target = empty(target_of(target_vendor))
    report = portadb.copy(zoo_source, target)
    assert report.ok, portadb.render(report)
    assert sorted(m.SmallAuto.objects.using(target).values_list("id", "name")) == [(-5, "a"), (0, "b")]
    assert m.SmallAuto.objects.using(target).create(name="next").pk >= 1
