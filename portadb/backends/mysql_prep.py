"""MySQL/MariaDB: ``get_db_prep_save`` of built-in fields, minus the layers a value read by Django skips."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from operator import itemgetter, methodcaller

from django.conf import settings
from django.db import models
from django.db.backends.mysql.operations import DatabaseOperations as _Operations

from ..columns import ScaledIntegers, UtcTexts, UuidBytes, non_null


def fast_prep(connection, field):
    """``get_db_prep_save`` of a built-in field, minus the field's own layers.

    For a value of the field's type as Django reads it (an aware datetime
    with ``USE_TZ``, a naive one without, a date, a finite Decimal, a bool,
    a UUID) those layers (``to_python``, ``get_prep_value``) return it
    unchanged, so only the backend's own step is left. Every other value
    goes to the field's method; ``None`` stays ``None`` either way.
    """
    kind = type(field)
    ops = connection.ops
    django = partial(field.get_db_prep_save, connection=connection)
    if kind is models.DateTimeField:
        own = type(ops).adapt_datetimefield_value is _Operations.adapt_datetimefield_value
        if settings.USE_TZ and own:
            # What Django's adapt_datetimefield_value does with an aware datetime.
            return partial(_prep_aware_datetime, connection.timezone, django)
        return partial(_prep_datetime, ops.adapt_datetimefield_value, settings.USE_TZ, django)
    if kind is models.DateField:
        return partial(_prep_date, ops.adapt_datefield_value, django)
    if kind is models.DecimalField:
        adapt = partial(ops.adapt_decimalfield_value, max_digits=field.max_digits,
                        decimal_places=field.decimal_places)
        return partial(_prep_decimal, adapt, django)
    if kind is models.BooleanField:
        return partial(_prep_bool, django)
    if kind is models.UUIDField:
        return partial(_prep_uuid, connection.features.has_native_uuid_field, django)
    return None


def column_prep(connection, field):
    """:func:`fast_prep` over a whole column, where C loops do it faster; else ``None``.

    Aware datetimes become MySQL's naive UTC text in two C passes where the
    session's zone is UTC and each is at offset zero (what a SQLite or
    PostgreSQL source gives): ``str()`` of the value, less its ``+00:00``; a
    column SQLite read as its stored UTC text (:class:`~portadb.columns.UtcTexts`) as it is.
    A decimal column read as exact integers (:class:`~portadb.columns.ScaledIntegers`)
    stays so: each is a finite Decimal at the field's scale, which ``DECIMAL(p, s)``
    stores as it is; the load encodes its text. A UUID column read as bytes
    (:class:`~portadb.columns.UuidBytes`) becomes 32 hex digits each.
    """
    one = fast_prep(connection, field)
    if getattr(one, "func", None) is _prep_aware_datetime and connection.timezone is timezone.utc:
        return partial(_utc_datetimes, one)
    if getattr(one, "func", None) is _prep_decimal:
        return partial(_decimals, one)
    if getattr(one, "func", None) is _prep_uuid:
        return partial(_uuids, one)
    return None


def _decimals(one, values) -> Sequence:
    return values if isinstance(values, ScaledIntegers) else list(map(one, values))


def _uuids(one, values) -> list:
    # 32 hex digits: what a char(32) column holds, and what MariaDB's uuid type reads.
    if isinstance(values, UuidBytes):
        return non_null(_hex, values)
    return list(map(one, values))


def _hex(values) -> list:
    return list(map(bytes.hex, values))


def _utc_datetimes(one, values) -> list:
    if isinstance(values, UtcTexts):  # SQLite's stored text: the same datetime as MySQL reads it
        return list(values)
    try:
        return non_null(_utc_texts, values)
    except ValueError:
        return list(map(one, values))


_utcoffset = methodcaller("utcoffset")
_less_offset = itemgetter(slice(None, -len("+00:00")))


def _utc_texts(values) -> list:
    if set(map(type, values)) - {datetime} or set(map(_utcoffset, values)) - {timedelta(0)}:
        raise ValueError("not all aware datetimes at offset zero: value by value")
    return list(map(_less_offset, map(str, values)))


def _prep_aware_datetime(tz, django, value):
    if value.__class__ is datetime and value.utcoffset() is not None:
        return str(value.astimezone(tz).replace(tzinfo=None))
    return None if value is None else django(value)


def _prep_datetime(adapt, use_tz, django, value):
    if value.__class__ is datetime and (value.utcoffset() is not None) is use_tz:
        return adapt(value)
    return None if value is None else django(value)


def _prep_date(adapt, django, value):
    if value.__class__ is date:
        return adapt(value)
    return None if value is None else django(value)


def _prep_decimal(adapt, django, value):
    if value.__class__ is Decimal and value.is_finite():
        return adapt(value)
    return None if value is None else django(value)


def _prep_bool(django, value):
    if value is True or value is False:
        return value
    return None if value is None else django(value)


def _prep_uuid(native, django, value):
    # UUIDField.get_db_prep_value, which never calls to_python on a UUID.
    if value.__class__ is uuid.UUID:
        return value if native else value.hex
    return None if value is None else django(value)
