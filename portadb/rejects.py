"""The reject file of ``--on-error=reject``: one JSON line per refused value, exact.

Each line names the model, table, primary key, field, kind and reason, and
carries the original value and row in a JSON form that gives them back
exactly (:func:`encode`: bytes as base64, decimals as text, ...).
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
from collections.abc import Mapping
from typing import IO

from .checks import Refusal
from .exceptions import PortadbError, PreconditionError


class RejectFile:
    """The reject file, opened for a copy: the lines of a resumed copy's interrupted run kept.

    ``earlier``: the copy resumes an interrupted one, which rejected this many
    rows per table in its committed chunks (its journal says so); the file
    must still hold them, or the resumed copy would finish with a reject file
    that lacks rows the target lacks too.
    """

    def __init__(self, path: str, earlier: Mapping[str, int] | None = None):
        self.path = path
        kept = earlier_lines(path) if earlier is not None else []
        #: (table, primary key as JSON) of the rows in the file already.
        self.written = {(line["table"], json.dumps(line["pk"])) for line in map(json.loads, kept)}
        if earlier:
            _check_complete(path, earlier, Counter(table for table, _ in self.written),
                            missing=not os.path.exists(path))
        try:  # created even when nothing is refused: an empty file says so
            self.file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 -- see close()
            self.file.writelines(kept)
        except OSError as e:
            raise PortadbError(f"Cannot write the reject file {path!r}: {e.strerror}.") from e

    def holds(self, table: str, pk) -> bool:
        """Whether the row is in the file already (rejected by the interrupted run)."""
        return (table, json.dumps(encode(pk))) in self.written

    def add(self, table: str, pk, refusals: list[Refusal], row: dict) -> None:
        """Write a line per refused value of one row."""
        self.written.add((table, json.dumps(encode(pk))))
        for refusal in refusals:
            self.file.write(json.dumps(reject_line(refusal, row), ensure_ascii=False) + "\n")

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _check_complete(path: str, earlier: Mapping[str, int], held: Counter, missing: bool) -> None:
    """Refuse a reject file that lacks rows the interrupted copy rejected (deleted, replaced)."""
    if missing and sum(earlier.values()):
        raise PreconditionError(
            f"Cannot resume: the reject file {path!r} of the interrupted copy is missing, and it held "
            f"the {sum(earlier.values())} rows that copy rejected; restore it, or copy again with --replace."
        )
    for table, rows in sorted(earlier.items()):
        if held[table] < rows:
            raise PreconditionError(
                f"Cannot resume: the reject file {path!r} holds {held[table]} of the {rows} rows of {table}"
                " the interrupted copy rejected; resume with that copy's reject file, or copy again"
                " with --replace."
            )


def earlier_lines(path: str) -> list[str]:
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


