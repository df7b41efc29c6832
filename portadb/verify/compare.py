"""One table compared on both sides: chunk digests, then the rows of a chunk that differs.

Chunks are driven by the source. The target's rows of the same keys are read
by key range or key set (:mod:`portadb.verify.reading`), in a forked process
where there is one (:mod:`portadb.verify.remote`). Each chunk's canonical
rows are hashed (equal rows, one digest); a chunk that differs is narrowed
to its rows: missing and extra primary keys, then the fields that differ,
with both values. A target holding more rows than the key sets matched is
then scanned for the keys the source lacks.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence

from ..endpoints import Endpoint
from ..models import label
from ..processes import Forked
from ..progress import NullBar
from ..reports.model import RowDifference, TableCheck
from .reading import Chunk, KeyChunk, KeyLayout, RangeChunk, TableReader
from .remote import LocalChunk, OpenTable, RemoteChunk
from .shown import shown

#: Keys per chunk (at most) when only a sample of chunks is compared.
SAMPLE_CHUNK_SIZE = 1_000
#: How many differing rows, missing and extra keys a table check keeps.
SHOWN = 10


def check_table(src: Endpoint, tgt: Endpoint, model, present, sample: float | None, counts_only: bool,
                chunk_size: int, remote: Forked | None = None, fields: list | None = None,
                bar=None, source_rows: int | None = None) -> TableCheck:
    """Count one table on both sides and, unless ``counts_only``, compare its content.

    ``fields``: those whose columns both sides have (a model that differs by vendor).
    ``bar`` (:mod:`portadb.progress`) moves by the source rows of each chunk compared.
    ``source_rows``: the source's rows, where the caller counted them in this snapshot.
    """
    table = model._meta.db_table
    check = TableCheck(table=table, model=label(model), source_rows=None, target_rows=None)
    if table in present[0]:
        check.source_rows = src.adapter.count(table) if source_rows is None else source_rows
    if table in present[1]:
        check.target_rows = tgt.adapter.count(table)
    if counts_only or check.source_rows is None or check.target_rows is None:
        return check
    pair = ComparedTable(model, src, tgt, fields)
    step = min(chunk_size, SAMPLE_CHUNK_SIZE)
    if sample is not None and check.source_rows > step:
        chunks = pair.sampled_chunks(sample, step)
    else:  # small tables are compared whole: cheaper than sampling them
        chunks = pair.chunks(chunk_size, remote)
    pair.compare(counted(chunks, bar or NullBar()), check)
    if not pair.layout.by_range and sample is None:
        pair.find_extras(check, chunk_size)
    return check


def counted(chunks: Iterator[tuple[list, object]], bar) -> Iterator[tuple[list, object]]:
    for chunk in chunks:
        yield chunk
        bar.update(len(chunk[0]))


def compare_through(src: Endpoint, tgt: Endpoint, model, through: list, chunk_size: int,
                    after: Sequence | None = None) -> TableCheck:
    """Compare the rows of one table whose key is at most ``through`` (an interrupted copy's last
    committed key, as the source's driver gives it): those the target already holds. With
    ``after``, only the rows above that key (a part of a table cut into integer key ranges)."""
    check = TableCheck(table=model._meta.db_table, model=label(model), source_rows=None,
                       target_rows=tgt.adapter.count(model._meta.db_table))
    pair = ComparedTable(model, src, tgt, through=through, after=after)
    pair.compare(pair.chunks(chunk_size), check)
    if not pair.layout.by_range:
        pair.find_extras(check, chunk_size)
    return check


class ComparedTable:
    """One table on both sides, and the chunks in which they are compared."""

    def __init__(self, model, src: Endpoint, tgt: Endpoint, fields: list | None = None,
                 through: list | None = None, after: Sequence | None = None):
        self.model = model
        #: Compare only the rows whose key is at most this one (as the source's driver gives it)
        #: and above ``after``.
        self.through = None if through is None else tuple(through)
        self.after = None if after is None else tuple(after)
        self.layout = KeyLayout.of(model, fields)
        self.src = TableReader(src, model, self.layout, fields)
        self.tgt = TableReader(tgt, model, self.layout, fields)
        self.key_of = self.layout.key_of
        self.matched = 0
        self.extras_seen: set = set()

    # -- the chunks ------------------------------------------------------------

    def chunks(self, chunk_size: int, remote: Forked | None = None) -> Iterator[tuple[list, object]]:
        """Every source chunk's canonical rows with the target's chunk of the same keys.

        With a ``remote`` process the target's chunks are read there, one
        chunk ahead; else in a helper thread while the source's are normalised.
        """
        requests = self._requests(chunk_size)
        if remote is None:
            return self._threaded(requests)
        remote.ask(OpenTable(self.model._meta.db_table, [f.column for f in self.src.fields]))
        return self._pipelined(requests, remote)

    def key_chunks(self, keys: Iterable[tuple],
                   remote: Forked | None = None) -> Iterator[tuple[list, object]]:
        """The canonical rows of these canonical keys on both sides, a query's worth at a time,
        the target's read as :meth:`chunks` reads them."""
        per = min(self.src.keys_per_query, self.tgt.keys_per_query)
        batches = self.src.key_batches(keys, per)  # where values are large, by their bytes
        requests = ((self.src.fetch_keys(batch), KeyChunk(batch)) for batch in batches)
        if remote is None:
            return self._threaded(requests)
        remote.ask(OpenTable(self.model._meta.db_table, [f.column for f in self.src.fields]))
        return self._pipelined(requests, remote)

    def sampled_chunks(self, fraction: float, chunk_size: int) -> Iterator[tuple[list, object]]:
        """A random ``fraction`` of the source's key chunks, both sides read by those keys."""
        rng = random.Random()
        low = None
        for raw_keys in self.src.raw_chunks(self.src.key_columns, chunk_size, whole_rows=True):
            high = tuple(raw_keys[-1])
            if rng.random() < fraction:
                if self.layout.by_range:
                    raw = self.src.fetch_range(low, high)
                else:
                    raw = self.src.fetch_keys(self.src.rows(raw_keys, self.src.key_canon))
                request = self._request(raw, low, high)
                yield self._source_chunk(raw, request), LocalChunk(self.tgt.canonical_chunk(request))
            low = high

    def _requests(self, chunk_size: int) -> Iterator[tuple[list, RangeChunk | KeyChunk]]:
        """Each raw source chunk with the request for the target's rows of the same keys."""
        low = self.after
        for raw in self.src.raw_chunks(self.src.names, chunk_size, through=self.through, start=self.after):
            # A short chunk need not be the last: chunks of large values hold fewer rows.
            high = self.key_of(raw[-1])
            yield raw, self._request(raw, low, high)
            low = high
        if self.layout.by_range:
            yield [], RangeChunk(low, self.through)  # the target's rows past the source's last key

    def _request(self, raw: list, low, high) -> RangeChunk | KeyChunk:
        if self.layout.by_range:
            return RangeChunk(low, high)
        # A case-insensitive collation may return a row whose key is not the
        # same string; matching in Python then counts it as extra.
        return KeyChunk(self.src.rows([self.key_of(r) for r in raw], self.src.key_canon))

    def _source_chunk(self, raw: list, request: RangeChunk | KeyChunk) -> Chunk:
        if isinstance(request, RangeChunk):
            return Chunk(self.src.columns(raw))
        rows = self.src.rows(raw)
        self.layout.sort(rows)  # code point order, as the target's chunk
        return Chunk.of_rows(rows)

    def _pipelined(self, requests, remote: Forked) -> Iterator[tuple[list, RemoteChunk]]:
        """The process reads chunk n + 1 while this one normalises chunk n."""
        pending = None
        for raw, request in requests:
            remote.send(request)
            if pending is not None:
                yield self._source_chunk(*pending), RemoteChunk(remote, *remote.receive())
            pending = raw, request
        if pending is not None:
            yield self._source_chunk(*pending), RemoteChunk(remote, *remote.receive())

    def _threaded(self, requests) -> Iterator[tuple[list, LocalChunk]]:
        with self.tgt.prefetching() as pool:
            for raw, request in requests:
                future = pool.submit(self.tgt.canonical_chunk, request)
                chunk = self._source_chunk(raw, request)
                yield chunk, LocalChunk(future.result())

    # -- comparing ---------------------------------------------------------------

    def compare(self, chunks: Iterator[tuple[list, object]], check: TableCheck) -> None:
        """Digest every pair of chunks; narrow each pair that differs to its rows."""
        src_total, tgt_total = hashlib.blake2b(digest_size=16), hashlib.blake2b(digest_size=16)
        for src, tgt in chunks:
            check.chunks += 1
            check.compared_rows += len(src)
            src_digest = src.digest()
            same = tgt.same_as(src, src_digest)
            src_total.update(src_digest)
            tgt_total.update(src_digest if same else tgt.digest())
            if not same:
                check.chunks_different += 1
                self.narrow_chunk(src, tgt, check)
        check.source_checksum = src_total.hexdigest()
        check.target_checksum = tgt_total.hexdigest()
        self.matched = check.compared_rows - check.missing_count

    def narrow_chunk(self, src: Chunk, tgt, check: TableCheck) -> None:
        """Narrow a chunk whose digests differ, given the target's chunk (local or remote)."""
        self.narrow(src.rows(), tgt.rows(), check)

    def narrow(self, src_rows: list, tgt_rows: list, check: TableCheck) -> None:
        """Row by row: which keys are missing or extra, which fields differ."""
        src_by_key = {self.key_of(r): r for r in src_rows}
        tgt_by_key = {self.key_of(r): r for r in tgt_rows}
        missing = [k for k in src_by_key if k not in tgt_by_key]
        extra = [k for k in tgt_by_key if k not in src_by_key]
        different = [k for k, row in src_by_key.items() if k in tgt_by_key and not same(tgt_by_key[k], row)]
        self._note(check, "missing", missing)
        self._note(check, "extra", extra)
        self.extras_seen.update(extra)
        self.found(missing, extra, different)
        for key in different:
            check.different_rows += 1
            if check.different_rows <= SHOWN:
                row, other = src_by_key[key], tgt_by_key[key]
                check.differences += [
                    RowDifference(self.show_key(key), f.column, shown(f, a), shown(f, b))
                    for f, a, b in zip(self.src.fields, row, other) if not same(a, b)
                ]

    def found(self, missing: list, extra: list, different: list) -> None:
        """Called with the canonical keys of each difference found (``sync`` keeps them all)."""

    def find_extras(self, check: TableCheck, chunk_size: int) -> None:
        """Target keys the source lacks, when the key-set reads cannot account for every target row."""
        if check.target_rows <= self.matched + len(self.extras_seen):
            return
        for keys in self.tgt.key_chunks(chunk_size):
            on_source = {self.key_of(r) for r in self.src.rows(self.src.fetch_keys(keys))}
            extra = [k for k in keys if k not in on_source and k not in self.extras_seen]
            self._note(check, "extra", extra)
            self.extras_seen.update(extra)
            self.found([], extra, [])

    def _note(self, check: TableCheck, which: str, keys: list) -> None:
        setattr(check, f"{which}_count", getattr(check, f"{which}_count") + len(keys))
        pks = getattr(check, f"{which}_pks")
        pks += [self.show_key(k) for k in keys[: SHOWN - len(pks)]]

    def show_key(self, key: tuple):
        values = [shown(f, v) for f, v in zip(self.src.key_fields, key)]
        return values[0] if len(values) == 1 else values


def same(a, b) -> bool:
    """Canonical values are the same where their reprs are: a decimal NaN is not equal to itself."""
    return a == b or repr(a) == repr(b)
