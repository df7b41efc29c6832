"""SQLite: ``executemany`` inside one transaction per chunk."""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from functools import partial

from django.db import OperationalError
from django.db.models.expressions import Col

from .base import Adapter as BaseAdapter
from .limits import SizeLimit
from .sqlite_read import column_reader, fast_reader

# SQLite stores whatever bytes it is given as TEXT; invalid UTF-8 is kept as
# lone surrogates so the value checks can name it instead of the read failing.
# A partial of str (not a Python function) keeps the decoding in C.
_lenient_text = partial(str, encoding="utf-8", errors="surrogateescape")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _StrictFirst:
    """A read cursor that decodes text in C, and leniently only a result that needs it.

    sqlite3 decodes TEXT in C only with its default text factory; the lenient
    one costs a call per value, a quarter of reading a table. A result holding
    invalid UTF-8 fails strict decoding and is read again leniently. The query
    runs in :meth:`fetchall`, where both attempts can see it.
    """

    def __init__(self, cursor, raw):
        self._cursor, self._raw = cursor, raw
        self._query: tuple = ()

    def execute(self, sql: str, params=()):
        self._query = (sql, params)
        return self

    def fetchall(self) -> list:
        lenient = self._raw.text_factory
        self._raw.text_factory = str
        try:
            self._cursor.execute(*self._query)
            return self._cursor.fetchall()
        except (sqlite3.OperationalError, OperationalError) as e:
            if "decode" not in str(e):
                raise
        finally:
            self._raw.text_factory = lenient
        self._cursor.execute(*self._query)
        return self._cursor.fetchall()


