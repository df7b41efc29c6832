"""Hostile and impossible names: every identifier quoted with its quote character escaped, and
names a target cannot hold refused before anything is written.

Both drivers run several statements in one ``execute`` (psycopg's client-side
binding, MySQLdb's ``CLIENT.MULTI_STATEMENTS``), so a name that ends its
identifier early runs SQL of its own: each test keeps a ``canary`` table and
checks it is still there.
"""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess

import pytest
import sqlparse
from django.core.management import call_command
from django.db import connections

import portadb
from portadb.backends import adapter_for
from portadb.reports import FindingKind as K
from portadb.schema import FOREIGN_KEY, BuildStep, unbuilt

from . import databases as db
from . import processes
from .backends import SERVER_TARGETS, backend_of, second_target_of, source_of, target_of

SQLITE_SOURCE = source_of("sqlite")
POSTGRESQL, MYSQL, SQLITE_TARGET = target_of("postgresql"), target_of("mysql"), target_of("sqlite")
#: A name that ends its identifier early on each vendor, then drops the canary.
INJECTION = {"postgresql": 'x"; DROP TABLE canary; --', "mysql": "x`; DROP TABLE canary; --",
             "sqlite": 'x"; DROP TABLE canary; --'}


def raw_quote(vendor: str, name: str) -> str:
    """The test's own quoting (not portadb's): the quote character doubled."""
    q = "`" if vendor == "mysql" else '"'
    return q + name.replace(q, q * 2) + q


def plant(alias: str) -> None:
    """A ``canary`` table and, next to it, a table named by every vendor's injection, one row each.

    And a table ``x``: the statement an injection ends early then succeeds, so the next one runs.
    """
    vendor = db.vendor_of(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE canary (id integer PRIMARY KEY)")
        cursor.execute("INSERT INTO canary (id) VALUES (1)")
        cursor.execute("CREATE TABLE x (id integer PRIMARY KEY)")
        for name in sorted(set(INJECTION.values())):
            table = raw_quote(vendor, name)
            cursor.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, {table} integer)")
            cursor.execute(f"INSERT INTO {table} VALUES (1, 2)")
    connections[alias].close()


def canary_alive(alias: str) -> bool:
    connections[alias].close()
    with connections[alias].cursor() as cursor:
        present = connections[alias].introspection.table_names(cursor)
        if "canary" not in present:
            return False
        cursor.execute("SELECT id FROM canary")
        return list(cursor.fetchall()) == [(1,)]


#: (source, target): each server as the source, the other one as the target.
HOSTILE = [pytest.param((POSTGRESQL, MYSQL), id="postgresql->mysql"),
           pytest.param((MYSQL, POSTGRESQL), id="mysql->postgresql")]


@pytest.mark.parametrize("pair", HOSTILE)
def test_tables_named_to_inject_sql_are_only_names(zoo_source, empty, pair):
    """inspect, the dry run, the copy and verify see such tables as tables no model owns."""
    source, target = empty(pair[0]), empty(pair[1])
    assert portadb.copy(zoo_source, source).ok
    plant(source)
    plant(target)

    inventory = portadb.inspect(source)
    assert canary_alive(source)
    hostile = {t.name: t for t in inventory.tables if t.name in INJECTION.values()}
    assert set(hostile) == set(INJECTION.values())
    assert all(t.rows == 1 and t.model is None for t in hostile.values())
    assert set(INJECTION.values()) <= set(inventory.unowned_tables)

    out = io.StringIO()
    call_command("portadb", "inspect", f"--database={source}", stdout=out)
    assert all(name in out.getvalue() for name in INJECTION.values()) and canary_alive(source)

    plan = portadb.plan(source, target)
    unowned = {f.table for f in plan.findings if f.kind is K.UNOWNED_TABLE}
    assert set(INJECTION.values()) <= unowned
    assert canary_alive(source) and canary_alive(target)
    call_command("portadb", "copy", f"--from={source}", f"--to={target}", "--dry-run", stdout=io.StringIO())
    assert canary_alive(source) and canary_alive(target)

    report = portadb.copy(source, target, replace=True, chunk_size=7)
    assert report.ok, portadb.render(report)
    assert canary_alive(source) and canary_alive(target)
    assert portadb.verify(source, target).ok
    assert canary_alive(source) and canary_alive(target)


