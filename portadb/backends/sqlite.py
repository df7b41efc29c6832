"""SQLite: ``executemany`` inside one transaction per chunk."""

from __future__ import annotations

from .base import Adapter as BaseAdapter


class Adapter(BaseAdapter):
    vendor = "sqlite"
    #: One writer at a time: a second process would only wait for the lock.
    parallel_writes = False

    @property
    def parallel_reads(self) -> bool:
        name = str(self.connection.settings_dict.get("NAME") or "")
        return bool(name) and name != ":memory:" and "mode=memory" not in name

    def begin_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = ON")

    def end_read_only(self, cursor) -> None:
        cursor.execute("PRAGMA query_only = OFF")
