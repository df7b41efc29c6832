"""Primary keys as stored text: a journal keeps the last key a copy committed, exactly.

Keys are stored as the source driver returned them, tagged with their type,
so that a resumed query compares them the way the interrupted one did.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid
from collections.abc import Sequence

# Keys are stored exactly as the source driver returned them, so that the
# resumed query compares them the way the interrupted one did.
_TYPES = {
    "int": (int, int, int),
    "str": (str, str, str),
    "float": (float, float.hex, float.fromhex),
    "decimal": (decimal.Decimal, str, decimal.Decimal),
    "uuid": (uuid.UUID, str, uuid.UUID),
    "datetime": (dt.datetime, dt.datetime.isoformat, dt.datetime.fromisoformat),
    "date": (dt.date, dt.date.isoformat, dt.date.fromisoformat),
    "time": (dt.time, dt.time.isoformat, dt.time.fromisoformat),
    "bytes": ((bytes, bytearray, memoryview), lambda v: base64.b64encode(bytes(v)).decode(),
              base64.b64decode),
}


def encode_key(key: Sequence) -> str:
    """A key as stored text that :func:`decode_key` gives back with the driver's types."""
    return json.dumps([_tagged(v) for v in key])


def _tagged(value) -> list:
    for tag, (types, dump, _) in _TYPES.items():
        # bool is an int, and datetime a date: the first exact match wins.
        if type(value) is types or (isinstance(types, tuple) and isinstance(value, types)):
            return [tag, dump(value)]
    raise TypeError(f"cannot journal a key of type {type(value).__name__}")


def decode_key(text: str | None) -> list | None:
    if text is None:
        return None
    return [_TYPES[tag][2](value) for tag, value in json.loads(text)]


def key_text(key: list | None) -> str:
    if key is None:
        return "the start"
    return f"key {key[0]!r}" if len(key) == 1 else f"key {tuple(key)!r}"
