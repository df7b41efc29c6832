"""The target's side of a verification, read in a forked process on the second core.

The parent sends typed requests (:class:`OpenTable`, a
:class:`~portadb.verify.reading.RangeChunk` or
:class:`~portadb.verify.reading.KeyChunk`, :class:`ChunkRows`,
:class:`ChunkRowDigests`); the child answers each chunk with its digest, and
its rows (or, for ``sync``, each row's key and digest) only when the parent
asks because the digests differ. Where no process can be forked (Windows; a caller
that runs other threads; a target in this process's memory) the target is
read here instead (:class:`LocalChunk`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DatabaseError

from ..endpoints import Endpoint
from ..exceptions import VerificationError, first_line
from ..processes import Forked, forking
from .digests import row_digests
from .reading import Chunk, KeyChunk, KeyLayout, RangeChunk, TableReader


@dataclass(frozen=True)
class OpenTable:
    """Read this table's ``columns`` from now on."""

    table: str
    columns: list[str]


@dataclass(frozen=True)
class ChunkRows:
    """The canonical rows of the chunk answered as ``number``."""

    number: int


@dataclass(frozen=True)
class ChunkRowDigests:
    """The key and digest of each canonical row of the chunk answered as ``number``."""

    number: int


@dataclass(frozen=True)
class CountRows:
    """The rows of each of these tables (in the process's snapshot)."""

    tables: list[str]


@contextmanager
def target_reader(tgt: Endpoint, chosen: Sequence[type], counts_only: bool, shared: str | None = None):
    """The forked process that reads the target's side, or ``None`` where there is none; in the
    snapshot ``shared`` names (:meth:`~portadb.backends.base.Adapter.share_snapshot`), where given."""
    # Forking a process that runs other threads can deadlock the child (a
    # lock held by another thread is never released there): a thread then.
    if counts_only or not forking() or threading.active_count() > 1 or not tgt.adapter.parallel_reads:
        yield None
        return
    # The child's own connection, not this one's: resolved there, after the fork.
    remote = Forked(TargetServer(tgt, chosen), lambda: tgt.adapter.snapshot(shared), VerificationError)
    try:
        yield remote
    finally:
        remote.close()


class TargetServer:
    """Runs in the forked process: the target's canonical chunks, as digests."""

    def __init__(self, endpoint: Endpoint, chosen: Sequence[type]):
        self.endpoint = endpoint
        # By table: the models reach the child with the fork, not through the pipe.
        self.models = {m._meta.db_table: m for m in chosen}
        self.reader: TableReader | None = None
        # The last two chunks: the parent asks one chunk ahead of its comparison.
        self.kept: dict[int, list] = {}
        self.count = 0

    def __call__(self, request: OpenTable | RangeChunk | KeyChunk | ChunkRows | CountRows):
        try:
            if isinstance(request, OpenTable):
                model = self.models[request.table]
                fields = [f for f in model._meta.local_concrete_fields if f.column in request.columns]
                self.reader = TableReader(self.endpoint, model, KeyLayout.of(model, fields), fields)
                return None
            if isinstance(request, ChunkRows):
                return self.kept[request.number].rows()
            if isinstance(request, CountRows):
                return {table: self.endpoint.adapter.count(table) for table in request.tables}
            if isinstance(request, ChunkRowDigests):
                return row_digests(self.kept[request.number].rows(), self.reader.layout.key_of)
            self.count += 1
            chunk = self.kept[self.count] = self.reader.canonical_chunk(request)
            self.kept.pop(self.count - 2, None)
            return self.count, chunk.digest()
        except DatabaseError as e:
            raise VerificationError(f"Could not read the databases while verifying: {first_line(e)}") from e


class LocalChunk:
    """The target's canonical chunk, read in this process."""

    def __init__(self, chunk: Chunk):
        self._chunk = chunk

    def same_as(self, source: Chunk, source_digest: bytes) -> bool:
        # Equal values have equal digests: hash only when they differ. A canonical value
        # is equal where its repr is (a decimal NaN is not equal to itself).
        return source.columns == self._chunk.columns or self._chunk.digest() == source_digest

    def digest(self) -> bytes:
        return self._chunk.digest()

    def rows(self) -> list:
        return self._chunk.rows()

    def row_digests(self, key_of) -> list[tuple]:
        return row_digests(self._chunk.rows(), key_of)


class RemoteChunk:
    """The digest of a chunk the forked process read; its rows only when asked for."""

    def __init__(self, remote: Forked, number: int, chunk_digest: bytes):
        self._remote = remote
        self._number = number
        self._digest = chunk_digest

    def same_as(self, source: Chunk, source_digest: bytes) -> bool:
        return source_digest == self._digest

    def digest(self) -> bytes:
        return self._digest

    def rows(self) -> list:
        return self._remote.ask(ChunkRows(self._number))

    def row_digests(self, key_of) -> list[tuple]:
        """``(key, digest)`` of each row: far less to send than the rows (the process knows the key)."""
        return self._remote.ask(ChunkRowDigests(self._number))
