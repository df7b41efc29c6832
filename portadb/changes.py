"""The rows that differ, written to a target in one transaction, and read back (``portadb sync``).

:mod:`portadb.sync` finds, table by table, the keys whose rows the target
lacks, holds with other values, or holds and the source does not
(:class:`TableDelta`). Here, in one target transaction, the target's rows of
those keys are deleted, children first, and the source's rows of them written
through the copy's checks and conversions, parents first (where the backend
:attr:`~portadb.backends.statements.Statements.updates_in_place`, a changed
row is written over the target's instead); foreign keys are checked at the
commit where the backend can defer them, else searched for before it. Then
each touched row is read back on both sides.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction

from . import fingerprints, guard
from .convert import converts
from .endpoints import Endpoint
from .fields import foreign_keys
from .journal import mark_synced
from .plan import Plan, TableJob
from .references import check_references
from .reports.model import Finding, Severity, TableCheck
from .reports.sync_report import SyncedTable
from .scan import ScanResult, TableChecks, dangling_rows
from .transfer import prepare_chunk, write_chunk
from .verify.compare import ComparedTable, same
from .verify.digests import row_digests
from .verify.reading import Chunk, KeyChunk, by_bytes

#: Keys shown per table whose rows still differ after a sync.
SHOWN = 10


class Differences(ComparedTable):
    """One table compared on both sides, keeping the key of every row that differs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing: list = []
        self.extra: list = []
        self.changed: list = []
        #: The source row's digest of each key missing or changed: what the read-back expects.
        self.digests: dict = {}
        #: The bytes of each such row's values, about: how many of them a read may hold.
        self.sizes: dict = {}

    def found(self, missing: list, extra: list, different: list) -> None:
        self.missing += missing
        self.extra += extra
        self.changed += different

    def narrow_chunk(self, src: Chunk, tgt, check: TableCheck) -> None:
        """By each row's digest: only keys are needed, and the target's process sends no rows."""
        src_rows = src.rows()
        theirs = dict(tgt.row_digests(self.key_of))
        ours = dict(row_digests(src_rows, self.key_of))
        missing = [k for k in ours if k not in theirs]
        extra = [k for k in theirs if k not in ours]
        different = [k for k, d in ours.items() if k in theirs and theirs[k] != d]
        self._note(check, "missing", missing)
        self._note(check, "extra", extra)
        self.extras_seen.update(extra)
        check.different_rows += len(different)
        self.found(missing, extra, different)
        self.digests.update((k, ours[k]) for k in missing + different)
        wanted = set(missing + different)
        self.sizes.update((k, _bytes(row)) for row in src_rows if (k := self.key_of(row)) in wanted)


def _bytes(row: tuple) -> int:
    return sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)


@dataclass
class TableDelta:
    """What differs in one table: the canonical keys the target lacks (``missing``), holds with
    other values (``changed``) and holds while the source does not (``extra``)."""

    job: TableJob
    compared: Differences
    report: SyncedTable
    #: The fingerprints to keep (:mod:`portadb.fingerprints`): ``None`` none; ``"all"`` every
    #: bucket's, as the source holds them now; ``"drop"`` remove those kept (a sync by the
    #: change log wrote rows they describe); else those of the buckets that changed.
    buckets: list | str | None = None

    @property
    def missing(self) -> list:
        return self.compared.missing

    @property
    def changed(self) -> list:
        return self.compared.changed

    @property
    def extra(self) -> list:
        return self.compared.extra

    @property
    def touched(self) -> list:
        return self.missing + self.changed + self.extra


def would_refuse(plan: Plan, deltas: list[TableDelta], chunk_size: int) -> list[Finding]:
    """What a dry run says of the rows the sync would write: each value the target would refuse,
    checked as the copy's dry run checks a whole source."""
    found = ScanResult()
    for delta in deltas:
        if delta.missing or delta.changed:
            keys = [delta.compared.src.prepare(k) for k in delta.missing + delta.changed]
            checks = TableChecks(delta.job, plan.source, plan.target, dangling_rows(plan.source, delta.job,
                                                                                    keys=keys))
            for rows in source_rows(plan.source, delta.job, delta.compared, delta.missing + delta.changed,
                                    chunk_size):
                found.refusals += checks.check(rows)
    return guard.summary_findings(found.summaries(), Severity.ERROR, "would be refused")


