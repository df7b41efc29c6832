"""SQL text for reading in key order and for a sync's writes: statements only, run elsewhere.

Portable SQL that every vendor so far understands; a backend overrides a
statement where its dialect differs. Identifiers go through :meth:`quote`.
"""

from __future__ import annotations

from collections.abc import Sequence


class Statements:
    """The SELECTs of a copy and a verification, as text with ``%s`` parameters."""

    #: The character that quotes an identifier in this database's SQL.
    quote_character: str = '"'
    #: Whether a sync writes changed rows over the target's in place (:meth:`update_from_sql`,
    #: which :meth:`stage_sql` feeds), not deleted and inserted again.
    updates_in_place: bool = False

    def quote(self, name: str) -> str:
        """``name`` as one SQL identifier: in :attr:`quote_character`, any inside it doubled.

        Not Django's ``connection.ops.quote_name``: it leaves a quote character
        inside a name as it is (and returns a name that starts and ends with one
        unchanged), so a table called ``x"; DROP TABLE t; --`` would end the
        identifier early and the rest would run as SQL of its own.
        """
        q = self.quote_character
        return q + name.replace(q, q + q) + q

    def exact_text_sql(self, table: str, column: str, length: int) -> list[str]:
        """Statements that make ``column`` (``varchar(length)``, not null) of ``table`` compare
        exactly, where the default collation does not: it holds table names, which may differ
        only in case."""
        return []

    def counter_sql(self, table: str, column: str, value: int) -> list[tuple[str, list]]:
        """Statements with their parameters that make ``value`` the next key the auto
        ``column`` of ``table`` hands out (it is above every key there); none where the table
        has no counter (:attr:`no_counter` says so)."""
        raise NotImplementedError

    def derived_sql(self) -> str | None:
        """SELECT the names of what the database derives from rows and keeps (PostgreSQL's
        materialized views), quoted, in the order they were made; ``None`` where it keeps none."""
        return None

    def refresh_sql(self, name: str) -> str:
        """Bring the derived object ``name`` (as :meth:`derived_sql` gives it) up to date."""
        raise NotImplementedError

    def dependent_views_sql(self) -> str | None:
        """SELECT the name and the ``CREATE`` statement of each view that reads, directly or
        through other views, one of the tables named in the parameter (a list); ``None`` where
        dropping a table leaves its views in place (they work again once it is back)."""
        return None

    #: Why :meth:`counter_sql` gave no statement, as a warning says it.
    no_counter = "the target's table has no counter to move"

    def select_column(self, column: str) -> str:
        """A column in a chunk's SELECT list: its value as stored, unconverted by the driver."""
        return self.quote(column)

    def select_chunk_sql(
        self, table: str, columns: Sequence[str], key: Sequence[str], after: bool
    ) -> str:
        """SELECT the next chunk in key order; parameters: the last key (if ``after``), limit."""
        q = self.quote
        cols = ", ".join(self.select_column(c) for c in columns)
        order = ", ".join(q(c) for c in key)
        where = ""
        if after:
            if len(key) == 1:
                where = f" WHERE {q(key[0])} > %s"
            else:
                marks = ", ".join(["%s"] * len(key))
                where = f" WHERE ({order}) > ({marks})"
        return f"SELECT {cols} FROM {q(table)}{where} ORDER BY {order} LIMIT %s"

    def size_sql(self, column: str, kind: str) -> str:
        """The size in bytes of ``column``'s value (0 for NULL), a field of ``kind`` (``TextField``...)."""
        return f"COALESCE(LENGTH({self.quote(column)}), 0)"

    def chunk_sizes_sql(self, table: str, key: Sequence[str], sizes: Sequence[str], after: bool,
                        total: bool = False) -> str:
        """SELECT the sizes (``size_sql`` expressions, added up) of the rows of the next chunk,
        in key order, or with ``total`` their sum; parameters as :meth:`select_chunk_sql`."""
        q = self.quote
        order = ", ".join(q(c) for c in key)
        where = ""
        if after:
            lhs = q(key[0]) if len(key) == 1 else f"({order})"
            marks = "%s" if len(key) == 1 else f"({', '.join(['%s'] * len(key))})"
            where = f" WHERE {lhs} > {marks}"
        rows = f"SELECT {' + '.join(sizes)} AS size FROM {q(table)}{where} ORDER BY {order} LIMIT %s"
        return f"SELECT SUM(size) FROM ({rows}) chunk" if total else rows

    def select_range_sql(
        self, table: str, columns: Sequence[str], key: Sequence[str], lower: bool, upper: bool
    ) -> str:
        """SELECT the rows whose key is above a bound and/or at most another, in key order.

        Parameters: the lower key (if ``lower``), then the upper key (if ``upper``).
        """
        q = self.quote
        cols = ", ".join(self.select_column(c) for c in columns)  # as stored, like a chunk
        order = ", ".join(q(c) for c in key)
        lhs = q(key[0]) if len(key) == 1 else f"({order})"
        marks = "%s" if len(key) == 1 else f"({', '.join(['%s'] * len(key))})"
        where = [f"{lhs} > {marks}"] if lower else []
        where += [f"{lhs} <= {marks}"] if upper else []
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return f"SELECT {cols} FROM {q(table)}{clause} ORDER BY {order}"

    def select_keys_sql(self, table: str, columns: Sequence[str], key: Sequence[str], n: int) -> str:
        """SELECT the rows whose key is one of ``n`` keys given as parameters (:meth:`key_params`)."""
        cols = ", ".join(self.select_column(c) for c in columns)
        return f"SELECT {cols} FROM {self.quote(table)}{self._keys_in(key, n)}"

    def fingerprint_sql(self, table: str, columns: Sequence[str], key: str, width: int,
                        lower: bool = False, upper: bool = False) -> str:
        """Per bucket of ``width`` consecutive values of the integer ``key`` (divided toward zero),
        in bucket order: the bucket, its rows, and the sum of a hash of each row's ``columns``
        as stored (:mod:`portadb.fingerprints`); with ``lower`` and ``upper``, of the rows in a
        key range (parameters as :meth:`select_range_sql`)."""
        bucket = self.bucket_sql(self.quote(key), width)
        return (f"SELECT {bucket}, COUNT(*), {self.rows_hash_sql(columns)} FROM {self.quote(table)}"
                f"{self._range([key], lower, upper)} GROUP BY 1 ORDER BY 1")

    def bucket_sql(self, key: str, width: int) -> str:
        return f"{key} / {width}"

    def rows_hash_sql(self, columns: Sequence[str]) -> str:
        """The SUM of a hash of each row's ``columns``: it must change when any stored value does."""
        raise NotImplementedError(f"{type(self).__name__} has no row fingerprints")

    def key_sizes_sql(self, table: str, key: Sequence[str], sizes: Sequence[str], n: int) -> str:
        """SELECT the key and the size (``size_sql`` expressions, added up) of the rows whose key is
        one of ``n`` keys given as parameters (:meth:`key_params`)."""
        keys = ", ".join(self.quote(c) for c in key)
        return f"SELECT {keys}, {' + '.join(sizes)} FROM {self.quote(table)}{self._keys_in(key, n)}"

    def delete_keys_sql(self, table: str, key: Sequence[str], n: int) -> str:
        """DELETE the rows whose key is one of ``n`` keys given as parameters (:meth:`key_params`)."""
        return f"DELETE FROM {self.quote(table)}{self._keys_in(key, n)}"

    def stage_sql(self, table: str, stage: str, columns: Sequence[str]) -> str:
        """CREATE the temporary table ``stage``: ``table``'s ``columns``, their types, no rows and no
        constraints (the rows a sync writes over others in place, :meth:`update_from_sql`)."""
        q = self.quote
        cols = ", ".join(q(c) for c in columns)
        return f"CREATE TEMPORARY TABLE {q(stage)} AS SELECT {cols} FROM {q(table)} WHERE 1 = 0"

    def update_from_sql(self, table: str, stage: str, columns: Sequence[str], key: Sequence[str]) -> str:
        """UPDATE the rows of ``table`` whose key a row of ``stage`` holds to that row's ``columns``."""
        q = self.quote
        values = ", ".join(f"{q(c)} = s.{q(c)}" for c in columns if c not in key)
        on = " AND ".join(f"{q(table)}.{q(c)} = s.{q(c)}" for c in key)
        return f"UPDATE {q(table)} SET {values} FROM {q(stage)} AS s WHERE {on}"

    def insert_from_sql(self, table: str, stage: str, columns: Sequence[str]) -> str:
        """INSERT the rows of ``stage`` into ``table``."""
        cols = ", ".join(self.quote(c) for c in columns)
        return f"INSERT INTO {self.quote(table)} ({cols}) SELECT {cols} FROM {self.quote(stage)}"

    def keys_per_query(self, columns: int, most: int = 2_000) -> int:
        """How many keys of ``columns`` columns one of :meth:`select_keys_sql` and its kin takes:
        ``most``, or fewer where the backend limits a query's parameters."""
        limit = self.connection.features.max_query_params or most
        return max(1, min(most, limit // columns))

    def key_params(self, keys: Sequence[Sequence]) -> list:
        """The parameters of the keys given to :meth:`select_keys_sql` and its kin (each key a
        sequence of its columns' values)."""
        return [v for key in keys for v in key]

    def _keys_in(self, key: Sequence[str], n: int, alias: str = "") -> str:
        q = self.quote
        if len(key) == 1:
            lhs, mark = alias + q(key[0]), "%s"
        else:
            lhs = f"({', '.join(alias + q(c) for c in key)})"
            mark = f"({', '.join(['%s'] * len(key))})"
        return f" WHERE {lhs} IN ({', '.join([mark] * n)})"

    def count_range_sql(self, table: str, key: Sequence[str], lower: bool, upper: bool) -> str:
        """COUNT the rows whose key is above a bound and/or at most another; parameters as
        :meth:`select_range_sql`."""
        return f"SELECT COUNT(*) FROM {self.quote(table)}{self._range(key, lower, upper)}"

    def key_at_sql(self, table: str, key: Sequence[str], after: bool = False) -> str:
        """SELECT the key of the row a number of rows (the last parameter) after the first, in key
        order; ``after``: the first above a key (the first parameters, as :meth:`select_range_sql`)."""
        columns = ", ".join(self.quote(c) for c in key)
        return (f"SELECT {columns} FROM {self.quote(table)}{self._range(key, after, False)}"
                f" ORDER BY {columns} LIMIT 1 OFFSET %s")

    def _range(self, key: Sequence[str], lower: bool, upper: bool, alias: str = "") -> str:
        """A WHERE clause (or nothing) for keys above a bound and/or at most another."""
        columns = [f"{alias}{self.quote(c)}" for c in key]
        lhs = columns[0] if len(key) == 1 else f"({', '.join(columns)})"
        marks = "%s" if len(key) == 1 else f"({', '.join(['%s'] * len(key))})"
        where = [f"{lhs} > {marks}"] if lower else []
        where += [f"{lhs} <= {marks}"] if upper else []
        return f" WHERE {' AND '.join(where)}" if where else ""

    def dangling_sql(self, table: str, key: Sequence[str], column: str, parent: str,
                     parent_column: str, lower: bool = False, upper: bool = False, keys: int = 0,
                     by_value: bool = False) -> str:
        """SELECT the key columns and ``column``'s value of the rows of ``table`` whose
        foreign key ``column`` points at no row of ``parent``, in key order; with ``lower``
        and ``upper``, of the rows in a key range (parameters as :meth:`select_range_sql`);
        with ``keys``, of the rows whose key is one of that many given as parameters after the
        bounds (:meth:`key_params`).

        ``by_value`` (without ``keys``): ``parent`` is searched once for each distinct value of
        the whole table's ``column`` (read from the column's index, where it has one), not once
        for each row: many rows share a parent, and a search per row in a large parent table
        reads its pages again and again."""
        q = self.quote
        within = self._range(key, lower, upper, alias="c.").replace(" WHERE ", " AND ", 1)
        within += self._keys_in(key, keys, alias="c.").replace(" WHERE ", " AND ", 1) if keys else ""
        columns = ", ".join(f"c.{q(k)}" for k in key)
        ref, target = q(column), q(parent_column)
        if by_value and not keys:
            missing = self.missing_values_sql(table, column, parent, parent_column)
            return f"SELECT {columns}, c.{ref} FROM {q(table)} c WHERE c.{ref} IN ({missing}){within}" \
                   f" ORDER BY {columns}"
        return (
            f"SELECT {columns}, c.{ref} FROM {q(table)} c"
            f" LEFT JOIN {q(parent)} p ON c.{ref} = p.{target}"
            f" WHERE c.{ref} IS NOT NULL AND p.{target} IS NULL{within} ORDER BY {columns}"
        )

    def missing_values_sql(self, table: str, column: str, parent: str, parent_column: str,
                           first: bool = False) -> str:
        """SELECT the distinct values of ``table``'s foreign key ``column`` that no row of ``parent``
        holds in ``parent_column`` (with ``first``, one of them): ``parent`` is searched once per
        value, the values are read from the column's index where it has one."""
        q = self.quote
        ref, target = q(column), q(parent_column)
        values = f"SELECT DISTINCT {ref} AS v FROM {q(table)} WHERE {ref} IS NOT NULL"
        return (f"SELECT d.v FROM ({values}) d LEFT JOIN {q(parent)} p ON d.v = p.{target}"
                f" WHERE p.{target} IS NULL" + (" LIMIT 1" if first else ""))

    def any_value_sql(self, table: str, column: str) -> str:
        """SELECT one row whose ``column`` is not NULL, if there is one."""
        q = self.quote
        return f"SELECT 1 FROM {q(table)} WHERE {q(column)} IS NOT NULL LIMIT 1"

    def select_through_sql(self, table: str, columns: Sequence[str], key: Sequence[str], after: bool) -> str:
        """:meth:`select_chunk_sql` of the rows whose key is at most a bound.

        Parameters: the last key (if ``after``), the bound, the limit.
        """
        q = self.quote
        cols = ", ".join(self.select_column(c) for c in columns)
        order = ", ".join(q(c) for c in key)
        lhs = q(key[0]) if len(key) == 1 else f"({order})"
        marks = "%s" if len(key) == 1 else f"({', '.join(['%s'] * len(key))})"
        where = ([f"{lhs} > {marks}"] if after else []) + [f"{lhs} <= {marks}"]
        return f"SELECT {cols} FROM {q(table)} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT %s"