class Adapter(BaseAdapter):
    vendor = "sqlite"
    display_name = "SQLite"
    names = ("sqlite", "sqlite3")
    engines = ("sqlite",)

    @classmethod
    def describe(cls, alias: str, conf: dict) -> str:
        return f"{alias} (sqlite:{conf.get('NAME') or ''})"

    @classmethod
    def identity(cls, alias: str, conf: dict) -> tuple:
        name = str(conf.get("NAME") or "")
        if name in ("", ":memory:") or name.startswith("file:"):
            return (cls.vendor, alias)  # in memory: every alias is a database of its own
        return (cls.vendor, os.path.realpath(name))
    # SQLite enforces neither lengths nor types: every check can fire on its values.
    enforces_max_length = False
    # A REAL NaN is stored as NULL.
    stores_float_nan = False
    decimal_digits = 15  # a decimal is a REAL; Django reads 15 significant digits back
    decimal_storage = "as a double"
    # Django's decimal converter quantizes to the field's decimal_places.
    decimals_at_scale = True
    write_rate = 1_000_000

    def name_key(self, name: str, table: bool = True) -> str:
        return name.translate(_ASCII_LOWER)  # SQLite folds the case of ASCII letters only

    def cannot_name(self, name: str, table: bool = True) -> str | None:
        reason = super().cannot_name(name, table)
        if reason is None and table and name.lower().startswith("sqlite_"):
            reason = "begins with sqlite_, which SQLite keeps for its own tables"
        return reason

    @contextmanager
    def snapshot(self, shared: str | None = None):
        self.connection.ensure_connection()
        raw = self.connection.connection
        previous = raw.text_factory
        raw.text_factory = _lenient_text
        try:
            with super().snapshot(shared):
                yield
        finally:
            raw.text_factory = previous

    @contextmanager
    def read_cursor(self, decimals_as_text: bool = False, key_range: bool = False):
        with self.connection.cursor() as cursor:
            yield _StrictFirst(cursor, self.connection.connection)

    def select_column(self, column: str) -> str:
        # Django connects with PARSE_DECLTYPES, so the driver itself would parse
        # "date"/"datetime"/"time" columns (raising on February 30th) and turn a
        # "bool" 2 into False. Unary + is a no-op that hides the declared type:
        # the value arrives as stored and the checks see it.
        return "+" + self.quote(column)

    def size_sql(self, column: str, kind: str) -> str:
        # length() counts a text's characters; its bytes are its length as a blob.
        return f"COALESCE(length(CAST({self.quote(column)} AS BLOB)), 0)"

    def size_limit(self) -> SizeLimit | None:
        self.connection.ensure_connection()
        getlimit = getattr(self.connection.connection, "getlimit", None)  # Python 3.11+
        limit = getlimit(sqlite3.SQLITE_LIMIT_LENGTH) if getlimit else 1_000_000_000
        return SizeLimit(limit, per_value=False,
                         reason=f"SQLite stores at most {limit:,} bytes in one row (SQLITE_MAX_LENGTH)")

    def schema_editor(self, **kwargs):
        """Django's SQLite editor, minus its check of every foreign key on exit.

        Tables are created before the rows arrive, and a table a selection keeps
        may point at one that is still empty; the copy checks the foreign keys
        once the rows are in (``references.check_references``).
        """
        django_editor = self.connection.SchemaEditorClass

        class LoadEditor(django_editor):
            def __exit__(self, exc_type, exc_value, traceback):
                super(django_editor, self).__exit__(exc_type, exc_value, traceback)
                self.connection.enable_constraint_checking()

        return LoadEditor(self.connection, **kwargs)

    #: One writer at a time: a second process would only wait for the lock.
    parallel_writes = False

    @property
    def parallel_reads(self) -> bool:
        name = str(self.connection.settings_dict.get("NAME") or "")
        return bool(name) and name != ":memory:" and "mode=memory" not in name

    def take_apart(self, tables: Sequence[str]) -> list[tuple[str, str, str, str, str | None]]:
        # The indexes CREATE INDEX made (keys and foreign keys are part of the
        # table in SQLite), put back from the SQL SQLite keeps for them.
        marks = ", ".join(["%s"] * len(tables))
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index'"
                           f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY tbl_name, name",
                           list(tables))
            found = cursor.fetchall()
            for _, name, _ in found:
                cursor.execute(f"DROP INDEX {self.quote(name)}")
        return [(table, self.quote(name), "index", sql, None) for table, name, sql in found]

    def has_collation(self, name: str) -> bool:
        # Built in, plus what the connection registered (none with Django's backend).
        return name.upper() in ("BINARY", "NOCASE", "RTRIM")

    def rows_hash_sql(self, columns: Sequence[str]) -> str:
        return f"SUM({self._row_hash(columns)})"

    def _row_hash(self, columns: Sequence[str]) -> str:
        # Text as its bytes (any encoding), everything else as the value SQLite holds.
        values = ", ".join(f"CASE WHEN typeof({c}) = 'text' THEN CAST({c} AS BLOB) ELSE {c} END"
                           for c in map(self.quote, columns))
        return f"portadb_row_hash({values})"

    def fingerprint_sql(self, table: str, columns: Sequence[str], key: str, width: int,
                        lower: bool = False, upper: bool = False) -> str:
        # Each row hashed in a subquery read in key order (its ORDER BY keeps SQLite from merging
        # it into the GROUP BY): the GROUP BY's sorter, in this process's memory, then holds a
        # bucket and a hash per row, not the row's values (24 texts of 20 MB: 600 MB).
        q = self.quote
        rows = (f"SELECT {self.bucket_sql(q(key), width)} AS bucket, {self._row_hash(columns)} AS hash"
                f" FROM {q(table)}{self._range([key], lower, upper)} ORDER BY {q(key)}")
        return f"SELECT bucket, COUNT(*), SUM(hash) FROM ({rows}) GROUP BY bucket ORDER BY bucket"

    def fingerprints(self, table: str, columns: Sequence[str], key: str, width: int,
                     above: int | None = None, through: int | None = None) -> Iterator[tuple]:
        self.connection.ensure_connection()
        self.connection.connection.create_function("portadb_row_hash", -1, _row_hash, deterministic=True)
        return super().fingerprints(table, columns, key, width, above, through)

    def enabled_triggers(self) -> set[tuple[str, str]]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            return {(table, name) for table, name in cursor.fetchall() if name.startswith("portadb_")}

    def share_snapshot(self) -> str | None:
        # Without WAL, the shared lock this snapshot takes at its first read keeps every
        # writer from committing until it ends: a reader that starts meanwhile sees what it
        # sees, and has nothing to import. With WAL, writers commit.
        if not self.parallel_reads:
            return None
        with self.connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0].lower() == "wal":
                return None
            cursor.execute("SELECT COUNT(*) FROM sqlite_master")  # a read: the lock is held from here
            cursor.fetchone()
        return "shared lock"

    def defer_foreign_keys(self) -> None:
        with self.connection.cursor() as cursor:  # until the transaction ends
            cursor.execute("PRAGMA defer_foreign_keys = ON")

    def begin_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = ON")

    def end_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = OFF")

    def stored_decimal(self, field, number):
        # Stored as Django stores it, in a scratch database of the same SQLite (a decimal column's
        # NUMERIC affinity makes a REAL of it, or an INTEGER where it is one), read as Django reads
        # it (5.2 rounds either to 15 digits; 6.0 reads an integer exactly).
        with closing(sqlite3.connect(":memory:")) as scratch:
            scratch.execute("CREATE TABLE t (d decimal)")
            scratch.execute("INSERT INTO t VALUES (?)", [field.get_db_prep_save(number, self.connection)])
            (stored,) = scratch.execute("SELECT d FROM t").fetchone()
        column = Col("t", field)
        return self.connection.ops.get_decimalfield_converter(column)(stored, column, self.connection)

    no_counter = "the target's table has no counter to move (a SQLite table without AUTOINCREMENT)"

    def counter_sql(self, table: str, column: str, value: int) -> list[tuple[str, list]]:
        # AUTOINCREMENT (Django's AutoField) hands out one past sqlite_sequence's mark; a plain
        # INTEGER PRIMARY KEY has no counter to move.
        if not self._autoincrement(table):
            return []
        return [("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [value - 1, table]),
                ("INSERT INTO sqlite_sequence (name, seq) SELECT %s, %s WHERE NOT EXISTS"
                 " (SELECT 1 FROM sqlite_sequence WHERE name = %s)", [table, value - 1, table])]

    def next_auto_value(self, table: str, column: str) -> int | None:
        # An INTEGER PRIMARY KEY takes max(rowid) + 1, or with AUTOINCREMENT
        # one past the larger of that and sqlite_sequence's high-water mark.
        seq = 0
        if self._autoincrement(table):
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                seq = row[0] if row else 0
        highest = self.max_value(table, column) or 0
        return max(seq, highest) + 1

    def _autoincrement(self, table: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            row = cursor.fetchone()
        return bool(row and row[0] and "AUTOINCREMENT" in row[0].upper())

    def vanishes(self) -> bool:
        return self.connection.is_in_memory_db()

    def missing(self) -> bool:
        name = str(self.connection.settings_dict.get("NAME") or "")
        in_memory = name in ("", ":memory:") or name.startswith("file:")
        return not in_memory and not os.path.exists(name)

    def remove_created(self) -> None:
        self.connection.close()
        name = str(self.connection.settings_dict["NAME"])
        if os.path.exists(name) and os.path.getsize(name) == 0:
            os.remove(name)

    def table_sizes(self) -> dict[str, int]:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
                return dict(cursor.fetchall())
        except Exception:  # dbstat is a compile-time option of SQLite
            return {}

    def fast_reader(self, reader, expression):
        return fast_reader(self.connection, reader, expression)

    def column_reader(self, reader, expression, scaled: bool = False, forms: frozenset = frozenset()):
        return column_reader(self.connection, reader, expression, scaled, forms)


def _row_hash(*values, _dumps=marshal.dumps, _hash=hashlib.blake2b, _int=int.from_bytes) -> int:
    """56 bits of a hash of a row's stored values: a bucket's sum of them fits in 64 bits.

    marshal writes ints, floats (their bits), bytes and None as they are, in a
    third of repr's time; its version 2, because later ones write a value met
    twice as a reference to an object, whose identity varies from run to run.
    """
    return _int(_hash(_dumps(values, 2), digest_size=7).digest(), "little")
