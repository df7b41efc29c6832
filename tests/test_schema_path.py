"""Either way a target's schema is built, it is what the project's own migrate builds there.

The zoo's PostgreSQL target is built by migrate (pgzoo's migration creates an
extension and a collation the models cannot express); the MariaDB target from
the models. Both are compared by introspection, table by table, with a fresh
``migrate`` (and ``createcachetable``) of the same project on the same server:
keys, indexes, constraints and column types, down to the ``bigint`` keys of
auto-created many-to-many tables that migrate makes where the app's model
class says ``integer``.
"""

from __future__ import annotations

import pytest
from django.db import connections

import portadb
from portadb.drift import drift, snapshot

from . import databases as db
from .backends import SERVER_TARGETS, backend_of, second_target_of

#: The auto-created many-to-many tables of an app whose default_auto_field is AutoField.
AUTH_M2M = ("auth_group_permissions",)


@pytest.mark.parametrize("target", SERVER_TARGETS)
def test_the_copied_schema_is_a_fresh_migrate_of_the_project(zoo_source, empty, target):
    reference = second_target_of(backend_of(target).vendor)
    report = portadb.copy(zoo_source, empty(target))
    assert report.ok, portadb.render(report)
    assert report.schema_path == {"postgresql": "migrate", "mysql": "models"}[backend_of(target).vendor]
    empty(reference)
    db.migrate(reference)
    tables = connections[reference].introspection.table_names()
    built, fresh = snapshot(connections[target], tables), snapshot(connections[reference], tables)
    assert drift(fresh, built) == []
    for table in AUTH_M2M:  # bigint, as migrate makes it; the model class says integer
        assert built[table]["columns"]["id"] == fresh[table]["columns"]["id"]
        assert built[table]["columns"]["id"]["type"] == built["zoo_tag"]["columns"]["id"]["type"]
