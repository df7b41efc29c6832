"""Dry-run against copy time on a generated zoo: ``python -m tests.bench_dry_run --rows 200000``.

Builds ``default`` (SQLite) with the zoo plus ``--rows`` rows of ``zoo.Everything``
(every field type), then times ``portadb.plan()`` and ``portadb.copy()`` to
``--to`` (emptied first). Prints one line per run and the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import django


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--to", default="postgresql")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()

    import portadb
    from tests import databases as db

    from .zoo.data import populate

    db.recreate("default")
    db.migrate("default")
    populate("default")
    grow("default", args.rows)
    db.recreate(args.to)
    rows = portadb.inspect("default").total_rows

    started = time.perf_counter()
    plan = portadb.plan("default", args.to)
    dry = time.perf_counter() - started
    started = time.perf_counter()
    report = portadb.copy("default", args.to)
    copy = time.perf_counter() - started
    assert report.ok and plan.ok, portadb.render(plan) + portadb.render(report)
    print(f"{rows:,} rows, sqlite -> {args.to}: dry-run {dry:.2f} s (scan {plan.scan_seconds:.2f} s,"
          f" estimate {plan.estimated_seconds:.1f} s), copy {copy:.2f} s, ratio {dry / copy:.2f}")
    return 0


def grow(alias: str, rows: int) -> None:
    """Double zoo_everything's rows with INSERT ... SELECT until it holds ``rows``."""
    from django.db import connections

    conn = connections[alias]
    q = conn.ops.quote_name
    with conn.cursor() as cursor:
        cursor.execute("SELECT * FROM zoo_everything LIMIT 0")
        columns = [c[0] for c in cursor.description if c[0] != "id"]
        # New slugs 'g<id + highest id>' keep (slug, email) unique across passes.
        select = ", ".join("'g' || (id + %s)" if c == "slug" else q(c) for c in columns)
        while (total := cursor.execute("SELECT COUNT(*) FROM zoo_everything").fetchone()[0]) < rows:
            highest = cursor.execute("SELECT MAX(id) FROM zoo_everything").fetchone()[0]
            cursor.execute(
                f"INSERT INTO zoo_everything ({', '.join(map(q, columns))})"
                f" SELECT {select} FROM zoo_everything WHERE id <= %s ORDER BY id LIMIT %s",
                [highest, highest, rows - total],
            )
    conn.close()


if __name__ == "__main__":
    sys.exit(main())
