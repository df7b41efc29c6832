"""Digests of canonical rows: a chunk's, to compare chunks; a row's, to narrow a chunk to its rows.

Both sides of a comparison hash their own canonical rows (:mod:`.canonical`)
with these functions, in this process or in the forked one that reads the
target, so equal rows have equal digests on any engine.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Sequence


def digest(columns: Sequence[Sequence]) -> bytes:
    """The digest of a chunk's canonical values, given column by column: equal rows, equal
    digests, on any engine. The columns need not be made into rows.

    Hashed a few values at a time: the bytes of a whole column of large values are never made.
    """
    hashed = hashlib.blake2b(digest_size=16)
    for column in columns:
        for i in range(0, len(column), _ROWS_PER_HASH):
            hashed.update(serialized(tuple(column[i:i + _ROWS_PER_HASH])))
    return hashed.digest()


def row_digests(rows: list, key_of) -> list[tuple]:
    """``(key, digest)`` of each canonical row: equal rows, equal digests, as :func:`digest`."""
    return [(key_of(row), hashlib.blake2b(serialized(row), digest_size=16).digest()) for row in rows]


def serialized(value) -> bytes:
    """Bytes that are the same exactly when the canonical ``value`` (rows of them) is.

    marshal writes text, numbers, bytes, ``None`` and their tuples and lists by
    type and value, about five times faster than ``repr``. Its version 2,
    because later versions write an object met twice as a reference, and the
    identity of an object varies from run to run. What marshal refuses (a date,
    a Decimal, an object of a subclass) takes its ``repr``, behind another tag.
    """
    try:
        return b"m" + _marshal(value, 2)
    except ValueError:
        return b"r" + repr(value).encode("utf-8", "surrogatepass")


_marshal = marshal.dumps
#: Values of a column whose bytes are hashed at once.
_ROWS_PER_HASH = 256
