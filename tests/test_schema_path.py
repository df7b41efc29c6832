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
from portadb import schema, targetproject
from portadb.drift import drift, snapshot
from portadb.endpoints import close, connect, resolve
from portadb.inspect import runs_sql
from portadb.targetproject import TargetProject

from . import databases as db
from .backends import SERVER_TARGETS, TARGETS, backend_of, second_target_of, target_of
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


#: PostgreSQL's own record of each key, constraint and index of the named tables: what a pg_dump
#: of them would say, and the flags and dependencies it would not.
_CATALOGUE = """
SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid), x.indisprimary, x.indisunique,
       x.indimmediate, x.indisvalid, i.reloptions,
       (SELECT spcname FROM pg_tablespace WHERE oid = i.reltablespace), k.conname, k.contype,
       pg_get_constraintdef(k.oid),
       k.condeferrable, k.condeferred, k.convalidated, k.conislocal, k.coninhcount,
       (SELECT array_agg(d.deptype::text || ' ' || d.refclassid::regclass::text
                          ORDER BY d.deptype, d.refclassid::regclass::text)
        FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid)
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid AND k.contype <> 'f'
WHERE c.relname = ANY(%s)
UNION ALL
SELECT c.relname, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.conname, k.contype,
       pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred, k.convalidated, k.conislocal,
       k.coninhcount, NULL
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f' AND c.relname = ANY(%s)
"""


def test_postgresql_keys_built_from_their_unique_index_are_the_catalogues_own(empty):
    """A primary key or unique constraint comes back as its unique index, built beside the table's
    other indexes, then made the constraint: PostgreSQL's catalogue then says what it said before
    they were taken apart, deferrability, NULLS NOT DISTINCT, INCLUDE and fillfactor included. A
    partitioned table's key, which cannot be made of an index, is added back as it was."""
    connection = connections[empty(target_of("postgresql"))]
    tables = ["keyed", "keyed_child", "keyed_parts"]
    with connection.cursor() as cursor:
        nulls = " NULLS NOT DISTINCT" if connection.pg_version >= 150000 else ""
        cursor.execute(f"""
            CREATE TABLE keyed (id bigint GENERATED BY DEFAULT AS IDENTITY, a int, b int, c text, d int);
            ALTER TABLE keyed ADD CONSTRAINT keyed_pkey PRIMARY KEY (id) WITH (fillfactor = 70);
            ALTER TABLE keyed ADD CONSTRAINT "Keyed a; later" UNIQUE (a) DEFERRABLE INITIALLY DEFERRED;
            ALTER TABLE keyed ADD CONSTRAINT keyed_b UNIQUE{nulls} (b) INCLUDE (c);
            ALTER TABLE keyed ADD CONSTRAINT keyed_d UNIQUE (d, a) DEFERRABLE;
            CREATE INDEX keyed_c ON keyed (c text_pattern_ops) WHERE d > 0;
            CREATE TABLE keyed_child (id serial PRIMARY KEY, parent_id bigint REFERENCES keyed (id)
                DEFERRABLE INITIALLY DEFERRED, b int REFERENCES keyed (b));
            CREATE TABLE keyed_parts (id int, part int, PRIMARY KEY (id, part)) PARTITION BY LIST (part);
            CREATE TABLE keyed_parts_1 PARTITION OF keyed_parts FOR VALUES IN (1);
            INSERT INTO keyed (a, b, c, d) SELECT n, n, 'x' || n, n FROM generate_series(1, 500) n;
            INSERT INTO keyed_child (parent_id, b) SELECT n, n FROM generate_series(1, 500) n;
            INSERT INTO keyed_parts SELECT n, 1 FROM generate_series(1, 50) n;
        """)
        cursor.execute(_CATALOGUE, [tables, tables])
        before = sorted(cursor.fetchall(), key=repr)
    steps = schema.take_apart(connection, tables)
    kinds = {(s.name.strip('"'), s.kind) for s in steps}
    assert {("keyed_pkey", schema.UNIQUE_INDEX), ("keyed_pkey", schema.ATTACH),
            ("Keyed a; later", schema.ATTACH), ("keyed_parts_pkey", schema.KEY)} <= kinds
    assert ("keyed_parts_pkey", schema.UNIQUE_INDEX) not in kinds
    with connection.cursor() as cursor:
        cursor.execute(_CATALOGUE, [tables, tables])
        assert [row[0] for row in cursor.fetchall()] == []  # all taken apart
    schema.build_deferred(connection, steps, workers=2)
    with connection.cursor() as cursor:
        cursor.execute(_CATALOGUE, [tables, tables])
        assert sorted(cursor.fetchall(), key=repr) == before


