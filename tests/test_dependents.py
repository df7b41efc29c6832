"""The rows that depend on a refused row are found and left out with it, on every source.

Read straight from a real source: foreign keys, generic foreign keys whose
object id column is of another kind than the key it could name, and children
whose own key is composite (Django 5.2's ``CompositePrimaryKey``).
"""

from __future__ import annotations

import django
import pytest
from django.apps.registry import Apps
from django.db import connections, models, transaction

import portadb
from portadb.checks import Refusal
from portadb.dependents import dependents
from portadb.endpoints import close, open_endpoints
from portadb.plan import TableJob
from portadb.reports import FindingKind as K

from .backends import VENDORS, target_of
from .zoo import models as m


def _job(model) -> TableJob:
    key = [f.column for f in getattr(model._meta.pk, "fields", [model._meta.pk])]
    return TableJob(model._meta.db_table, model._meta.label, model, [], key, 0)


def _refused(model, pk) -> Refusal:
    return Refusal(K.TOO_LONG, model._meta.label, model._meta.db_table, pk, "x", "refused", pk)


def _source(zoo_source, empty, vendor: str) -> str:
    if vendor == "sqlite":
        return zoo_source
    source = empty(target_of(vendor))
    assert portadb.copy(zoo_source, source).ok
    return source


@pytest.mark.parametrize("vendor", VENDORS)
def test_generic_foreign_keys_are_followed_only_where_the_object_id_can_name_the_key(
        zoo_source, empty, vendor):
    """An integer object id cannot name a UUID key: on PostgreSQL, comparing them failed the scan
    (``operator does not exist: bigint = uuid``); a book's comment is followed."""
    alias = _source(zoo_source, empty, vendor)
    ticket = m.Ticket.objects.using(alias).order_by("pk").first()
    book = m.Book.objects.using(alias).order_by("pk").first()
    comment = m.Comment.objects.using(alias).get(object_id=book.pk, content_type__model="book")
    src, tgt = open_endpoints(alias, zoo_source if alias != zoo_source else empty(target_of("sqlite")))
    try:
        jobs = [_job(model) for model in (m.Ticket, m.Book, m.Comment)]
        found = dependents(src, jobs, [_refused(m.Ticket, ticket.pk), _refused(m.Book, book.pk)])
    finally:
        close(src, tgt)
    assert [(r.table, r.pk, r.field) for r in found if r.table == "zoo_comment"] == \
        [("zoo_comment", comment.pk, "target")]


def _composite_models():
    apps = Apps()
    meta = {"apps": apps, "app_label": "portadb_composite"}
    parent = type("Order", (models.Model,), {
        "__module__": __name__, "Meta": type("Meta", (), {**meta, "db_table": "cpk_order"}),
        "name": models.CharField(max_length=20)})
    child = type("Line", (models.Model,), {
        "__module__": __name__, "Meta": type("Meta", (), {**meta, "db_table": "cpk_line"}),
        "pk": models.CompositePrimaryKey("order", "number"),
        "order": models.ForeignKey(parent, on_delete=models.CASCADE),
        "number": models.IntegerField()})
    return parent, child


@pytest.mark.skipif(django.VERSION < (5, 2), reason="CompositePrimaryKey is Django 5.2+")
@pytest.mark.parametrize("vendor", VENDORS)
def test_children_keyed_by_a_composite_key_are_left_out_with_their_parent(empty, vendor):
    """They were skipped: the reject copy then wrote them pointing at nothing, and the search for
    dangling rows failed on the composite key (``'NoneType' object has no attribute 'replace'``)."""
    from portadb.references import dangling

    Order, Line = _composite_models()
    alias = empty(target_of(vendor))
    with connections[alias].schema_editor() as editor:
        editor.create_model(Order)
        editor.create_model(Line)
    orders = [Order.objects.using(alias).create(name=f"o{i}") for i in range(2)]
    Line.objects.using(alias).bulk_create(Line(order=o, number=n) for o in orders for n in (1, 2))
    src, tgt = open_endpoints(alias, empty(target_of("sqlite" if vendor != "sqlite" else "postgresql")))
    try:
        found = dependents(src, [_job(Order), _job(Line)], [_refused(Order, orders[1].pk)])
        with transaction.atomic(using=alias):  # a line whose order does not exist, rolled back
            connections[alias].disable_constraint_checking()  # MySQL; the others check at commit
            Line.objects.using(alias).create(order_id=999, number=7)
            lost = dangling(connections[alias], Line, Line._meta.get_field("order"))
            connections[alias].enable_constraint_checking()
            transaction.set_rollback(True, using=alias)
    finally:
        close(src, tgt)
    assert sorted((r.table, r.pk, r.field) for r in found) == [
        ("cpk_line", (orders[1].pk, 1), "order"), ("cpk_line", (orders[1].pk, 2), "order")]
    assert lost == [("cpk_line", "order_id", [(999, 7)])]


def test_text_object_ids_take_keys_as_django_writes_them_and_refused_keys_as_read():
    """A UUID key read from SQLite is 32 hex digits, written into a text object id with dashes; a
    key that is no UUID at all (the refused row's) is compared as read, not raised on."""
    from portadb.dependents import _object_ids

    key, text_id = models.UUIDField(), models.CharField(max_length=40)
    ids = _object_ids(text_id, key, {"0" * 31 + "1", "not-a-uuid"})
    assert ids == ["00000000-0000-0000-0000-000000000001", "not-a-uuid"]
    assert _object_ids(models.PositiveIntegerField(), key, {"not-a-uuid"}) == []
