"""PostgreSQL reads: a date, time or interval psycopg cannot make a Python value of, read as its text.

A ``date`` or ``timestamp`` column holds ``infinity``, ``-infinity``, years
before 1 and after 9999; a ``time`` column ``24:00:00``. psycopg's loaders
refuse them (``DataError: date too large``), which would end a copy or a
verification with a traceback. A result that holds such a value is read
again with loaders that return the text instead, so the value checks name
it (:mod:`portadb.checks.temporal`) and a PostgreSQL target stores the text
back exactly. Every other result is read by psycopg's own (C) loaders. An interval of
months or years is always read as its text: psycopg would make a month 30 days.
Also here: a sequence's next value read without taking it (:func:`next_value`).
"""

from __future__ import annotations

from functools import cache

from django.db import DataError as DjangoDataError

from ..exceptions import CounterUnreadable

#: date, time, timestamp, timestamptz, timetz.
_TEMPORAL = (1082, 1083, 1114, 1184, 1266)
_INTERVAL = 1186


def fast_loaders(adapters, decimals_as_text: bool = False) -> None:
    """Register on a cursor's ``adapters`` loaders in C that read what Django's would, sooner;
    ``decimals_as_text``: ``numeric`` as the text the server writes, not a ``Decimal`` of it."""
    from django.conf import settings

    if settings.USE_TZ:
        # Django's timestamptz loader extends psycopg's pure-Python one;
        # psycopg's own, in C, reads the same aware datetimes (in the
        # session's time zone, which Django sets) in half the time.
        from psycopg.types.datetime import TimestamptzLoader

        adapters.register_loader("timestamptz", TimestamptzLoader)
    if decimals_as_text:
        from psycopg.types.string import TextLoader

        adapters.register_loader("numeric", TextLoader)
    from psycopg.pq import Format

    adapters.register_loader(_INTERVAL, _exact_intervals(adapters.get_loader(_INTERVAL, Format.TEXT)))


class LenientRetry:
    """A read cursor, used as ``execute`` then ``fetchall``: a result psycopg's loaders
    refuse is read again with loaders that keep such values as text."""

    def __init__(self, cursor):
        self._cursor = cursor
        self._query: tuple = ()

    def execute(self, sql: str, params=None):
        self._query = (sql, params)
        return self

    def fetchall(self) -> list:
        from psycopg import DataError

        self._cursor.execute(*self._query)
        try:
            return self._cursor.fetchall()
        except (DataError, DjangoDataError):  # raised by a loader: the server's result is fine
            pass
        from psycopg.pq import Format

        adapters = self._cursor.cursor.adapters
        strict = {oid: adapters.get_loader(oid, Format.TEXT) for oid in _TEMPORAL}
        for oid, loader in strict.items():
            if loader is not None:
                adapters.register_loader(oid, _lenient(loader))
        try:
            self._cursor.execute(*self._query)
            return self._cursor.fetchall()
        finally:
            for oid, loader in strict.items():
                if loader is not None:
                    adapters.register_loader(oid, loader)


@cache
def _lenient(strict: type) -> type:
    """A loader that loads as ``strict`` does, or returns the text ``strict`` refuses."""
    from psycopg import DataError
    from psycopg.adapt import Loader

    class Lenient(Loader):
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._strict = strict(oid, context)

        def load(self, data):
            try:
                return self._strict.load(data)
            except (DataError, ValueError, OverflowError):
                return bytes(data).decode()

    return Lenient


@cache
def _exact_intervals(strict: type) -> type:
    """An interval loader that returns the server's text where a ``timedelta`` would change the
    value: psycopg reads a month as 30 days and a year as 365, which PostgreSQL does not (a date
    plus one month is not that date plus 30 days), and refuses what ``timedelta`` cannot hold."""
    from psycopg import DataError
    from psycopg.adapt import Loader

    class ExactInterval(Loader):
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._strict = strict(oid, context)

        def load(self, data):
            raw = bytes(data)
            if b"mon" in raw or b"year" in raw:
                return raw.decode()
            try:
                return self._strict.load(data)
            except (DataError, ValueError, OverflowError):
                return raw.decode()

    return ExactInterval


def next_value(connection, table: str, column: str) -> int | None:
    """The value the next row's key of ``column`` of ``table`` (quoted) would get, read without
    nextval()'s side effect; ``None`` where it has no sequence.

    With SELECT on the sequence, its own row: after ``setval(n, false)`` it holds ``n``, not yet
    called. With USAGE alone, ``pg_sequence_last_value()``, which cannot tell that state from a
    sequence never called (both NULL: the start is taken). Without either, raises
    :class:`~portadb.exceptions.CounterUnreadable`.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq::regclass::text, seqstart, seqincrement,"
                       " has_sequence_privilege(seq, 'SELECT'), has_sequence_privilege(seq, 'USAGE')"
                       " FROM pg_get_serial_sequence(%s, %s) seq"
                       " JOIN pg_sequence ON seqrelid = seq::regclass",
                       [table, column])
        row = cursor.fetchone()
        if row is None:
            return None
        name, start, increment, select, usage = row
        if select:
            cursor.execute(f"SELECT last_value, is_called FROM {name}")  # the server's own quoting
            last, called = cursor.fetchone()
            return last + increment if called else last
        if not usage:
            raise CounterUnreadable(f"this user may not read the sequence {name}")
        cursor.execute("SELECT pg_sequence_last_value(%s::regclass)", [name])
        last = cursor.fetchone()[0]
    return start if last is None else last + increment
