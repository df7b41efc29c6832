"""The interface every vendor adapter implements, with portable defaults.

An adapter is bound to one Django connection. It holds what Django's own
backends do not: how to read a consistent snapshot, how to bulk-load rows,
how to drop a project's tables, and the vendor's value limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from django.core.management.color import no_style


class Adapter:
    """Portable behaviour; vendor modules override what differs."""

    vendor: str = ""
    #: Port used when a DATABASES entry leaves PORT empty.
    default_port: int | None = None

    #: Several processes may read this database at once (``--jobs``).
    parallel_reads: bool = True
    #: Several processes may write this database at once (``--jobs``).
    parallel_writes: bool = True

    def __init__(self, connection):
        self.connection = connection

    def quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    # -- capabilities ------------------------------------------------------

    def cannot_hold(self, field) -> str | None:
        """Why this database cannot hold ``field``'s column, or ``None`` when it can.

        Fields that ship with one vendor's contrib app (``django.contrib.postgres``)
        only live on that vendor; a collation must exist on the target.
        """
        from . import field_vendor

        owner = field_vendor(field)
        if owner is not None and owner != self.vendor:
            return f"{type(field).__name__} exists only on {owner}"
        collation = getattr(field, "db_collation", None)
        if collation and not self.has_collation(collation):
            return f"the collation {collation!r} does not exist on the target"
        return None

    def has_collation(self, name: str) -> bool:
        """Whether a column may use the collation ``name`` here."""
        return False

    # -- reading -----------------------------------------------------------

    @contextmanager
    def snapshot(self):
        """Read inside one read-only transaction that sees a consistent state."""
        from django.db import transaction

        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                self.begin_read_only(cursor)
            try:
                yield
            finally:
                with self.connection.cursor() as cursor:
                    self.end_read_only(cursor)

    def begin_read_only(self, cursor) -> None:
        """Make the current transaction refuse writes."""

    def end_read_only(self, cursor) -> None:
        """Undo :meth:`begin_read_only` for the rest of the session."""

    def select_chunk_sql(
        self, table: str, columns: Sequence[str], key: Sequence[str], after: bool
    ) -> str:
        """SELECT the next chunk in key order; parameters: the last key (if ``after``), limit."""
        q = self.quote
        cols = ", ".join(q(c) for c in columns)
        order = ", ".join(q(c) for c in key)
        where = ""
        if after:
            if len(key) == 1:
                where = f" WHERE {q(key[0])} > %s"
            else:
                marks = ", ".join(["%s"] * len(key))
                where = f" WHERE ({order}) > ({marks})"
        return f"SELECT {cols} FROM {q(table)}{where} ORDER BY {order} LIMIT %s"

    def fast_reader(self, reader, expression):
        """A faster function with the same results as Django's converter ``reader``, or ``None``."""
        return None

    def select_range_sql(
        self, table: str, columns: Sequence[str], key: Sequence[str], lower: bool, upper: bool
    ) -> str:
        """SELECT the rows whose key is above a bound and/or at most another, in key order.

        Parameters: the lower key (if ``lower``), then the upper key (if ``upper``).
        """
        q = self.quote
        cols = ", ".join(q(c) for c in columns)
        order = ", ".join(q(c) for c in key)
        lhs = q(key[0]) if len(key) == 1 else f"({order})"
        marks = "%s" if len(key) == 1 else f"({', '.join(['%s'] * len(key))})"
        where = [f"{lhs} > {marks}"] if lower else []
        where += [f"{lhs} <= {marks}"] if upper else []
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return f"SELECT {cols} FROM {q(table)}{clause} ORDER BY {order}"

    def select_keys_sql(self, table: str, columns: Sequence[str], key: Sequence[str], n: int) -> str:
        """SELECT the rows whose key is one of ``n`` keys given as parameters (flat)."""
        q = self.quote
        cols = ", ".join(q(c) for c in columns)
        if len(key) == 1:
            lhs, mark = q(key[0]), "%s"
        else:
            lhs = f"({', '.join(q(c) for c in key)})"
            mark = f"({', '.join(['%s'] * len(key))})"
        return f"SELECT {cols} FROM {q(table)} WHERE {lhs} IN ({', '.join([mark] * n)})"

    def max_value(self, table: str, column: str):
        """The largest value of ``column``, ``None`` for an empty table."""
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({self.quote(column)}) FROM {self.quote(table)}")
            return cursor.fetchone()[0]

    def next_auto_value(self, table: str, column: str) -> int | None:
        """The value the next row's auto primary key would get, read without consuming it.

        ``None`` when the column has no sequence or counter at all.
        """
        raise NotImplementedError

    def count(self, table: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.quote(table)}")
            return cursor.fetchone()[0]

    def table_names(self) -> list[str]:
        with self.connection.cursor() as cursor:
            return self.connection.introspection.table_names(cursor)

    # -- writing -----------------------------------------------------------

    @contextmanager
    def load_session(self):
        """Session settings for a bulk load; constraint checks relaxed."""
        with self.connection.constraint_checks_disabled():
            yield

    def write_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        """Insert ``rows`` into ``table`` through the vendor's fastest exact path."""
        q = self.quote
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES ({marks})"
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def defer_keys(self, tables: Sequence[str]) -> list[str]:
        """Drop the primary keys and unique constraints of the new, empty ``tables``.

        Returns the statements that add them back, to run after the data and
        before the foreign keys. Backends that gain nothing keep them: ``[]``.
        """
        return []

    def stores_as_read(self, field) -> bool:
        """Whether ``field.get_db_prep_save`` on this backend returns a value read by Django unchanged.

        Then a copy skips it: the value Django read from the source is what the
        target stores. ``False`` (always prepare) is the safe answer.
        """
        return False

    def drop_tables(self, tables: Sequence[str]) -> None:
        """Drop ``tables`` and whatever constraints point at them."""
        with self.connection.constraint_checks_disabled():
            with self.connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"DROP TABLE {self.quote(table)}")

    def reset_sequences(self, models: Sequence) -> list[str]:
        """Move every auto primary key's sequence past the copied rows; return the SQL."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(models))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
        return statements

    def transaction_size_hint(self) -> int:
        """Rows per chunk that suit the write path when the user gives none."""
        return 20_000
