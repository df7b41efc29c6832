"""What a copy does with values the target would refuse (``--on-error``).

``abort`` (the default) checks each chunk before it is written and stops at the
first chunk holding a refused value, naming the row, field and reason; nothing
of that chunk is written. ``reject`` first scans the whole source (the
dry-run's scan, inside the copy's own snapshot), then copies every row except
the refused ones and those that depend on them, which go to a JSON Lines file
with their original values.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import os
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import IO

from .checks import Refusal
from .exceptions import DataError, PortadbError
from .plan import Plan, TableJob
from .reports import Finding, Severity
from .scan import ScanResult, TableChecks, dangling_rows, scan_values

ON_ERROR = ("abort", "reject")
#: Primary keys named per field in the copy report.
_FIRST_PKS = 10

#: Called with a chunk's rows and a function returning them column by column.
ChunkGuard = Callable[[Sequence[Sequence], Callable[[], list]], Sequence[Sequence]]


class ValueRefused(DataError):
    """The copy stopped before writing a chunk that holds values the target would refuse."""

    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        first = refusals[0]
        more = f" (and {len(refusals) - 1} more in the same chunk)" if len(refusals) > 1 else ""
        super().__init__(
            f"Could not copy {first.model}(pk={first.pk!r}): {first.field}: {first.reason}"
            f" (value {first.preview}){more}; nothing of this chunk was written."
        )


def check_options(on_error: str, reject_file: str | None) -> None:
    """Refuse a policy or reject file that cannot work, before anything is read."""
    if on_error not in ON_ERROR:
        raise PortadbError(f"--on-error must be one of {', '.join(ON_ERROR)}, not {on_error!r}.")
    if on_error == "reject" and not reject_file:
        raise PortadbError("--on-error=reject needs --reject-file FILE for the refused rows.")
    if on_error == "abort" and reject_file:
        raise PortadbError("--reject-file is only used with --on-error=reject.")
    if reject_file:
        folder = os.path.dirname(os.path.abspath(reject_file))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise PortadbError(f"Cannot write the reject file {reject_file!r}: {folder!r} is not a"
                               " writable directory.")


def for_copy(plan: Plan, on_error: str, reject_file: str | None, chunk_size: int,
             resumed: bool = False) -> Abort | Reject:
    """The policy object of one copy; call inside the source's snapshot.

    ``resumed``: the copy continues an interrupted one, whose reject file is kept.
    """
    if on_error == "reject":
        return Reject(plan, reject_file, scan_values(plan, chunk_size), resumed)
    return Abort(plan)


class _Policy:
    """A context manager that closes what the policy opened."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass


class Abort(_Policy):
    """Check each chunk; raise :class:`ValueRefused` on the first refused value."""

    #: Worker processes (``--jobs``) can each build and use their own guards.
    parallel_safe = True

    def __init__(self, plan: Plan):
        self.plan = plan
        self.rejected: Counter = Counter()

    def table(self, job: TableJob) -> ChunkGuard:
        checks = TableChecks(job, self.plan.source, self.plan.target,
                             dangling_rows(self.plan.source, job))

        def guard(rows, by_column=None):
            refused = checks.check(rows, by_column)
            if refused:
                raise ValueRefused(refused)
            return rows

        return guard

    def findings(self) -> list[Finding]:
        return []