@pytest.mark.parametrize("alias", [SQLITE_TARGET, *SERVER_TARGETS], ids=lambda a: backend_of(a).vendor)
def test_every_statement_keeps_a_hostile_name_one_identifier(empty, alias):
    """Each statement portadb writes, with every vendor's injection as the table and column
    names, is one statement that names exactly those tables: run on the real server, it
    reads the hostile table and nothing happens to the canary."""
    alias = empty(alias)
    plant(alias)
    adapter = adapter_for(connections[alias])
    vendor = db.vendor_of(alias)
    for name in sorted(set(INJECTION.values())):
        key, columns = ["id"], ["id", name]
        statements = [
            (adapter.select_chunk_sql(name, columns, key, after=False), [5]),
            (adapter.select_chunk_sql(name, columns, key, after=True), [0, 5]),
            (adapter.select_range_sql(name, columns, key, lower=True, upper=True), [0, 9]),
            (adapter.select_keys_sql(name, columns, key, 2), adapter.key_params([[1], [2]])),
            (adapter.count_range_sql(name, key, lower=True, upper=True), [0, 9]),
            (adapter.key_at_sql(name, key), [0]),
            (adapter.key_at_sql(name, key, after=True), [0, 0]),
            (adapter.dangling_sql(name, key, name, name, "id"), []),
            (adapter.dangling_sql(name, key, name, name, "id", lower=True, upper=True), [0, 9]),
            (adapter.dangling_sql(name, key, name, name, "id", lower=True, upper=True, by_value=True),
             [0, 9]),
            (adapter.dangling_sql(name, key, name, name, "id", keys=2), adapter.key_params([[1], [2]])),
            (adapter.any_value_sql(name, name), []),
        ]
        for sql, params in statements:
            assert len(sqlparse.split(sql)) == 1, sql
            with connections[alias].cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()
        assert adapter.count(name) == 1 and adapter.max_value(name, name) == 2
        assert len(list(adapter.fingerprints(name, columns, "id", 8, 0, 9))) == 1
        assert adapter.holds_values(name, name)
        assert adapter.quote(name) == raw_quote(vendor, name)
    assert canary_alive(alias)
    adapter.drop_tables(sorted(set(INJECTION.values())))
    assert canary_alive(alias)
    assert not set(INJECTION.values()) & set(adapter.table_names())


# -- models with odd names: the project of tests/settings_odd.py, in child processes ----------------


def odd_env(table: str, column: str = "odd column", migrate: bool = False, runpython: bool = False) -> dict:
    """The environment of a child process whose project is tests/oddnames with these names.

    ``migrate``: its migration runs SQL of its own, so portadb builds the target with it;
    ``runpython``: so does a RunPython of its migration, which makes an index.
    """
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings_odd", "PORTADB_TEST_ODD_TABLE": table,
           "PORTADB_TEST_ODD_COLUMN": column}
    if migrate:
        env["PORTADB_TEST_ODD_MIGRATE"] = "1"
    if runpython:
        env["PORTADB_TEST_ODD_RUNPYTHON"] = "1"
    return env