def apply(plan: Plan, deltas: list[TableDelta], policy, chunk_size: int) -> None:
    """In one target transaction: delete what differs, children first; write the source's rows
    of those keys, parents first.

    Where the target checks foreign keys at the commit and a refused value stops the sync
    (``--on-error=abort``), the rows are not searched for keys that point at no row first: the
    commit refuses one, and the sync is then written again with the search, which names it.
    """
    if plan.target.adapter.defers_foreign_keys and isinstance(policy, guard.Abort):
        try:
            return _apply(plan, deltas, policy, chunk_size, references=False)
        except IntegrityError:
            pass  # rolled back: written again, searched, for the row to name
    _apply(plan, deltas, policy, chunk_size)


def _apply(plan: Plan, deltas: list[TableDelta], policy, chunk_size: int, references: bool = True) -> None:
    tgt = plan.target
    in_place = tgt.adapter.updates_in_place
    with tgt.adapter.sync_session(), transaction.atomic(using=tgt.alias):
        tgt.adapter.defer_foreign_keys()
        for delta in reversed(deltas):
            delete(tgt, delta.job, delta.compared, delta.extra if in_place else delta.changed + delta.extra)
        for delta in (d for d in deltas if d.touched):
            keys = [delta.compared.src.prepare(k) for k in delta.missing + delta.changed]
            table_guard = policy.table(delta.job, keys=keys, references=references)
            if in_place and delta.changed:
                written = update(plan, delta, table_guard, chunk_size)
            else:
                written = write(plan, delta, delta.changed, table_guard, chunk_size)
            delta.report.rejected += len(delta.changed) - written
            delta.report.updated = written
            written = write(plan, delta, delta.missing, table_guard, chunk_size)
            delta.report.rejected += len(delta.missing) - written
            delta.report.inserted = written
        if not tgt.adapter.defers_foreign_keys:  # checked before the commit, here
            check_references(tgt.connection, _related(plan, [d for d in deltas if d.touched]))
        # Before the commit: a sync stopped just after it leaves no sequence behind the new keys.
        tgt.adapter.reset_sequences([d.job.model for d in deltas if d.missing or d.changed])
        for delta in deltas:  # what the target now holds, as the source's fingerprints
            if delta.report.rejected or delta.buckets == "drop":  # none: the next sync compares in full
                fingerprints.save(tgt, delta.job.table, [])
            elif delta.buckets == "all":
                fingerprints.save(tgt, delta.job.table, fingerprints.of_source(plan.source, delta.job))
            elif delta.buckets:
                fingerprints.save(tgt, delta.job.table, [fp for _, fp in delta.buckets if fp],
                                  buckets=[bucket for bucket, _ in delta.buckets])
        mark_synced(tgt)


def _related(plan: Plan, deltas: list[TableDelta]) -> list[type]:
    """The models whose rows changed, and those whose foreign keys point at them."""
    touched = {delta.job.model for delta in deltas}
    return [model for model in plan.models
            if model in touched or any(f.related_model in touched for f in foreign_keys(model))]


def delete(tgt: Endpoint, job: TableJob, pair: ComparedTable, keys: list) -> None:
    """Delete the target's rows of these canonical keys."""
    per = pair.tgt.keys_per_query
    with tgt.connection.cursor() as cursor:
        for i in range(0, len(keys), per):
            batch = [pair.tgt.prepare(k) for k in keys[i:i + per]]
            cursor.execute(tgt.adapter.delete_keys_sql(job.table, job.key, len(batch)),
                           tgt.adapter.key_params(batch))


def write(plan: Plan, delta: TableDelta, keys: list, table_guard, chunk_size: int,
          into: str | None = None) -> int:
    """Read the source's rows of these canonical keys and write them as the copy does (into the
    table ``into``, where given); the rows written."""
    written = 0
    job, adapter = delta.job, plan.target.adapter
    convert = converts(job.columns)
    for read in source_rows(plan.source, job, delta.compared, keys, chunk_size):
        rows, converted = prepare_chunk(read, job, plan.target, table_guard, convert)
        write_chunk(adapter, job, rows, converted, table=into)
        written += len(rows)
    return written


