"""A second reader sees the first one's snapshot where the source can share it.

The copy's workers and the sync's second fingerprinting process read in the
snapshot the copy or sync opened: PostgreSQL exports it
(``pg_export_snapshot``); SQLite without WAL needs nothing, as the first
reader's shared lock keeps every writer from committing. MySQL/MariaDB and
SQLite in WAL mode share none, and their readers each take their own.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connections

from portadb.backends import adapter_for
from portadb.compat import forget_alias, register_alias

from .backends import target_of

TABLE = "snapshot_rows"


@contextmanager
def second_reader(alias: str):
    """The same database under another alias: another connection, another transaction."""
    again = f"{alias}_again"
    register_alias(again, dict(connections.settings[alias]))
    try:
        yield again
    finally:
        forget_alias(again, opened=True)


def rows(alias: str, table: str = TABLE) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def made(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {TABLE} (id) VALUES (1), (2), (3)")
    return alias


def test_postgresql_shares_its_snapshot_and_a_later_write_is_not_seen_in_it(empty):
    alias = made(empty(target_of("postgresql")))
    adapter = adapter_for(connections[alias])
    with adapter.snapshot():
        assert rows(alias) == 3
        token = adapter.share_snapshot()
        assert token
        with second_reader(alias) as writer:
            with connections[writer].cursor() as cursor:  # autocommit: committed at once
                cursor.execute(f"INSERT INTO {TABLE} (id) VALUES (4)")
        with second_reader(alias) as reader:
            with adapter_for(connections[reader]).snapshot(shared=token):
                assert rows(reader) == 3  # the first snapshot's rows, not the committed fourth
            with adapter_for(connections[reader]).snapshot():
                assert rows(reader) == 4  # its own snapshot sees it
    with pytest.raises(ValueError):  # a name is PostgreSQL's own, never SQL
        with second_reader(alias) as reader, adapter_for(connections[reader]).snapshot(shared="1'; --"):
            pass


def test_sqlite_without_wal_holds_writers_off_while_its_snapshot_lasts(zoo_source):
    adapter = adapter_for(connections[zoo_source])
    path = settings.DATABASES[zoo_source]["NAME"]
    with adapter.snapshot():
        assert adapter.share_snapshot() is not None  # before any read of the caller's: it reads
        writer = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                writer.execute("UPDATE zoo_tag SET name = name || 'x'")
        finally:
            writer.close()


def test_sqlite_in_wal_mode_and_mysql_share_none(zoo_source, empty):
    path = settings.DATABASES[zoo_source]["NAME"]
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode = WAL")
    connections[zoo_source].close()
    try:
        with adapter_for(connections[zoo_source]).snapshot():
            assert adapter_for(connections[zoo_source]).share_snapshot() is None
    finally:
        connections[zoo_source].close()
        with sqlite3.connect(path) as raw:
            raw.execute("PRAGMA journal_mode = DELETE")
    alias = made(empty(target_of("mysql")))
    adapter = adapter_for(connections[alias])
    with adapter.snapshot():
        assert rows(alias) == 3 and adapter.share_snapshot() is None
