"""Deterministic, realistic rows for the sample shop, written straight into SQLite.

``generate(alias, rows)`` fills the (migrated, empty) shop tables of a SQLite
alias with about ``rows`` rows in all, the same rows for the same ``rows`` and
``seed`` on every machine. Values are prepared once per column the way Django
stores them on SQLite and inserted with ``executemany`` in one transaction, so
a million rows take seconds rather than the minutes ``bulk_create`` needs.

The mix, as a share of ``rows``: customers 10 %, products 2 %, tags 0.05 %
(at least 12), product tags about 5 %, orders 20 %, order lines the rest.
Names and notes include non-ASCII text and an emoji now and then; nullable
columns hold NULL in a share of rows; datetimes carry microseconds.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from itertools import islice

from django.db import connections, models

from ..backends import adapter_for

UTC = dt.timezone.utc
SEED = 20260401
BATCH = 20_000

FIRST = ["Anna", "Bruno", "Chloé", "Dmitri", "Emeka", "Fatima", "Günther", "Hana", "Ines", "Jamal",
         "Kasia", "Luis", "Mei", "Nils", "Olga", "Priya", "Quentin", "Rosa", "Søren", "Tariq",
         "Ursula", "Vikram", "Wen", "Ximena", "Yusuf", "Zoë"]
LAST = ["Abe", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hughes", "Ivanova",
        "Jones", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi",
        "Silva", "Tanaka", "Usman", "Vargas", "Wang", "Yilmaz", "Zhou", "Ñúñez"]
ADJECTIVES = ["Compact", "Deluxe", "Eco", "Ergonomic", "Handmade", "Heavy-duty", "Classic",
              "Portable", "Smart", "Vintage", "Wireless", "Organic"]
NOUNS = ["Backpack", "Blender", "Chair", "Desk Lamp", "Headphones", "Kettle", "Notebook",
         "Running Shoes", "Teapot", "Umbrella", "Water Bottle", "Yoga Mat"]
TAGS = ["new", "sale", "bestseller", "eco", "gift", "limited", "outdoor", "kitchen", "office",
        "sport", "kids", "premium", "été", "日本製", "handmade", "refurbished"]
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt "
         "ut labore et dolore magna aliqua größe café naïve 🚀").split()
COLORS = ["black", "white", "red", "blue", "green", "oak", "steel"]
STATUSES = ["cart", "paid", "shipped", "delivered", "cancelled"]
START = dt.datetime(2019, 1, 1, tzinfo=UTC)


#: Rows per customer, product and order: the shop's mix, and one where order lines are
#: about 93 % of all rows (a project whose rows sit in one table: an event log, say).
SHAPES = {"shop": (10, 50, 5), "one-big-table": (100, 500, 20)}


def plan_counts(rows: int, shape: str = "shop") -> dict[str, int]:
    """Rows per table for about ``rows`` rows in all (product tags vary with the seed)."""
    per_customer, per_product, per_order = SHAPES[shape]
    tags = min(len(TAGS) * 40, max(12, rows // 2000))
    customers = max(1, rows // per_customer)
    products = max(1, rows // per_product)
    orders = max(1, rows // per_order)
    return {"tag": tags, "customer": customers, "product": products, "order": orders}


def generate(alias: str = "default", rows: int = 2_000, seed: int = SEED,
             shape: str = "shop") -> dict[str, int]:
    """Fill the shop tables of the SQLite ``alias``; return the rows written per table."""
    from .shop import models as shop

    rng = random.Random(seed)
    n = plan_counts(rows, shape)
    connection = connections[alias]
    written = {}
    product_tags = _product_tags(rng, n["product"], n["tag"])
    n["product_tags"] = len(product_tags)
    n["line"] = max(1, rows - sum(n.values()))
    tables = [
        (shop.Tag, _tags(n["tag"])),
        (shop.Customer, _customers(rng, n["customer"])),
        (shop.Product, _products(rng, n["product"])),
        (shop.Product.tags.through, iter(product_tags)),
        (shop.Order, _orders(rng, n["order"], n["customer"])),
        (shop.OrderLine, _lines(rng, n["line"], n["order"], n["product"])),
    ]
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        for model, source in tables:
            written[model._meta.db_table] = _insert(cursor, connection, model, source)
        cursor.execute("COMMIT")
    return written


def _insert(cursor, connection, model, source: Iterator[tuple]) -> int:
    fields = model._meta.local_concrete_fields
    q = adapter_for(connection).quote
    sql = (f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
           f"VALUES ({', '.join('?' for _ in fields)})")
    preps = [_prep(f, connection) for f in fields]
    count = 0
    while batch := list(islice(source, BATCH)):
        if any(preps):
            batch = [tuple(v if p is None or v is None else p(v) for p, v in zip(preps, row))
                     for row in batch]
        cursor.executemany(sql, batch)
        count += len(batch)
    return count


def _prep(field, connection) -> Callable | None:
    """How Django stores this field's values on SQLite, built once per column."""
    if isinstance(field, models.DateTimeField):
        return lambda v: v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(field, models.UUIDField):
        return lambda v: v.hex
    if isinstance(field, models.JSONField):
        return json.dumps
    if isinstance(field, (models.DecimalField, models.DateField)):
        return str
    if isinstance(field, (models.BooleanField, models.IntegerField, models.CharField,
                          models.TextField, models.FloatField, models.ForeignKey)):
        return None
    return lambda v: field.get_db_prep_save(v, connection)


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def _moment(rng: random.Random, days: int = 2000) -> dt.datetime:
    return START + dt.timedelta(seconds=rng.randrange(days * 86400), microseconds=rng.randrange(10**6))


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _tags(count: int) -> Iterator[tuple]:
    for i in range(1, count + 1):
        base = TAGS[(i - 1) % len(TAGS)]
        name = base if i <= len(TAGS) else f"{base}-{(i - 1) // len(TAGS)}"
        yield (i, name, "" if i % 3 else f"Everything {name}")