def odd_source(alias: str, env: dict, rows: int = 20) -> None:
    """Make ``alias`` the odd project, migrated, holding ``rows`` rows (the first one everyone's parent)."""
    db.recreate(alias, prepare=False)
    migrated = processes.manage("migrate", f"--database={alias}", "-v", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    table, column = odd_names(alias, env)
    with connections[alias].cursor() as cursor:
        for i in range(1, rows + 1):
            cursor.execute(f"INSERT INTO {table} (id, name, {column}, parent_id) VALUES (%s, %s, %s, %s)",
                           [i, f"name {i}", f"label {i % 3}", None if i == 1 else 1])
    connections[alias].close()


def odd_names(alias: str, env: dict) -> tuple[str, str]:
    """The odd table's and column's names, quoted for ``alias`` by the test itself."""
    vendor = db.vendor_of(alias)
    return raw_quote(vendor, env["PORTADB_TEST_ODD_TABLE"]), raw_quote(vendor, env["PORTADB_TEST_ODD_COLUMN"])


def odd_rows(alias: str, env: dict) -> list[tuple]:
    table, column = odd_names(alias, env)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT id, name, {column}, parent_id FROM {table} ORDER BY id")
        rows = [tuple(r) for r in cursor.fetchall()]
    connections[alias].close()
    return rows


def tables(alias: str) -> list[str]:
    connections[alias].close()
    with connections[alias].cursor() as cursor:
        found = sorted(connections[alias].introspection.table_names(cursor))
    connections[alias].close()
    return found


def one_sentence(result) -> str:
    """The one line a refused command prints, without ``CommandError:``."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0].removeprefix("CommandError: ")


#: Model table names that end their identifier early on each vendor. No space: Django cuts
#: index names short, and MySQL refuses one that then ends with a space.
MODEL_INJECTION = {"postgresql": 'x";DROP TABLE canary;--', "mysql": "x`;DROP TABLE canary;--"}
#: (source vendor, target vendor): a name holding the target's quote character, legal on the source.
QUOTED = [pytest.param("mysql", "postgresql", id="mysql->postgresql"),
          pytest.param("postgresql", "mysql", id="postgresql->mysql")]


@pytest.mark.parametrize("source_vendor, target_vendor", QUOTED)
def test_a_model_named_with_the_targets_quote_is_refused_and_copies_elsewhere(empty, source_vendor,
                                                                               target_vendor):
    """Django's schema editor would write the name unescaped into the target's DDL: the dry run
    and the copy refuse it, naming the table and the character; the same source copies and
    verifies into a database of its own vendor, whose quote it is not."""
    name = MODEL_INJECTION[target_vendor]
    env = odd_env(name, column=name)
    source = empty(target_of(source_vendor))
    odd_source(source, env)
    refusing = [empty(target_of(target_vendor))] + ([empty(SQLITE_TARGET)] if '"' in name else [])
    for target in refusing:
        plant(target)
        before = tables(target)
        quote = '"' if '"' in name else "`"
        expected = (f"Cannot copy oddnames.Odd to {target} (")
        reason = (f"its table name {name!r} holds the character {quote}, which Django's schema editor"
                  f" for {adapter_for(connections[target]).display_name} does not escape in the SQL it"
                  " runs; rename the table (Meta.db_table); nothing was written.")
        dry = processes.run("copy", f"--from={source}", f"--to={target}", "--dry-run", env=env)
        assert dry.returncode != 0 and reason in " ".join(dry.stdout.split()), dry.stdout + dry.stderr
        refused = one_sentence(processes.run("copy", f"--from={source}", f"--to={target}", env=env))
        assert refused.startswith(expected) and refused.endswith(reason), refused
        assert tables(target) == before and canary_alive(target)

    target = empty(second_target_of(source_vendor))
    plant(target)
    copied = processes.run("copy", f"--from={source}", f"--to={target}", "--chunk-size=3", "--verify",
                           env=env)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert "IDENTICAL" in copied.stdout
    assert odd_rows(target, env) == odd_rows(source, env) != []
    assert canary_alive(target)


#: 73 characters: more than PostgreSQL's 63 bytes and MySQL's 64 characters.
LONG = "a_table_name_of_seventy_three_characters_that_no_server_keeps_whole_12345"
LIMITS = {"postgresql": "is 73 bytes long; PostgreSQL keeps 63 (max_identifier_length) and would cut the"
                        " rest off",
          "mysql": "is 73 characters long; MySQL/MariaDB names hold at most 64"}


@pytest.mark.parametrize("target", SERVER_TARGETS, ids=lambda a: backend_of(a).vendor)
def test_a_table_name_longer_than_the_target_holds_is_refused(empty, target):
    """Also with the model left out: the target gets the project's every table, copied or not."""
    assert len(LONG) == 73
    env = odd_env(LONG)
    odd_source(SQLITE_SOURCE, env)
    target = empty(target)
    before = tables(target)
    reason = f"its table name {LONG!r} {LIMITS[db.vendor_of(target)]}; rename the table (Meta.db_table)"
    dry = processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", "--dry-run", env=env)
    assert dry.returncode != 0 and reason in " ".join(dry.stdout.split()), dry.stdout + dry.stderr
    for more in ([], ["--exclude=oddnames.Odd"]):
        refused = one_sentence(processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", *more,
                                             env=env))
        assert refused.startswith(f"Cannot copy oddnames.Odd to {target} (") and reason in refused, refused
    assert tables(target) == before

    # SQLite has no limit: the name is copied whole.
    sqlite = empty(SQLITE_TARGET)
    copied = processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={sqlite}", "--verify", env=env)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert odd_rows(sqlite, env) == odd_rows(SQLITE_SOURCE, env)