class Reject(_Policy):
    """Leave out the rows the scan refused; write them to a JSON Lines file.

    The lines of a chunk reach the file before the chunk commits. A resumed
    copy keeps the lines its interrupted run wrote (the rows of its committed
    chunks are not read again) and writes none of them twice.
    """

    #: One reject file and one count: rows are rejected in this process only.
    parallel_safe = False

    def __init__(self, plan: Plan, path: str, scan: ScanResult, resumed: bool = False):
        self.plan = plan
        self.path = path
        self.scan = scan
        self.refused = scan.refused()
        self.rejected: Counter = Counter()
        kept = _earlier_lines(path) if resumed else []
        #: (table, primary key as JSON) of the rows in the file already.
        self.written = {(line["table"], json.dumps(line["pk"])) for line in map(json.loads, kept)}
        self.rejected.update(table for table, _ in self.written)
        try:  # created even when nothing is refused: an empty file says so
            self.file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 -- see close()
            self.file.writelines(kept)
        except OSError as e:
            raise PortadbError(f"Cannot write the reject file {path!r}: {e.strerror}.") from e

    def table(self, job: TableJob) -> ChunkGuard:
        refused = self.refused.get(job.table)
        if not refused:
            return _identity
        names = job.column_names
        key_index = [names.index(k) for k in job.key]

        def guard(rows, by_column=None):
            kept = []
            for row in rows:
                pk = row[key_index[0]] if len(key_index) == 1 else tuple(row[i] for i in key_index)
                reasons = refused.get(pk)
                if reasons is None:
                    kept.append(row)
                    continue
                where = (job.table, json.dumps(encode(pk)))
                if where in self.written:
                    continue  # rejected by the interrupted run, in a chunk it did not commit
                self.written.add(where)
                self.rejected[job.table] += 1
                for refusal in reasons:
                    self._write(refusal, dict(zip(names, row)))
            if len(kept) == len(rows):
                return rows
            self.file.flush()  # before the chunk commits: a killed copy loses no line
            return kept

        return guard

    def _write(self, refusal: Refusal, row: dict) -> None:
        self.file.write(json.dumps(reject_line(refusal, row), ensure_ascii=False) + "\n")

    def findings(self) -> list[Finding]:
        return refusal_findings(self.scan.refusals, Severity.WARNING, "rejected")

    def close(self) -> None:
        self.file.close()


def _earlier_lines(path: str) -> list[str]:
    """The complete lines of an interrupted copy's reject file (none if there is none)."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise PortadbError(f"Cannot read the reject file {path!r} of the interrupted copy: {e}.") from e
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # cut short by the interruption; that chunk is read again
    for number, line in enumerate(lines, 1):
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not {"table", "pk"} <= parsed.keys():
            raise PortadbError(f"The reject file {path!r} is not one portadb wrote (line {number});"
                               " resume with the interrupted copy's reject file.") from None
    return lines


def _identity(rows, by_column=None):
    return rows


def reject_line(refusal: Refusal, row: dict) -> dict:
    """One line of the reject file: where, why, and the original values."""
    return {
        "model": refusal.model,
        "table": refusal.table,
        "pk": encode(refusal.pk),
        "field": refusal.field,
        "kind": refusal.kind.value,
        "reason": refusal.reason,
        "value": encode(refusal.value),
        "row": {column: encode(value) for column, value in row.items()},
    }


def encode(value: object) -> object:
    """A JSON value that gives back ``value`` exactly: bytes as base64, decimals as text, ..."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:  # invalid UTF-8 read from SQLite, kept as surrogates
            raw = value.encode("utf-8", "surrogateescape")
            return {"type": "invalid_utf8", "base64": base64.b64encode(raw).decode("ascii")}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"type": "float", "value": repr(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"type": "bytes", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, decimal.Decimal):
        return {"type": "decimal", "value": str(value)}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return {"type": type(value).__name__, "value": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"type": "timedelta", "microseconds": value // dt.timedelta(microseconds=1)}
    if isinstance(value, uuid.UUID):
        return {"type": "uuid", "value": str(value)}
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    return {"type": type(value).__name__, "repr": repr(value)}


def refusal_findings(refusals: Sequence[Refusal], severity: Severity, verb: str) -> list[Finding]:
    """One finding per table, field and kind: the count and the first primary keys."""
    groups: dict[tuple, list[Refusal]] = {}
    for r in refusals:
        groups.setdefault((r.table, r.field, r.kind), []).append(r)
    findings = []
    for (table, name, kind), group in groups.items():
        first = group[0]
        pks = ", ".join(repr(r.pk) for r in group[:_FIRST_PKS])
        more = ", ..." if len(group) > _FIRST_PKS else ""
        findings.append(Finding(
            kind, severity,
            f"{first.model}.{name}: {len(group)} row{'s' if len(group) > 1 else ''} {verb}"
            f" (pk {pks}{more}); first: {first.reason} (value {first.preview}).",
            table=table, model=first.model, pk=first.pk, field=name,
        ))
    return findings
