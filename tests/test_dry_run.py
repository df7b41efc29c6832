"""``copy --dry-run`` writes nothing and says what a copy would do; ``inspect`` shows the inventory."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

import portadb
from portadb.reports import FindingKind as K

from . import databases as db
from .backends import SERVER_TARGETS, direction_id, source_of, target_of
from .baddata import spoil

#: From the SQLite zoo to each server.
TARGETS = [pytest.param(t, id=direction_id((source_of("sqlite"), t))) for t in SERVER_TARGETS]
POSTGRESQL, MYSQL = target_of("postgresql"), target_of("mysql")


def fingerprint(alias: str) -> dict:
    """Schema and every row of every table of ``alias`` (and, for SQLite, the file's bytes)."""
    conn = connections[alias]
    print_ = {}
    if conn.vendor == "sqlite":  # every byte of the file: schema and rows, and when it changed
        conn.close()
        name = settings.DATABASES[alias]["NAME"]
        with open(name, "rb") as fh:
            return {"file": (hashlib.sha256(fh.read()).hexdigest(), os.stat(name).st_mtime_ns)}
    q = conn.ops.quote_name
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            columns = conn.introspection.get_table_description(cursor, table)
            constraints = conn.introspection.get_constraints(cursor, table)
            cursor.execute(f"SELECT * FROM {q(table)}")
            rows = sorted(map(repr, cursor.fetchall()))
            print_[table] = (
                [(c.name, c.type_code, c.null_ok, c.default) for c in columns],
                sorted((name, repr(sorted(c.items()))) for name, c in constraints.items()),
                rows,
            )
    conn.close()
    return print_


@pytest.mark.parametrize("target", TARGETS)
def test_dry_run_changes_neither_database(zoo_source, empty, target, tmp_path):
    spoil(zoo_source)
    target = empty(target)
    before = fingerprint(zoo_source), fingerprint(target)
    report = portadb.plan(zoo_source, target)
    assert report.schema_steps and report.refused_rows > 0  # it did look at everything
    assert (fingerprint(zoo_source), fingerprint(target)) == before

    # Again with a target that already holds the project (and --replace).
    portadb.copy(zoo_source, target, on_error="reject", reject_file=str(tmp_path / "r.jsonl"))
    before = fingerprint(zoo_source), fingerprint(target)
    assert len(before[1]) > 20
    report = portadb.plan(zoo_source, target, replace=True)
    assert report.schema_steps[0].startswith("-- drop the")
    assert (fingerprint(zoo_source), fingerprint(target)) == before


def test_clean_source_would_copy_and_report_says_what_happens(zoo_source, empty):
    target = empty(MYSQL)
    report = portadb.plan(zoo_source, target)
    assert report.ok and report.exit_code == 0 and report.values == []
    assert report.target_state == "empty" and report.schema_differences == []
    assert report.schema_path == "models" and "no migration runs SQL of its own" in report.schema_reason
    assert report.rows_scanned == report.source_inventory.total_rows - _unplanned_rows(report)
    assert [t.table for t in report.tables][:2] == ["django_content_type", "auth_permission"]
    everything = next(t for t in report.tables if t.table == "zoo_everything")
    assert any(c.startswith("json: JSON text as stored") for c in everything.conversions)
    assert all("identity" not in c for c in everything.conversions)
    creates = [s for s in report.schema_steps if "CREATE TABLE `zoo_everything`" in s]
    assert len(creates) == 1 and "\n" not in creates[0]  # as the database gets it; renderers lay it out
    assert "everything_slug_email" in creates[0]
    assert any(s.startswith("CREATE INDEX") and "zoo_everything" in s for s in report.deferred_steps)
    assert any("FOREIGN KEY" in s and "zoo_book" in s for s in report.deferred_steps)
    assert any(f.kind is K.UNMANAGED_MODEL for f in report.findings)
    assert report.estimated_seconds >= 0


def test_a_target_that_migrate_builds_shows_its_migrations(zoo_source, empty):
    """pgzoo's migration creates an extension and a collation: the target's own migrate builds it."""
    report = portadb.plan(zoo_source, empty(POSTGRESQL))
    assert report.ok and report.schema_path == "migrate"
    assert "pgzoo.Arrays" in report.schema_reason
    assert [op.split(":")[0] for op in report.raw_operations] == ["pgzoo.0001_initial"] * 2
    assert any(s.startswith("-- migrate zoo.0001_initial: ") and "Create model Everything" in s
               for s in report.schema_steps)
    assert any(f.kind is K.VENDOR_DEPENDENT_MODEL and f.model == "pgzoo.Texts" for f in report.findings)
    text = portadb.render(report)
    assert "Schema: would be built by the project's migrate on the target" in text


def _unplanned_rows(report) -> int:
    planned = {t.table for t in report.tables}
    return sum(t.rows for t in report.source_inventory.tables if t.name not in planned)


def test_non_empty_target_is_diffed_against_the_models(zoo_source, empty):
    target = empty(POSTGRESQL)
    portadb.copy(zoo_source, target)
    with connections[target].cursor() as cursor:
        cursor.execute('ALTER TABLE "zoo_tag" ADD COLUMN "extra" integer')
        cursor.execute('ALTER TABLE "zoo_tag" ALTER COLUMN "name" DROP NOT NULL')
        cursor.execute('ALTER TABLE "zoo_smallauto" DROP COLUMN "name"')
    connections[target].close()
    report = portadb.plan(zoo_source, target)
    assert report.schema_differences == [
        "zoo_smallauto.name: column missing on the target",
        "zoo_tag.extra: column on the target that no field describes",
        "zoo_tag.name: NULL on the target, the model says NOT NULL",
    ]
    assert "of them this project's" in report.target_state
    assert any(f.kind is K.PRECONDITION and "--replace" in f.message for f in report.findings)
    assert report.exit_code == 1


def test_fields_the_target_cannot_hold(zoo_source, empty):
    report = portadb.plan(zoo_source, empty(MYSQL))
    assert [f for f in report.findings if f.kind is K.UNHOLDABLE_FIELD] == []

    from types import SimpleNamespace

    from django.apps.registry import Apps
    from django.db import models

    from portadb.dryrun import unholdable_fields
    from portadb.endpoints import resolve

    meta = type("Meta", (), {"apps": Apps(), "app_label": "limits", "db_table": "limits_wide"})
    model = type("Wide", (models.Model,), {"__module__": __name__, "Meta": meta,
                                           "code": models.CharField(max_length=300, unique=True)})
    found = unholdable_fields(SimpleNamespace(models=[model], target=resolve(MYSQL)))
    assert [(f.field, f.severity.value) for f in found] == [("code", "warning")]
    assert "max_length > 255" in found[0].message and "mysql.W003" in found[0].message
    assert unholdable_fields(SimpleNamespace(models=[model], target=resolve(POSTGRESQL))) == []


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_command_dry_run_formats_and_exit_status(zoo_source, empty, fmt, tmp_path):
    target = empty(POSTGRESQL)
    out = io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", "--dry-run",
                 f"--format={fmt}", stdout=out)
    text = out.getvalue()
    if fmt == "json":
        data = json.loads(text)
        assert data["schema_version"] == 1 and data["kind"] == "plan" and data["ok"] is True
        assert data["source_inventory"]["tables"][0]["size"] > 0
    else:
        assert "the copy would succeed" in text

    spoil(zoo_source)
    output = tmp_path / "plan.md"
    with pytest.raises(CommandError) as raised:
        call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", "--dry-run",
                     f"--format={fmt}", f"--output={output}")
    assert raised.value.returncode == 1
    written = output.read_text()
    assert "invalid_utf8" in written and "zoo.Everything" in written
    assert connections[target].introspection.table_names() == []


