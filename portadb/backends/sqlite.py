"""SQLite: ``executemany`` inside one transaction per chunk."""

from __future__ import annotations

from .base import Adapter as BaseAdapter


class Adapter(BaseAdapter):
    vendor = "sqlite"

    def has_collation(self, name: str) -> bool:
        # Built in, plus what the connection registered (none with Django's backend).
        return name.upper() in ("BINARY", "NOCASE", "RTRIM")

    def begin_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = ON")

    def end_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = OFF")

    def next_auto_value(self, table: str, column: str) -> int | None:
        # An INTEGER PRIMARY KEY takes max(rowid) + 1, or with AUTOINCREMENT
        # one past the larger of that and sqlite_sequence's high-water mark.
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            seq = 0
            if cursor.fetchone():
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                seq = row[0] if row else 0
        highest = self.max_value(table, column) or 0
        return max(seq, highest) + 1
