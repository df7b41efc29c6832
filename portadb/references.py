"""Foreign keys that point at no row: found on a database, named by table, column and keys."""

from __future__ import annotations

from collections.abc import Sequence

from .backends import adapter_for
from .exceptions import DataError
from .fields import foreign_keys, key_fields

#: A dangling foreign key: the table, its column, and the first primary keys of the rows.
Dangling = tuple[str, str, list]


def dangling_references(connection, models: Sequence, limit: int = 5) -> list[Dangling]:
    """Foreign key values on ``connection`` that point at no row, model by model."""
    found = []
    for model in models:
        for field in foreign_keys(model):
            found += dangling(connection, model, field, limit)
    return found


def dangling(connection, model, field, limit: int = 5) -> list[Dangling]:
    """The rows of ``model`` whose ``field`` points at no row: ``[(table, column, [pk, ...])]`` or ``[]``."""
    opts, parent = model._meta, field.related_model._meta
    adapter = adapter_for(connection)
    names = (opts.db_table, field.column, parent.db_table, field.target_field.column)
    with connection.cursor() as cursor:
        if field.db_index or field.unique:
            # Most often nothing dangles: asked first of the column's distinct values, read
            # from its index (a search of the parent per row costs several times more).
            cursor.execute(adapter.missing_values_sql(*names, first=True))
            if cursor.fetchone() is None:
                return []
        key = [f.column for f in key_fields(model)]  # a composite key's columns too
        cursor.execute(adapter.dangling_sql(opts.db_table, key, *names[1:]))
        pks = [row[0] if len(key) == 1 else tuple(row[:len(key)]) for row in cursor.fetchmany(limit)]
    return [(opts.db_table, field.column, pks)] if pks else []


def check_references(connection, models: Sequence) -> None:
    """Raise :class:`DataError` naming the first rows whose foreign keys dangle."""
    found = dangling_references(connection, models)
    if found:
        refuse_dangling(found)


def refuse_dangling(found: list[Dangling]) -> None:
    """Raise :class:`DataError` for the first of ``found``."""
    table, column, pks = found[0]
    more = f" (and {len(found) - 1} more columns)" if len(found) > 1 else ""
    raise DataError(
        f"Foreign key {table}.{column} points at missing rows for primary keys "
        f"{', '.join(map(str, pks))}{more}."
    )
