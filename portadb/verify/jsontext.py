"""The canonical form of JSON: stored text parsed, then written again with sorted keys.

Each engine stores JSON its own way (PostgreSQL's ``jsonb`` reorders keys and
rewrites numbers, MySQL's JSON keeps numbers as doubles); the canonical text
is the same for the same data, whichever engine it was read from.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Sequence
from itertools import repeat

from ..checks.json_values import with_long_integers
from ..columns import non_null
from ..compat import c_json_encoder


def canonical_json(value):
    """Stored JSON text in canonical form; SQL NULL stays ``None``, JSON null is ``'null'``.

    Keys sorted, no spaces, numbers by value: PostgreSQL's ``jsonb`` reorders
    keys and writes the float ``1e+16`` as ``10000000000000000``, MySQL's JSON
    type stores numbers as doubles.
    """
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8")
    try:
        return with_long_integers(_canonical, value)
    except (TypeError, ValueError, RecursionError):  # RecursionError: nested deeper than json reads
        return f"<invalid JSON {value!r}>"


def _canonical(value) -> str:
    return _JSON_ENCODER.encode(_JSON_DECODER.decode(value) if isinstance(value, str) else value)


def canonical_jsons(values: Sequence) -> list:
    """:func:`canonical_json` over a column: plain JSON text parsed and encoded in C, no call per value.

    A column holding anything else (bytes, a value with white space around
    it, text that is no JSON) goes value by value through :func:`canonical_json`.
    """
    if _ENCODE_C is not None:
        try:
            return non_null(_json_texts, values)
        except (TypeError, ValueError, StopIteration, RecursionError):
            pass
    return list(map(canonical_json, values))


def _json_texts(texts: Sequence) -> list:
    if set(map(type, texts)) - {str}:
        raise TypeError("not all text")
    # A column's JSON often repeats (defaults, settings, a few shapes): each text is parsed once.
    distinct = dict.fromkeys(texts)
    if len(distinct) < len(texts):
        return list(map(dict(zip(distinct, _json_texts(list(distinct)))).__getitem__, texts))
    parsed = list(map(_JSON_DECODER.scan_once, texts, repeat(0)))
    if [end for _, end in parsed] != list(map(len, texts)):
        raise ValueError("white space or more after a value")
    return list(map("".join, map(_ENCODE_C, [obj for obj, _ in parsed], repeat(0))))


def _json_float(text: str):
    """A JSON number with a fraction or exponent: an exact int when it is whole (``1e400``
    too, which ``jsonb`` writes as its 401 digits)."""
    number = float(text)
    if number.is_integer():
        return int(decimal.Decimal(text))
    if math.isinf(number):  # beyond a double: exact where whole and no longer than jsonb keeps
        exact = decimal.Decimal(text)
        if exact == exact.to_integral_value() and exact.adjusted() < _LONGEST_WHOLE:
            return int(exact)
    return number


#: The digits of the longest whole number made exact: ``jsonb``'s (``numeric``), not a
#: billion for ``1e999999999``.
_LONGEST_WHOLE = 131072
_JSON_DECODER = json.JSONDecoder(parse_float=_json_float)
_JSON_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
# The C encoder _JSON_ENCODER.encode() builds on each call, built once (None without the C module).
_ENCODE_C = c_json_encoder(_JSON_ENCODER)