def update(plan: Plan, delta: TableDelta, table_guard, chunk_size: int) -> int:
    """Write the source's rows of the changed keys over the target's in place: written as the copy
    writes into a temporary table, then one UPDATE from it. Where some were refused, or the UPDATE
    trips over a unique value that rows swap, the target's rows are deleted and the staged ones
    inserted instead, as where the backend cannot update in place. The rows written."""
    tgt, job = plan.target, delta.job
    adapter, stage = tgt.adapter, _stage_name(job.table)
    with tgt.connection.cursor() as cursor:
        if not _run(tgt, cursor, adapter.stage_sql(job.table, stage, job.column_names), DatabaseError):
            # No right to create a temporary table: as where the backend cannot update in place.
            delete(tgt, job, delta.compared, delta.changed)
            return write(plan, delta, delta.changed, table_guard, chunk_size)
        written = write(plan, delta, delta.changed, table_guard, chunk_size, into=stage)
        sql = adapter.update_from_sql(job.table, stage, job.column_names, job.key)
        if written < len(delta.changed) or not _run(tgt, cursor, sql, IntegrityError, rows=written):
            delete(tgt, job, delta.compared, delta.changed)
            cursor.execute(adapter.insert_from_sql(job.table, stage, job.column_names))
    adapter.drop_tables([stage])
    return written


def _run(tgt: Endpoint, cursor, sql: str, error: type[Exception], rows: int | None = None) -> bool:
    """Run ``sql`` in a savepoint; whether it ran without ``error`` (and changed ``rows`` rows,
    where given); if not, it is rolled back."""
    try:
        with transaction.atomic(using=tgt.alias):
            cursor.execute(sql)
            if rows is not None and cursor.rowcount != rows:
                raise error(f"{cursor.rowcount} rows changed, not {rows}")
    except error:
        return False
    return True


def _stage_name(table: str) -> str:
    """The temporary table of ``table``'s staged rows: a name of ours, whatever the table's."""
    return f"portadb_stage_{hashlib.sha1(table.encode()).hexdigest()[:16]}"


def source_rows(src: Endpoint, job: TableJob, pair: Differences, keys: list,
                chunk_size: int) -> Iterator[list]:
    """The source's rows of these canonical keys (missing or changed ones), as the copy reads
    them: at most ``chunk_size`` at a time, and where values are large, about
    :data:`~portadb.options.CHUNK_BYTES` of them (by the sizes the comparison measured)."""
    adapter = src.adapter
    with adapter.read_cursor() as cursor:
        for group in by_bytes(keys, pair.sizes, min(chunk_size, pair.src.keys_per_query)):
            cursor.execute(adapter.select_keys_sql(job.table, job.column_names, job.key, len(group)),
                           adapter.key_params([pair.src.prepare(k) for k in group]))
            rows = cursor.fetchall()
            if rows:
                yield rows


def read_back(src: Endpoint, tgt: Endpoint, delta: TableDelta) -> None:
    """Read every row the sync touched back from the target and count those that still differ
    from the source's: by the digests the comparison made of the source's rows (read in this
    snapshot, they have not changed), and where those differ, by the source's rows read again."""
    pair, result = delta.compared, delta.report
    per = min(pair.src.keys_per_query, pair.tgt.keys_per_query)
    missing = 0
    for batch in by_bytes(delta.touched, pair.sizes, per):  # the target's rows are the source's now
        request = KeyChunk(batch)
        theirs = {pair.key_of(r): r for r in pair.tgt.chunk(request)}
        digests = dict(row_digests(list(theirs.values()), pair.key_of))
        result.verified_rows += len(request.keys)
        unsure = []
        for key in request.keys:
            expected = pair.digests.get(key)  # None: the source lacks the row
            if expected is not None and key not in theirs:
                missing += 1  # rejected, or lost
            elif expected != digests.get(key):
                unsure.append(key)
        ours = {pair.key_of(r): r for r in pair.src.chunk(KeyChunk(unsure))} if unsure else {}
        for key in unsure:
            if not same(ours.get(key), theirs.get(key)):
                result.still_different += 1
                result.different_pks += [pair.show_key(key)][:SHOWN - len(result.different_pks)]
    result.still_different += max(0, missing - result.rejected)
