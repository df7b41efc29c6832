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


def auto_keys(models: Sequence[type]) -> list[tuple[str, str]]:
    """``(table, column)`` of each model whose primary key is an auto field."""
    return [(model._meta.db_table, model._meta.pk.column) for model in models
            if isinstance(model._meta.pk, m.AutoField)]


def follow_source(src: Endpoint, tgt: Endpoint, models: Sequence[type]) -> int:
    """Raise every target counter of ``models`` that is behind the source's; return how many were.

    Run after the sequences were moved past the copied keys, outside a
    transaction (MySQL's ``ALTER TABLE`` would commit it).
    """
    raised = 0
    present = set(src.adapter.table_names()) & set(tgt.adapter.table_names())
    for table, column in auto_keys(models):
        if table not in present:
            continue
        wanted = src.adapter.next_auto_value(table, column)
        now = tgt.adapter.next_auto_value(table, column)
        if wanted is not None and now is not None and now < wanted:
            with tgt.connection.cursor() as cursor:
                for sql, params in tgt.adapter.counter_sql(table, column, wanted):
                    cursor.execute(sql, params or None)
            raised += 1
    return raised
