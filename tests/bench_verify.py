"""Time a full verification against the copy it verifies.

    python -m tests.bench_verify --rows 200000 [--to postgresql] [--chunk-size 20000] [--repeat 3]

Fills ``default`` (SQLite) with the zoo plus ``--rows`` rows of zoo.Everything
(every field type), then copies it to ``--to`` and verifies the copy, in turn
``--repeat`` times, and prints the median times and their ratio (wall clock, and
this process's CPU time, steadier on a busy machine). Servers as for the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from decimal import Decimal


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--to", default="postgresql")
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
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

    copies, verifies, copy_cpu, verify_cpu = [], [], [], []
    for _ in range(args.repeat):  # alternated, so both meet the same machine load
        db.recreate(args.to)
        t0, c0 = time.perf_counter(), time.process_time()
        copied = portadb.copy("default", args.to, chunk_size=args.chunk_size)
        copies.append(time.perf_counter() - t0)
        copy_cpu.append(time.process_time() - c0)
        assert copied.ok, portadb.render(copied)
        t0, c0 = time.perf_counter(), time.process_time()
        verified = portadb.verify("default", args.to, chunk_size=args.chunk_size)
        verifies.append(time.perf_counter() - t0)
        verify_cpu.append(time.process_time() - c0)
        assert verified.ok, portadb.render(verified)

    copy_s, verify_s = statistics.median(copies), statistics.median(verifies)
    rows = verified.compared_rows
    print(f"copy   sqlite -> {args.to}: median {copy_s:6.2f} s of {_runs(copies)}"
          f"  ({copied.source_rows / copy_s:,.0f} rows/s)")
    print(f"verify sqlite -> {args.to}: median {verify_s:6.2f} s of {_runs(verifies)}"
          f"  ({rows / verify_s:,.0f} rows/s compared)")
    print(f"verify / copy = {verify_s / copy_s:.2f} (per run: "
          f"{', '.join(f'{v / c:.2f}' for c, v in zip(copies, verifies))})")
    cpu_c, cpu_v = statistics.median(copy_cpu), statistics.median(verify_cpu)
    print(f"client CPU: copy {cpu_c:.2f} s, verify {cpu_v:.2f} s, verify / copy = {cpu_v / cpu_c:.2f}")


def _runs(seconds: list[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in seconds)


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
