"""The size check: a row whose large values the target's write path cannot take in one piece.

MySQL's multi-row INSERT sends each row in one packet (``max_allowed_packet``),
PostgreSQL stores at most 1 GB in one value, SQLite at most
``SQLITE_MAX_LENGTH`` bytes in one row (:meth:`Adapter.size_limit
<portadb.backends.limits.Limits.size_limit>`). Such a row is refused before
anything is written, naming what sets the limit. A chunk passes on the
lengths of its longest values (four bytes a character at most, escapes
included); only a chunk that may hold such a row is measured exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from operator import is_not

from ..fields import may_be_large

#: (row index, field name, value, reason) of a row too large for the target.
SizeProblem = tuple[int, str, object, str]
#: Bytes a character (or byte) may take on the way in, at most: UTF-8, or an escape.
_WORST = 4
_SIZED = (str, bytes, bytearray, memoryview)


def size_check(fields: Sequence[tuple[int, object]], source,
               target) -> Callable[[Sequence[Sequence]], list[SizeProblem]] | None:
    """The check of a table's rows, given column by column, or ``None`` where it cannot fire.

    ``fields``: (column index, field) of the table's columns.
    """
    limit = target.size_limit()
    large = [(i, f.name) for i, f in fields if may_be_large(f, source.enforces_max_length)]
    if limit is None or not large:
        return None

    def check(by_column: Sequence[Sequence]) -> list[SizeProblem]:
        longest = [_longest(by_column[i]) for i, _ in large]
        if (max(longest) if limit.per_value else sum(longest)) * _WORST <= limit.bytes:
            return []
        found = []
        for r in range(len(by_column[large[0][0]])):
            sizes = [(target.sent_size(by_column[i][r]), name, by_column[i][r]) for i, name in large
                     if isinstance(by_column[i][r], _SIZED)]
            if not sizes:
                continue
            total = max(s for s, _, _ in sizes) if limit.per_value else sum(s for s, _, _ in sizes)
            if total > limit.bytes:
                _, name, value = max(sizes, key=lambda s: s[0])
                row = "" if limit.per_value else " with the rest of its row"
                found.append((r, name, value, f"takes {total:,} bytes on the way in{row}; {limit.reason}"))
        return found

    return check


def _longest(values: Sequence) -> int:
    """The length of the longest text or bytes of ``values``; the rest (NULL, a number SQLite
    keeps in a text column, which another check refuses) has none."""
    try:
        return max(map(len, filter(partial(is_not, None), values)), default=0)
    except TypeError:
        return max((len(v) for v in values if isinstance(v, _SIZED)), default=0)
