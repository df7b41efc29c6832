"""Fingerprints of the source's rows by key bucket: a sync reads only the buckets that changed.

A table whose key is one integer column is split into buckets of
:data:`WIDTH` consecutive keys. The source computes, by its own SQL and over
the columns the copy copies, each bucket's row count and the sum of a hash of
each of its rows as stored (:meth:`~portadb.backends.base.Adapter.fingerprints`).
A sync keeps them on the target, in ``portadb_fingerprint``, in the same
transaction that makes the target hold what the source held in the snapshot
they were computed in. The next sync computes them again on the source alone:
a bucket whose fingerprint is unchanged holds what the target holds and is
not read; the rows of the others are compared one by one.

Both fingerprints of a bucket come from the same backend, so no form shared
by engines is needed: the hash only has to change when a stored value does.
Whatever else changes them (another query plan, a new version) costs a
comparison, never a missed row. What they cannot see is a row written on the
target alone: the cutover ends with ``verify`` for that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

from django.apps.registry import Apps
from django.db import models

from .endpoints import Endpoint
from .parts import splittable
from .plan import TableJob

#: Consecutive keys per bucket: small, so that changes spread over a table leave most buckets alone.
WIDTH = 8
#: Of the hashes and :data:`WIDTH`; fingerprints stored by another version are not used.
VERSION = 1
TABLE = "portadb_fingerprint"
#: A stored fingerprint: ``(bucket, rows, hash)``.
Fingerprint = tuple[int, int, str]


@cache
def model() -> type[models.Model]:
    """The model of ``portadb_fingerprint``, made on first use (not while Django loads its apps)."""
    index = models.Index(fields=["table_name", "bucket"], name="portadb_fp_bucket")
    meta = type("Meta", (), {"apps": Apps(), "app_label": "portadb_journal", "db_table": TABLE,
                             "indexes": [index]})
    return type("FingerprintRow", (models.Model,), {
        "__module__": __name__, "Meta": meta,
        "table_name": models.CharField(max_length=255),
        "bucket": models.BigIntegerField(),
        "rows": models.IntegerField(),
        "hash": models.CharField(max_length=40),
        "version": models.SmallIntegerField(default=VERSION),
    })


def usable(job: TableJob) -> bool:
    """Whether ``job``'s table has fingerprints: its key is one integer column."""
    return splittable(job)


def of_source(source: Endpoint, job: TableJob) -> Iterator[Fingerprint]:
    """The source's fingerprints of ``job``'s table now (in the caller's snapshot), in bucket order."""
    for bucket, rows, total in source.adapter.fingerprints(job.table, job.column_names, job.key[0], WIDTH):
        yield int(bucket), int(rows), str(int(total or 0))


def stored(target: Endpoint, table: str) -> Iterator[Fingerprint] | None:
    """The fingerprints a sync kept of ``table`` on ``target``, in bucket order; ``None`` without any."""
    if TABLE not in target.adapter.table_names():
        return None
    rows = model().objects.using(target.alias).filter(table_name=table, version=VERSION)
    if not rows.exists():
        return None
    return (tuple(r) for r in rows.order_by("bucket").values_list("bucket", "rows", "hash").iterator(10_000))


def changed(now: Iterable[Fingerprint],
            before: Iterable[Fingerprint]) -> Iterator[tuple[int, Fingerprint | None]]:
    """Each bucket whose fingerprint differs, with its fingerprint now (``None``: no rows now)."""
    now, before = iter(now), iter(before)
    a, b = next(now, None), next(before, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a[0], a
            a = next(now, None)
        elif a is None or b[0] < a[0]:
            yield b[0], None
            b = next(before, None)
        else:
            if a != b:
                yield a[0], a
            a, b = next(now, None), next(before, None)


def keys(bucket: int) -> range:
    """The keys of ``bucket`` (division toward zero: bucket 0 holds the keys from -7 to 7)."""
    if bucket > 0:
        return range(bucket * WIDTH, (bucket + 1) * WIDTH)
    if bucket < 0:
        return range((bucket - 1) * WIDTH + 1, bucket * WIDTH + 1)
    return range(-WIDTH + 1, WIDTH)


def create(target: Endpoint) -> None:
    """Make ``portadb_fingerprint`` on ``target`` if it is not there; before any transaction that
    saves into it (MySQL would commit that transaction at a CREATE TABLE)."""
    if TABLE not in target.adapter.table_names():
        with target.connection.schema_editor() as editor:
            editor.create_model(model())


def save(target: Endpoint, table: str, fingerprints: Iterable[Fingerprint],
         buckets: Iterable[int] | None = None, batch: int = 5_000) -> None:
    """Keep ``fingerprints`` of ``table`` on ``target``: instead of those of ``buckets``, or (``None``)
    of every bucket. Call inside the transaction that makes the target equal to them."""
    rows = model().objects.using(target.alias)
    if buckets is None:
        rows.filter(table_name=table).delete()
    else:
        buckets = list(buckets)
        for i in range(0, len(buckets), batch):
            rows.filter(table_name=table, bucket__in=buckets[i:i + batch]).delete()
    columns = ["table_name", "bucket", "rows", "hash", "version"]
    pending = []
    for bucket, n, total in fingerprints:
        pending.append((table, bucket, n, total, VERSION))
        if len(pending) >= batch:
            target.adapter.write_rows(TABLE, columns, pending)
            pending = []
    if pending:
        target.adapter.write_rows(TABLE, columns, pending)


def drop(target: Endpoint) -> None:
    """Remove ``portadb_fingerprint`` from ``target`` (a new copy starts without fingerprints)."""
    if TABLE in target.adapter.table_names():
        with target.connection.schema_editor() as editor:
            editor.delete_model(model())