@pytest.mark.parametrize("target", SERVER_TARGETS, ids=lambda a: backend_of(a).vendor)
def test_a_name_holding_percent_is_refused_before_anything_is_written(empty, target):
    """psycopg and MySQLdb take a % for a parameter: the load, the key builds and Django's own
    queries would fail on such a name half way. SQLite's driver has no such marker."""
    env = odd_env("pct%odd", column="odd%column")
    odd_source(SQLITE_SOURCE, env)
    target = empty(target)
    before = tables(target)
    display = adapter_for(connections[target]).display_name
    reason = (f"its table name 'pct%odd' holds the character %, which {display}'s driver takes for a"
              " parameter in every statement with parameters (Django's own queries too); rename the table")
    dry = processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", "--dry-run", env=env)
    assert dry.returncode != 0 and reason in " ".join(dry.stdout.split()), dry.stdout + dry.stderr
    refused = one_sentence(processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", env=env))
    assert refused.startswith(f"Cannot copy oddnames.Odd to {target} (") and reason in refused, refused
    assert tables(target) == before

    sqlite = empty(SQLITE_TARGET)
    copied = processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={sqlite}", "--verify", env=env)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert odd_rows(sqlite, env) == odd_rows(SQLITE_SOURCE, env) != []


#: (table, column, what the refusal names) of names PostgreSQL keeps apart; the second is one
#: name to SQLite (tables and columns) and to MySQL/MariaDB (columns; tables only where the
#: server folds their case, lower_case_table_names, not on Linux by default).
CASE_ONLY = [("odd table", "Name", "its columns 'name' and 'Name' are one name to {}"),
             ("Django_Migrations", "odd column", "the project's tables 'Django_Migrations' and"
                                                 " 'django_migrations' are one name to {}")]


@pytest.mark.parametrize("target, table, column, said", [
    pytest.param(SQLITE_TARGET, *CASE_ONLY[0], id="sqlite-columns"),
    pytest.param(SQLITE_TARGET, *CASE_ONLY[1], id="sqlite-tables"),
    pytest.param(MYSQL, *CASE_ONLY[0], id="mysql-columns"),
])
def test_names_that_differ_in_case_alone_are_refused_where_the_target_ignores_case(empty, target, table,
                                                                                   column, said):
    env = odd_env(table, column=column)
    source = empty(POSTGRESQL)
    odd_source(source, env)
    target = empty(target)
    adapter = adapter_for(connections[target])
    before = tables(target)
    reason = said.format(adapter.display_name) + ", which ignores their difference in case; rename one"
    refused = one_sentence(processes.run("copy", f"--from={source}", f"--to={target}", env=env))
    assert refused.startswith("Cannot copy") and reason in refused, refused
    assert tables(target) == before

    again = empty(second_target_of("postgresql"))
    copied = processes.run("copy", f"--from={source}", f"--to={again}", "--verify", env=env)
    assert copied.returncode == 0 and "IDENTICAL" in copied.stdout, copied.stdout + copied.stderr


def test_names_each_target_cannot_hold():
    """The reasons of each vendor, asked of the adapters of real connections."""
    for alias in (POSTGRESQL, MYSQL):
        db.require(alias)
    pg, my, lite = (adapter_for(connections[a]) for a in (POSTGRESQL, MYSQL, SQLITE_TARGET))
    assert pg.cannot_name("é" * 32) is not None and pg.cannot_name("é" * 31) is None  # bytes, not characters
    assert my.cannot_name("é" * 64) is None and my.cannot_name("é" * 65) is not None
    assert "ends with a space" in my.cannot_name("trailing ")
    assert "4 UTF-8 bytes" in my.cannot_name("snake \U0001F40D")
    assert "sqlite_" in lite.cannot_name("sqlite_stat9") and lite.cannot_name("sqlite_x", table=False) is None
    assert lite.cannot_name("a" * 500) is None and lite.cannot_name("back`tick") is None
    for adapter in (pg, my):  # a source too: no statement with parameters could read it
        assert "character %, which" in adapter.cannot_name("la%bel") == adapter.unreadable_name("la%bel")
    assert lite.cannot_name("la%bel") is None is lite.unreadable_name("la%bel")
    for adapter in (pg, my, lite):
        assert "NUL" in adapter.cannot_name("nul\x00")
        assert adapter.cannot_name("a name with spaces; and 'quotes'") is None


#: A table whose name has a space, killed after the first n of its deferred builds: built from
#: the models, after the primary key; by migrate, after two indexes (on MySQL one of them is
#: named as the foreign key that is not built yet).
SPACE_KILLS = [pytest.param(target, path, n, id=f"{backend_of(target).vendor}-{path}-{n}")
               for target in (SQLITE_TARGET, *SERVER_TARGETS) for path, n in (("models", 1), ("migrate", 2))]


@pytest.mark.parametrize("target, path, n", SPACE_KILLS)
def test_a_table_with_a_space_killed_while_its_keys_are_built_resumes(empty, target, path, n):
    """The resumed copy builds exactly what is missing: every key, index and foreign key, none
    twice (MySQL names a foreign key and its index alike: the index alone is not the key)."""
    env = odd_env("odd table", migrate=path == "migrate")
    odd_source(SQLITE_SOURCE, env)
    target = empty(target)
    args = [f"--from={SQLITE_SOURCE}", f"--to={target}", "--chunk-size=3"]
    proc = processes.start("copy", *args, stop=f"deferred:{n}", env=env)
    processes.wait_stopped(proc)
    processes.kill(proc)
    resumed = processes.run("copy", *args, "--resume", "--verify", env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert odd_rows(target, env) == odd_rows(SQLITE_SOURCE, env)
    with connections[target].cursor() as cursor:
        built = connections[target].introspection.get_constraints(cursor, "odd table").values()
    assert [c["columns"] for c in built if c["primary_key"]] == [["id"]]
    assert [c["columns"] for c in built if c["unique"] and not c["primary_key"]] == [["name"]]
    assert [c["foreign_key"] for c in built if c["foreign_key"]] == [("odd table", "id")]
    assert ["odd column"] in [c["columns"] for c in built if c["index"]]


@pytest.mark.parametrize("alias", SERVER_TARGETS, ids=lambda a: backend_of(a).vendor)
def test_a_resume_never_introspects_a_table_named_to_inject(empty, alias):
    """A table no model owns may hold a foreign key into the copy's tables: the copy takes that
    key apart and builds it back. Django's introspection would write its name unescaped, so a
    resumed copy keeps such a step (to run again) rather than look it up."""
    alias = empty(alias)
    plant(alias)
    hostile = INJECTION[db.vendor_of(alias)]
    step = BuildStep("ALTER TABLE ...", hostile, raw_quote(db.vendor_of(alias), "fk"), FOREIGN_KEY, "canary")
    plain = BuildStep("CREATE INDEX ...", "canary", raw_quote(db.vendor_of(alias), "canary_id"))
    assert unbuilt(connections[alias], [step, plain]) == [step, plain]
    assert canary_alive(alias)


def test_two_databases_of_one_server_copied_through_migrate(empty):
    """The source's child and the target's describe the same backend: each reads its own answer
    (the target's, left in its pipe, was once taken for the answer to migrate)."""
    env = odd_env("odd table", migrate=True)
    source = empty(POSTGRESQL)
    odd_source(source, env)
    again = empty(second_target_of("postgresql"))
    copied = processes.run("copy", f"--from={source}", f"--to={again}", "--verify", env=env)
    assert copied.returncode == 0 and "IDENTICAL" in copied.stdout, copied.stdout + copied.stderr
    assert "by the project's migrate" in copied.stdout
    assert odd_rows(again, env) == odd_rows(source, env) != []


@pytest.mark.parametrize("target", [SQLITE_TARGET, *SERVER_TARGETS], ids=lambda a: backend_of(a).vendor)
def test_an_index_a_runpython_migration_makes_is_on_the_target(empty, target):
    """A RunPython that runs SQL of its own (django-oscar's makes a materialized view on
    PostgreSQL) is replayed by the project's migrate: the target has its index, built again
    after the rows from its own definition; its view is refreshed after the copy and a sync."""
    env = odd_env("odd table", runpython=True)
    odd_source(SQLITE_SOURCE, env)
    target = empty(target)
    copied = processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", "--verify", env=env)
    assert copied.returncode == 0 and "IDENTICAL" in copied.stdout, copied.stdout + copied.stderr
    assert "by the project's migrate on the target (migrations run 1 operations" in copied.stdout
    with connections[target].cursor() as cursor:
        built = connections[target].introspection.get_constraints(cursor, "odd table")
    assert built["odd_name_raw"]["columns"] == ["name", "id"] and built["odd_name_raw"]["index"]
    if backend_of(target).vendor != "postgresql":
        return
    assert view_rows(target) == [row[:2] for row in odd_rows(target, env)] != []  # after the rows
    table, column = odd_names(SQLITE_SOURCE, env)
    with connections[SQLITE_SOURCE].cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (id, name, {column}, parent_id) VALUES (99, %s, %s, 1)",
                       ["new since", "label"])
        cursor.execute(f"UPDATE {table} SET name = %s WHERE id = 2", ["renamed since"])
    connections[SQLITE_SOURCE].close()
    synced = processes.run("sync", f"--from={SQLITE_SOURCE}", f"--to={target}", env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert view_rows(target) == [row[:2] for row in odd_rows(SQLITE_SOURCE, env)]
    assert (99, "new since") in view_rows(target) and (2, "renamed since") in view_rows(target)


def test_views_that_replace_drops_with_the_tables_are_named_with_their_definition(empty):
    """PostgreSQL drops the views that read a dropped table (``CASCADE``): the report names each
    view --replace took that the build did not make again, with a statement that makes it again.
    The materialized view the project's migration makes is made again, so it is not named."""
    env = odd_env("odd table", runpython=True)
    odd_source(SQLITE_SOURCE, env)
    target = empty(POSTGRESQL)
    assert processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", env=env).returncode == 0
    with connections[target].cursor() as cursor:
        cursor.execute('CREATE VIEW "a view; DROP TABLE x" WITH (security_barrier)'
                       ' AS SELECT id, name FROM "odd table" WHERE id > 2')
        cursor.execute('CREATE VIEW "its view" AS SELECT count(*) AS n FROM "a view; DROP TABLE x"')
        cursor.execute('SELECT * FROM "its view"')
        before = cursor.fetchall()
    connections[target].close()
    dry = processes.run("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", "--replace", "--dry-run",
                        "--format=json", env=env)
    views = '"odd names", "a view; DROP TABLE x", "its view"'  # the migration's own too: migrate remakes it
    assert f"-- and with them the views that read them: {views}" in json.loads(dry.stdout)["schema_steps"]

    primary, terminal = pty.openpty()  # asked on a terminal, on standard error; the JSON stays whole
    proc = processes.start("copy", f"--from={SQLITE_SOURCE}", f"--to={target}", "--replace", "--format=json",
                           env=env, stdin=terminal)
    os.write(primary, b"yes\n")
    out, err = proc.communicate(timeout=120)
    again = processes.checked(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    os.close(primary)
    os.close(terminal)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"The views that read them go with them: {views}." in again.stderr
    lost = [f for f in json.loads(again.stdout)["findings"] if f["kind"] == K.VIEW_DROPPED]
    assert [f["table"] for f in lost] == ['"a view; DROP TABLE x"', '"its view"']
    assert all(f["severity"] == "warning" for f in lost)
    with connections[target].cursor() as cursor:
        for finding in lost:  # the statement the report gives makes each view again
            cursor.execute(finding["message"].split("make it again with: ", 1)[1])
        cursor.execute('SELECT * FROM "its view"')
        assert cursor.fetchall() == before
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'a view; DROP TABLE x'")
        assert cursor.fetchall() == [(["security_barrier=true"],)]  # with its options
    connections[target].close()


def test_views_a_replace_dropped_are_named_by_the_next_one_when_it_was_killed(empty):
    """The views a killed --replace dropped are gone before the next --replace looks: the
    unfinished copy's journal keeps them, and that one names them."""
    env = odd_env("odd table", runpython=True)
    odd_source(SQLITE_SOURCE, env)
    target = empty(POSTGRESQL)
    args = (f"--from={SQLITE_SOURCE}", f"--to={target}")
    assert processes.run("copy", *args, env=env).returncode == 0
    with connections[target].cursor() as cursor:
        cursor.execute('CREATE VIEW "by hand" AS SELECT name FROM "odd table"')
    connections[target].close()
    proc = processes.start("copy", *args, "--replace", "--noinput", stop="schema:1", env=env)
    processes.wait_stopped(proc)
    processes.kill(proc)
    again = processes.run("copy", *args, "--replace", "--noinput", "--format=json", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [f["table"] for f in json.loads(again.stdout)["findings"]
            if f["kind"] == K.VIEW_DROPPED] == ['"by hand"']


def view_rows(alias: str) -> list[tuple]:
    """The rows of the odd project's materialized view (PostgreSQL)."""
    with connections[alias].cursor() as cursor:
        cursor.execute('SELECT id, name FROM "odd names" ORDER BY id')
        rows = cursor.fetchall()
    connections[alias].close()
    return rows
