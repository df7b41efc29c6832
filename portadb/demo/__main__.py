"""``python -m portadb.demo``: build a sample shop in SQLite and copy it with portadb.

The target is the local PostgreSQL (``PORTADB_DEMO_POSTGRESQL_URL``, default
``postgres://postgres@127.0.0.1:5432/portadb_demo``; the database is created if
missing). Where no PostgreSQL answers, the demo says so in one line and copies
into a second SQLite file instead, so it runs on any machine with Python.
It runs the real commands -- a dry run, the copy (``--replace --noinput``, so
it can be rerun) and a verification; then 1 % of the shop's rows change, as on
a live site, and a sync and a second verification follow -- and prints their reports.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portadb.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000, help="rows of sample data in all (default 5000)")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                        help="report format (default text)")
    args = parser.parse_args(argv)

    from . import settings

    POSTGRESQL_URL, WORK_DIR = settings.POSTGRESQL_URL, settings.WORK_DIR
    os.makedirs(WORK_DIR, exist_ok=True)
    why = postgresql_unavailable(POSTGRESQL_URL)
    if why:
        target = os.path.join(WORK_DIR, "shop-copy.sqlite3")
        print(f"No PostgreSQL answers ({why}); copying into the SQLite file {target} instead.")
        os.environ["PORTADB_DEMO_TARGET_URL"] = f"sqlite:///{target}"
        endpoints = ["--from=default", "--to=target"]
    else:
        os.environ["PORTADB_DEMO_TARGET_URL"] = POSTGRESQL_URL
        endpoints = ["--from=sqlite", "--to=postgresql"]
    importlib.reload(settings)  # it reads the target URL chosen above
    os.environ["DJANGO_SETTINGS_MODULE"] = "portadb.demo.settings"

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connections

    from .data import change, generate

    source = connections["default"].settings_dict["NAME"]
    if os.path.exists(source):
        os.remove(source)
    call_command("migrate", database="default", verbosity=0, interactive=False)
    written = generate("default", args.rows)
    connections["default"].close()
    print(f"Sample shop in {source}: "
          + ", ".join(f"{rows:,} {table}" for table, rows in written.items()) + " rows.")

    fmt = f"--format={args.format}"
    for command in (
        ["portadb", "copy", *endpoints, "--dry-run", "--replace", fmt],
        ["portadb", "copy", *endpoints, "--replace", "--noinput", "--track-changes", "-v", "2", fmt],
        ["portadb", "verify", *endpoints, fmt],
        "change",
        ["portadb", "sync", *endpoints, fmt],
        ["portadb", "verify", *endpoints, fmt],
    ):
        if command == "change":  # the site goes on writing after the copy
            changed = change("default", 0.01)
            connections["default"].close()
            said = ", ".join(f"{n:,} rows {kind}" for kind, n in changed.items())
            print(f"\nMeanwhile the shop goes on: {said} on the source.")
            continue
        print("\n$ python manage.py " + " ".join(command))
        try:
            call_command(*command)
        except CommandError as e:
            print(f"portadb: {e}", file=sys.stderr)
            return getattr(e, "returncode", 1) or 1
    return 0


def postgresql_unavailable(url: str) -> str | None:
    """``None`` when the server of ``url`` answers (creating its database if missing), else why not."""
    import dj_database_url

    conf = dj_database_url.parse(url)
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        return "the psycopg driver is not installed: pip install 'portadb[postgresql]'"
    params = {"dbname": "postgres", "user": conf.get("USER") or None, "host": conf.get("HOST") or None,
              "port": conf.get("PORT") or None, "password": conf.get("PASSWORD") or None,
              "connect_timeout": 3}
    try:
        with psycopg.connect(**{k: v for k, v in params.items() if v is not None},
                             autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  [conf["NAME"]]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(conf["NAME"])))
    except Exception as e:  # any failure to connect means "not here"
        first = str(e).strip().splitlines()
        return _masked(first[0] if first else type(e).__name__, conf.get("PASSWORD"))
    return None


def _masked(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


if __name__ == "__main__":
    sys.exit(main())
