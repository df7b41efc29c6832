"""PostgreSQL: reads in a REPEATABLE READ snapshot, writes through COPY."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .base import Adapter as BaseAdapter


class Adapter(BaseAdapter):
    vendor = "postgresql"
    default_port = 5432

    def cannot_hold(self, field) -> str | None:
        from . import field_vendor

        reason = super().cannot_hold(field)
        if reason is None and field_vendor(field) == self.vendor:
            db_type = field.db_type(self.connection)
            if db_type and not self.has_type(db_type):
                return f"the type {db_type} does not exist on the target (create its extension first)"
        return reason

    def has_type(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT to_regtype(%s)", [name])
            return cursor.fetchone()[0] is not None

    def has_collation(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [name])
            return cursor.fetchone() is not None

    def begin_read_only(self, cursor) -> None:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def write_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with self.connection.cursor() as cursor:
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)

    def drop_tables(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        with self.connection.cursor() as cursor:
            names = ", ".join(self.quote(t) for t in tables)
            cursor.execute(f"DROP TABLE IF EXISTS {names} CASCADE")

    def next_auto_value(self, table: str, column: str) -> int | None:
        # pg_sequence_last_value() reads the sequence without nextval()'s side
        # effect; it is NULL until the first nextval() or setval(..., true).
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.seqstart, s.seqincrement, pg_sequence_last_value(s.seqrelid)"
                " FROM pg_sequence s WHERE s.seqrelid = pg_get_serial_sequence(%s, %s)::regclass",
                [self.quote(table), column],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        start, increment, last = row
        return start if last is None else last + increment
