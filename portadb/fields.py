"""Facts about Django fields that several phases need: kinds of column, keys.

Everything here comes from the model's ``_meta``; nothing touches a database.
"""

from __future__ import annotations

from django.db import models

#: ``get_internal_type()`` of the integer fields (auto keys included).
INTEGER_TYPES = frozenset({
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
    "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
})

#: ``get_internal_type()`` of the fields stored as text.
TEXT_TYPES = frozenset({
    "CharField", "SlugField", "EmailField", "URLField", "FileField", "ImageField",
    "FilePathField", "TextField",
})


#: ``get_internal_type()`` of the fields whose values have no size limit.
LARGE_TYPES = frozenset({"TextField", "BinaryField", "JSONField"})
#: Characters of a varchar column up to which its values are never large.
_NARROW = 16_384


def may_be_large(field: models.Field, enforces_max_length: bool = True) -> bool:
    """Whether ``field``'s values may be large (megabytes): text, binary and JSON columns, and
    any text column of a database that does not enforce ``max_length`` (SQLite)."""
    kind = base_field(field).get_internal_type()
    return kind in LARGE_TYPES or (kind in TEXT_TYPES and (
        not enforces_max_length or (base_field(field).max_length or 0) > _NARROW))


def base_field(field: models.Field) -> models.Field:
    """The field whose column type a relation's column has (an FK to a BigAutoField: the latter)."""
    while field.is_relation and getattr(field, "target_field", None) not in (None, field):
        field = field.target_field
    return field


def key_fields(model) -> list[models.Field]:
    """The fields of ``model``'s primary key: one, or those of a ``CompositePrimaryKey`` (Django 5.2+)."""
    pk = model._meta.pk
    fields = getattr(pk, "fields", None)
    return list(fields) if fields else [pk]


def foreign_keys(model) -> list[models.Field]:
    """``model``'s concrete foreign keys that the database enforces (``db_constraint``)."""
    return [f for f in model._meta.local_concrete_fields
            if f.is_relation and f.related_model is not None and getattr(f, "db_constraint", False)]
