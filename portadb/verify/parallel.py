"""Verification in several worker processes: tables, and key ranges of big tables, dealt out.

One table compared in one process is one stream on one core, and the two
sides' reading and normalising is most of verify's cost. With ``jobs``, each
worker (:func:`portadb.pool.run_parts`) compares whole parts -- both sides
of a key range -- in the source's snapshot, which it shares with the caller
where the backend allows, and in the target's. A table whose key is one
integer column is cut into key ranges, finer than a copy cuts it; any other table is
compared whole by one worker, extra target keys included. The parts' checks
add up to one :class:`~portadb.reports.model.TableCheck` per table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import contextmanager

from django.db import DatabaseError

from .. import pool
from ..endpoints import Endpoint
from ..exceptions import VerificationError, first_line
from ..models import label
from ..parts import Part, cut_tables
from ..reports.model import TableCheck
from .compare import SHOWN, ComparedTable, counted
from .reading import KeyLayout


def usable(src: Endpoint, tgt: Endpoint, workers: int) -> bool:
    """Whether ``workers`` processes can share the reading of both sides."""
    return pool.readable(src, workers) and pool.readable(tgt, workers)


def check_tables(src: Endpoint, tgt: Endpoint, models: Sequence[type], fields: dict[str, list | None],
                 source_rows: dict[str, int], chunk_size: int, workers: int, bar) -> dict[str, TableCheck]:
    """Count and compare ``models``' tables (each on both sides) in ``workers`` processes; call
    inside both sides' snapshots. ``fields``: by table, the fields compared (``None``: all);
    ``source_rows``: by table, the source's rows, counted in this snapshot."""
    by_table = {m._meta.db_table: m for m in models}
    checks = {t: TableCheck(table=t, model=label(m), source_rows=source_rows[t], target_rows=None)
              for t, m in by_table.items()}
    parts = _parts(src, models, checks, workers, chunk_size)

    def work(part: Part, part_bar) -> TableCheck:
        return compare_part(src, tgt, by_table[part.table], part, fields[part.table], chunk_size, part_bar)

    # A table keyed otherwise than by integers is compared whole, and its worker counts it (to
    # look for the keys the source lacks); this process counts the others.
    ranged = [t for t, m in by_table.items() if KeyLayout.of(m).by_range]

    def count_target() -> None:  # here, while the workers compare (in their snapshot, where shared)
        for table in ranged:
            checks[table].target_rows = tgt.adapter.count(table)

    src_shared, tgt_shared = src.adapter.share_snapshot(), tgt.adapter.share_snapshot()

    def session():  # the worker's own connection to the target, resolved there
        return tgt.adapter.snapshot(tgt_shared)

    widths = {t: len(fields[t] or m._meta.local_concrete_fields) for t, m in by_table.items()}
    done: dict[str, list[tuple[int, float, float, TableCheck]]] = {}
    for part, start, end, check in pool.run_parts(src, parts, work, workers, bar, src_shared, session,
                                                  VerificationError, widths, started=count_target):
        done.setdefault(part.table, []).append((part.index, start, end, check))
    for table, pieces in done.items():
        pieces.sort(key=lambda p: p[0])
        if checks[table].target_rows is None:  # compared whole, and counted, by one worker
            checks[table].target_rows = pieces[0][3].target_rows
        add_up(checks[table], [p[3] for p in pieces])
        checks[table].seconds = round(max(p[2] for p in pieces) - min(p[1] for p in pieces), 3)
    return checks


def _parts(src: Endpoint, models: Sequence[type], checks: dict[str, TableCheck], workers: int,
           chunk_size: int) -> list[Part]:
    """Every table as one part, a big one keyed by one integer column as key ranges.

    Smaller ranges than a copy's: verify's workers outnumber the cores, and the cost of a row
    varies more between tables (both sides read, each value made canonical), so that large
    parts dealt out last would end alone (a million rows: 3.40 -> 3.29 s, medians of 18 runs).
    """
    tables = []
    for model in models:
        layout = KeyLayout.of(model)
        tables.append((model._meta.db_table, layout.columns, checks[model._meta.db_table].source_rows,
                       layout.by_range and len(layout.columns) == 1))
    return cut_tables(src, tables, workers, chunk_size, per_share=4)


def compare_part(src: Endpoint, tgt: Endpoint, model, part: Part, fields: list | None, chunk_size: int,
                 bar) -> TableCheck:
    """Both sides of ``part`` compared; a whole table keyed otherwise than by integers also
    searched for the target keys the source lacks."""
    check = TableCheck(table=part.table, model=label(model), source_rows=None, target_rows=None)
    with read_errors(model):
        pair = ComparedTable(model, src, tgt, fields, after=part.after,
                             through=None if part.through is None else list(part.through))
        pair.compare(counted(pair.chunks(chunk_size), bar), check)
        if not pair.layout.by_range:
            check.target_rows = tgt.adapter.count(part.table)
            pair.find_extras(check, chunk_size)
    return check


def add_up(check: TableCheck, parts: Sequence[TableCheck]) -> None:
    """The checks of a table's parts, in key order, into ``check`` (which holds the counts)."""
    for name in ("compared_rows", "chunks", "chunks_different", "missing_count", "extra_count",
                 "different_rows"):
        setattr(check, name, sum(getattr(p, name) for p in parts))
    for name in ("missing_pks", "extra_pks"):
        setattr(check, name, [pk for p in parts for pk in getattr(p, name)][:SHOWN])
    rows: list[str] = []
    for difference in (d for p in parts for d in p.differences):  # the first SHOWN rows' fields
        key = repr(difference.pk)
        if key not in rows and len(rows) < SHOWN:
            rows.append(key)
        if key in rows:
            check.differences.append(difference)
    if len(parts) == 1:
        check.source_checksum, check.target_checksum = parts[0].source_checksum, parts[0].target_checksum
    else:  # the parts' digests in key order
        for side in ("source_checksum", "target_checksum"):
            digest = hashlib.blake2b(digest_size=16)
            for p in parts:
                digest.update(bytes.fromhex(getattr(p, side)))
            setattr(check, side, digest.hexdigest())


@contextmanager
def read_errors(model):
    """A value Django cannot read, or a database error, as a :class:`VerificationError` that says so."""
    try:
        yield
    except (ValueError, TypeError, ArithmeticError) as e:
        raise VerificationError(
            f"Could not read the rows of {model._meta.db_table} ({label(model)}) while"
            f" verifying: {first_line(e)}; 'portadb copy --dry-run' names the rows whose"
            " values cannot be read."
        ) from e
    except DatabaseError as e:
        raise VerificationError(f"Could not read the databases while verifying: {first_line(e)}") from e
