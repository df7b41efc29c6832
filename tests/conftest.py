"""Fixtures: real databases, made empty or filled for each test.

The tests manage their databases themselves instead of pytest-django's test
databases: portadb's job is to create a schema on an empty target, so the
target must not be migrated beforehand.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connections

from portadb.reports import jsondata

from . import databases as db
from . import schemas
from .backends import source_of
from .zoo.data import populate

#: The zoo source most tests copy from: a SQLite file, made anew for each test.
SQLITE_SOURCE = source_of("sqlite")


@pytest.fixture(autouse=True)
def _db_access(django_db_blocker):
    with django_db_blocker.unblock():
        yield
    for conn in connections.all():
        conn.close()


@pytest.fixture(scope="session")
def django_db_setup():
    """No pytest-django test databases: each test builds what it needs."""


@pytest.fixture(scope="session")
def zoo_template(django_db_blocker, tmp_path_factory):
    """A migrated SQLite file holding the zoo data, built once per session."""
    with django_db_blocker.unblock():
        db.recreate(SQLITE_SOURCE)
        db.migrate(SQLITE_SOURCE)
        populate(SQLITE_SOURCE)
        connections[SQLITE_SOURCE].close()
    path = tmp_path_factory.mktemp("template") / "zoo.sqlite3"
    os.replace(settings.DATABASES[SQLITE_SOURCE]["NAME"], path)
    return str(path)


@pytest.fixture
def zoo_source(zoo_template):
    """The SQLite source (``default``) holding the zoo data."""
    db.migrated_copy(zoo_template, SQLITE_SOURCE)
    return SQLITE_SOURCE


@pytest.fixture
def empty(request):
    """Return a function that makes an alias an empty database (skipping if unreachable)."""

    def make(alias: str) -> str:
        db.require(alias)
        db.recreate(alias)
        return alias

    return make


@pytest.fixture(autouse=True)
def _json_reports_match_their_schema(monkeypatch):
    """Every JSON report a test renders is validated against its schema (tests/schemas.py)."""
    monkeypatch.setattr(jsondata, "render", schemas.checked_render)
