"""Fields only PostgreSQL holds: copied PostgreSQL -> PostgreSQL, refused anywhere else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.backends.postgresql.psycopg_any import DateRange, DateTimeTZRange, NumericRange

import portadb
from portadb.exceptions import TargetCannotHold

from . import databases as db
from .backends import TARGETS, backend_of, second_target_of, target_of
from .pgzoo import models as pg
from .rows import create_one

SOURCE = second_target_of("postgresql")
POSTGRESQL = target_of("postgresql")
UTC = dt.timezone.utc
TABLES = ["pgzoo_arrays", "pgzoo_ranges", "pgzoo_texts"]


@pytest.fixture(scope="module")
def pg_source(django_db_blocker):
    """A migrated PostgreSQL database whose pgzoo models hold rows (nothing else does)."""
    db.require(SOURCE)
    with django_db_blocker.unblock():
        db.recreate(SOURCE, prepare=False)
        db.migrate(SOURCE)
        pg.Arrays.objects.using(SOURCE).bulk_create([
            pg.Arrays(numbers=[1, -2, 2**31 - 1], grid=[["a", None], ["b,c", 'd"e']],
                      words=["", "NULL", "x y", "{}", "\\"]),
            pg.Arrays(numbers=[], grid=None, words=[]),
        ])
        pg.Ranges.objects.using(SOURCE).bulk_create([
            pg.Ranges(ints=NumericRange(1, 10), bigs=NumericRange(-(2**62), None),
                      decimals=NumericRange(Decimal("0.5"), Decimal("1.25"), "[]"),
                      dates=DateRange(dt.date(2024, 1, 1), dt.date(2024, 2, 1)),
                      moments=DateTimeTZRange(dt.datetime(2024, 3, 31, 0, 30, 0, 123456, UTC),
                                              dt.datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "(]")),
            pg.Ranges(ints=NumericRange(empty=True)),
        ])
        pg.Texts.objects.using(SOURCE).bulk_create([
            pg.Texts(name="Straße", byte_order="b", store={"k": "v", "n": None, "": "empty"}),
            pg.Texts(name="STRASSE", byte_order="B", store={}),
        ])
        connections[SOURCE].close()
    return SOURCE


def test_postgresql_to_postgresql_copies_every_vendor_value(pg_source, empty):
    target = empty(POSTGRESQL)
    report = portadb.copy(pg_source, target)
    assert report.ok, portadb.render(report)
    before, after = db.snapshot(pg_source), db.snapshot(target)
    assert before.keys() == after.keys()
    for table in before:
        assert after[table] == before[table], table
    assert [len(after[t]) for t in TABLES] == [2, 2, 2]
    for table in TABLES:
        assert as_text(target, table) == as_text(pg_source, table)
    call_command("migrate", "--check", database=target, verbosity=0)
    for model in (pg.Arrays, pg.Ranges, pg.Texts):
        assert create_one(model, target).pk == 3


def test_a_missing_collation_or_extension_is_refused_before_writing(pg_source):
    db.recreate(POSTGRESQL, prepare=False)
    with pytest.raises(TargetCannotHold, match=r"pgzoo\.Texts\.name .*collation 'pgzoo_ci'"):
        portadb.copy(pg_source, POSTGRESQL)
    assert connections[POSTGRESQL].introspection.table_names() == []
    with connections[POSTGRESQL].cursor() as cursor:
        cursor.execute(db.PG_PREREQUISITES[1])  # the collation, not the hstore extension
    with pytest.raises(TargetCannotHold, match=r"pgzoo\.Texts\.store .*type hstore does not exist"):
        portadb.copy(pg_source, POSTGRESQL)
    assert connections[POSTGRESQL].introspection.table_names() == []


@pytest.mark.parametrize("target", [t for t in TARGETS if backend_of(t).vendor != "postgresql"])
def test_other_vendors_refuse_rows_they_cannot_hold(pg_source, empty, target):
    empty(target)
    with pytest.raises(CommandError) as caught:
        call_command("portadb", "copy", f"--from={pg_source}", f"--to={target}")
    assert caught.value.returncode == 2
    assert "Cannot copy pgzoo.Arrays.numbers" in str(caught.value)
    assert "ArrayField exists only on postgresql (2 rows on the source)" in str(caught.value)
    assert connections[target].introspection.table_names() == []


def as_text(alias: str, table: str) -> list[str]:
    """Each row as PostgreSQL itself renders it, below psycopg's adaptation."""
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT t::text FROM {connections[alias].ops.quote_name(table)} t ORDER BY id")
        return [row[0] for row in cursor.fetchall()]
