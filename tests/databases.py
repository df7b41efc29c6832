"""Create, empty and compare the test databases on the real servers."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connections

from portadb.backends import adapter_for
from portadb.models import project_models

CI = os.environ.get("CI", "").lower() == "true"


def vendor_of(alias: str) -> str:
    return connections[alias].vendor


def reachable(alias: str) -> str | None:
    """``None`` when the server of ``alias`` answers, else why not."""
    conf = settings.DATABASES[alias]
    try:
        if "postgresql" in conf["ENGINE"]:
            import psycopg

            psycopg.connect(**pg_params(conf, "postgres"), connect_timeout=3).close()
        elif "mysql" in conf["ENGINE"]:
            import MySQLdb

            MySQLdb.connect(**my_params(conf), connect_timeout=3).close()
    except Exception as e:  # any failure means "not here"
        return f"{alias}: {e}"
    return None


def require(alias: str) -> None:
    """Skip (or, under CI=true, fail) when the server of ``alias`` is not reachable."""
    why = reachable(alias)
    if why:
        if CI:
            pytest.fail(f"database server unreachable under CI=true: {why}")
        pytest.skip(f"database server unreachable: {why}")


#: What the pgzoo migration makes that models cannot express: a user creates it on a new target.
PG_PREREQUISITES = [
    "CREATE EXTENSION IF NOT EXISTS hstore",
    "CREATE COLLATION IF NOT EXISTS pgzoo_ci"
    " (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
]


def ensure(alias: str) -> str:
    """Make sure the database of ``alias`` exists (an empty one where it did not), for a test
    that only connects: which test made it first depends on the order the tests run in."""
    require(alias)
    try:
        connections[alias].ensure_connection()
    except OperationalError:
        recreate(alias)
    return alias


def recreate(alias: str, prepare: bool = True) -> None:
    """Make ``alias`` an empty database; on PostgreSQL with :data:`PG_PREREQUISITES` if ``prepare``."""
    connections[alias].close()
    recreate_database(settings.DATABASES[alias], prepare)


def recreate_database(conf: dict, prepare: bool = False, collation: str = "utf8mb4_unicode_ci") -> None:
    """Make the database of the ``DATABASES`` entry ``conf`` an empty one (see :func:`recreate`).

    ``collation``: a MySQL database's (``None``: the server's default for utf8mb4).
    """
    if "sqlite" in conf["ENGINE"]:
        if os.path.exists(conf["NAME"]):
            os.remove(conf["NAME"])
        return
    name = conf["NAME"]
    if "postgresql" in conf["ENGINE"]:
        import psycopg
        from psycopg import sql

        with psycopg.connect(**pg_params(conf, "postgres"), autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if prepare:
            with psycopg.connect(**pg_params(conf, name), autocommit=True) as c:
                for statement in PG_PREREQUISITES:
                    c.execute(statement)
    else:
        import MySQLdb

        c = MySQLdb.connect(**my_params(conf))
        cur = c.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        collate = f" COLLATE {collation}" if collation else ""
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4{collate}")
        c.close()


def migrated_copy(template: str, alias: str) -> None:
    """Make ``alias`` (SQLite) a copy of the SQLite file ``template``."""
    connections[alias].close()
    shutil.copyfile(template, settings.DATABASES[alias]["NAME"])


def migrate(alias: str) -> None:
    call_command("migrate", database=alias, verbosity=0, interactive=False)
    call_command("createcachetable", database=alias, verbosity=0)


def build_zoo(alias: str, rows: int = 30) -> None:
    """Make ``alias`` a migrated database holding the zoo rows, straight through Django.

    Reads and writes are pinned to ``alias`` while the rows are made: some
    third-party code (taggit's content types) reads from the default database.
    """
    from django.test import override_settings

    from .zoo.data import populate

    recreate(alias, prepare=False)  # migrate makes the prerequisites itself
    migrate(alias)
    with override_settings(DATABASE_ROUTERS=[PinRouter(alias)]):
        populate(alias, rows)
    connections[alias].close()


class PinRouter:
    """Every read and write goes to one alias."""

    def __init__(self, alias: str):
        self.alias = alias

    def db_for_read(self, model, **hints):
        return self.alias

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return True


def snapshot(alias: str) -> dict[str, list[tuple]]:
    """Every row of every copied table on ``alias``, as Python values, in pk order.

    Sorted in Python, not by the database: collations order text keys
    differently on each vendor.
    """
    out = {}
    for model in project_models(alias):
        fields = [f.attname for f in model._meta.local_concrete_fields]
        key = fields.index(model._meta.pk.attname)
        rows = model._base_manager.using(alias).values_list(*fields)
        out[model._meta.db_table] = sorted(
            (tuple(_comparable(v) for v in row) for row in rows), key=lambda row: row[key]
        )
    return out


def raw_snapshot(alias: str, table: str, columns: list[str], key: str) -> list[tuple]:
    """Rows of ``table`` exactly as the database driver returns them."""
    q = adapter_for(connections[alias]).quote
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table)} ORDER BY {q(key)}"
        )
        return [tuple(row) for row in cursor.fetchall()]


def _comparable(value):
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def pg_params(conf: dict, dbname: str) -> dict:
    """``psycopg.connect()`` arguments for database ``dbname`` on the server of ``conf``."""
    params = {"dbname": dbname, "user": conf.get("USER") or "postgres",
              "host": conf.get("HOST") or "127.0.0.1"}
    if conf.get("PORT"):
        params["port"] = int(conf["PORT"])
    if conf.get("PASSWORD"):
        params["password"] = conf["PASSWORD"]
    return params


def my_params(conf: dict) -> dict:
    """``MySQLdb.connect()`` arguments for the server of ``conf`` (no database chosen)."""
    params = {"user": conf.get("USER") or "root", "host": conf.get("HOST") or "127.0.0.1",
              "password": conf.get("PASSWORD") or ""}
    if conf.get("PORT"):
        params["port"] = int(conf["PORT"])
    return params
