"""MySQL/MariaDB reads: a date or time the driver cannot make a Python value of, read as its text.

Outside strict mode a ``date`` or ``datetime`` column holds ``0000-00-00``,
``2024-00-10`` or (``ALLOW_INVALID_DATES``) February 30th, and a ``time``
column ``838:59:59``. mysqlclient reads such a date as ``None`` -- a copy
would write NULL and call it exact -- and Django's time converter raises.
While portadb reads, the connection's converters for those types return
the text instead, so the value checks name it (:mod:`portadb.checks.temporal`).
Valid values are read exactly as before.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial


@contextmanager
def lenient_temporal(raw_connection):
    """Within the block, ``raw_connection`` (MySQLdb's) reads invalid dates and times as text."""
    from MySQLdb.constants import FIELD_TYPE

    converter = raw_connection.converter
    types = [t for t in (FIELD_TYPE.DATE, FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP, FIELD_TYPE.TIME)
             if t in converter and getattr(converter[t], "func", None) is not _or_text]
    previous = {t: converter[t] for t in types}
    converter.update({t: partial(_or_text, converter[t]) for t in types})
    try:
        yield
    finally:
        converter.update(previous)


def _or_text(strict, text: str):
    """``strict(text)``, or ``text`` itself where that is ``None`` or raises."""
    try:
        value = strict(text)
    except (ValueError, TypeError):
        return text
    return text if value is None else value


def probe_json_depth(connection) -> int | None:
    """The deepest nesting the server's ``json_valid()`` accepts (MariaDB 10.11: 31 levels);
    ``None`` when it takes 200 levels, beyond which Python's own limit is near enough."""
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("WITH RECURSIVE d (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM d WHERE n < 200)"
                           " SELECT MIN(n) - 1 FROM d"
                           " WHERE NOT json_valid(CONCAT(REPEAT('[', n), REPEAT(']', n)))")
            (limit,) = cursor.fetchone()
    except DatabaseError:  # MySQL raises past the 100 levels its JSON type takes
        return 100
    return None if limit is None else int(limit)
