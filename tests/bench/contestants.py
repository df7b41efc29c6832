"""The tools measured side by side, each run as a child process.

Every contestant has a ``prepare`` step (not timed: empty target, or a target
migrated by Django for the tools that only load data) and a ``run`` step timed
as one child process whose peak RSS comes from ``os.wait4``: for a shell
pipeline that is the largest process of the pipeline.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.db import connections

NULL_AS_BACKSLASH_N = shlex.quote(".nullvalue '\\N'")
NULL_AS_WORD = shlex.quote(".nullvalue NULL")
SHOP_TABLES = ["shop_tag", "shop_customer", "shop_product", "shop_product_tags", "shop_order",
               "shop_orderline"]


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str = ""


@dataclass
class Result:
    """The runs of one contestant and what the exactness check found."""

    name: str
    target: str
    rows: int
    runs: list[Run] = field(default_factory=list)
    exact: str = "not checked"
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.returncode == 0 for r in self.runs)

    @property
    def seconds(self) -> float:
        times = sorted(r.seconds for r in self.runs)
        return times[len(times) // 2] if times else float("nan")

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.ok and self.seconds else float("nan")

    @property
    def peak_rss_mb(self) -> float:
        return max((r.peak_rss_mb for r in self.runs), default=float("nan"))


def measure(argv: list[str], env: dict | None = None) -> Run:
    """Run ``argv`` as a child; wall seconds, peak RSS of it and its children, exit status."""
    result = os.path.join(settings.WORK_DIR, "last-run.result")
    log = open(os.path.join(settings.WORK_DIR, "last-run.log"), "w+b")  # noqa: SIM115
    launcher = [sys.executable, "-S", os.path.join(os.path.dirname(__file__), "launch.py"), result]
    subprocess.run(launcher + argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                   stdin=subprocess.DEVNULL)
    with open(result) as fh:
        seconds, rss_kib, code = fh.read().split()
    log.seek(0)
    output = log.read().decode(errors="replace")[-2000:]
    log.close()
    return Run(float(seconds), int(rss_kib) / 1024, int(code), output)


def django_env(source: str, code: str | None = None) -> dict:
    """The environment of a contestant; ``code``: a checkout whose portadb package runs instead."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.bench.settings",
               PORTADB_BENCH_SOURCE=settings.DATABASES[source]["NAME"])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [code, os.getcwd(), env.get("PYTHONPATH")]))
    return env


