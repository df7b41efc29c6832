"""Run the value checks over tables: per chunk, per table, and over the whole source.

:class:`TableChecks` checks one table's chunks (column checks from
:mod:`portadb.checks`, foreign keys that point nowhere, unique values that the
target's collation makes equal). :func:`scan_values` runs it over every table
and adds the rows that depend on a refused row, so that a copy that leaves a
row out also leaves out what would point at it. The dry-run reports that scan;
``--on-error=reject`` copies everything else.

Everything here only reads the source (and, for collation keys, asks the
target server to compute them); nothing is written.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import pool
from .checks import Refusal, column_checks, size_check
from .compat import batched
from .dependents import dependents
from .endpoints import Endpoint
from .fields import TEXT_TYPES, base_field, foreign_keys
from .parts import Part, cut, whole_tables
from .plan import Plan, TableJob
from .progress import Progress, Tee
from .reports.model import FIRST_PKS, ValueSummary
from .reports.model import FindingKind as K
from .transfer import read_chunks


class TableChecks:
    """Every check of one table, built once; :meth:`check` each chunk in key order."""

    def __init__(self, job: TableJob, source: Endpoint, target: Endpoint,
                 dangling: dict | None = None):
        self.job = job
        self.key_index = job.key_index
        self.columns = []
        for i, column in enumerate(job.columns):
            checks = column_checks(column.field, source.adapter, target.adapter)
            if checks:
                self.columns.append((i, column.field.name, checks))
        self.dangling = dangling or {}
        self.unique = [UniqueSet(job, cols, target.adapter) for cols in _unique_sets(job, target)]
        self.sizes = size_check([(i, c.field) for i, c in enumerate(job.columns)], source.adapter,
                                target.adapter)

    def pk(self, row: Sequence) -> object:
        if len(self.key_index) == 1:
            return row[self.key_index[0]]
        return tuple(row[i] for i in self.key_index)

    def check(self, rows: Sequence[Sequence], by_column: Callable[[], list] | None = None) -> list[Refusal]:
        """The refused values of ``rows``: at most one per row and field.

        ``by_column`` returns the same rows column by column, where the caller
        has them (or will need them too).
        """
        found: dict[tuple[int, str], Refusal] = {}
        if self.columns or self.sizes:
            by_column = by_column() if by_column is not None else list(zip(*rows))
            for i, name, checks in self.columns:
                for check in checks:
                    for r, kind, reason in check(by_column[i]):
                        found.setdefault((r, name), self._refusal(kind, rows[r], name, reason,
                                                                  by_column[i][r]))
            for r, name, value, reason in (self.sizes(by_column) if self.sizes and rows else ()):
                found.setdefault((r, name), self._refusal(K.TOO_LARGE, rows[r], name, reason, value))
        if self.dangling:
            for r, row in enumerate(rows):
                for name, value, reason in self.dangling.get(self.pk(row), ()):
                    found.setdefault((r, name), self._refusal(K.DANGLING_REFERENCE, row, name, reason,
                                                              value))
        bad_rows = {r for r, _ in found}
        for unique in self.unique:
            for r, name, value, reason in unique.check(rows, bad_rows, self.pk):
                found.setdefault((r, name), self._refusal(K.UNIQUE_COLLISION, rows[r], name, reason,
                                                          value))
        return [found[k] for k in sorted(found)]

    def _refusal(self, kind, row, name, reason, value) -> Refusal:
        return Refusal(kind, self.job.label, self.job.table, self.pk(row), name, reason, value)


class UniqueSet:
    """Columns the target keeps unique together, with the keys seen so far in this table."""

    def __init__(self, job: TableJob, indexes: list[int], target):
        self.job = job
        self.indexes = indexes
        self.fields = [job.columns[i].field for i in indexes]
        self.keyers = [
            target.unique_keys(base_field(f)) if base_field(f).get_internal_type() in TEXT_TYPES else None
            for f in self.fields
        ]
        self.seen: dict[tuple, object] = {}

    def check(self, rows, skip: set[int], pk: Callable) -> list[tuple]:
        """(row index, field, value, reason) for each row whose key an earlier row holds."""
        candidates = [r for r, row in enumerate(rows)
                      if r not in skip and all(row[i] is not None for i in self.indexes)]
        if not candidates:
            return []
        columns = []
        for i, keyer in zip(self.indexes, self.keyers):
            values = [rows[r][i] for r in candidates]
            columns.append(keyer([str(v) for v in values]) if keyer else values)
        found = []
        for r, key in zip(candidates, zip(*columns)):
            first = self.seen.setdefault(key, pk(rows[r]))
            if first != pk(rows[r]):
                value = rows[r][self.indexes[0]]
                names = ", ".join(f.name for f in self.fields)
                found.append((r, self.fields[0].name, value,
                              f"({names}) equals that of {self.job.label}(pk={first!r}) under the "
                              "target's collation; the unique constraint would refuse it"))
        return found


def _unique_sets(job: TableJob, target: Endpoint) -> list[list[int]]:
    """Column index lists of the unique constraints whose text the target may fold together."""
    names = job.column_names
    opts = job.model._meta
    by_name = {f.name: f for f in opts.local_concrete_fields}
    sets = [[f.name] for f in opts.local_concrete_fields if f.unique]
    sets += [list(together) for together in opts.unique_together]
    sets += [list(c.fields) for c in opts.constraints
             if getattr(c, "fields", None) and not getattr(c, "condition", None)
             and not getattr(c, "expressions", None)]
    result = []
    for fields in sets:
        if not all(n in by_name for n in fields):
            continue
        texts = [by_name[n] for n in fields if base_field(by_name[n]).get_internal_type() in TEXT_TYPES]
        if any(target.adapter.unique_keys(base_field(f)) is not None for f in texts):
            result.append([names.index(by_name[n].column) for n in fields])
    return result


# -- references ------------------------------------------------------------------


def dangling_rows(source: Endpoint, job: TableJob, part: Part | None = None,
                  keys: Sequence[Sequence] | None = None) -> dict[object, list[tuple]]:
    """Rows of ``job``'s table (of ``part`` of it; of the rows of ``keys``, each a list of the
    key's values, where given) whose foreign keys point at no row: ``{pk: [(field, value, reason)]}``."""
    if K.DANGLING_REFERENCE in source.adapter.enforced_checks or keys == []:
        return {}
    found: dict[object, list[tuple]] = defaultdict(list)
    bounds = [] if part is None else [*(part.after or ()), *(part.through or ())]
    lower, upper = part is not None and part.after is not None, part is not None and part.through is not None
    batches = [None] if keys is None else list(batched(keys, source.adapter.keys_per_query(len(job.key))))
    with source.connection.cursor() as cursor:
        for f in foreign_keys(job.model):
            parent = f.related_model._meta
            for batch in batches:
                # By value where the column is indexed: its distinct values are read from the index.
                sql = source.adapter.dangling_sql(job.table, job.key, f.column, parent.db_table,
                                                  f.target_field.column, lower, upper, len(batch or ()),
                                                  by_value=f.db_index or f.unique)
                cursor.execute(sql, [*bounds, *source.adapter.key_params(batch or [])] or None)
                for row in cursor.fetchall():
                    pk = row[0] if len(job.key) == 1 else tuple(row[:-1])
                    found[pk].append((f.name, row[-1], f"points at {parent.label}({f.target_field.name}"
                                                       f"={row[-1]!r}), which does not exist"))
    return dict(found)


