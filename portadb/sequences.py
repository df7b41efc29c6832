"""Auto primary keys after a copy or a sync: never behind the source's own counter.

Resetting a sequence past the largest copied key (what ``loaddata`` does) is
not enough: rows deleted on the source before the copy had keys above the
largest left, and the source would never hand those keys out again. A target
that did would give a new object the key of a deleted one, and every row
that still names that key -- an audit trail (django-reversion,
django-simple-history), a generic foreign key, a log -- would point at the
new object. So each target counter is raised to at least the source's.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models as m

from .endpoints import Endpoint
from .exceptions import CounterUnreadable
from .reports.model import Finding, FindingKind, Severity


def auto_keys(models: Sequence[type]) -> list[tuple[str, m.Field]]:
    """``(table, primary key field)`` of each model whose primary key is an auto field."""
    return [(model._meta.db_table, model._meta.pk) for model in models
            if isinstance(model._meta.pk, m.AutoField)]


def follow_source(src: Endpoint, tgt: Endpoint, models: Sequence[type]) -> list[Finding]:
    """Raise every target counter of ``models`` that is behind the source's; a warning for each
    counter that cannot follow (unreadable on the source, or beyond the column's range here).

    Run after the sequences were moved past the copied keys, outside a
    transaction (MySQL's ``ALTER TABLE`` would commit it).
    """
    found = []
    present = set(src.adapter.table_names()) & set(tgt.adapter.table_names())
    for table, key in auto_keys(models):
        if table not in present:
            continue
        wanted = source_next(src, tgt, table, key, found)
        if wanted is None:
            continue
        try:
            now = tgt.adapter.next_auto_value(table, key.column)
        except CounterUnreadable as e:
            found.append(_not_followed(table, key, f"the target's counter could not be read: {e}"))
            continue
        if now is None or now >= wanted:
            continue
        statements = tgt.adapter.counter_sql(table, key.column, wanted)
        if not statements:
            found.append(_not_followed(table, key, tgt.adapter.no_counter))
        with tgt.connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params or None)
    return found


def source_next(src: Endpoint, tgt: Endpoint, table: str, key, warnings: list[Finding]) -> int | None:
    """The source's next value of ``key`` where the target's counter can follow it; else ``None``,
    with a warning where the source has one: it cannot be read, or it is beyond the column's
    range on the target (SQLite's integers have none)."""
    try:
        wanted = src.adapter.next_auto_value(table, key.column)
    except CounterUnreadable as e:
        warnings.append(_not_followed(table, key, f"the source's counter could not be read: {e}"))
        return None
    try:
        highest = tgt.connection.ops.integer_field_range(key.get_internal_type())[1]
    except KeyError:  # an auto field of a type of its own: its range is unknown
        highest = None
    if wanted is not None and highest is not None and wanted > highest:
        warnings.append(_not_followed(table, key, f"the source's next key, {wanted}, is beyond the"
                                      f" column's range on {tgt.vendor} (at most {highest})"))
        return None
    return wanted


def _not_followed(table: str, key, why: str) -> Finding:
    return Finding(FindingKind.COUNTER_NOT_FOLLOWED, Severity.WARNING,
                   f"{table}.{key.column}: {why}; the target's counter continues after its largest"
                   " key, so it may hand out the keys of rows deleted on the source.",
                   table=table, field=key.column)
