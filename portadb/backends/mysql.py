"""MySQL and MariaDB: multi-row INSERT in a strict, UTC, utf8mb4 session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

from ..reports import FindingKind as K
from .base import Adapter as BaseAdapter

#: Values per WEIGHT_STRING query.
_KEY_BATCH = 500


class Adapter(BaseAdapter):
    vendor = "mysql"
    default_port = 3306
    # DOUBLE has no infinities or NaN.
    refuses_non_finite_float = True
    # JSON_VALID() refuses "\ud800".
    refuses_lone_surrogates_in_json = True
    # Strict typed columns; tinyint(1) booleans, char(32) UUIDs, char(39) IPs,
    # NUL characters and foreign keys loaded with checks off are not enforced.
    enforced_checks = frozenset({
        K.TOO_LONG, K.INTEGER_OUT_OF_RANGE, K.DECIMAL_OVERFLOW, K.INVALID_UTF8, K.INVALID_JSON,
        K.IMPOSSIBLE_DATE, K.TIMEZONE, K.NOT_AN_INTEGER, K.NOT_A_NUMBER, K.WRONG_TYPE,
    })
    write_rate = 350_000

    def max_char_bytes(self, field) -> int:
        charset = self._charset(self.collation(field))
        return 3 if charset in ("utf8", "utf8mb3") else 4

    def collation(self, field) -> str:
        """The collation of ``field``'s column: its ``db_collation`` or the database's."""
        return getattr(field, "db_collation", None) or self._database_collation

    def unique_keys(self, field) -> Callable[[list[str]], list] | None:
        collation = self.collation(field)
        pad = "_nopad_" not in collation  # PAD SPACE: 'x' equals 'x '
        if collation.endswith("_bin"):
            return (lambda values: [v.rstrip(" ") for v in values]) if pad else None
        charset = self._charset(collation)
        return lambda values: self._weights([v.rstrip(" ") if pad else v for v in values],
                                            charset, collation)

    def _weights(self, values: list[str], charset: str, collation: str) -> list[bytes]:
        # The server's own sort keys: equal exactly when the collation says equal.
        q = self.quote
        expression = f"WEIGHT_STRING(CONVERT(%s USING {q(charset)}) COLLATE {q(collation)})"
        keys = []
        with self.connection.cursor() as cursor:
            for i in range(0, len(values), _KEY_BATCH):
                batch = values[i:i + _KEY_BATCH]
                cursor.execute("SELECT " + ", ".join([expression] * len(batch)), batch)
                keys += cursor.fetchone()
        return keys

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

    @contextmanager
    def snapshot(self):
        from django.db import transaction

        with self.connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                # The snapshot starts here, not at the first read.
                cursor.execute("SET @portadb_snapshot = 1")
            yield

    @contextmanager
    def load_session(self):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT @@SESSION.sql_mode, @@SESSION.time_zone")
            sql_mode, time_zone = cursor.fetchone()
            cursor.execute(
                "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                "ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION',"
                " time_zone = '+00:00'"
            )
        try:
            with super().load_session():
                yield
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SET SESSION sql_mode = %s, time_zone = %s", [sql_mode, time_zone]
                )

    def drop_tables(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        with self.connection.constraint_checks_disabled():
            with self.connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {', '.join(self.quote(t) for t in tables)}")
