"""SQLite: ``executemany`` inside one transaction per chunk."""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import partial

from .base import Adapter as BaseAdapter

# SQLite stores whatever bytes it is given as TEXT; invalid UTF-8 is kept as
# lone surrogates so the value checks can name it instead of the read failing.
# A partial of str (not a Python function) keeps the decoding in C.
_lenient_text = partial(str, encoding="utf-8", errors="surrogateescape")


class Adapter(BaseAdapter):
    vendor = "sqlite"
    # SQLite enforces neither lengths nor types: every check can fire on its values.
    enforces_max_length = False
    write_rate = 1_000_000

    @contextmanager
    def snapshot(self):
        self.connection.ensure_connection()
        raw = self.connection.connection
        previous = raw.text_factory
        raw.text_factory = _lenient_text
        try:
            with super().snapshot():
                yield
        finally:
            raw.text_factory = previous

    def select_column(self, column: str) -> str:
        # Django connects with PARSE_DECLTYPES, so the driver itself would parse
        # "date"/"datetime"/"time" columns (raising on February 30th) and turn a
        # "bool" 2 into False. Unary + is a no-op that hides the declared type:
        # the value arrives as stored and the checks see it.
        return "+" + self.quote(column)

    def schema_editor(self, **kwargs):
        """Django's SQLite editor, minus its check of every foreign key on exit.

        Tables are created before the rows arrive, and a table a selection keeps
        may point at one that is still empty; the copy checks the foreign keys
        once the rows are in (``schema.check_references``).
        """
        django_editor = self.connection.SchemaEditorClass

        class LoadEditor(django_editor):
            def __exit__(self, exc_type, exc_value, traceback):
                super(django_editor, self).__exit__(exc_type, exc_value, traceback)
                self.connection.enable_constraint_checking()

        return LoadEditor(self.connection, **kwargs)

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
