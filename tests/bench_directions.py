"""Seconds per direction for the same data: python -m tests.bench_directions --rows 5000.

Builds the zoo (with ``--rows`` Everything rows) on SQLite through Django and
copies it to PostgreSQL and MariaDB, then copies each source to each vendor's empty target
once, timing ``portadb.copy``. Uses the test settings and their servers.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000,
                        help="Everything rows in the zoo (at most 9,000: the zoo's bigints grow with it)")
    parser.add_argument("--chunk-size", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    import portadb
    from portadb.backends import adapter_for

    from . import databases as db
    from .backends import BACKENDS, second_target_of, source_of
    from .zoo import models as m

    sources = {b.vendor: b.source for b in BACKENDS}
    targets = {b.vendor: b.target for b in BACKENDS}
    targets["mysql (INSERT)"] = second_target_of("mysql")
    sqlite = source_of("sqlite")
    # The server sources are copies of the SQLite one (Django's bulk_create of wide
    # rows would outgrow MariaDB's max_allowed_packet); the tests prove such copies exact.
    db.build_zoo(sqlite, args.rows)
    for alias in (b.source for b in BACKENDS if b.server):
        db.recreate(alias)
        assert portadb.copy(sqlite, alias).ok
    total = None
    print("| source -> target | rows | seconds | rows/s | zoo_everything s |\n|---|---:|---:|---:|---:|")
    for s_vendor, source in sources.items():
        for t_vendor, target in targets.items():
            db.recreate(target)
            if t_vendor.startswith("mysql"):
                t_vendor += f" [{adapter_for(django.db.connections[target]).write_method()}]"
            started = time.perf_counter()
            report = portadb.copy(source, target, chunk_size=args.chunk_size)
            seconds = time.perf_counter() - started
            assert report.ok, portadb.render(report)
            total = report.source_rows
            table = next(t for t in report.tables if t.table == "zoo_everything")
            print(f"| {s_vendor} -> {t_vendor} | {total:,} | {seconds:.2f} | {total / seconds:,.0f}"
                  f" | {table.seconds:.2f} |")
    print(f"\n{m.Everything.objects.using(sqlite).count():,} Everything rows in {total:,} rows.")


if __name__ == "__main__":
    main()
