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
