"""PostgreSQL: the keys, indexes and foreign keys a copy drops before the rows and builds after.

Each is put back as PostgreSQL itself prints it. A primary key or unique
constraint is put back in two steps: its unique index first
(``CREATE UNIQUE INDEX``, which shares the table with the table's other index
builds), then the constraint made of it (``ADD CONSTRAINT ... USING INDEX``:
instant, but it locks the table alone). ``ALTER TABLE ... ADD PRIMARY KEY``
would hold the table alone while it sorts every row: a big table's other
indexes waited for it, one session idle.
The catalogue comes out the same either way (the index takes the constraint's
name, deferrability and ``NULLS NOT DISTINCT``; the index's storage parameters,
which ``pg_get_constraintdef`` leaves out, are kept as well). An index in a
tablespace of its own (Django's ``db_tablespace``) is built there again:
``pg_get_indexdef`` leaves the tablespace out, so it is added (:func:`_placed`).
"""

from __future__ import annotations

from collections.abc import Sequence

#: ``(table, quoted name, kind, SQL, referenced table)``, as ``Adapter.take_apart`` returns them.
Step = tuple[str, str, str, str, "str | None"]

# Primary keys and unique constraints, with what their index is made of. A constraint is made
# USING INDEX only of a B-tree (PostgreSQL 18's keys WITHOUT OVERLAPS are GiST), and not on a
# partitioned table; an inherited one cannot be dropped alone.
_KEYS = (
    "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid),"
    " c.relkind = 'r' AND k.coninhcount = 0 AND a.amname = 'btree', pg_get_indexdef(k.conindid),"
    " k.condeferrable, k.condeferred, t.spcname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
    " JOIN pg_class i ON i.oid = k.conindid JOIN pg_am a ON a.oid = i.relam"
    " LEFT JOIN pg_tablespace t ON t.oid = i.reltablespace"
    " WHERE k.contype IN ('p', 'u') AND k.conrelid = ANY(%s::regclass[])"
    " ORDER BY k.contype, c.relname, k.conname"
)
_FOREIGN_KEYS = (
    "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), r.relname"
    " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid"
    " WHERE k.contype = 'f' AND (k.conrelid = ANY(%s::regclass[]) OR k.confrelid = ANY(%s::regclass[]))"
    " ORDER BY c.relname, k.conname"
)
# Every other index (GIN, partial, expression indexes a RunSQL made).
_INDEXES = (
    "SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid), t.spcname,"
    " pg_get_expr(x.indpred, x.indrelid) FROM pg_index x"
    " JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid"
    " LEFT JOIN pg_tablespace t ON t.oid = i.reltablespace"
    " WHERE x.indrelid = ANY(%s::regclass[])"
    " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"
    " ORDER BY c.relname, i.relname"
)


def drop_keys(cursor, quote, tables: Sequence[str]) -> list[Step]:
    """Drop the primary keys and unique constraints of ``tables``; the steps that build them back."""
    cursor.execute(_KEYS, [[quote(t) for t in tables]])
    found = cursor.fetchall()
    steps: list[Step] = []
    for table, name, kind, definition, attachable, index, deferrable, deferred, space in found:
        q_table, q_name = quote(table), quote(name)
        cursor.execute(f"ALTER TABLE {q_table} DROP CONSTRAINT {q_name}")
        if not attachable:
            steps.append((table, q_name, "key", f"ALTER TABLE {q_table} ADD CONSTRAINT {q_name} {definition}",
                          None))
            continue
        what = "PRIMARY KEY" if kind == "p" else "UNIQUE"
        timing = (" DEFERRABLE" if deferrable else "") + (" INITIALLY DEFERRED" if deferred else "")
        steps.append((table, q_name, "unique_index", _placed(index, space, None, quote), None))
        steps.append((table, q_name, "attach",
                      f"ALTER TABLE {q_table} ADD CONSTRAINT {q_name} {what} USING INDEX {q_name}{timing}",
                      None))
    return steps


def take_apart(cursor, quote, tables: Sequence[str]) -> list[Step]:
    """Drop the foreign keys of ``tables`` and into them, their keys and every other index on
    them; the steps that build them back, in the order to run them one after another."""
    wanted = [quote(t) for t in tables]
    cursor.execute(_FOREIGN_KEYS, [wanted, wanted])
    foreign = cursor.fetchall()
    cursor.execute(_INDEXES, [wanted])
    indexes = cursor.fetchall()
    steps: list[Step] = []
    for table, name, _, definition, referenced in foreign:  # first: they hold on to the keys
        q_table, q_name = quote(table), quote(name)
        cursor.execute(f"ALTER TABLE {q_table} DROP CONSTRAINT {q_name}")
        steps.append((table, q_name, "foreign_key",
                      f"ALTER TABLE {q_table} ADD CONSTRAINT {q_name} {definition}", referenced))
    keys = drop_keys(cursor, quote, tables)
    for table, name, definition, space, predicate in indexes:
        cursor.execute(f"DROP INDEX {quote(name)}")
        keys.append((table, quote(name), "index", _placed(definition, space, predicate, quote), None))
    return keys + steps


def _placed(definition: str, space: str | None, predicate: str | None, quote) -> str:
    """``pg_get_indexdef``'s ``definition`` with the index's tablespace ``space`` (``None``: the
    database's default), which goes before a partial index's ``WHERE`` ``predicate``."""
    if space is None:
        return definition
    where = f" WHERE {predicate}" if predicate is not None else ""
    if not definition.endswith(where):  # as PostgreSQL prints both; else built as before
        return definition
    return f"{definition[:len(definition) - len(where)]} TABLESPACE {quote(space)}{where}"
