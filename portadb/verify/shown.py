"""Canonical values (:mod:`.canonical`) back as people and queries need them.

A report shows a value readably (an instant as ISO text, a UUID with its
dashes, binary hashed); a key found on one side is looked up on the other as
the field's Python value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from django.db import models

from ..fields import base_field
from .canonical import EPOCH, MICROSECOND


def shown(field: models.Field, value):
    """A canonical value as a report shows it: JSON-ready, readable, binary hashed."""
    if _is_instant(field, value):
        return _from_instant(value).isoformat(timespec="microseconds")
    if _is_uuid(field, value):
        return str(uuid.UUID(int=value))
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, bytes):
        digest = hashlib.blake2b(value, digest_size=12).hexdigest()
        return f"<{len(value)} bytes blake2b:{digest}>"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _is_instant(field, value) -> bool:
    return type(value) is int and base_field(field).get_internal_type() == "DateTimeField"


def _is_uuid(field, value) -> bool:
    return type(value) is int and base_field(field).get_internal_type() == "UUIDField"


def _from_instant(value: int) -> dt.datetime:
    return EPOCH + value * MICROSECOND


def python_value(field: models.Field, value):
    """A canonical value back as the field's Python value (to look a key up)."""
    return field.to_python(_from_instant(value) if _is_instant(field, value) else value)
