"""MySQL and MariaDB: a strict, UTC, utf8mb4 session; LOAD DATA or multi-row INSERT.

Write path, measured on MariaDB 10.11 (``python -m tests.bench_mysql_write``:
60,000 rows of nine mixed columns, 20,000-row transactions, both exact):
``executemany``, which MySQLdb rewrites into multi-row INSERTs, 48,000-66,000
rows/s; ``LOAD DATA LOCAL INFILE`` 85,000-98,000 rows/s. For rows dominated by
large binary values the two are even (bytes travel as hex). LOAD DATA is used
when the connection allows it
(``OPTIONS={"local_infile": 1}`` and the server's ``local_infile``); it is not
switched on behind the user's back because a client that accepts LOCAL lets the
server ask for any file the client can read.

With LOCAL the server cannot stop the file half way, so it turns errors into
warnings even in strict mode: any warning fails the chunk, which is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from functools import cached_property

from ..columns import ScaledIntegers, UtcTexts, UuidBytes
from ..reports.model import FindingKind as K
from .base import Adapter as BaseAdapter
from .limits import SizeLimit
from .mysql_collation import weights
from .mysql_load import load_columns, load_rows, tsv_form
from .mysql_prep import column_prep, fast_prep
from .mysql_read import lenient_temporal, probe_json_depth

#: A strict session: refuse rather than truncate; keep a primary key of 0.
SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"
)

#: The longest table or column name, in characters (the manual's "Identifier Length Limits").
_NAME_LIMIT = 64
#: A character each narrow character set cannot store, and the kind of finding it is. MySQL's
#: latin1 is Windows-1252, and keeps the five bytes that code leaves out as U+0081, U+008D,
#: U+008F, U+0090, U+009D.
_FOUR_BYTES = ("[\U00010000-\U0010ffff]", K.FOUR_BYTE_CHARACTER)
_REFUSED_CHARACTERS = {
    "utf8": _FOUR_BYTES, "utf8mb3": _FOUR_BYTES, "ascii": ("[^\x00-\x7f]", K.UNSTORABLE_CHARACTER),
    "latin1": ("[^\x00-\x7f\x81\x8d\x8f\x90\x9d\xa0-\xff\u20ac\u201a\u0192\u201e\u2026\u2020"
               "\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013"
               "\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178]", K.UNSTORABLE_CHARACTER),
}
#: Bytes of an INSERT's row kept for the statement around its large values.
_STATEMENT_MARGIN = 64 * 1024
#: What mysql_real_escape_string writes with a backslash: two bytes instead of one.
_ESCAPED = (b"\\", b"'", b'"', b"\0", b"\n", b"\r", b"\x1a")


class Adapter(BaseAdapter):
    vendor = "mysql"
    display_name = "MySQL/MariaDB"
    names = ("mysql", "mariadb")
    engines = ("mysql",)
    extra = "mysql"
    default_port = 3306
    # DOUBLE has no infinities or NaN.
    refuses_non_finite_float = True
    # JSON_VALID() refuses "\ud800".
    refuses_lone_surrogates_in_json = True
    drops_trailing_spaces_of_char = True
    # Strict typed columns; tinyint(1) booleans, char(32) UUIDs, char(39) IPs,
    # NUL characters and foreign keys loaded with checks off are not enforced,
    # nor dates: outside strict mode a date column holds 0000-00-00, 2024-00-10
    # and (ALLOW_INVALID_DATES) February 30th, read as their text (read_cursor);
    # a naive datetime may lie in TIME_ZONE's daylight-saving gap, a time beyond 24 hours.
    enforced_checks = frozenset({
        K.TOO_LONG, K.INTEGER_OUT_OF_RANGE, K.DECIMAL_OVERFLOW, K.INVALID_UTF8, K.INVALID_JSON,
        K.TOO_PRECISE, K.TIMEZONE, K.NOT_FINITE, K.NOT_AN_INTEGER, K.NOT_A_NUMBER,
        K.WRONG_TYPE,
    })
    # decimal(p, s) returns s decimal places. Not stores_decimals_at_scale: LOAD DATA notes
    # (so fails) "1.500" in a decimal(p, 2). Decimals read as exact integers, UUIDs read as
    # bytes and SQLite's UTC datetime text load as their text (fast_prep, write_columns).
    decimals_at_scale = True
    column_forms = frozenset({ScaledIntegers, UuidBytes, UtcTexts})
    # InnoDB checks each row at once: a sync loads with checks off, then looks for dangling keys.
    defers_foreign_keys = False
    write_rate = 350_000
    quote_character = "`"
    percent_marks_parameters = True
    retry_codes = frozenset({1213})  # ER_LOCK_DEADLOCK: the transaction was rolled back

    def name_key(self, name: str, table: bool = True) -> str:
        # Column names ignore case everywhere; table names where the server folds them.
        return name.lower() if not table or self._folds_table_names else name

    json_depth_limit = cached_property(lambda self: probe_json_depth(self.connection))

    @cached_property
    def _folds_table_names(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT @@lower_case_table_names")
            return int(cursor.fetchone()[0]) != 0

    def exact_text_sql(self, table: str, column: str, length: int) -> list[str]:
        return [f"ALTER TABLE {self.quote(table)} MODIFY {self.quote(column)} varchar({length})"
                " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"]

    def cannot_name(self, name: str, table: bool = True) -> str | None:
        reason = super().cannot_name(name, table)
        if reason is not None:
            return reason
        if len(name) > _NAME_LIMIT:
            return f"is {len(name)} characters long; MySQL/MariaDB names hold at most {_NAME_LIMIT}"
        if name.endswith(" "):
            return "ends with a space, which MySQL/MariaDB refuses in a name"
        wide = next((c for c in name if ord(c) > 0xFFFF), None)
        if wide is not None:
            return f"holds {wide!r}, a character of 4 UTF-8 bytes, which MySQL/MariaDB refuses in a name"
        return None

    def narrow_charset(self, field) -> tuple[str, str, K] | None:
        charset = self._charset(self.collation(field))
        return (charset, *_REFUSED_CHARACTERS[charset]) if charset in _REFUSED_CHARACTERS else None

    def collation(self, field) -> str:
        """The collation of ``field``'s column: its ``db_collation`` or the database's."""
        return getattr(field, "db_collation", None) or self._database_collation

    def unique_keys(self, field) -> Callable[[list[str]], list] | None:
        collation = self.collation(field)
        pad = "_nopad_" not in collation  # PAD SPACE: 'x' equals 'x '
        if collation.endswith("_bin"):
            return (lambda values: [v.rstrip(" ") for v in values]) if pad else None
        charset = self._charset(collation)
        return lambda values: weights(self.connection, self.quote,
                                      [v.rstrip(" ") if pad else v for v in values], charset, collation)

    @property
    def _database_collation(self) -> str:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT @@collation_database")
            return cursor.fetchone()[0]

    def _charset(self, collation: str) -> str:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT CHARACTER_SET_NAME FROM information_schema.COLLATIONS"
                " WHERE COLLATION_NAME = %s", [collation]
            )
            row = cursor.fetchone()
        return row[0] if row else collation.split("_", 1)[0]

    def table_sizes(self) -> dict[str, int]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT TABLE_NAME, DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = DATABASE()"
            )
            return {name: int(size) for name, size in cursor.fetchall()}

    def __init__(self, connection):
        super().__init__(connection)
        self.load_data = False
        #: Per table, its binary columns and its AUTO_INCREMENT one (mysql_load).
        self.column_kinds: dict[str, tuple[set[str], set[str]]] = {}

    @contextmanager
    def read_cursor(self, decimals_as_text: bool = False, key_range: bool = False):
        with self.connection.cursor() as cursor, lenient_temporal(self.connection.connection):
            yield cursor  # zero dates as their text, not None (mysql_read)

    @cached_property
    def refuses_some_uuids(self) -> bool:
        # MariaDB's uuid type (10.7+; Django 5 uses it) refuses what it cannot
        # store in its index order; asked of the server: versions differ.
        if not self.connection.features.has_native_uuid_field:
            return False
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT CAST(%s AS UUID) IS NULL", ["ffffffff-ffff-8fff-0fff-ffffffffffff"])
            return bool(cursor.fetchone()[0])

    def uuid_refusal(self, number: int) -> str | None:
        version, variant = (number >> 76) & 0xF, (number >> 60) & 0xF
        if version >= 8 and variant < 8:
            return (f"has version {version} with a variant of 0xxx (no RFC 9562 UUID), which "
                    f"{self.display_name}'s uuid type refuses")
        return None

    def has_collation(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM information_schema.collations WHERE collation_name = %s", [name])
            return cursor.fetchone() is not None

    @contextmanager
    def snapshot(self, shared: str | None = None):  # MySQL exports no snapshot: never shared
        from django.db import transaction

        with self.connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                # The snapshot starts here, not at the first read; writes are refused.
                cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            yield

    def insert_if_sql(self, insert: str, values: str, condition: str) -> str:
        # An IF costs the site's updates less than an INSERT ... SELECT that selects nothing.
        return f"IF {condition} THEN {insert} VALUES ({values}); END IF"

    def enabled_triggers(self) -> set[tuple[str, str]]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT event_object_table, trigger_name FROM information_schema.triggers"
                           " WHERE trigger_schema = DATABASE()")
            return {(table, name) for table, name in cursor.fetchall() if name.startswith("portadb_")}

    def untrackable(self, table: str) -> str | None:
        # InnoDB fires no trigger for the rows a foreign key's action changes.
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT constraint_name FROM information_schema.referential_constraints"
                           " WHERE constraint_schema = DATABASE() AND table_name = %s"
                           " AND (delete_rule NOT IN ('RESTRICT', 'NO ACTION')"
                           " OR update_rule NOT IN ('RESTRICT', 'NO ACTION'))", [table])
            row = cursor.fetchone()
        if row is None:
            return None
        return (f"its foreign key {row[0]} changes rows by itself (ON DELETE or ON UPDATE), and"
                f" {self.display_name} fires no trigger for those")

    def bucket_sql(self, key: str, width: int) -> str:
        return f"{key} DIV {width}"

    def rows_hash_sql(self, columns: Sequence[str]) -> str:
        # Each value with its length, NULL apart; doubles print shortest round-trip.
        parts = ", ".join(f"IFNULL(CONCAT(LENGTH({c}), ':', {c}), 'N')" for c in map(self.quote, columns))
        return f"SUM(CAST(CONV(SUBSTR(MD5(CONCAT_WS(',', {parts})), 1, 15), 16, 10) AS UNSIGNED))"

    @contextmanager
    def load_session(self):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT @@SESSION.sql_mode, @@SESSION.time_zone, @@GLOBAL.local_infile")
            sql_mode, time_zone, server_infile = cursor.fetchone()
            cursor.execute(f"SET SESSION sql_mode = '{SQL_MODE}', time_zone = '+00:00'")
        self.load_data = self.write_method(server_infile) == "load data"
        try:
            with super().load_session():
                yield
        finally:
            self.load_data = False
            if self.alive():
                with self.connection.cursor() as cursor:
                    cursor.execute(
                        "SET SESSION sql_mode = %s, time_zone = %s", [sql_mode, time_zone]
                    )

    @contextmanager
    def build_session(self, side_by_side: bool = False):
        # With foreign_key_checks on, InnoDB adds a foreign key by copying the
        # whole table; off, in place (about 7x faster). portadb searched the
        # references of its two tables first (schema.build_deferred).
        with self.connection.constraint_checks_disabled():
            yield

    def fast_prep(self, field, whole: bool = False):
        return (column_prep if whole else fast_prep)(self.connection, field)

    def write_method(self, server_infile=None) -> str:
        """``"load data"`` when client and server allow LOCAL INFILE, else ``"insert"``."""
        options = self.connection.settings_dict.get("OPTIONS") or {}
        if not options.get("local_infile"):
            return "insert"
        if server_infile is None:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT @@GLOBAL.local_infile")
                (server_infile,) = cursor.fetchone()
        return "load data" if int(server_infile) else "insert"

    def write_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        if self.load_data:
            self.load_rows(table, columns, rows)
        else:
            super().write_rows(table, columns, rows)

    def write_columns(self, table: str, columns: Sequence[str], values: Sequence[Sequence]) -> None:
        if self.load_data:  # decimals read as exact integers become their text in C loops
            load_columns(self, table, columns, list(map(tsv_form, values)))
        else:
            super().write_columns(table, columns, values)

    def load_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        """``LOAD DATA LOCAL INFILE`` through a named pipe (:mod:`portadb.backends.mysql_load`)."""
        load_rows(self, table, columns, rows if isinstance(rows, list) else list(rows))

    def size_limit(self) -> SizeLimit | None:
        if self.write_method() == "load data":
            return None  # the rows stream through LOAD DATA: no packet holds a whole row
        packet = self._max_allowed_packet
        return SizeLimit(packet - _STATEMENT_MARGIN, per_value=False, reason=(
            f"an INSERT sends each row in one packet, and the server's max_allowed_packet is {packet:,}"
            " bytes: raise it (SET GLOBAL max_allowed_packet), or let portadb load through LOAD DATA"
            " (OPTIONS {'local_infile': 1} and the server's local_infile)"))

    @cached_property
    def _max_allowed_packet(self) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT @@max_allowed_packet")
            return int(cursor.fetchone()[0])

    def sent_size(self, value) -> int:
        # As MySQLdb writes it into an INSERT: quoted, escaped, bytes as _binary'...'.
        raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
        prefix = 2 if isinstance(value, str) else 9
        return prefix + len(raw) + sum(map(raw.count, _ESCAPED))

    def take_apart(self, tables: Sequence[str]) -> list[tuple[str, str, str, str, str | None]]:
        # Foreign keys (from and into the tables) and plain B-tree indexes; the
        # primary key is the table itself in InnoDB, unique keys check rows as
        # they come, and FULLTEXT and SPATIAL indexes stay as migrate made them.
        q, placeholders = self.quote, ", ".join(["%s"] * len(tables))
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,"
                " k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE"
                " FROM information_schema.KEY_COLUMN_USAGE k"
                " JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
                " ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
                " AND r.TABLE_NAME = k.TABLE_NAME"
                f" WHERE k.TABLE_SCHEMA = DATABASE() AND (k.TABLE_NAME IN ({placeholders})"
                f" OR k.REFERENCED_TABLE_NAME IN ({placeholders}))"
                " ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
                [*tables, *tables],
            )
            foreign: dict[tuple, list] = {}
            for table, name, column, referenced, to_column, on_update, on_delete in cursor.fetchall():
                key = (table, name, referenced, on_update, on_delete)
                foreign.setdefault(key, []).append((column, to_column))
            cursor.execute(
                "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS"
                f" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({placeholders})"
                " AND INDEX_NAME <> 'PRIMARY' AND NON_UNIQUE = 1 AND INDEX_TYPE = 'BTREE'"
                " AND COLUMN_NAME IS NOT NULL ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                list(tables),
            )
            indexes: dict[tuple, list] = {}
            for table, name, column, part in cursor.fetchall():
                indexes.setdefault((table, name), []).append(q(column) + (f"({part})" if part else ""))
            steps, keys = [], []
            for (table, name, referenced, on_update, on_delete), pairs in foreign.items():
                cursor.execute(f"ALTER TABLE {q(table)} DROP FOREIGN KEY {q(name)}")
                columns, targets = (", ".join(q(c[i]) for c in pairs) for i in (0, 1))
                steps.append((table, q(name), "foreign_key",
                              f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} FOREIGN KEY ({columns})"
                              f" REFERENCES {q(referenced)} ({targets})"
                              f" ON DELETE {on_delete} ON UPDATE {on_update}", referenced))
            for (table, name), columns in indexes.items():
                cursor.execute(f"ALTER TABLE {q(table)} DROP INDEX {q(name)}")
                keys.append((table, q(name), "index",
                             f"CREATE INDEX {q(name)} ON {q(table)} ({', '.join(columns)})", None))
        return keys + steps  # indexes before the foreign keys that use them

    def column_types(self, table: str) -> dict[str, str]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS"
                           " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s", [table])
            return dict(cursor.fetchall())

    def drop_tables(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        self.column_kinds.clear()
        with self.connection.constraint_checks_disabled():
            with self.connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {', '.join(self.quote(t) for t in tables)}")

    def counter_sql(self, table: str, column: str, value: int) -> list[tuple[str, list]]:
        return [(f"ALTER TABLE {self.quote(table)} AUTO_INCREMENT = {int(value)}", [])]

    def next_auto_value(self, table: str, column: str) -> int | None:
        with self.connection.cursor() as cursor:
            if not self.connection.mysql_is_mariadb and self.connection.mysql_version >= (8,):
                # MySQL 8 caches information_schema.TABLES for a day by default.
                cursor.execute("SET SESSION information_schema_stats_expiry = 0")
            cursor.execute(
                "SELECT AUTO_INCREMENT FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                [table],
            )
            row = cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])
