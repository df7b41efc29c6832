"""What the change log costs a site's writes: ``python -m tests.bench.triggers --rows 1000000``.

``copy --track-changes`` puts triggers on the source; every write the site
makes until the cutover also writes a log row. For each backend as a source,
the benchmark's shop (``python -m tests.bench --rows N --keep`` makes it) is
copied there, then the same statements run with and without the log, round
by round: 30,000 single-row UPDATEs of orders and 10,000 of customers, in one
transaction, as a busy site's requests would. Prints the best time of each and
their ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time

#: Table, column, and the share of its rows updated (a 1M-row shop: 30,000 orders, 10,000 customers).
UPDATES = [("shop_order", "note", 0.15), ("shop_customer", "loyalty_points", 0.10)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.triggers",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="the generated source's rows (default 1000000)")
    parser.add_argument("--repeat", type=int, default=4, help="rounds (default 4); the best counts")
    args = parser.parse_args(argv)
    work = os.environ.setdefault("PORTADB_BENCH_DIR", "/tmp/portadb-bench")
    os.environ["PORTADB_BENCH_SOURCE"] = os.path.join(work, f"shop-v1-{args.rows}.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    import portadb

    if not os.path.exists(settings.DATABASES["default"]["NAME"]):
        parser.error(f"no source of {args.rows} rows: run python -m tests.bench --rows {args.rows}"
                     " --keep first")
    for alias in ("changed", "postgresql", "mysql"):
        if alias == "changed":
            connections[alias].close()
            shutil.copyfile(settings.DATABASES["default"]["NAME"], settings.DATABASES[alias]["NAME"])
        else:
            assert portadb.copy("default", alias, replace=True).ok
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeat):
            for tracked in (False, True):
                (install if tracked else uninstall)(alias)
                times[tracked].append(writes(alias))
        uninstall(alias)
        plain, logged = min(times[False]), min(times[True])
        vendor = connections[alias].vendor
        print(f"{vendor:<11} without the log {plain:.2f} s, with it {logged:.2f} s: {logged / plain:.2f}x")
    return 0


def install(alias: str) -> None:
    from portadb import tracking
    from portadb.endpoints import close, open_endpoints
    from portadb.plan import make_plan

    src, tgt = open_endpoints(alias, "default" if alias != "default" else "changed")
    try:
        tracking.install(src, make_plan(src, tgt, sizes=False).jobs)
    finally:
        close(src, tgt)


def uninstall(alias: str) -> None:
    import portadb

    portadb.inspect(alias, untrack=True)


def writes(alias: str) -> float:
    """Seconds of the same single-row UPDATEs, in one transaction (the MAX(id) queries too, alike)."""
    from django.db import connections, transaction

    rng = random.Random(1)
    started = time.perf_counter()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        for table, column, share in UPDATES:
            cursor.execute(f"SELECT MAX(id) FROM {table}")
            rows = cursor.fetchone()[0] or 0
            ids = rng.sample(range(1, rows + 1), round(rows * share))
            cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s",
                               [(str(i) if column == "note" else i, i) for i in ids])
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
