"""The interface every vendor adapter implements, with portable defaults.

An adapter is bound to one Django connection. It holds what Django's own
backends do not: how to read a consistent snapshot, how to bulk-load rows,
how to drop a project's tables, and the vendor's value limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.core.management.color import no_style

from ..columns import as_values
from .limits import Limits
from .statements import Statements

#: Field packages that only one vendor can hold, and that vendor.
_VENDOR_FIELDS = {"django.contrib.postgres.": "postgresql", "django.contrib.gis.": "spatial"}


class Adapter(Statements, Limits):
    """Portable behaviour; vendor modules override what differs."""

    # -- who this is: names, settings, the driver ------------------------------
    #: Django's ``connection.vendor`` for this backend.
    vendor: str = ""
    #: The name users read in messages ("PostgreSQL").
    display_name: str = ""
    #: What ``--from``/``--to`` accept for this vendor (lower case).
    names: tuple[str, ...] = ()
    #: Substrings of a ``DATABASES`` ``ENGINE`` path that mean this vendor.
    engines: tuple[str, ...] = ()
    #: The ``pip install portadb[extra]`` that brings the driver, if one is needed.
    extra: str | None = None
    #: Port used when a DATABASES entry leaves PORT empty.
    default_port: int | None = None

    @classmethod
    def describe(cls, alias: str, conf: dict) -> str:
        """``alias (vendor://user@host:port/name)``, with no password, from a ``DATABASES`` entry."""
        name = str(conf.get("NAME") or "")
        user = conf.get("USER") or ""
        host = conf.get("HOST") or "localhost"
        port = f":{conf['PORT']}" if conf.get("PORT") else ""
        at = f"{user}@" if user else ""
        return f"{alias} ({cls.vendor}://{at}{host}{port}/{name})"

    @classmethod
    def identity(cls, alias: str, conf: dict) -> tuple:
        """What makes a ``DATABASES`` entry a distinct database: vendor, host, port and name."""
        host = conf.get("HOST") or "localhost"
        if host in ("127.0.0.1", "::1", "localhost") or host.startswith("/"):
            host = "localhost"
        port = str(conf.get("PORT") or cls.default_port or "")
        return (cls.vendor, host, port, str(conf.get("NAME") or ""))

    #: A ``DecimalField`` value read from this database (with Django's
    #: converters) always has the field's ``decimal_places``: verify need not
    #: quantize it again.
    decimals_at_scale: bool = False
    #: A ``DecimalField`` column keeps exactly the field's ``decimal_places``
    #: (``numeric(p, s)``): a value with fewer is stored the same as the value
    #: quantized, so a reader need not quantize what it hands to the COPY.
    stores_decimals_at_scale: bool = False
    #: The :class:`~portadb.columns.ColumnForm` classes that :meth:`write_columns`
    #: encodes itself; a source reads a column in such a form where it can.
    column_forms: frozenset = frozenset()
    #: Value checks a column *read* from this database cannot fail, because its
    #: column types already refuse such values; the scan skips them.
    enforced_checks: frozenset = frozenset()
    #: Values (rows x columns) per second the bulk write path reaches, measured
    #: on a 2-core machine with tests/bench_dry_run.py; only for the dry-run's
    #: duration estimate.
    write_rate: int = 500_000

    #: Adding a foreign key constraint after the data checks every row
    #: (``ALTER TABLE ... ADD CONSTRAINT``), so the copy need not look for
    #: dangling references on the target first.
    validates_foreign_keys_when_built: bool = False

    #: Several processes may read this database at once (``--jobs``).
    parallel_reads: bool = True
    #: Several processes may write this database at once (``--jobs``).
    parallel_writes: bool = True
    #: Whether a transaction can check foreign keys at its commit (not row by row).
    defers_foreign_keys: bool = True

    def __init__(self, connection):
        self.connection = connection

    # -- capabilities ------------------------------------------------------

    def cannot_hold(self, field) -> str | None:
        """Why this database cannot hold ``field``'s column, or ``None`` when it can.

        Fields that ship with one vendor's contrib app (``django.contrib.postgres``)
        only live on that vendor; a collation must exist on the target.
        """
        owner = owning_vendor(field)
        if owner is not None and owner != self.vendor:
            return f"{type(field).__name__} exists only on {owner}"
        collation = getattr(field, "db_collation", None)
        if collation and not self.has_collation(collation):
            return f"the collation {collation!r} does not exist on the target"
        return None

    def has_collation(self, name: str) -> bool:
        """Whether a column may use the collation ``name`` here."""
        return False

    def runs_operation(self, operation) -> bool:
        """Whether a migration operation does anything here: one vendor's contrib
        operations (``django.contrib.postgres``'s extensions) do nothing elsewhere."""
        owner = owning_vendor(operation)
        return owner is None or owner == self.vendor

    # -- reading -----------------------------------------------------------

    def share_snapshot(self) -> str | None:
        """Inside :meth:`snapshot`: a token with which another process's ``snapshot(shared=token)``
        sees the same rows as this one from now on, or ``None`` where none can."""
        return None

    @contextmanager
    def snapshot(self, shared: str | None = None):
        """Read inside one read-only transaction that sees a consistent state (that of another
        process's snapshot, given its :meth:`share_snapshot` token)."""
        from django.db import transaction

        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                self.begin_read_only(cursor)
                if shared is not None:
                    self.import_snapshot(cursor, shared)
            try:
                yield
            finally:
                with self.connection.cursor() as cursor:
                    self.end_read_only(cursor)

    def begin_read_only(self, cursor) -> None:
        """Make the current transaction refuse writes."""

    def import_snapshot(self, cursor, shared: str) -> None:
        """Make the current transaction, read-only so far, see what ``shared`` names."""

    def end_read_only(self, cursor) -> None:
        """Undo :meth:`begin_read_only` for the rest of the session."""

    def read_cursor(self, decimals_as_text: bool = False, key_range: bool = False):
        """A cursor for reading rows in bulk: the same values as Django's, by the fastest loaders.

        Used as ``execute`` then ``fetchall``, query by query. ``decimals_as_text``: a decimal may
        come as its number's text (cheaper to compare); ``key_range``: ranges of keys in key order.
        """
        return self.connection.cursor()

    def fast_reader(self, reader, expression):
        """A faster function with the same results as Django's converter ``reader``, or ``None``."""
        return None

    def column_reader(self, reader, expression, scaled: bool = False, forms: frozenset = frozenset()):
        """A function from a column's values to what ``reader`` makes of each, or ``None``.

        For converters that a whole column can pass through in one C-level
        pass (no Python call per value); the results are the same. With
        ``scaled``, a decimal may come with fewer decimal places than the field's
        (the same number; the target stores it at its scale). The column may
        come in one of the :class:`~portadb.columns.ColumnForm` classes in ``forms``.
        """
        return None

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

    def holds_values(self, table: str, column: str) -> bool:
        """Whether any row of ``table`` holds a value (not NULL) in ``column``."""
        with self.connection.cursor() as cursor:
            cursor.execute(self.any_value_sql(table, column))
            return cursor.fetchone() is not None

    def count(self, table: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.quote(table)}")
            return cursor.fetchone()[0]

    def fingerprints(self, table: str, columns: Sequence[str], key: str, width: int,
                     above: int | None = None, through: int | None = None) -> Iterator[tuple]:
        """``(bucket, rows, hash)`` per bucket of ``table`` (:meth:`fingerprint_sql`), in bucket order;
        of the rows whose key is above ``above`` and at most ``through`` where given."""
        bounds = [b for b in (above, through) if b is not None]
        with self.connection.cursor() as cursor:
            cursor.execute(self.fingerprint_sql(table, columns, key, width, above is not None,
                                                through is not None), bounds or None)
            while batch := cursor.fetchmany(10_000):
                yield from batch

    def key_at(self, table: str, key: Sequence[str], offset: int, after: Sequence = ()) -> tuple | None:
        """The key of the row ``offset`` rows after the first (above the key ``after``), or ``None``."""
        with self.connection.cursor() as cursor:
            cursor.execute(self.key_at_sql(table, key, bool(after)), [*after, offset])
            row = cursor.fetchone()
        return None if row is None else tuple(row)

    def column_types(self, table: str) -> dict[str, str]:
        """Each column's type as the database names it (``varchar(100)``, ``numeric(5,2)``)."""
        with self.connection.cursor() as cursor:
            return {c.name: repr((c.type_code, c.internal_size, c.precision, c.scale))
                    for c in self.connection.introspection.get_table_description(cursor, table)}

    def table_names(self) -> list[str]:
        with self.connection.cursor() as cursor:
            return self.connection.introspection.table_names(cursor)

    # -- writing -----------------------------------------------------------

    def schema_editor(self, **kwargs):
        """The schema editor that creates the tables of a load (before any row is in)."""
        return self.connection.schema_editor(**kwargs)

    @contextmanager
    def load_session(self):
        """Session settings for a bulk load; constraint checks relaxed."""
        disabled = self.connection.disable_constraint_checking()
        try:
            yield
        finally:
            if disabled and self.alive():
                self.connection.enable_constraint_checking()

    @contextmanager
    def sync_session(self):
        """Session settings for a sync's one transaction: the bulk path's; foreign keys checked
        at the commit where :attr:`defers_foreign_keys` (else the sync checks them itself)."""
        with self.load_session():
            if self.defers_foreign_keys:
                self.connection.enable_constraint_checking()
            yield

    def defer_foreign_keys(self) -> None:
        """In the open transaction, check foreign keys at the commit, not row by row."""

    @contextmanager
    def build_session(self, side_by_side: bool = False):
        """Session settings while the deferred keys, indexes and foreign keys are built.

        Where :attr:`validates_foreign_keys_when_built` is false, the copy has
        checked every foreign key just before (``references.check_references``), so
        the backend may skip checking them again. ``side_by_side``: other
        sessions build at the same time, one per core.
        """
        yield

    def alive(self) -> bool:
        """Whether the session is still there to restore (not after the server went away)."""
        return self.connection.connection is not None and self.connection.is_usable()

    def write_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        """Insert ``rows`` into ``table`` through the vendor's fastest exact path."""
        q = self.quote
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES ({marks})"
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def write_columns(self, table: str, columns: Sequence[str], values: Sequence[Sequence]) -> None:
        """:meth:`write_rows` for a chunk given column by column (``values[i]``: column ``i``).

        The copy converts a chunk column by column; a backend whose bulk path
        encodes some columns faster that way does so before making the rows.
        """
        self.write_rows(table, columns, list(zip(*map(as_values, values))))

    def defer_keys(self, tables: Sequence[str]) -> list[tuple[str, str, str, str, str | None]]:
        """Drop the primary keys and unique constraints of the new, empty ``tables``.

        Returns the steps that add them back, as :meth:`take_apart` does.
        Backends that gain nothing keep them: ``[]``.
        """
        return []

    def take_apart(self, tables: Sequence[str]) -> list[tuple[str, str, str, str, str | None]]:
        """Drop what ``migrate`` built on ``tables`` that loads faster built after the data.

        Returns ``(table, quoted name, kind, SQL, referenced table)`` of each,
        in the order to build them back: keys (``"key"``, or ``"unique_index"``
        then ``"attach"``), ``"index"``, then ``"foreign_key"``; each SQL is the
        database's own definition.
        Foreign keys from other tables into ``tables`` go too (the tables are
        emptied before the load). Backends that gain nothing keep them: ``[]``.
        """
        return []

    def empty_tables(self, tables: Sequence[str]) -> dict[str, int]:
        """Delete every row of ``tables`` (what migrations made); the rows each held."""
        removed = {}
        with self.connection.constraint_checks_disabled(), self.connection.cursor() as cursor:
            for table in tables:
                rows = self.count(table)
                if rows:
                    cursor.execute(f"DELETE FROM {self.quote(table)}")
                    removed[table] = rows
        return removed

    def stores_as_read(self, field) -> bool:
        """Whether ``field.get_db_prep_save`` on this backend returns a value read by Django unchanged.

        Then a copy skips it: the value Django read from the source is what the
        target stores. ``False`` (always prepare) is the safe answer.
        """
        return False

    def fast_prep(self, field, whole: bool = False) -> Callable | None:
        """A faster function with the same results as ``field.get_db_prep_save`` here, or ``None``;
        with ``whole``, one over a whole column (a list in, a list out). Asked when
        :meth:`stores_as_read` is false."""
        return None

    def drop_tables(self, tables: Sequence[str]) -> None:
        """Drop ``tables`` and whatever constraints point at them."""
        with self.connection.constraint_checks_disabled():
            with self.connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"DROP TABLE {self.quote(table)}")

    def reset_sequences(self, models: Sequence) -> list[str]:
        """Move every auto key's sequence past the rows; return the SQL (not committing: a sync's runs)."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(models))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
        return statements

    # -- the change log (copy --track-changes) ---------------------------------

    def tracking_triggers(self, table_id: int) -> list[str]:
        """The names of the triggers that :meth:`track_sql` makes for ``table_id``."""
        return [f"portadb_{table_id}_{event}" for event in ("i", "u", "d")]

    def track_sql(self, table: str, key: str, table_id: int, log: str) -> list[str]:
        """Statements (run without parameters) that make each insert, update and delete on ``table``
        log ``table_id`` and the old and new ``key`` of each row into ``log``, in its transaction.
        Here three row triggers; a key is never NULL, so ``<>`` tells an update that moved it."""
        q, k = self.quote, self.quote(key)
        insert = f"INSERT INTO {q(log)} ({q('table_id')}, {q('row_key')})"
        moved = self.insert_if_sql(insert, f"{table_id}, NEW.{k}", f"NEW.{k} <> OLD.{k}")
        old, new = (f"{insert} VALUES ({table_id}, {row}.{k})" for row in ("OLD", "NEW"))
        bodies = {"INSERT": [new], "UPDATE": [old, moved], "DELETE": [old]}
        return [f"CREATE TRIGGER {q(name)} AFTER {event} ON {q(table)} FOR EACH ROW"
                f" BEGIN {'; '.join(statements)}; END"
                for name, (event, statements) in zip(self.tracking_triggers(table_id), bodies.items())]

    def insert_if_sql(self, insert: str, values: str, condition: str) -> str:
        """In a trigger body: ``insert`` these ``values`` where ``condition`` holds (SQLite: no IF)."""
        return f"{insert} SELECT {values} WHERE {condition}"

    def untrack_sql(self, table: str, table_id: int) -> list[str]:
        """Statements that remove what :meth:`track_sql` made (those already gone are skipped)."""
        return [f"DROP TRIGGER IF EXISTS {self.quote(name)}" for name in self.tracking_triggers(table_id)]

    def enabled_triggers(self) -> set[tuple[str, str]]:
        """``(table, trigger)`` of each trigger named ``portadb_...`` that fires on writes."""
        raise NotImplementedError

    def untrackable(self, table: str) -> str | None:
        """Why triggers cannot see every change to ``table`` here, or ``None``."""
        return None

    def missing(self) -> bool:
        """True when connecting would create the database (a new SQLite file)."""
        return False

    def remove_created(self) -> None:
        """Remove what connecting created when :meth:`missing` was true (dry-runs leave no trace)."""

    def table_sizes(self) -> dict[str, int]:
        """Bytes on disk per table (data and indexes), where the database tells."""
        return {}


def owning_vendor(thing) -> str | None:
    """The one vendor a field or migration operation belongs to (``"postgresql"`` for an
    ArrayField or an extension), or ``None``."""
    for cls in type(thing).__mro__:
        for prefix, vendor in _VENDOR_FIELDS.items():
            if cls.__module__.startswith(prefix):
                return vendor
    return None
