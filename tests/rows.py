"""Make one new, valid row of any model: proves sequences and constraints on a target."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

from django.db import models
from django.utils import timezone

_n = itertools.count(10_000)


def create_one(model, using: str):
    """Save a new instance of ``model`` with fresh values for every required field."""
    n = next(_n)
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key and (field.get_internal_type().endswith("AutoField")):
            continue
        if isinstance(field, models.ForeignKey):
            related = field.related_model._base_manager.using(using).first()
            if related is None:
                related = create_one(field.related_model, using)
            if field.primary_key or not field.null:
                values[field.attname] = related.pk
                if field.one_to_one and field.remote_field.parent_link:
                    values[field.attname] = create_one(field.related_model, using).pk
            continue
        values[field.attname] = _value(field, n)
    obj = model(**values)
    obj.save(using=using, force_insert=True)
    return obj


def _value(field, n):
    if field.has_default() and not field.unique and not field.primary_key:
        return field.get_default()
    kind = field.get_internal_type()
    if kind == "ArrayField":
        return [_value(field.base_field, n)]
    if isinstance(field, models.JSONField):
        return {"n": n}
    if kind in ("CharField", "SlugField", "TextField", "EmailField", "URLField", "FileField",
                "ImageField", "FilePathField"):
        limit = field.max_length or 50
        return f"new{n}"[:limit]
    if kind == "GenericIPAddressField":
        return "10.9.8.7"
    if kind.endswith("IntegerField"):
        return n % 30000
    if kind == "BooleanField":
        return True
    if kind == "DecimalField":
        return Decimal("1.5")
    if kind == "FloatField":
        return 1.5
    if kind == "DateTimeField":
        return timezone.now()
    if kind == "DateField":
        return dt.date.today()
    if kind == "TimeField":
        return dt.time(12, 0)
    if kind == "DurationField":
        return dt.timedelta(seconds=n)
    if kind == "UUIDField":
        return uuid.uuid4()
    if kind == "BinaryField":
        return b"new"
    return None
