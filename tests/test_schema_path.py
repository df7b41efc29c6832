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
from django.core.management import call_command
from django.db import connections

import portadb
from portadb import targetproject
from portadb.drift import drift, snapshot
from portadb.endpoints import close, connect, resolve
from portadb.inspect import runs_sql
from portadb.targetproject import TargetProject

from . import databases as db
from .backends import SERVER_TARGETS, TARGETS, backend_of, second_target_of
from .oddnames import sql as oddsql

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


@pytest.mark.parametrize("target", TARGETS)
def test_the_guess_a_copy_starts_on_is_what_the_targets_own_process_sees(empty, target, monkeypatch):
    """A copy onto a fresh target starts on this process's view of the target's models while
    the child describes them, and starts again where they differ: for a project whose models do
    not depend on the vendor, the two are the same, answer for answer."""
    monkeypatch.setattr(targetproject, "_described", {})  # as in a process that has not asked yet
    endpoint = resolve(empty(target))
    connect(endpoint)
    try:
        with TargetProject(endpoint) as project:
            guessed = project.guess()
            assert guessed is not None and guessed.models and guessed.vendor == backend_of(target).vendor
            assert project.confirm()
            assert project.guess() is None  # the child's description is known now: nothing to guess
    finally:
        close(endpoint)


def _index_by_a_function_of_this_module(apps, schema_editor):
    _make_index(schema_editor)


def _make_index(schema_editor):
    schema_editor.execute("CREATE INDEX made ON somewhere (id)")


def _through_a_function_of_another_module(apps, schema_editor):
    oddsql.make_raw_index(schema_editor)


def _rows_and_django_commands_only(apps, schema_editor):
    apps.get_model("zoo", "Person").objects.filter(pk=0).update(username="x")
    call_command("check")  # Django's own execute (a command's) runs no SQL of the project's


def test_a_runpython_is_read_through_the_functions_it_calls():
    """SQL a RunPython runs through a helper, of its own module or another (projects often keep
    such helpers in a module of their own), sends the target through migrate; rows and Django's
    commands do not."""
    assert runs_sql(_index_by_a_function_of_this_module)
    assert runs_sql(_through_a_function_of_another_module)
    assert not runs_sql(_rows_and_django_commands_only)
    assert not runs_sql(_index_by_a_function_of_this_module, depth=0)
