"""Fingerprints of the source's rows by key bucket: a sync reads only the buckets that changed.

A table whose key is one integer column is split into buckets of
:data:`WIDTH` consecutive keys. The source computes, by its own SQL and over
the columns the copy copies, each bucket's row count and the sum of a hash of
each of its rows as stored (:meth:`~portadb.backends.base.Adapter.fingerprints`).
A sync keeps them on the target, in ``portadb_fingerprint``, in the same
transaction that makes the target hold what the source held in the snapshot
they were computed in; ``copy --for-sync`` keeps them part by part, each in
the snapshot the part's rows were read in (a bucket two parts cut is kept in
two pieces, which add up). The next sync computes them again on the source
alone: a bucket whose fingerprint is unchanged holds what the target holds
and is not read; the rows of the others are compared one by one.

Both fingerprints of a bucket come from the same backend, so no form shared
by engines is needed: the hash only has to change when a stored value does.
Whatever else changes them (another query plan, a new version) costs a
comparison, never a missed row. What they cannot see is a row written on the
target alone: the cutover ends with ``verify`` for that.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from functools import cache

from django.apps.registry import Apps
from django.db import models, transaction

from .endpoints import Endpoint
from .exceptions import TransferError
from .parts import Part, splittable
from .plan import TableJob
from .processes import Forked, forking

#: Consecutive keys per bucket: small, so that changes spread over a table leave most buckets alone.
WIDTH = 8
#: Of the hashes and :data:`WIDTH`; fingerprints stored by another version are not used.
VERSION = 2
TABLE = "portadb_fingerprint"
#: A stored fingerprint: ``(bucket, rows, hash)``.
Fingerprint = tuple[int, int, str]
#: Rows from which a table's fingerprints are computed in two processes at once, half each.
SPLIT_ROWS = 50_000


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


def of_source(source: Endpoint, job: TableJob, start: int | None = None,
              stop: int | None = None) -> Iterator[Fingerprint]:
    """The source's fingerprints of ``job``'s table now (in the caller's snapshot), in bucket order;
    of the buckets from ``start`` (at least 1) and before ``stop`` (at least 1) where given."""
    above = None if start is None else start * WIDTH - 1
    through = None if stop is None else stop * WIDTH - 1
    return _of_keys(source, job, above, through)


def _of_keys(source: Endpoint, job: TableJob, above: int | None,
             through: int | None) -> Iterator[Fingerprint]:
    """Of the rows whose key is above ``above`` and at most ``through`` (where given)."""
    for bucket, rows, total in source.adapter.fingerprints(job.table, job.column_names, job.key[0], WIDTH,
                                                           above, through):
        yield int(bucket), int(rows), str(int(total or 0))


def stored(target: Endpoint, table: str, start: int | None = None,
           stop: int | None = None) -> Iterator[Fingerprint]:
    """The fingerprints kept of ``table`` on ``target``, in bucket order (as :func:`of_source`)."""
    rows = _stored(target, table)
    rows = rows if start is None else rows.filter(bucket__gte=start)
    rows = rows if stop is None else rows.filter(bucket__lt=stop)
    return _merged(rows.order_by("bucket").values_list("bucket", "rows", "hash").iterator(10_000))


def _merged(rows: Iterable[tuple]) -> Iterator[Fingerprint]:
    """One fingerprint per bucket: a copy keeps a bucket its parts cut in pieces, which add up."""
    last = None
    for bucket, n, total in rows:
        if last is not None and last[0] == bucket:
            last = (bucket, last[1] + n, str(int(last[2]) + int(total)))
            continue
        if last is not None:
            yield last
        last = (bucket, n, total)
    if last is not None:
        yield last


def _stored(target: Endpoint, table: str):
    return model().objects.using(target.alias).filter(table_name=table, version=VERSION)


def changes(source: Endpoint, target: Endpoint, job: TableJob, start: int | None = None,
            stop: int | None = None) -> list[tuple[int, Fingerprint | None]]:
    """:func:`changed` of the source's fingerprints now and those kept (buckets as :func:`of_source`)."""
    return list(changed(of_source(source, job, start, stop), stored(target, job.table, start, stop)))


class Finder:
    """Finds the buckets that changed since the last sync, table by table.

    Where the source's snapshot can be shared (:meth:`~portadb.backends.base.Adapter.share_snapshot`:
    SQLite without WAL, PostgreSQL), a big table's lower half is fingerprinted
    in a forked process while this one does the upper half: both cores (or
    both server processes) hash, and both see the same rows.
    """

    def __init__(self, source: Endpoint, target: Endpoint, jobs: Iterable[TableJob], forked: bool):
        self.source, self.target = source, target
        self.jobs = {job.table: job for job in jobs}  # reach the child with the fork
        self.worker: Forked | None = None  # started for the first big table
        # Forking a process that runs threads can deadlock the child (see verify.remote).
        parallel = forked and forking() and threading.active_count() == 1
        self.shared = source.adapter.share_snapshot() if parallel else None
        self.present = TABLE in target.adapter.table_names()

    def kept(self, job: TableJob) -> bool:
        """Whether a sync, or a ``copy --for-sync``, kept fingerprints of ``job``'s table."""
        return self.present and usable(job) and _stored(self.target, job.table).exists()

    def changes(self, job: TableJob, rows: int) -> list[tuple[int, Fingerprint | None]]:
        """The changed buckets of ``job``'s table, which holds ``rows`` rows, in bucket order.
        Call inside the source's snapshot."""
        middle = self._middle(job, rows) if self.shared is not None else None
        if middle is None:
            return changes(self.source, self.target, job)
        if self.worker is None:  # the child's own connection, not this one's: resolved there
            self.worker = Forked(self._lower, lambda: self.source.adapter.snapshot(self.shared),
                                 TransferError)
        self.worker.send((job.table, middle))
        upper = changes(self.source, self.target, job, start=middle)
        return self.worker.receive() + upper

    def _middle(self, job: TableJob, rows: int) -> int | None:
        """A bucket (at least 1) near the middle key of a table big enough to split."""
        if rows < SPLIT_ROWS:
            return None
        key = self.source.adapter.key_at(job.table, job.key, rows // 2)
        middle = None if key is None else int(key[0]) // WIDTH
        return middle if middle and middle >= 1 else None

    def _lower(self, request: tuple[str, int]) -> list[tuple[int, Fingerprint | None]]:
        table, middle = request
        return changes(self.source, self.target, self.jobs[table], stop=middle)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


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


def keep_part(source: Endpoint, target: Endpoint, job: TableJob, part: Part) -> None:
    """Keep the fingerprints of ``part`` of ``job``'s table (``copy --for-sync``), computed in the
    snapshot the copy read its rows in, once they are committed. A bucket that the part's ends
    cut is kept in pieces (:func:`stored` adds them up)."""
    if not usable(job):
        return
    above = part.after[0] if part.after is not None else None
    through = part.through[0] if part.through is not None else None
    with transaction.atomic(using=target.alias):
        _write(target, job.table, _of_keys(source, job, above, through))


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
    _write(target, table, fingerprints, batch)


def _write(target: Endpoint, table: str, fingerprints: Iterable[Fingerprint], batch: int = 5_000) -> None:
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