def manage(*args: str) -> list[str]:
    # -P: "python -m" would put the working directory (this checkout) first on sys.path,
    # before the PYTHONPATH that names --baseline's checkout, and run this portadb twice.
    return [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", "django", *args]


def portadb_help(*subcommand: str) -> str:
    done = subprocess.run(manage("portadb", *subcommand, "--help"), env=django_env("default"),
                          capture_output=True, text=True)
    return done.stdout


# -- preparing targets ---------------------------------------------------------


def recreate(alias: str) -> None:
    """Drop and create the database of ``alias`` (a server alias of the bench settings)."""
    conf = settings.DATABASES[alias]
    for conn in connections.all():
        conn.close()
    name = conf["NAME"]
    if connections[alias].vendor == "postgresql":
        import psycopg
        from psycopg import sql

        with psycopg.connect(**pg_params(conf, "postgres"), autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        import MySQLdb

        c = MySQLdb.connect(user=conf.get("USER") or "root", host=conf.get("HOST") or "127.0.0.1",
                            port=int(conf.get("PORT") or 3306), password=conf.get("PASSWORD") or "")
        cur = c.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        c.close()


def migrated(alias: str) -> None:
    recreate(alias)
    call_command("migrate", database=alias, verbosity=0, interactive=False)
    connections[alias].close()


def pg_params(conf: dict, dbname: str | None = None) -> dict:
    params = {"dbname": dbname or conf["NAME"], "user": conf.get("USER") or "postgres",
              "host": conf.get("HOST") or "127.0.0.1", "port": int(conf.get("PORT") or 5432)}
    if conf.get("PASSWORD"):
        params["password"] = conf["PASSWORD"]
    return params


def pg_url(conf: dict) -> str:
    p = pg_params(conf)
    auth = p["user"] + (f":{p['password']}" if "password" in p else "")
    return f"postgresql://{auth}@{p['host']}:{p['port']}/{p['dbname']}"


def psql_argv(conf: dict) -> str:
    p = pg_params(conf)
    return f"psql -X -q -v ON_ERROR_STOP=1 -h {p['host']} -p {p['port']} -U {p['user']} -d {p['dbname']}"


def mysql_argv(conf: dict) -> str:
    return (f"mysql --local-infile=1 -h {conf.get('HOST') or '127.0.0.1'} -P {conf.get('PORT') or 3306}"
            f" -u {conf.get('USER') or 'root'} {conf['NAME']}")


# -- the contestants -------------------------------------------------------------


def portadb_copy(source: str, target: str, extra: tuple[str, ...] = (), code: str | None = None) -> Run:
    recreate(target)
    return measure(manage("portadb", "copy", f"--from={source}", f"--to={target}", "--noinput",
                          "-v", "0", *extra), env=django_env(source, code))


def portadb_dry_run(source: str, target: str, code: str | None = None) -> Run:
    recreate(target)  # what a dry-run looks at first: an empty target
    return portadb_subcommand(["copy", f"--from={source}", f"--to={target}", "--dry-run", "-v", "0"], source,
                              code)


def portadb_subcommand(argv: list[str], source: str, code: str | None = None) -> Run:
    return measure(manage("portadb", *argv), env=django_env(source, code))


def portadb_sync(source: str, target: str, fraction: float, code: str | None = None,
                 copy_options: tuple[str, ...] = ()) -> Run:
    """Copy a fresh copy of ``source`` (the alias ``changed``) to ``target`` with ``copy_options``
    (``--for-sync`` keeps the fingerprints, ``--track-changes`` installs the change log), change
    ``fraction`` of its rows as a live site would (:func:`portadb.demo.data.change`), then time
    ``portadb sync``."""
    from portadb.demo.data import change

    connections["changed"].close()
    shutil.copyfile(settings.DATABASES[source]["NAME"], settings.DATABASES["changed"]["NAME"])
    sync = ["sync", "--from=changed", f"--to={target}", "-v", "0"]
    copied = portadb_copy("changed", target, copy_options, code=code)
    if copied.returncode:
        return copied
    change("changed", fraction)
    connections["changed"].close()
    return portadb_subcommand(sync, "changed", code)


def dumpdata_loaddata(source: str, target: str) -> Run:
    migrated(target)
    fixture = os.path.join(settings.WORK_DIR, "shop.json")
    script = (f"{shlex.join(manage('dumpdata', 'shop', f'--database={source}', '-o', fixture))} && "
              f"{shlex.join(manage('loaddata', fixture, f'--database={target}'))}")
    return measure(["bash", "-c", script], env=django_env(source))


def columns_of(table: str) -> list[str]:
    with connections["default"].cursor() as cursor:
        return [c.name for c in connections["default"].introspection.get_table_description(cursor, table)]


def csv_select(table: str) -> str:
    """The query ``sqlite3 -csv`` runs: REAL columns with 17 digits (by default it prints 15,
    which rounds; the '!' lifts printf's cap of 16)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(f'PRAGMA table_info("{table}")')
        described = [(row[1], row[2].lower()) for row in cursor.fetchall()]
    cols = ", ".join(f"""CASE WHEN "{c}" IS NULL THEN NULL ELSE printf('%!.17g', "{c}") END"""
                     if kind == "real" else f'"{c}"' for c, kind in described)
    return f'SELECT {cols} FROM "{table}" ORDER BY id'


def sqlite_psql(source: str, target: str) -> Run:
    """``sqlite3 -csv | psql \\copy`` per table into the Django-migrated schema."""
    migrated(target)
    conf = settings.DATABASES[target]
    src = settings.DATABASES[source]["NAME"]
    steps = [_csv_pipe(src, table, conf) for table in SHOP_TABLES]
    return measure(["bash", "-o", "pipefail", "-ec", "\n".join(steps)], env=_pg_env(conf))


def pgloader(source: str, target: str) -> Run:
    """Django's migrate, then pgloader, data only, into the migrated schema: both timed.

    pgloader cannot build a Django schema (its own gives other types, no
    migration state), so a user of it runs migrate first: the comparison
    that is fair to both tools counts both.
    """
    recreate(target)
    conf = settings.DATABASES[target]
    load = os.path.join(settings.WORK_DIR, "shop.load")
    with open(load, "w") as fh:
        fh.write(
            f"LOAD DATABASE\n  FROM sqlite://{settings.DATABASES[source]['NAME']}\n"
            f"  INTO {pg_url(conf)}\n"
            "  WITH data only, truncate, reset sequences\n"
            "  INCLUDING ONLY TABLE NAMES LIKE 'shop_%';\n"
        )
    migrate = shlex.join(manage("migrate", f"--database={target}", "-v", "0"))
    script = f"{migrate} && pgloader --no-ssl-cert-verification {shlex.quote(load)}"
    return measure(["bash", "-ec", script], env=_pg_env(conf) | django_env(source))


def limit(source: str, target: str, streams: int = 2) -> Run:
    """What the hardware allows: no Django, no checks, no conversion, no journal.

    Prepared, not timed: ``pg_dump`` of a Django-migrated database gives the
    schema's pre-data (bare tables) and post-data (keys, indexes, foreign
    keys). Timed: the bare tables, then ``sqlite3 -csv`` piped into
    ``COPY ... FREEZE`` (table truncated in the same transaction) in
    ``streams`` parallel streams (tables dealt out largest first, in turn),
    then the post-data DDL and the sequences.
    """
    migrated(target)
    conf = settings.DATABASES[target]
    p = pg_params(conf)
    dump = f"pg_dump -h {p['host']} -p {p['port']} -U {p['user']} -d {p['dbname']} --schema-only"
    sections = {}
    for section in ("pre-data", "post-data"):
        sections[section] = os.path.join(settings.WORK_DIR, f"limit-{section}.sql")
        subprocess.run(f"{dump} --section={section} -f {shlex.quote(sections[section])}", shell=True,
                       check=True, env=_pg_env(conf))
    recreate(target)
    src = settings.DATABASES[source]["NAME"]
    sizes = {t: _count(source, t) for t in SHOP_TABLES}
    order = sorted(SHOP_TABLES, key=sizes.get, reverse=True)
    groups = [order[i::streams] for i in range(streams)]
    pipes = []
    for group in groups:
        steps = [_csv_pipe(src, table, conf, freeze=True) for table in group]
        pipes.append("(" + " && ".join(steps) + ") &")
    sequences = "; ".join(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), max(id)) FROM {t}"
                          for t in SHOP_TABLES)
    script = "\n".join([f"{psql_argv(conf)} -f {shlex.quote(sections['pre-data'])} > /dev/null",
                        *pipes, "for job in $(jobs -p); do wait $job; done",
                        f"{psql_argv(conf)} -f {shlex.quote(sections['post-data'])} > /dev/null",
                        f"{psql_argv(conf)} -c {shlex.quote(sequences)} > /dev/null"])
    return measure(["bash", "-o", "pipefail", "-ec", script], env=_pg_env(conf))


def _csv_pipe(src: str, table: str, conf: dict, freeze: bool = False) -> str:
    """``sqlite3 -csv`` of ``table`` piped into psql's ``\\copy``; with ``freeze``, ``COPY ... FREEZE``
    after a TRUNCATE in the same transaction."""
    cols = ", ".join(f'"{c}"' for c in columns_of(table))
    options = ", FREEZE" if freeze else ""
    copy = f"\\copy \"{table}\" ({cols}) FROM PSTDIN WITH (FORMAT csv, NULL '\\N'{options})"
    truncate = 'TRUNCATE "' + table + '"'
    truncate = f" -1 -c {shlex.quote(truncate)}" if freeze else ""
    return (f"sqlite3 -csv -cmd {NULL_AS_BACKSLASH_N} {shlex.quote(src)} {shlex.quote(csv_select(table))}"
            f" | {psql_argv(conf)}{truncate} -c {shlex.quote(copy)}")


def _count(alias: str, table: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        return cursor.fetchone()[0]


def csv_load_data(source: str, target: str) -> Run:
    """``sqlite3 -csv`` to files, then ``LOAD DATA LOCAL INFILE`` (foreign key checks off)."""
    migrated(target)
    conf = settings.DATABASES[target]
    src = settings.DATABASES[source]["NAME"]
    steps, loads = [], ["SET foreign_key_checks = 0;"]
    for table in SHOP_TABLES:
        cols = ", ".join(f"`{c}`" for c in columns_of(table))
        csv = os.path.join(settings.WORK_DIR, f"{table}.csv")
        select = csv_select(table)
        steps.append(f"sqlite3 -csv -cmd {NULL_AS_WORD} {shlex.quote(src)} "
                     f"{shlex.quote(select)} > {shlex.quote(csv)}")
        loads.append(f"LOAD DATA LOCAL INFILE '{csv}' INTO TABLE `{table}` CHARACTER SET utf8mb4 "
                     f"FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                     f"LINES TERMINATED BY '\\n' ({cols});")
    steps.append(f"{mysql_argv(conf)} -e {shlex.quote(' '.join(loads))}")
    env = dict(os.environ)
    if conf.get("PASSWORD"):
        env["MYSQL_PWD"] = conf["PASSWORD"]
    return measure(["bash", "-o", "pipefail", "-ec", "\n".join(steps)], env=env)


def _pg_env(conf: dict) -> dict:
    env = dict(os.environ)
    if conf.get("PASSWORD"):
        env["PGPASSWORD"] = conf["PASSWORD"]
    return env


def reachable(alias: str) -> str | None:
    """``None`` when the server of ``alias`` answers, else why not."""
    try:
        recreate(alias)
    except Exception as e:  # any failure means "not here"
        return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return None
