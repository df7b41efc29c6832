"""Benchmark portadb against the usual ways of moving a Django database, side by side.

    python -m tests.bench --rows 1000000 --repeat 3 --output docs/benchmark-results.rst

Generates the sample shop (``portadb.demo``) deterministically in SQLite, then
times, in one run: ``portadb copy`` to PostgreSQL and to MariaDB with its
default options and with ``--jobs 1`` (every value checked afterwards),
``portadb verify``, ``portadb copy --dry-run`` and ``portadb sync`` (after a
copy, with ``--track-changes``, with ``--for-sync`` and with neither, 1 % of the rows
changed; ``--changed``) when those subcommands and options exist,
Django's migrate then pgloader data-only, ``sqlite3 -csv | psql \\copy``,
the physical limit (bare tables, two streams of ``COPY ... FREEZE``,
then ``pg_dump``'s post-data DDL), CSV + ``LOAD DATA LOCAL INFILE``, and
dumpdata + loaddata at a smaller size. ``--shape one-big-table`` puts about
93 % of the rows in one table instead of the shop's 64 %. The repeats go round by round (each
contestant once per round), so the machine's drift hits all of them alike.
Seconds are the median of the repeats; peak RSS is the largest of the client
processes; ratios are against portadb.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000,
                        help="rows in the shop data set (default 100000)")
    parser.add_argument("--small-rows", type=int, default=20_000,
                        help="rows for dumpdata + loaddata, which is slow (default 20000)")
    parser.add_argument("--jobs", type=int, action="append", default=[], metavar="N",
                        help="also run portadb copy --jobs N (repeatable; default and --jobs 1 always run)")
    parser.add_argument("--shape", choices=["shop", "one-big-table"], default="shop",
                        help="the data set: the shop's mix (default) or one table holding most rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contestant; the median counts")
    parser.add_argument("--only", default="",
                        help="comma-separated contestants to run (default all): "
                             "portadb-pg, portadb-mysql, verify, dry-run, sync, pgloader, psql, limit, "
                             "load-data, dumpdata")
    parser.add_argument("--output", help="write the results to this file too (.rst or .md)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run the portadb contestants with the portadb package of DIR (another"
                             " checkout, e.g. a git worktree of an older commit), in the same rounds")
    parser.add_argument("--changed", type=float, default=1.0, metavar="PERCENT",
                        help="the share of rows the sync contestant changes after its copy (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the generated SQLite sources")
    args = parser.parse_args(argv)
    if args.baseline and sys.version_info < (3, 11):
        parser.error("--baseline needs Python 3.11 or later (python -P keeps this checkout off sys.path)")

    os.environ.setdefault("PORTADB_BENCH_DIR", "/tmp/portadb-bench")
    work = os.environ["PORTADB_BENCH_DIR"]
    os.makedirs(work, exist_ok=True)
    shape = "" if args.shape == "shop" else f"-{args.shape}"
    os.environ["PORTADB_BENCH_SOURCE"] = os.path.join(work, f"shop-v1{shape}-{args.rows}.sqlite3")
    os.environ["PORTADB_BENCH_SMALL_SOURCE"] = os.path.join(work, f"shop-v1-{args.small_rows}.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    import django

    django.setup()
    from . import contestants as c
    from .check import differences, sequence_problems
    from .results import machine, render

    wanted = set(filter(None, args.only.split(",")))

    def chosen(name: str) -> bool:
        return not wanted or name in wanted

    rows = source_for("default", args.rows, args.shape)
    results: list = []
    planned: list = []

    def run(name, target, n, step, source="default", check=None, note=""):
        planned.append((c.Result(name, target, n, note=note), step, source, check))

    def measure_all() -> None:
        """Each contestant once per round, round after round: drift of the machine hits all alike."""
        active = list(planned)
        for i in range(args.repeat):
            for entry in list(active):
                result, step, source, check = entry
                result.runs.append(step())
                print(f"  {result.name} -> {result.target}: run {i + 1}: {result.runs[-1].seconds:.2f} s, "
                      f"{result.runs[-1].peak_rss_mb:.0f} MB, exit {result.runs[-1].returncode}",
                      file=sys.stderr)
                if result.runs[-1].returncode:
                    print(result.runs[-1].output, file=sys.stderr)
                    active.remove(entry)
                    continue
                if check == "each" or (check == "last" and i == args.repeat - 1):
                    found = differences(source, result.target)
                    result.exact = "exact" if found is None else f"NOT EXACT: {found}"
                    if found is None:
                        found = sequence_problems(result.target)
                        result.exact = "exact, sequences ok" if found is None else f"SEQUENCES: {found}"
        results.extend(result for result, *_ in planned)

    servers = {alias: c.reachable(alias) for alias in ("postgresql", "mysql")}
    for alias, why in servers.items():
        if why:
            print(f"{alias} is not reachable, its contestants are skipped: {why}", file=sys.stderr)
    info = machine()
    pg, my = servers["postgresql"] is None, servers["mysql"] is None
    has_verify = "verify" in c.portadb_help()
    has_dry_run = "--dry-run" in c.portadb_help("copy")
    has_sync = "sync" in c.portadb_help()

    versions = [("", None)] + ([(" [baseline]", os.path.abspath(args.baseline))] if args.baseline else [])
    copies = [("", ()), (" --jobs 1", ("--jobs", "1"))] + [(f" --jobs {n}", ("--jobs", str(n)))
                                                           for n in args.jobs if n != 1]
    if pg and chosen("portadb-pg"):
        for tag, code in versions:
            for label, extra in copies:
                run(f"portadb copy{label}{tag}", "postgresql", rows,
                    lambda code=code, extra=extra: c.portadb_copy("default", "postgresql", extra, code),
                    check="each")
            if has_verify and chosen("verify"):
                run(f"portadb verify{tag}", "postgresql", rows, lambda code=code: c.portadb_subcommand(
                    ["verify", "--from=default", "--to=postgresql", "-v", "0"], "default", code))
            if has_dry_run and chosen("dry-run"):
                run(f"portadb copy --dry-run{tag}", "postgresql", rows,
                    lambda code=code: c.portadb_dry_run("default", "postgresql", code))
            if has_sync and chosen("sync"):
                for_sync = "--for-sync" in c.portadb_help("copy")
                if for_sync:
                    run(f"portadb copy --for-sync{tag}", "postgresql", rows,
                        lambda code=code: c.portadb_copy("default", "postgresql", ("--for-sync",), code),
                        check="each", note="keeps the source's fingerprints for the first sync")
                befores = [("--track-changes",)] if "--track-changes" in c.portadb_help("copy") else []
                befores += [("--for-sync",)] if for_sync else []
                for before in befores + [()]:
                    when = f"copy {before[0]}" if before else "a copy"
                    run(f"portadb sync after {when}, {args.changed:g} % changed{tag}", "postgresql", rows,
                        lambda code=code, before=before: c.portadb_sync("default", "postgresql",
                                                                        args.changed / 100, code, before),
                        source="changed", check="each",
                        note=f"after {when}, the source changed as a live site would; only the sync"
                             " is timed")
    if pg and chosen("pgloader") and shutil.which("pgloader"):
        run("migrate + pgloader", "postgresql", rows, lambda: c.pgloader("default", "postgresql"),
            check="last", note="pgloader data only, into the schema Django's migrate built")
    if pg and chosen("psql") and shutil.which("sqlite3") and shutil.which("psql"):
        run("sqlite3 -csv | psql \\copy", "postgresql", rows,
            lambda: c.sqlite_psql("default", "postgresql"), check="last",
            note="into the Django-migrated schema")
    if pg and chosen("limit") and all(map(shutil.which, ("sqlite3", "psql", "pg_dump"))):
        run("limit: COPY FREEZE, 2 streams", "postgresql", rows, lambda: c.limit("default", "postgresql"),
            check="last", note="bare tables, then pg_dump's post-data DDL; no checks, no journal")
    if my and chosen("portadb-mysql"):
        for tag, code in versions:
            for label, extra in copies:
                run(f"portadb copy{label}{tag}", "mysql", rows,
                    lambda code=code, extra=extra: c.portadb_copy("default", "mysql", extra, code),
                    check="each")
    if my and chosen("load-data") and shutil.which("sqlite3") and shutil.which("mysql"):
        run("CSV + LOAD DATA LOCAL", "mysql", rows, lambda: c.csv_load_data("default", "mysql"),
            check="last", note="into the Django-migrated schema, foreign_key_checks=0")
    if pg and chosen("dumpdata"):
        small = source_for("small", args.small_rows, "shop")
        run("dumpdata + loaddata", "postgresql", small, lambda: c.dumpdata_loaddata("small", "postgresql"),
            source="small", check="last", note=f"at {small:,} rows")
    measure_all()

    info["load_after"] = os.getloadavg()
    text = render(results, info, "text")
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(render(results, info, "rst" if args.output.endswith(".rst") else "markdown"))
    for alias in ("postgresql", "mysql"):
        if servers[alias] is None:
            c.recreate(alias)  # leave no copy of the data set behind
    if not args.keep:
        for alias in ("default", "small"):
            path = django.conf.settings.DATABASES[alias]["NAME"]
            for leftover in (path, path + ".done"):
                if os.path.exists(leftover):
                    os.remove(leftover)
    bad = [r for r in results if r.name.startswith("portadb") and (not r.ok or r.exact.startswith("NOT"))]
    return 1 if bad else 0


def source_for(alias: str, rows: int, shape: str) -> int:
    """Generate the shop data set for ``alias`` unless the file is there; return its shop rows."""
    from django.core.management import call_command
    from django.db import connections

    from portadb.demo.data import generate

    from .contestants import SHOP_TABLES

    path = connections[alias].settings_dict["NAME"]
    if not os.path.exists(path + ".done"):
        if os.path.exists(path):
            os.remove(path)  # an interrupted generation
        print(f"generating {rows:,} rows into {path}", file=sys.stderr)
        call_command("migrate", database=alias, verbosity=0, interactive=False)
        generate(alias, rows, shape=shape)
        open(path + ".done", "w").close()
    with connections[alias].cursor() as cursor:
        total = 0
        for table in SHOP_TABLES:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            total += cursor.fetchone()[0]
    connections[alias].close()
    return total


if __name__ == "__main__":
    sys.exit(main())
