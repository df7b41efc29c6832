"""MySQL/MariaDB's bulk path: ``LOAD DATA LOCAL INFILE`` of tab-separated lines.

The rows are encoded into LOAD DATA's text form (:func:`tsv_lines`) by a
thread that feeds a named pipe while the server parses the lines before.
With LOCAL the server cannot stop the file half way, so it turns errors into
warnings even in strict mode: any warning fails the chunk, which is rolled back.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal

from ..columns import ScaledIntegers, as_values
from ..exceptions import DataError

_ESCAPE = re.compile(r"[\\\t\n\r\0]")
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}


def load_rows(adapter, table: str, columns: Sequence[str], rows: list) -> None:
    """``LOAD DATA LOCAL INFILE`` of ``rows`` into ``table`` on ``adapter``'s connection."""
    if rows:
        load_columns(adapter, table, columns, list(zip(*rows)))


def _columns(adapter, table: str) -> tuple[set[str], set[str]]:
    """The columns of ``table`` holding bytes (they travel as hex, ``SET col = UNHEX(@n)``), and
    its AUTO_INCREMENT column: next to a SET clause MariaDB takes a 0 there for "the next
    number", NO_AUTO_VALUE_ON_ZERO or not, unless that column too is SET."""
    if table not in adapter.column_kinds:
        with adapter.connection.cursor() as cursor:
            cursor.execute("SELECT column_name, data_type, extra FROM information_schema.columns"
                           " WHERE table_schema = DATABASE() AND table_name = %s", [table])
            found = cursor.fetchall()
        adapter.column_kinds[table] = (
            {name for name, kind, _ in found if kind.lower() in _BINARY_TYPES},
            {name for name, _, extra in found if "auto_increment" in extra.lower()},
        )
    return adapter.column_kinds[table]


_BINARY_TYPES = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}


def load_columns(adapter, table: str, columns: Sequence[str], values: Sequence[Sequence]) -> None:
    """:func:`load_rows` of a chunk given column by column (``values[i]``: column ``i``)."""
    q = adapter.quote
    binary, counter = _columns(adapter, table)
    counter = counter if binary else set()
    assigned = {c: f"UNHEX(@{i})" if c in binary else f"@{i}" for i, c in enumerate(columns)
                if c in binary or c in counter}
    targets = ", ".join(f"@{i}" if c in assigned else q(c) for i, c in enumerate(columns))
    sets = ", ".join(f"{q(c)} = {value}" for c, value in assigned.items())
    sql = (
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {q(table)} CHARACTER SET utf8mb4"
        " FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'"
        f" ({targets})" + (f" SET {sets}" if sets else "")
    )
    if not hasattr(os, "mkfifo"):
        fd, path = tempfile.mkstemp(prefix="portadb-", suffix=".tsv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                _write_tsv(fh, values)
            _load(adapter.connection, sql, path, table)
        finally:
            os.unlink(path)
        return
    # Through a named pipe, fed by a thread: the rows are encoded while the
    # server parses and stores the ones before (the driver releases the GIL).
    directory = tempfile.mkdtemp(prefix="portadb-")
    path = os.path.join(directory, "rows.tsv")
    os.mkfifo(path, 0o600)
    failed: list[BaseException] = []
    done = threading.Event()

    def feed() -> None:
        try:
            fd = _open_writer(path, done)
            if fd is None:
                return  # the server never asked for the rows
            with open(fd, "w", encoding="utf-8", newline="") as fh:
                _write_tsv(fh, values)
        except BaseException as e:  # noqa: BLE001 - raised below, in the loading thread
            failed.append(e)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        try:
            _load(adapter.connection, sql, path, table)
        finally:
            # A writer still waiting for the driver gives up; one writing to a
            # driver that left early fails with a broken pipe.
            done.set()
            writer.join()
        if failed:
            # The server saw the rows up to the failure only: the chunk must not commit.
            raise DataError(f"Could not encode the rows of {table}: {failed[0]}") from failed[0]
    finally:
        os.unlink(path)
        os.rmdir(directory)


def _load(connection, sql: str, path: str, table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [path])
        if connection.connection.warning_count():
            cursor.execute("SHOW WARNINGS LIMIT 3")
            found = "; ".join(str(w[2]) for w in cursor.fetchall())
            raise DataError(f"MySQL changed or refused values while loading {table}: {found}")


#: Rows encoded at a time into the pipe.
_SLICE = 2_000


def _write_tsv(fh, values: Sequence[Sequence]) -> None:
    for i in range(0, len(values[0]) if values else 0, _SLICE):
        fh.write(tsv_text([column[i:i + _SLICE] for column in values]))


def _open_writer(path: str, done: threading.Event) -> int | None:
    """Open the pipe's writing end once the driver opens the reading end; ``None`` if ``done`` first.

    Not a blocking open: if the driver never opens the pipe (the server refused
    the statement before asking for the rows), nothing would ever release it.
    """
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            if done.wait(0.001):
                return None
            continue
        os.set_blocking(fd, True)
        return fd


def tsv_form(column: Sequence) -> Sequence:
    """A converted column as values :func:`tsv_text` encodes: a decimal column read as exact
    integers as its plain text (scales beyond 6 as Decimals, which ``str`` would write with an exponent)."""
    if isinstance(column, ScaledIntegers) and column.scale <= 6:
        return column.texts()
    return as_values(column)


def tsv_text(values: Sequence[Sequence]) -> str:
    """The rows of a chunk given column by column as LOAD DATA lines, encoded column by column.

    A column of one plain type is encoded in one pass; a mixed column value
    by value with :func:`tsv_field`, which gives the same text.
    """
    if not values or not len(values[0]):
        return ""
    return "\n".join(map("\t".join, zip(*map(_tsv_column, values)))) + "\n"


def _tsv_column(values: Sequence) -> Sequence[str]:
    kinds = set(map(type, values))
    if kinds == _INT:
        return list(map(str, values))
    if kinds == _STR:
        return values if not _ESCAPE.search("".join(values)) else list(map(tsv_field, values))
    kinds.discard(type(None))
    if kinds <= _INT:
        return ["\\N" if v is None else str(v) for v in values]
    if kinds == {float}:
        return ["\\N" if v is None else repr(v) for v in values]
    if kinds == {bool}:
        return list(map(_BOOLEANS.__getitem__, values))
    if kinds == _STR and not _ESCAPE.search("".join(v for v in values if v is not None)):
        return ["\\N" if v is None else v for v in values]
    return list(map(tsv_field, values))


_INT, _STR = frozenset({int}), frozenset({str})
_BOOLEANS = {True: "1", False: "0", None: "\\N"}


def tsv_field(value) -> str:
    """One value as LOAD DATA reads it back unchanged: ``\\N`` is NULL, the text ``NULL`` is text."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat(" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], str(value))
