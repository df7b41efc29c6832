"""MariaDB/MySQL write paths side by side: python -m tests.bench_mysql_write --rows 60000.

Times portadb's own two paths into one table of nine mixed columns -- multi-row
INSERT (``executemany``) and ``LOAD DATA LOCAL INFILE`` -- in 20,000-row
transactions, then reads every row back and compares it with what was written.
Uses the ``mysql`` alias of the test settings (which allows LOCAL INFILE).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
import uuid
from decimal import Decimal

TEXTS = ["NULL", "\\N", "back\\slash", "tab\there", "new\nline", "", "cr\rx", "nul\0x", "🐍 ünï"]
COLUMNS = ["id", "flag", "name", "body", "amount", "ratio", "at", "u", "data"]
DDL = (
    "CREATE TABLE portadb_bench (id bigint PRIMARY KEY, flag bool NOT NULL,"
    " name varchar(100) NOT NULL, body longtext NULL, amount decimal(14,4) NULL, ratio double NULL,"
    " at datetime(6) NULL, u uuid NULL, data longblob NULL) CHARACTER SET utf8mb4"
)


def rows(n: int) -> list[tuple]:
    start = dt.datetime(2024, 1, 1)
    return [
        (i, bool(i % 2), f"row {i}", TEXTS[i % len(TEXTS)] if i % 10 else None,
         Decimal(f"{i}.{i % 10000:04d}"), i / 3, start + dt.timedelta(seconds=i, microseconds=i),
         uuid.UUID(int=i), bytes([i % 256, 0, 9, 10, 92]) * (i % 7))
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connections, transaction

    from portadb.backends import adapter_for
    from portadb.backends.base import Adapter as Base

    from . import databases as db

    alias = "mysql"
    db.recreate(alias)
    adapter = adapter_for(connections[alias])
    data = rows(args.rows)
    paths = {"insert": lambda chunk: Base.write_rows(adapter, "portadb_bench", COLUMNS, chunk),
             "load data": lambda chunk: adapter.load_rows("portadb_bench", COLUMNS, chunk)}
    with adapter.load_session(), connections[alias].cursor() as cursor:
        for name in ["insert", "load data"] * 2:
            cursor.execute("DROP TABLE IF EXISTS portadb_bench")
            cursor.execute(DDL)
            started = time.perf_counter()
            for i in range(0, len(data), args.chunk_size):
                with transaction.atomic(using=alias):
                    paths[name](data[i:i + args.chunk_size])
            seconds = time.perf_counter() - started
            cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM portadb_bench ORDER BY id")
            back = [(r[0], bool(r[1]), *r[2:7], uuid.UUID(str(r[7])) if r[7] else None, r[8])
                    for r in cursor.fetchall()]
            print(f"{name:9}  {len(data):,} rows  {seconds:5.2f} s  {len(data) / seconds:9,.0f} rows/s"
                  f"  exact={back == data}")
        cursor.execute("DROP TABLE portadb_bench")


if __name__ == "__main__":
    main()