def _customers(rng: random.Random, count: int) -> Iterator[tuple]:
    for i in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{i}@example.com".lower().replace("'", "")
        yield (
            i, _uuid(rng), email, f"{first} {last}",
            None if i % 4 == 0 else f"+49 30 {rng.randrange(10**7):07d}",
            "" if i % 5 else _text(rng, 3, 25),
            i % 17 != 0,
            (None, True, False)[i % 3],
            _moment(rng),
            None if i % 6 == 0 else dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25000)),
            rng.randrange(0, 50_000),
            {"language": rng.choice(["en", "de", "fr", "ja"]), "newsletter": rng.random() < 0.3,
             "sizes": rng.sample(["S", "M", "L", "XL"], k=rng.randint(0, 3))},
        )


def _products(rng: random.Random, count: int) -> Iterator[tuple]:
    for i in range(1, count + 1):
        yield (
            i, f"SKU-{i:08d}", f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}", _text(rng, 8, 60),
            Decimal(rng.randrange(99, 250_000)) / 100,
            None if i % 7 == 0 else rng.uniform(0.05, 40.0),
            rng.randrange(0, 5000),
            None if i % 3 == 0 else 4_000_000_000_000 + rng.randrange(10**12),
            i % 11 != 0,
            _moment(rng),
            None if i % 4 == 0 else {"color": rng.choice(COLORS), "size": rng.randint(1, 60),
                                     "dimensions": [round(rng.uniform(1, 100), 1) for _ in range(3)]},
        )


def _product_tags(rng: random.Random, products: int, tags: int) -> list[tuple]:
    rows, pk = [], 0
    for product in range(1, products + 1):
        for tag in sorted(rng.sample(range(1, tags + 1), k=rng.randint(0, min(tags, 5)))):
            pk += 1
            rows.append((pk, product, tag))
    return rows


def _orders(rng: random.Random, count: int, customers: int) -> Iterator[tuple]:
    for i in range(1, count + 1):
        placed = _moment(rng)
        status = rng.choice(STATUSES)
        shipped = placed + dt.timedelta(hours=rng.randrange(1, 96), microseconds=rng.randrange(10**6))
        yield (
            i, _uuid(rng), rng.randrange(1, customers + 1), status, placed,
            shipped if status in ("shipped", "delivered") else None,
            (shipped + dt.timedelta(days=rng.randrange(1, 8))).date() if status == "delivered" else None,
            Decimal(rng.randrange(100, 1_000_000)) / 100,
            rng.random() < 0.1,
            "" if i % 9 else _text(rng, 2, 12),
            None if i % 2 else {"channel": rng.choice(["web", "app", "phone"]), "coupon": None},
        )


def _lines(rng: random.Random, count: int, orders: int, products: int) -> Iterator[tuple]:
    for i in range(1, count + 1):
        yield (
            i, 1 + (i - 1) * orders // count, rng.randrange(1, products + 1), rng.randint(1, 9),
            Decimal(rng.randrange(99, 250_000)) / 100,
            None if i % 3 else round(rng.choice([0.05, 0.1, 0.15, 0.2]) + rng.random() / 1000, 6),
            "" if i % 13 else "gift wrap ✓",
        )


def change(alias: str = "default", fraction: float = 0.01, seed: int = SEED + 1) -> dict[str, int]:
    """Change about ``fraction`` of the shop's rows on the SQLite ``alias`` as a live site would
    between a copy and its cutover, spread across tables and keys: customers, products,
    orders and order lines updated, order lines deleted and new ones added. Returns the
    statements' rows per kind (an update may write the value a row already held)."""
    from .shop import models as shop

    rng = random.Random(seed)
    connection = connections[alias]
    q = adapter_for(connection).quote
    done = {"updated": 0, "deleted": 0, "inserted": 0}
    updates = [(shop.Customer, "loyalty_points", lambda: rng.randint(0, 10**6)),
               (shop.Product, "stock", lambda: rng.randint(0, 10**6)),
               (shop.Order, "note", lambda: _text(rng, 2, 9)),
               (shop.OrderLine, "comment", lambda: _text(rng, 1, 4)[:200])]
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        last = {}
        for model, column, value in updates:
            table = model._meta.db_table
            cursor.execute(f"SELECT MAX(id) FROM {q(table)}")
            last[model] = cursor.fetchone()[0] or 0
            ids = rng.sample(range(1, last[model] + 1), max(1, round(last[model] * fraction * 2 / 3)))
            cursor.executemany(f"UPDATE {q(table)} SET {q(column)} = ? WHERE id = ?",
                               [(value(), i) for i in ids])
            done["updated"] += len(ids)
        lines = last[shop.OrderLine]
        k = max(1, round(lines * fraction / 6))
        cursor.executemany(f"DELETE FROM {q(shop.OrderLine._meta.db_table)} WHERE id = ?",
                           [(i,) for i in rng.sample(range(1, lines + 1), k)])
        done["deleted"] = k
        new = _lines(rng, k, last[shop.Order], last[shop.Product])
        done["inserted"] = _insert(cursor, connection, shop.OrderLine,
                                   ((lines + row[0], *row[1:]) for row in new))
        cursor.execute("COMMIT")
    return done
