"""The target's schema as the database describes it, and what changed since ``migrate`` built it.

A copy drops keys, indexes and foreign keys that ``migrate`` made, loads the
rows and builds them back from the database's own definitions. A
:func:`snapshot` taken right after ``migrate`` (kept in the journal) and one
taken at the end must then be equal: :func:`drift` lists every difference in
tables, columns (type, nullability, default, collation), indexes, unique and
check constraints and foreign keys. Django's introspection reads both, the
way ``inspectdb`` reads a database, on any backend.

django-extensions' ``sqldiff`` compares the models with the ``default``
database, which the child process could offer; but it compares with the
models, not with what ``migrate`` built (the two differ where migrations run
SQL of their own), its type mapping has known false positives, and its
findings are text for a terminal. This compares the database with itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from .backends import adapter_for

#: The parts of Django's constraint introspection that describe a constraint (not its order).
_CONSTRAINT_KEYS = ("columns", "primary_key", "unique", "foreign_key", "check", "index", "type")


def snapshot(connection, tables: Sequence[str]) -> dict:
    """``{table: {"columns": {...}, "constraints": {...}}}`` of ``tables``, as plain JSON data."""
    found = {}
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        for table in sorted(set(tables) & present):
            types = adapter_for(connection).column_types(table)
            columns = {
                c.name: {"type": types.get(c.name), "null": bool(c.null_ok),
                         "default": _text(getattr(c, "default", None)),
                         "collation": getattr(c, "collation", None)}
                for c in connection.introspection.get_table_description(cursor, table)
            }
            constraints = {
                name: {key: _plain(info.get(key)) for key in _CONSTRAINT_KEYS}
                for name, info in connection.introspection.get_constraints(cursor, table).items()
            }
            found[table] = {"columns": columns, "constraints": constraints}
    return found


def drift(before: dict, after: dict) -> list[str]:
    """One line per difference between two snapshots, table by table."""
    lines = []
    for table in sorted(before.keys() | after.keys()):
        if table not in after:
            lines.append(f"{table}: the table is missing")
            continue
        if table not in before:
            lines.append(f"{table}: a table migrate did not make")
            continue
        for part, what in (("columns", "column"), ("constraints", "index or constraint")):
            old, new = before[table][part], after[table][part]
            lines += [f"{table}: {what} {name} is missing" for name in sorted(old.keys() - new.keys())]
            lines += [f"{table}: {what} {name} is new" for name in sorted(new.keys() - old.keys())]
            lines += [f"{table}: {what} {name} differs ({_changes(old[name], new[name])})"
                      for name in sorted(old.keys() & new.keys()) if old[name] != new[name]]
    return lines


def _changes(old: dict, new: dict) -> str:
    return ", ".join(f"{k}: {old.get(k)!r} then {new.get(k)!r}" for k in sorted(old.keys() | new.keys())
                     if old.get(k) != new.get(k))


def _plain(value):
    """Introspection's tuples and lists as lists, the way JSON gives them back."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _text(value) -> str | None:
    return None if value is None else str(value)
