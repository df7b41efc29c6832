"""Time a full verification against the copy it verifies.

    python -m tests.bench_verify --rows 200000 [--to postgresql] [--chunk-size 20000]

Fills ``default`` (SQLite) with the zoo plus ``--rows`` rows of zoo.Everything
(every field type), copies it to ``--to``, verifies the copy, and prints both
times and their ratio. Server URLs as for the tests (tests/settings.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
import uuid
from decimal import Decimal


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--to", default="postgresql")
    parser.add_argument("--chunk-size", type=int, default=20_000)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    import portadb

    from . import databases as db

    db.recreate("default")
    db.migrate("default")
    t0 = time.perf_counter()
    fill("default", args.rows)
    print(f"filled {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")

    db.recreate(args.to)
    t0 = time.perf_counter()
    copied = portadb.copy("default", args.to, chunk_size=args.chunk_size)
    copy_s = time.perf_counter() - t0
    assert copied.ok, portadb.render(copied)

    t0 = time.perf_counter()
    verified = portadb.verify("default", args.to, chunk_size=args.chunk_size)
    verify_s = time.perf_counter() - t0
    assert verified.ok, portadb.render(verified)

    rows = verified.compared_rows
    print(f"copy   sqlite -> {args.to}: {copy_s:6.2f} s  ({copied.source_rows / copy_s:,.0f} rows/s)")
    print(f"verify sqlite -> {args.to}: {verify_s:6.2f} s  ({rows / verify_s:,.0f} rows/s compared)")
    print(f"verify / copy = {verify_s / copy_s:.2f}")


def fill(using: str, rows: int, batch: int = 10_000) -> None:
    """``rows`` rows of zoo.Everything, every column set, in batches."""
    from .zoo import models as m
    from .zoo.data import populate

    populate(using, rows=10)
    base = dt.datetime(2020, 1, 1, 0, 0, 0, 1, dt.timezone.utc)
    for start in range(0, rows, batch):
        m.Everything.objects.using(using).bulk_create([
            m.Everything(
                boolean=i % 2 == 0, null_boolean=[None, True, False][i % 3], char=f"bench {i}",
                text=f"text {i} " * (i % 7), slug=f"bench-{i}", email=f"b{i}@example.org",
                url=f"https://example.org/{i}", integer=i, small=i % 30000, big=i * 10**9,
                positive=i, positive_small=i % 30000, positive_big=i * 10**12,
                decimal=Decimal(i) / 7, floating=i / 3,
                date=(base + dt.timedelta(minutes=i)).date(),
                datetime=base + dt.timedelta(seconds=i, microseconds=i),
                time=(base + dt.timedelta(seconds=i)).time(), duration=dt.timedelta(microseconds=i),
                uuid=uuid.UUID(int=i), json={"i": i, "tags": ["a", i % 5]}, binary=bytes([i % 256]) * 8,
                ip=f"10.0.{i // 256 % 256}.{i % 256}", tags=[str(i)], price=Decimal(i) + Decimal("0.99"),
            )
            for i in range(start, min(start + batch, rows))
        ])


if __name__ == "__main__":
    main()
