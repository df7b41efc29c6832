"""PostgreSQL: reads in a REPEATABLE READ snapshot, writes through binary COPY."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

from django.db import models, transaction

from ..columns import ScaledIntegers, UuidBytes, as_values
from ..reports.model import FindingKind as K
from . import postgresql_keys
from . import postgresql_triggers as triggers
from . import postgresql_views as views
from .base import Adapter as BaseAdapter
from .base import owning_vendor
from .limits import SizeLimit
from .postgresql_copy import BYTEA, binary_types, copy_rows, encode_columns, network_prep
from .postgresql_read import LenientRetry, fast_loaders, next_value

# Built-in fields whose get_db_prep_save on PostgreSQL returns a value of the
# field's Python type unchanged (to_python is the identity for it and the
# backend's adapt_*_value returns it as it is; UUID and interval are native).
_STORED_AS_READ = frozenset({
    models.BooleanField, models.DecimalField, models.DateField, models.DateTimeField,
    models.TimeField, models.DurationField, models.UUIDField,
})


#: The largest text or bytea value (MaxAllocSize less the value's header).
_MAX_VALUE = 2**30 - 1 - 4


class Adapter(BaseAdapter):
    vendor = "postgresql"
    display_name = "PostgreSQL"
    names = ("postgresql", "postgres")
    engines = ("postgresql", "postgis")
    extra = "postgresql"
    default_port = 5432
    # text, varchar and jsonb refuse U+0000.
    refuses_nul = True
    # GenericIPAddressField is inet, JSONField is jsonb.
    validates_ip_addresses = True
    percent_marks_parameters = True
    normalises_json = True
    refuses_lone_surrogates_in_json = True
    json_number_digits = (131072, 16383)  # jsonb numbers are numeric
    # Typed columns and enforced foreign keys: values read from PostgreSQL
    # cannot fail these checks. Infinities and NaN in float and numeric columns
    # can, and ±infinity and BC dates (DATE_OUT_OF_RANGE).
    enforced_checks = frozenset({
        K.TOO_LONG, K.INTEGER_OUT_OF_RANGE, K.DECIMAL_OVERFLOW, K.NUL_CHARACTER, K.INVALID_UTF8,
        K.INVALID_JSON, K.IMPOSSIBLE_DATE, K.ZERO_DATE, K.TOO_PRECISE, K.NONEXISTENT_TIME, K.TIMEZONE,
        K.NOT_AN_INTEGER, K.NOT_A_NUMBER, K.NOT_A_BOOLEAN, K.INVALID_UUID, K.INVALID_IP, K.WRONG_TYPE,
        K.DANGLING_REFERENCE,
    })
    holds_decimal_nan = True
    holds_extreme_dates = True
    stores_datetimes_as_instants = True
    validates_foreign_keys_when_built = True
    # An UPDATE that keeps the keys costs no foreign key checks; a delete and an insert do.
    updates_in_place = True
    # numeric(p, s) returns s decimal places.
    decimals_at_scale = True
    stores_decimals_at_scale = True
    column_forms = frozenset({ScaledIntegers, UuidBytes})
    write_rate = 800_000

    def __init__(self, connection):
        super().__init__(connection)
        self._types: dict[tuple, list[int] | None] = {}
        self._identifier_length: int | None = None

    def cannot_hold(self, field) -> str | None:
        reason = super().cannot_hold(field)
        if reason is None and owning_vendor(field) == self.vendor:
            db_type = field.db_type(self.connection)
            if db_type and not self.has_type(db_type):
                return f"the type {db_type} does not exist on the target (create its extension first)"
        return reason

    def cannot_name(self, name: str, table: bool = True) -> str | None:
        reason = super().cannot_name(name, table)
        size, limit = len(name.encode()), self._max_identifier_length()
        if reason is None and size > limit:
            reason = (f"is {size} bytes long; PostgreSQL keeps {limit} (max_identifier_length)"
                      " and would cut the rest off")
        return reason

    def _max_identifier_length(self) -> int:
        if self._identifier_length is None:
            with self.connection.cursor() as cursor:
                cursor.execute("SHOW max_identifier_length")
                self._identifier_length = int(cursor.fetchone()[0])
        return self._identifier_length

    def has_type(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT to_regtype(%s)", [name])
            return cursor.fetchone()[0] is not None

    def has_collation(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [name])
            return cursor.fetchone() is not None

    def size_sql(self, column: str, kind: str) -> str:
        # octet_length reads the size a TOASTed value keeps in its pointer (length() counts
        # characters); jsonb has none: its text's.
        cast = "::text" if kind == "JSONField" else ""
        return f"COALESCE(octet_length({self.quote(column)}{cast}), 0)"

    def size_limit(self) -> SizeLimit | None:
        return SizeLimit(_MAX_VALUE, per_value=True,
                         reason=f"PostgreSQL stores at most {_MAX_VALUE:,} bytes (1 GB) in one value")

    def begin_read_only(self, cursor) -> None:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def share_snapshot(self) -> str | None:
        # Not from a savepoint (PostgreSQL refuses), so what would refuse is asked first:
        # a standby exports no snapshot.
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            if cursor.fetchone()[0]:
                return None
            cursor.execute("SELECT pg_export_snapshot()")
            return cursor.fetchone()[0]

    def import_snapshot(self, cursor, shared: str) -> None:
        # A utility statement takes no parameter; the name is PostgreSQL's own (hex and dashes).
        if not re.fullmatch(r"[0-9A-Fa-f-]+", shared):
            raise ValueError(f"not a snapshot name: {shared!r}")
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{shared}'")

    def rows_hash_sql(self, columns: Sequence[str]) -> str:
        # A row's text: floats shortest-exact, bytea in hex, timestamps in the session's zone.
        row = ", ".join(self.quote(c) for c in columns)
        return f"SUM(hashtextextended(ROW({row})::text, 0))"  # 64 bits; half md5's time

    def key_params(self, keys: Sequence[Sequence]) -> list:
        if keys and len(keys[0]) == 1:
            return [[key[0] for key in keys]]
        return super().key_params(keys)

    def _keys_in(self, key: Sequence[str], n: int, alias: str = "") -> str:
        # One key column: one array of its values. A query text the same for every batch,
        # which psycopg parses once, not two thousand placeholders parsed each time.
        if len(key) == 1:
            return f" WHERE {alias}{self.quote(key[0])} = ANY(%s)"
        return super()._keys_in(key, n, alias)

    def tracking_triggers(self, table_id: int) -> list[str]:
        return [f"portadb_{table_id}_row", f"portadb_{table_id}_truncate"]

    def track_sql(self, table: str, key: str, table_id: int, log: str) -> list[str]:
        return triggers.track_sql(self.quote, self._current_schema(), table, key, table_id, log,
                                  self.tracking_triggers(table_id))

    def untrack_sql(self, table: str, table_id: int) -> list[str]:
        # Dropping the function drops its triggers with it.
        function = f"{self.quote(self._current_schema())}.{self.quote(f'portadb_{table_id}_log')}"
        return [f"DROP FUNCTION IF EXISTS {function}() CASCADE"]

    def enabled_triggers(self) -> set[tuple[str, str]]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT c.relname, t.tgname FROM pg_trigger t"
                           " JOIN pg_class c ON c.oid = t.tgrelid"
                           " WHERE c.relnamespace = current_schema()::regnamespace"
                           " AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')")
            return {(table, name) for table, name in cursor.fetchall() if name.startswith("portadb_")}

    def _current_schema(self) -> str:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            return cursor.fetchone()[0]

    def defer_foreign_keys(self) -> None:
        with self.connection.cursor() as cursor:  # Django makes them DEFERRABLE; so does the copy
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    @contextmanager
    def load_session(self):
        # A commit need not wait for its WAL flush: a server crash can lose the
        # last chunks, but whole, together with their journal entries, so a
        # resumed copy redoes them. Nothing else in the session changes.
        with self.connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        try:
            with super().load_session():
                yield
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")

    @contextmanager
    def sync_session(self):
        with super().sync_session():  # a load's, but durable: the source's change log is cleared after it
            with self.connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
            yield

    @contextmanager
    def build_session(self, side_by_side: bool = False):
        if not side_by_side:
            yield  # an index build may use the idle cores for parallel workers
            return
        # Each core has a session of its own already: parallel workers would
        # only add their coordination (about a sixth of the builds' CPU time).
        with self.connection.cursor() as cursor:
            cursor.execute("SET max_parallel_maintenance_workers = 0")
        try:
            yield
        finally:
            if self.alive():
                with self.connection.cursor() as cursor:
                    cursor.execute("RESET max_parallel_maintenance_workers")

    @contextmanager
    def read_cursor(self, decimals_as_text: bool = False, key_range: bool = False):
        with self.connection.cursor() as cursor:
            fast_loaders(cursor.cursor.adapters, decimals_as_text)
            if key_range and not self.connection.get_autocommit():
                # A table just loaded has no statistics: the planner reads a range of
                # keys by a bitmap scan and sorts it, 3 times the server's CPU of the
                # ordered index scan at ten million rows. For the rest of the snapshot.
                cursor.execute("SET LOCAL enable_bitmapscan = off")
            # ±infinity and BC dates as text, not a DataError (postgresql_read).
            yield LenientRetry(cursor)

    def defer_keys(self, tables: Sequence[str]) -> list[tuple[str, str, str, str, str | None]]:
        # One sorted build after the data costs far less than keeping a
        # B-tree (a random UUID's above all) up to date row by row.
        with self.connection.cursor() as cursor:
            return postgresql_keys.drop_keys(cursor, self.quote, tables)

    def take_apart(self, tables: Sequence[str]) -> list[tuple[str, str, str, str, str | None]]:
        with self.connection.cursor() as cursor:
            return postgresql_keys.take_apart(cursor, self.quote, tables)

    def column_types(self, table: str) -> dict[str, str]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                           " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                           [self.quote(table)])
            return dict(cursor.fetchall())

    def stores_as_read(self, field) -> bool:
        return type(field) in _STORED_AS_READ

    def write_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        """COPY ``rows`` in; binary when every column type allows it, text otherwise.

        Binary COPY is about a third cheaper for the client. A value of an
        unexpected Python type (SQLite lets a text column hold an integer) makes
        the binary attempt fail before anything is stored: the chunk is then
        written again as text, inside the same transaction.
        """
        rows = rows if isinstance(rows, list) else list(rows)
        types = self.copy_types(table, columns)
        if types is not None:
            try:
                with transaction.atomic(using=self.connection.alias):
                    copy_rows(self.connection, table, columns, rows, types)
                return
            except Exception:  # noqa: BLE001 - retried as text, which reports the real error
                pass
        copy_rows(self.connection, table, columns, rows, None)

    def write_columns(self, table: str, columns: Sequence[str], values: Sequence[Sequence]) -> None:
        """Binary COPY with some columns encoded a whole column at a time.

        Decimals read as exact integers (:class:`~portadb.columns.ScaledIntegers`)
        become numeric's binary format without a ``Decimal`` for each, UUIDs
        read as bytes (:class:`~portadb.columns.UuidBytes`) go as they are; booleans
        and JSON text are encoded by C loops instead of a Python dumper call per
        value. The encoded bytes go through psycopg's C dumper for bytes
        (binary COPY sends no types). A column that cannot be encoded goes
        the way of :meth:`write_rows`.
        """
        types = self.copy_types(table, columns)
        if types is None or BYTEA in types:  # bytea's dumper must stay the one for Binary()
            return self.write_rows(table, columns, list(zip(*map(as_values, values))))
        wire, encoded = encode_columns(types, values)
        try:
            with transaction.atomic(using=self.connection.alias):
                copy_rows(self.connection, table, columns, list(zip(*encoded)), wire, encoded=True)
            return
        except Exception:  # noqa: BLE001 - retried as text, which reports the real error
            pass
        copy_rows(self.connection, table, columns, list(zip(*map(as_values, values))), None)

    def copy_types(self, table: str, columns: Sequence[str]) -> list[int] | None:
        """The type oids of ``columns`` when all can be COPYed in binary, else ``None``."""
        key = (table, tuple(columns))
        if key not in self._types:
            self._types[key] = binary_types(self.connection, self.quote(table), columns)
        return self._types[key]

    def fast_prep(self, field, whole: bool = False):
        return None if whole else network_prep(self.connection, field)

    def drop_tables(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        with self.connection.cursor() as cursor:
            names = ", ".join(self.quote(t) for t in tables)
            cursor.execute(f"DROP TABLE IF EXISTS {names} CASCADE")

    def derived_sql(self) -> str:
        return views.MATERIALIZED_VIEWS

    def refresh_sql(self, name: str) -> str:
        return f"REFRESH MATERIALIZED VIEW {name}"

    def dependent_views_sql(self) -> str:
        return views.DEPENDENT_VIEWS

    def reset_sequences(self, model_classes: Sequence) -> list[str]:
        # Django's sequence_reset_sql writes the names into string literals unescaped
        # ('"o'brien"'): here they are parameters. Keys all below 1 leave the sequence at its start.
        statements = []
        with self.connection.cursor() as cursor:
            for model in model_classes:
                field = next((f for f in model._meta.local_fields if isinstance(f, models.AutoField)), None)
                if field is None:
                    continue
                table, column = self.quote(model._meta.db_table), self.quote(field.column)
                sql = (f"SELECT setval(pg_get_serial_sequence(%s, %s), greatest(max({column}), 1),"
                       f" coalesce(max({column}) >= 1, false)) FROM {table}")
                cursor.execute(sql, [table, field.column])
                statements.append(sql)
        return statements

    def counter_sql(self, table: str, column: str, value: int) -> list[tuple[str, list]]:
        sql = "SELECT setval(pg_get_serial_sequence(%s, %s), %s, false)"
        return [(sql, [self.quote(table), column, value])]

    def next_auto_value(self, table: str, column: str) -> int | None:
        return next_value(self.connection, self.quote(table), column)

    def table_sizes(self) -> dict[str, int]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                " WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)"
            )
            return dict(cursor.fetchall())