@dataclass
class ScanResult:
    """The refused values of a whole source, and the rows refused because of them."""

    refusals: list[Refusal] = field(default_factory=list)
    rows_read: int = 0
    seconds: float = 0.0

    def refused(self) -> dict[str, dict[object, list[Refusal]]]:
        """``{table: {pk: [refusal, ...]}}``."""
        out: dict[str, dict[object, list[Refusal]]] = defaultdict(lambda: defaultdict(list))
        for r in self.refusals:
            out[r.table][r.pk].append(r)
        return out

    def summaries(self) -> list[ValueSummary]:
        """The refusals counted per table, field and kind, with the first primary keys."""
        groups: dict[tuple, ValueSummary] = {}
        for r in self.refusals:
            summary = groups.get((r.table, r.field, r.kind))
            if summary is None:
                summary = groups[r.table, r.field, r.kind] = ValueSummary(
                    r.kind, r.model, r.table, r.field, 0, reason=r.reason, preview=r.preview)
            summary.count += 1
            if len(summary.first_pks) < FIRST_PKS:
                summary.first_pks.append(r.pk)
        return list(groups.values())


def scan_values(plan: Plan, chunk_size: int, clock: Callable[[], float] = time.perf_counter,
                progress: bool = False, workers: int = 1, shared: str | None = None,
                started: Callable[[], None] | None = None) -> ScanResult:
    """Check every source row the plan copies; call inside the source's snapshot.

    With ``workers`` above one, where the source can be read by several
    processes (:func:`portadb.pool.readable`), tables and key ranges of big
    tables are scanned by that many forked processes, as a copy deals them
    out, each in the snapshot ``shared`` names
    (:meth:`~portadb.backends.base.Adapter.share_snapshot`) or its own. A table
    whose unique values the target's collation may fold together is scanned
    whole by one worker: its collisions are found across all its rows. ``started`` is called once
    the scan is under way; what it raises stops it.
    """
    began = clock()
    result = ScanResult()
    bars = Progress(progress, sum(job.source_rows for job in plan.jobs))
    by_table = {job.table: job for job in plan.jobs}
    if pool.readable(plan.source, workers):
        def work(part: Part, bar) -> tuple[list[Refusal], int]:
            return scan_part(plan, by_table[part.table], part, chunk_size, bar)

        found = {part: done for part, _, _, done in
                 pool.run_parts(plan.source, scan_parts(plan, workers, chunk_size), work, workers,
                                bars.overall, shared, started=started)}
        order = {table: i for i, table in enumerate(by_table)}
        for part in sorted(found, key=lambda p: (order[p.table], p.index)):  # as one process finds them
            result.refusals += found[part][0]
            result.rows_read += found[part][1]
    else:
        if started is not None:
            started()
        for job in plan.jobs:
            bar = bars.table(job.table, job.source_rows)
            refusals, rows = scan_part(plan, job, Part(job.table), chunk_size, Tee(bar, bars.overall))
            result.refusals += refusals
            result.rows_read += rows
            bar.close()
    bars.close()
    result.refusals += dependents(plan.source, plan.jobs, result.refusals)
    result.seconds = clock() - began
    return result


def scan_part(plan: Plan, job: TableJob, part: Part, chunk_size: int, bar) -> tuple[list[Refusal], int]:
    """The refused values of ``part`` of ``job``'s table, and the rows read."""
    checks = TableChecks(job, plan.source, plan.target, dangling_rows(plan.source, job, part))
    refusals, rows_read = [], 0
    for rows in read_chunks(plan.source, job, chunk_size, part.after, part.through):
        refusals += checks.check(rows)
        rows_read += len(rows)
        bar.update(len(rows))
    return refusals, rows_read


def scan_parts(plan: Plan, workers: int, chunk_size: int) -> list[Part]:
    """The parts ``workers`` processes scan: big tables cut as a copy cuts them, except those
    with unique values that the target's collation may fold together."""
    folded = [job for job in plan.jobs if _unique_sets(job, plan.target)]
    cuttable = [job for job in plan.jobs if job not in folded]
    return cut(plan.source, cuttable, workers, chunk_size) + whole_tables(folded)
