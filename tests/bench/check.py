"""Is the target exactly the source? Every value of every row, read through the ORM.

Both sides are read in primary-key keyset chunks, so the check holds only two
chunks in memory at a time; Python values are compared, so a Decimal scale, a
microsecond, a JSON null or an empty string that changed is a difference.
"""

from __future__ import annotations

from portadb.models import project_models

CHUNK = 20_000


def differences(source: str, target: str, labels: tuple[str, ...] = ("shop",)) -> str | None:
    """``None`` when every row of ``labels``' models is equal on both sides, else the first difference."""
    for model in project_models():
        if model._meta.app_label not in labels:
            continue
        found = _model_difference(model, source, target)
        if found:
            return found
    return None


def _model_difference(model, source: str, target: str) -> str | None:
    fields = [f.attname for f in model._meta.local_concrete_fields]
    pk = model._meta.pk.attname
    last = None
    while True:
        sides = []
        for alias in (source, target):
            qs = model._base_manager.using(alias).order_by(pk)
            if last is not None:
                qs = qs.filter(**{f"{pk}__gt": last})
            sides.append(list(qs.values_list(*fields)[:CHUNK]))
        before, after = sides
        if before != after:
            for a, b in zip(before, after):
                if a != b:
                    column = next(f for f, x, y in zip(fields, a, b) if x != y)
                    x, y = a[fields.index(column)], b[fields.index(column)]
                    return f"{model._meta.db_table} pk={a[0]!r} {column}: {x!r} != {y!r}"
            return (f"{model._meta.db_table}: {len(before)} rows after pk {last!r} on the source, "
                    f"{len(after)} on the target")
        if len(before) < CHUNK:
            return None
        last = before[-1][fields.index(pk)]


def sequence_problems(target: str, labels: tuple[str, ...] = ("shop",)) -> str | None:
    """``None`` when a new row of every model of ``labels`` gets a key past the copied ones.

    Each probe row is created through the ORM inside a transaction that is
    rolled back, so the target keeps exactly the copied rows.
    """
    from django.db import DatabaseError, transaction
    from django.db.models import Max

    from tests.rows import create_one

    for model in project_models():
        opts = model._meta
        if opts.app_label not in labels or opts.auto_created:
            continue
        highest = model._base_manager.using(target).aggregate(m=Max("pk"))["m"] or 0
        try:
            with transaction.atomic(using=target):
                made = create_one(model, target)
                transaction.set_rollback(True, using=target)
        except DatabaseError as e:
            return f"{opts.db_table}: a new row fails: {str(e).splitlines()[0]}"
        if made.pk <= highest:
            return f"{opts.db_table}: a new row got pk {made.pk}, not past {highest}"
    return None