def test_a_key_whose_index_was_built_before_the_copy_stopped_is_made_the_key_on_resume(empty):
    """Killed between a key's unique index and the statement that makes it the key, a resumed copy
    builds the key: an index of its name alone is not the key."""
    connection = connections[empty(target_of("postgresql"))]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE keyed (id int PRIMARY KEY, a int UNIQUE)")
    steps = schema.take_apart(connection, ["keyed"])
    schema.build_deferred(connection, [s for s in steps if s.kind == schema.UNIQUE_INDEX])
    left = schema.unbuilt(connection, steps)
    assert sorted((s.name, s.kind) for s in left) == [('"keyed_a_key"', schema.ATTACH),
                                                      ('"keyed_pkey"', schema.ATTACH)]
    schema.build_deferred(connection, left)
    assert schema.unbuilt(connection, steps) == []
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "keyed")
    assert constraints["keyed_pkey"]["primary_key"] and constraints["keyed_a_key"]["unique"]


def test_postgresql_indexes_come_back_in_their_own_tablespace(empty):
    """A key and an index in a tablespace of their own (Django's ``db_tablespace``) are built back
    there, which ``pg_get_indexdef`` does not say; a partial index's WHERE stays after it."""
    import os
    import pwd
    import shutil
    import tempfile

    connection = connections[empty(target_of("postgresql"))]
    if os.geteuid() != 0 or connection.settings_dict["HOST"] not in ("127.0.0.1", "localhost", ""):
        pytest.skip("a tablespace needs a directory the local server owns: run as root beside it")
    place = tempfile.mkdtemp(prefix="portadb-space-")  # in /tmp, which the server can reach
    os.chown(place, pwd.getpwnam("postgres").pw_uid, -1)
    tables = ["placed"]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLESPACE IF EXISTS portadb_placed")
        cursor.execute(f"CREATE TABLESPACE portadb_placed LOCATION '{place}'")
        try:
            cursor.execute("""
                CREATE TABLE placed (id int, a text, d int);
                ALTER TABLE placed ADD CONSTRAINT placed_pkey PRIMARY KEY (id)
                    USING INDEX TABLESPACE portadb_placed;
                CREATE INDEX placed_a ON placed (a) TABLESPACE portadb_placed WHERE a <> ' WHERE (d)';
                CREATE INDEX placed_d ON placed (d) TABLESPACE portadb_placed;
                INSERT INTO placed SELECT n, 'x' || n, n FROM generate_series(1, 100) n;
            """)
            cursor.execute(_CATALOGUE, [tables, tables])
            before = sorted(cursor.fetchall(), key=repr)
            assert {row[8] for row in before} == {"portadb_placed"}
            steps = schema.take_apart(connection, tables)
            schema.build_deferred(connection, steps, workers=2)
            cursor.execute(_CATALOGUE, [tables, tables])
            assert sorted(cursor.fetchall(), key=repr) == before
        finally:
            cursor.execute("DROP TABLE IF EXISTS placed")
            cursor.execute("DROP TABLESPACE portadb_placed")
            shutil.rmtree(place)