def test_command_copy_exit_status_on_bad_values(zoo_source, empty, tmp_path):
    spoil(zoo_source)
    target = empty(POSTGRESQL)
    with pytest.raises(CommandError) as raised:
        call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", "-v", "0")
    assert raised.value.returncode == 2
    message = str(raised.value)
    assert "zoo.Everything(pk=" in message and "stopped before writing this chunk" in message

    rejects = tmp_path / "rejects.jsonl"
    with pytest.raises(CommandError) as raised:
        call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", "--replace",
                     "--noinput", "--on-error=reject", f"--reject-file={rejects}", "-v", "0")
    assert raised.value.returncode == 1 and str(rejects) in str(raised.value)
    assert rejects.read_text().count("\n") > 20


@pytest.mark.parametrize("args, message", [
    (["--on-error=reject"], "needs --reject-file"),
    (["--reject-file=x.jsonl"], "only used with --on-error=reject"),
    (["--dry-run", "--on-error=reject", "--reject-file=x.jsonl"], "--dry-run writes nothing"),
    (["--dry-run", "--verify"], "nothing to verify; leave out --verify"),
    (["--dry-run", "--resume"], "nothing to resume; leave out --resume"),
    (["--dry-run", "--for-sync", "--verify"], "leave out --verify and --for-sync"),
    (["--on-error=reject", "--reject-file=/nonexistent/r.jsonl"], "not a writable directory"),
])
def test_command_refuses_conflicting_options(zoo_source, empty, args, message):
    target = empty(POSTGRESQL)
    with pytest.raises(CommandError, match=message) as raised:
        call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", *args)
    assert raised.value.returncode == 2
    assert connections[target].introspection.table_names() == []


