"""The rows that depend on refused rows: a copy that leaves a row out leaves out what points at it.

Read from the source only. Keys are as the source's driver returns them: one
value, or a tuple for a composite key (Django 5.2's ``CompositePrimaryKey``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.apps import apps
from django.core.exceptions import ValidationError

from .checks import Refusal
from .compat import batched
from .endpoints import Endpoint
from .fields import INTEGER_TYPES, TEXT_TYPES, base_field, foreign_keys
from .plan import TableJob
from .reports.model import FindingKind as K

#: Primary keys per ``IN (...)`` list when following references.
_BATCH = 500


def dependents(source: Endpoint, jobs: Sequence[TableJob], refusals: Sequence[Refusal]) -> list[Refusal]:
    """Rows that refer to a refused row, or are another table's part of a refused object.

    Followed to the end: a row pointing at a row refused for pointing at a
    refused row is refused too. Foreign keys (M2M rows included) and generic
    foreign keys are followed; multi-table inheritance goes both ways: the
    child row of a refused parent and the parent rows of a refused child.
    """
    by_table = {job.table: job for job in jobs}
    refused: dict[str, set] = defaultdict(set)
    for r in refusals:
        refused[r.table].add(r.pk)
    pending = {table: set(pks) for table, pks in refused.items()}
    added: list[Refusal] = []
    while pending:
        table, pks = pending.popitem()
        job = by_table.get(table)
        if job is None or len(job.key) != 1:
            continue
        related = (_referring(source, jobs, job, pks) + _parents(source, by_table, job, pks)
                   + _generic(source, jobs, job, pks))
        for other, name, rows in related:
            for pk, value, reason in rows:
                if pk in refused[other.table]:
                    continue
                refused[other.table].add(pk)
                pending.setdefault(other.table, set()).add(pk)
                added.append(Refusal(K.DEPENDS_ON_REFUSED, other.label, other.table, pk, name,
                                     reason, value))
    return added


def _referring(source, jobs, parent: TableJob, pks: set) -> list[tuple]:
    """(child job, field name, [(pk, value, reason)]) of rows whose foreign key points into ``pks``."""
    q = source.adapter.quote
    found = []
    for child in jobs:
        keys = ", ".join(f"c.{q(k)}" for k in child.key)
        for f in foreign_keys(child.model):
            if f.related_model._meta.db_table != parent.table:
                continue
            rows = _rows_in(source, f"SELECT {keys}, c.{q(f.column)}, p.{q(parent.key[0])}"
                                    f" FROM {q(child.table)} c JOIN {q(parent.table)} p"
                                    f" ON c.{q(f.column)} = p.{q(f.target_field.column)}"
                                    f" WHERE p.{q(parent.key[0])}", sorted(pks, key=repr))
            found.append((child, f.name, [(_key(child, row), row[-2], f"refers to {parent.label}"
                                           f"(pk={row[-1]!r}), which is refused") for row in rows]))
    return found


def _rows_in(source, sql: str, values: Sequence, before: Sequence = ()) -> list[tuple]:
    """The rows of ``sql`` completed by ``IN (values)``, asked :data:`_BATCH` values at a time,
    after the parameters ``before``."""
    rows = []
    for batch in batched(values, _BATCH):
        with source.connection.cursor() as cursor:
            cursor.execute(f"{sql} IN ({', '.join(['%s'] * len(batch))})", [*before, *batch])
            rows += cursor.fetchall()
    return rows


def _key(job: TableJob, row: Sequence):
    """The key at the start of ``row``: a value, or a tuple for a composite key."""
    return row[0] if len(job.key) == 1 else tuple(row[:len(job.key)])


def _parents(source, by_table, child: TableJob, pks: set) -> list[tuple]:
    """The parent-model rows of refused multi-table-inheritance children."""
    q = source.adapter.quote
    found = []
    for f in foreign_keys(child.model):
        if not getattr(f.remote_field, "parent_link", False):
            continue
        parent = by_table.get(f.related_model._meta.db_table)
        if parent is None:
            continue
        rows = _rows_in(source, f"SELECT p.{q(parent.key[0])}, c.{q(child.key[0])} FROM {q(child.table)} c"
                                f" JOIN {q(parent.table)} p ON c.{q(f.column)} = p.{q(f.target_field.column)}"
                                f" WHERE c.{q(child.key[0])}", sorted(pks, key=repr))
        found.append((parent, parent.model._meta.pk.name, [
            (pk, pk, f"is the {parent.label} part of {child.label}(pk={cpk!r}), which is refused")
            for pk, cpk in rows]))
    return found


def _generic(source, jobs, parent: TableJob, pks: set) -> list[tuple]:
    """Rows whose generic foreign key (content type, object id) points into ``pks``."""
    if not apps.is_installed("django.contrib.contenttypes") or parent.model._meta.apps is not apps:
        return []
    # Imported only where contenttypes is installed: its models cannot load otherwise.
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.contrib.contenttypes.models import ContentType

    q = source.adapter.quote
    opts, types = parent.model._meta, ContentType._meta
    with source.connection.cursor() as cursor:  # read only: get_for_model() could insert
        cursor.execute(f"SELECT {q(types.pk.column)} FROM {q(types.db_table)}"
                       f" WHERE {q('app_label')} = %s AND {q('model')} = %s",
                       [opts.app_label, opts.model_name])
        row = cursor.fetchone()
    if row is None:
        return []
    found = []
    key = base_field(opts.pk)
    for child in jobs:
        for gfk in child.model._meta.private_fields:
            if not isinstance(gfk, GenericForeignKey):
                continue
            ct = child.model._meta.get_field(gfk.ct_field)
            fk = child.model._meta.get_field(gfk.fk_field)
            ids = _object_ids(fk, key, pks)
            if not ids:
                continue  # these object ids cannot name the parent's keys (an integer column, UUID keys)
            rows = _rows_in(source, f"SELECT {', '.join(map(q, child.key))}, {q(fk.column)}"
                                    f" FROM {q(child.table)} WHERE {q(ct.column)} = %s AND {q(fk.column)}",
                                    ids, before=[row[0]])
            found.append((child, gfk.name, [(_key(child, r), r[-1], f"refers to {parent.label}"
                                             f"(pk={r[-1]!r}) through {gfk.name}, which is refused")
                                            for r in rows]))
    return found


def _object_ids(fk, key, pks: set) -> list:
    """``pks`` (as the source returns the parent's ``key``) as ``fk``, a generic foreign key's object
    id column, holds them: text as Django writes it (``str()`` of the key); the same values where
    both columns are of one kind (integers, UUIDs); none where the kinds differ."""
    if fk.get_internal_type() in TEXT_TYPES:
        return sorted({_as_text(key, pk) for pk in pks})
    if _kind(fk) != _kind(key):
        return []  # comparing them would fail on a typed database (uuid = integer)
    return sorted(pks, key=repr)


def _as_text(key, pk) -> str:
    """``pk`` as Django writes it into a text object id; as read where it is no value of ``key``
    (a refused row's key, such as ``'not-a-uuid'``)."""
    try:
        return str(key.to_python(pk))
    except (ValidationError, ValueError, TypeError):
        return str(pk)


def _kind(field) -> str:
    kind = base_field(field).get_internal_type()
    return "integer" if kind in INTEGER_TYPES else kind
