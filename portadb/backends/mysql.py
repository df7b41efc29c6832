"""MySQL and MariaDB: multi-row INSERT in a strict, UTC, utf8mb4 session."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

from .base import Adapter as BaseAdapter


class Adapter(BaseAdapter):
    vendor = "mysql"
    default_port = 3306

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
            if self.alive():
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