def test_inspect_command(zoo_source):
    out = io.StringIO()
    call_command("portadb", "inspect", f"--database={zoo_source}", stdout=out)
    text = out.getvalue()
    assert f"{_applied(zoo_source)} migrations applied, 0 pending" in text
    assert "zoo_everything" in text and "zoo.Everything" in text
    out = io.StringIO()
    call_command("portadb", "inspect", f"--database={zoo_source}", "--format=json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["kind"] == "inspect" and data["schema_version"] == 1
    tables = {t["name"]: t for t in data["tables"]}
    assert tables["zoo_everything"]["model"] == "zoo.Everything" and tables["zoo_everything"]["rows"] == 35


def test_inspect_lists_tables_no_model_owns(zoo_source):
    with connections[zoo_source].cursor() as cursor:
        cursor.execute("CREATE TABLE stray (id integer)")
    connections[zoo_source].close()
    inv = portadb.inspect(zoo_source)
    assert inv.unowned_tables == ["stray"]
    assert "table no model owns: stray" in portadb.render(inv)


def _applied(alias) -> int:
    return len(db.raw_snapshot(alias, "django_migrations", ["id"], "id"))


def test_passwords_never_appear_in_a_plan(zoo_source, empty):
    empty(POSTGRESQL)
    conf = connections[POSTGRESQL].settings_dict
    url = f"postgres://{conf['USER']}:s3cret-pw@{conf['HOST']}:{conf['PORT']}/{conf['NAME']}"
    report = portadb.plan(zoo_source, url)  # the server trusts local users, so any password works
    for fmt in ("text", "json", "markdown"):
        text = portadb.render(report, fmt, verbosity=3)
        assert "s3cret-pw" not in text and "***" in text, fmt


def test_dry_run_to_a_new_sqlite_file_leaves_no_file(zoo_source, empty):
    target = empty(target_of("sqlite"))
    name = settings.DATABASES[target]["NAME"]
    assert not os.path.exists(name)
    report = portadb.plan(zoo_source, target)
    assert report.ok and report.target_state == "empty" and report.schema_steps
    assert not os.path.exists(name)
