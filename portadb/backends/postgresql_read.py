"""PostgreSQL reads: a date or time psycopg cannot make a Python value of, read as its text.

A ``date`` or ``timestamp`` column holds ``infinity``, ``-infinity``, years
before 1 and after 9999; a ``time`` column ``24:00:00``. psycopg's loaders
refuse them (``DataError: date too large``), which would end a copy or a
verification with a traceback. A result that holds such a value is read
again with loaders that return the text instead, so the value checks name
it (:mod:`portadb.checks.temporal`) and a PostgreSQL target stores the text
back exactly. Every other result is read by psycopg's own (C) loaders.
"""

from __future__ import annotations

from functools import cache

from django.db import DataError as DjangoDataError

#: date, time, timestamp, timestamptz, timetz.
_TEMPORAL = (1082, 1083, 1114, 1184, 1266)


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
