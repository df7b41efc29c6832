"""SQLite: ``executemany`` inside one transaction per chunk."""

from __future__ import annotations

from .base import Adapter as BaseAdapter


class Adapter(BaseAdapter):
    vendor = "sqlite"

    def begin_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = ON")

    def end_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = OFF")
