"""What a copy refuses before writing, and what --replace leaves behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction
from django.test import override_settings

import portadb
from portadb.exceptions import PreconditionError

from . import databases as db
from .backends import target_of

POSTGRESQL = target_of("postgresql")


def test_replace_leaves_only_source_rows(zoo_source, empty):
    """A migrated target's content types and permissions are not mixed with the source's."""
    target = empty(POSTGRESQL)
    db.recreate(target, prepare=False)  # migrate creates pgzoo's collation itself
    db.migrate(target)  # post_migrate seeds content types and permissions here
    with transaction.atomic(using=target), connections[target].cursor() as cursor:
        # Shift the seeded ids so a mix-up could not go unnoticed.
        cursor.execute("UPDATE django_content_type SET id = id + 1000")
        cursor.execute("UPDATE auth_permission SET content_type_id = content_type_id + 1000")
    with pytest.raises(PreconditionError, match="--replace"):
        portadb.copy(zoo_source, target)
    report = portadb.copy(zoo_source, target, replace=True)
    assert report.ok
    for table in ("django_content_type", "auth_permission", "django_migrations"):
        assert db.snapshot(target)[table] == db.snapshot(zoo_source)[table], table


@pytest.fixture
def stale_migrations(tmp_path, monkeypatch):
    """The name of a zoo migrations package that does not match the models: ``Everything.price`` is missing.

    Written from tests/zoo/migrations/0001_initial.py without the line that adds the field.
    """
    from .zoo import migrations

    price = "('price', tests.zoo.fields.CentsField(null=True)),"
    real = Path(migrations.__file__).parent / "0001_initial.py"
    lines = real.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != price]
    assert len(kept) == len(lines) - 1, f"the zoo migration should have one line {price}"
    package = tmp_path / "stale_zoo_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_initial.py").write_text("".join(kept), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package.name
    for name in [n for n in sys.modules if n.partition(".")[0] == package.name]:
        del sys.modules[name]


def test_model_changes_without_migration_are_refused(zoo_source, empty, stale_migrations):
    target = empty(POSTGRESQL)
    with override_settings(MIGRATION_MODULES={"zoo": stale_migrations}):
        with pytest.raises(CommandError, match="price") as e:
            call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}")
    assert e.value.returncode == 2
    assert connections[target].introspection.table_names() == []


def test_unapplied_source_migration_is_refused(zoo_source, empty):
    target = empty(POSTGRESQL)
    with connections[zoo_source].cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'zoo'")
    with pytest.raises(PreconditionError, match=r"unapplied migrations \(zoo\.0001_initial\)"):
        portadb.copy(zoo_source, target)
    assert connections[target].introspection.table_names() == []
