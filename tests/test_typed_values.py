"""Values a typed source holds that another database (or Django) cannot: named by the dry run,
refused or rejected by the copy before writing, with the real reason.

MariaDB outside strict mode holds zero dates, which its driver reads as ``None``;
PostgreSQL holds ±infinity, BC dates, ``24:00`` and numeric NaN, which psycopg
cannot load into Python or the other databases cannot store. Each source here
is the zoo copied to a server, then spoiled by hand the way such values arrive.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import zoneinfo
from contextlib import contextmanager, nullcontext

import pytest
from django.db import connections
from django.test import override_settings

import portadb
from portadb.endpoints import close, open_endpoints
from portadb.exceptions import DataError, TransferError, ValueRefused
from portadb.plan import make_plan
from portadb.progress import NullBar
from portadb.reports import FindingKind as K
from portadb.transfer import copy_table

from .backends import second_target_of, target_of
from .baddata import UUID_TYPE
from .zoo import models as m

POSTGRESQL, MYSQL, SQLITE = target_of("postgresql"), target_of("mysql"), target_of("sqlite")


def flagged(report) -> set[tuple]:
    return {(v.table, pk, v.field, v.kind) for v in report.values for pk in v.first_pks}


def spoiled(alias: str, statements: list[tuple[str, str, str]], mode: str | None = None) -> dict:
    """Run ``UPDATE zoo_everything SET <column> = <expression> WHERE slug = <slug>`` for each
    (slug, column, expression); ``{slug: pk}``."""
    with connections[alias].cursor() as cursor:
        if mode is not None:
            cursor.execute(f"SET SESSION sql_mode = '{mode}'")
        for slug, column, expression in statements:
            cursor.execute(f"UPDATE zoo_everything SET {column} = {expression} WHERE slug = %s", [slug])
            assert cursor.rowcount == 1, (slug, column)
    pks = dict(m.Everything.objects.using(alias).values_list("slug", "pk"))
    connections[alias].close()
    return pks


def assert_refused_then_rejected(source: str, target: str, expected: set, reasons: dict, tmp_path):
    """The dry run names exactly ``expected``; the copy stops before writing the first such chunk,
    with the reason; ``--on-error=reject`` leaves out exactly those rows and copies the rest."""
    report = portadb.plan(source, target)
    assert flagged(report) == expected
    for v in report.values:
        assert reasons[v.field] in v.reason, v.reason
    with pytest.raises(ValueRefused) as refused:
        portadb.copy(source, target, chunk_size=1000)
    first = refused.value.refusals[0]
    assert (first.table, first.pk, first.field, first.kind) in expected
    assert reasons[first.field] in str(refused.value) and "Could not write" not in str(refused.value)
    assert "fix the values on the source" in str(refused.value)  # --resume only once they are fixed
    assert m.Everything.objects.using(target).count() == 0

    path = tmp_path / f"rejects-{target}.jsonl"
    copied = portadb.copy(source, target, replace=True, on_error="reject", reject_file=str(path))
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {(x["table"], x["pk"], x["field"], K(x["kind"])) for x in lines} == expected
    assert all(t.ok for t in copied.tables), portadb.render(copied)
    left_out = {pk for _, pk, _, _ in expected}
    fields = [f.attname for f in m.Everything._meta.local_concrete_fields if f.name != "binary"]
    assert list(m.Everything.objects.using(target).order_by("pk").values_list(*fields)) == \
        list(m.Everything.objects.using(source).exclude(pk__in=left_out).order_by("pk").values_list(*fields))
    verified = portadb.verify(source, target)  # the rejected rows are missing; never a traceback
    missing = {t.table: t.missing_count for t in verified.tables if not t.ok}
    assert missing == {"zoo_everything": len(left_out)}


MARIADB_SPOILS = [
    ("row-3", "date", "'0000-00-00'"),
    ("row-4", "datetime", "'2024-02-00 10:00:00'"),
    ("row-5", "date", "'2024-00-10'"),
    ("row-6", "datetime", "'0000-00-00 00:00:00'"),
    ("row-7", "time", "'838:59:59'"),
]


@pytest.mark.parametrize("target", [POSTGRESQL, SQLITE, second_target_of("mysql")],
                         ids=["postgresql", "sqlite", "mysql"])
def test_mariadb_zero_dates_are_named_and_refused(zoo_source, empty, target, tmp_path):
    """mysqlclient reads a zero date as None: without portadb's reader the copy wrote NULL and
    verify called it identical. A time beyond 24 hours made Django's converter raise."""
    source = empty(MYSQL)
    assert portadb.copy(zoo_source, source).ok
    pks = spoiled(source, MARIADB_SPOILS, mode="")  # no strict mode, no NO_ZERO_DATE
    expected = {("zoo_everything", pks["row-3"], "date", K.ZERO_DATE),
                ("zoo_everything", pks["row-4"], "datetime", K.ZERO_DATE),
                ("zoo_everything", pks["row-5"], "date", K.ZERO_DATE),
                ("zoo_everything", pks["row-6"], "datetime", K.ZERO_DATE),
                ("zoo_everything", pks["row-7"], "time", K.IMPOSSIBLE_DATE)}
    reasons = {"date": "is a zero date", "datetime": "is a zero date",
               "time": "is not a time Django can read"}
    assert_refused_then_rejected(source, empty(target), expected, reasons, tmp_path)


POSTGRESQL_SPOILS = [
    ("row-3", "date", "'infinity'"),
    ("row-4", "datetime", "'-infinity'"),
    ("row-5", "date", "'0044-03-15 BC'"),
    ("row-6", "decimal", "'NaN'"),
    ("row-7", "floating", "'NaN'"),
    ("row-8", "time", "'24:00:00'"),
    ("row-9", "datetime", "'10000-01-01 00:00:00+00'"),
    ("row-10", "uuid", "'12345678-1234-8123-0123-567812345678'"),
    # psycopg makes a month 30 days and a year 365; a timedelta ends before 170 million years.
    ("row-11", "duration", "'1 mon'"),
    ("row-12", "duration", "'1 year 2 mons -3 days 04:05:06.5'"),
    ("row-13", "duration", "'170000000 years'"),
    ("row-14", "duration", "'150000000 days'"),  # a timedelta; more microseconds than a bigint holds
    ("row-15", "ip", "'10.0.0.1/8'"),  # a netmask: inet holds it, Django's ip_address() refuses it
    ("row-16", "ip", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64'"),  # 42 characters: MySQL's char(39)
]


@pytest.mark.parametrize("target", [SQLITE, MYSQL], ids=["sqlite", "mysql"])
def test_postgresql_values_beyond_python_are_named_and_refused(zoo_source, empty, target, tmp_path):
    """psycopg cannot load them (a traceback in the dry run, a copy error that blamed the
    target and advised --resume); Django refuses to write NaN to a decimal column; SQLite
    stores a NaN float as NULL; MariaDB's uuid type refuses a version 8 UUID of the NCS variant."""
    source = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, source).ok
    pks = spoiled(source, POSTGRESQL_SPOILS)
    target = empty(target)
    expected = {("zoo_everything", pks["row-3"], "date", K.DATE_OUT_OF_RANGE),
                ("zoo_everything", pks["row-4"], "datetime", K.DATE_OUT_OF_RANGE),
                ("zoo_everything", pks["row-5"], "date", K.DATE_OUT_OF_RANGE),
                ("zoo_everything", pks["row-6"], "decimal", K.NOT_FINITE),
                ("zoo_everything", pks["row-7"], "floating", K.NOT_FINITE),
                ("zoo_everything", pks["row-8"], "time", K.IMPOSSIBLE_DATE),
                ("zoo_everything", pks["row-9"], "datetime", K.DATE_OUT_OF_RANGE),
                ("zoo_everything", pks["row-11"], "duration", K.DATE_OUT_OF_RANGE),
                ("zoo_everything", pks["row-12"], "duration", K.DATE_OUT_OF_RANGE),
                ("zoo_everything", pks["row-13"], "duration", K.DATE_OUT_OF_RANGE),
                ("zoo_everything", pks["row-14"], "duration", K.INTEGER_OUT_OF_RANGE)}
    if target == MYSQL and UUID_TYPE:
        expected.add(("zoo_everything", pks["row-10"], "uuid", K.INVALID_UUID))
    if target == MYSQL:
        expected.add(("zoo_everything", pks["row-16"], "ip", K.TOO_LONG))
    reasons = {"date": "Python cannot hold", "datetime": "Python cannot hold", "decimal": "NaN is no number",
               "floating": "nan cannot be stored", "time": "hour must be in 0..23",
               "uuid": "version 8 with a variant of 0xxx", "duration": "microseconds",
               "ip": "max_length is 39"}
    assert_refused_then_rejected(source, target, expected, reasons, tmp_path)


@contextmanager
def another_thread():
    """A second thread while it lasts: verify then reads the target in a thread, not a fork."""
    done = threading.Event()
    waiting = threading.Thread(target=done.wait)
    waiting.start()
    try:
        yield
    finally:
        done.set()
        waiting.join()


@pytest.mark.parametrize("reader", ["forked", "threaded"])
def test_postgresql_values_beyond_python_copy_exactly_to_postgresql(zoo_source, empty, reader):
    """Read as PostgreSQL's text, they are stored again exactly, and verify compares them
    (NaN equals NaN where the target's rows are read in this process, too)."""
    source = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, source).ok
    spoiled(source, POSTGRESQL_SPOILS)
    target = empty(second_target_of("postgresql"))
    assert portadb.plan(source, target).values == []
    report = portadb.copy(source, target, chunk_size=4)
    assert report.ok, portadb.render(report)
    with another_thread() if reader == "threaded" else nullcontext():
        verified = portadb.verify(source, target, chunk_size=4)
    assert verified.ok, portadb.render(verified)

    def text(alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT id, date::text, datetime::text, decimal::text, floating::text, time::text,"
                           " uuid::text, duration::text, ip::text FROM zoo_everything ORDER BY id")
            return cursor.fetchall()

    assert text(target) == text(source)
    assert ("infinity" in str(text(target))) and "BC" in str(text(target)) and "1 mon" in str(text(target))
    assert "10.0.0.1/8" in str(text(target))
    # PostgreSQL calls 1 month equal to 30 days; verify does not.
    with connections[target].cursor() as cursor:
        cursor.execute("UPDATE zoo_everything SET duration = '30 days' WHERE slug = 'row-11'")
    connections[target].close()
    verified = portadb.verify(source, target)
    assert [(t.table, t.different_rows) for t in verified.tables if not t.ok] == [("zoo_everything", 1)]


def test_a_naive_datetime_in_a_daylight_saving_gap_is_refused_for_postgresql(zoo_source, empty):
    """With USE_TZ = False PostgreSQL takes a naive datetime in TIME_ZONE: 02:30 on the night
    clocks skip from 02:00 to 03:00 would come back as 03:30. MariaDB stores it as it is."""
    zone = "Europe/Paris"
    with override_settings(USE_TZ=False, TIME_ZONE=zone):
        m.Everything.objects.using(zoo_source).filter(slug="row-3").update(
            datetime=dt.datetime(2024, 3, 31, 2, 30))
        m.Everything.objects.using(zoo_source).filter(slug="row-4").update(
            datetime=dt.datetime(2024, 10, 27, 2, 30))  # the hour that comes twice: it exists
        skipped = {(model._meta.db_table, pk, f.name) for model in (m.Everything, m.Person, m.Author)
                   for f in model._meta.local_concrete_fields if f.get_internal_type() == "DateTimeField"
                   for pk, value in model._base_manager.using(zoo_source).values_list("pk", f.attname)
                   if value is not None and not _exists(value, zoneinfo.ZoneInfo(zone))}
        assert ("zoo_everything", m.Everything.objects.using(zoo_source).get(slug="row-3").pk,
                "datetime") in skipped

        target = empty(POSTGRESQL)
        report = portadb.plan(zoo_source, target)
        found = flagged(report)
        assert {(t, pk, f) for t, pk, f, _ in found if _ is K.NONEXISTENT_TIME} == skipped
        gap = next(v for v in report.values if v.kind is K.NONEXISTENT_TIME and v.table == "zoo_everything")
        assert f"TIME_ZONE '{zone}' skips (clocks go from 02:00 to 03:00" in gap.reason
        with pytest.raises(ValueRefused, match="skips"):
            portadb.copy(zoo_source, target)
        assert not {k for *_, k in flagged(portadb.plan(zoo_source, empty(MYSQL)))} & {K.NONEXISTENT_TIME}


def _exists(value: dt.datetime, zone) -> bool:
    """Whether a naive wall time exists in ``zone`` (an oracle: through UTC and back)."""
    there = value.replace(tzinfo=zone).astimezone(dt.timezone.utc).astimezone(zone)
    return there.replace(tzinfo=None) == value


def test_a_value_the_target_field_refuses_past_the_checks_is_a_value_error(zoo_source, empty):
    """Without the checks (``guard=None``), Django's field refuses to prepare a NaN decimal for
    MariaDB: the chunk is not written and the error names the rows, not the target, and does
    not advise --resume (which would fail the same way)."""
    source = empty(POSTGRESQL)
    assert portadb.copy(zoo_source, source).ok
    spoiled(source, [("row-6", "decimal", "'NaN'")])
    src, tgt = open_endpoints(source, empty(MYSQL))
    try:
        job = next(j for j in make_plan(src, tgt).jobs if j.table == "zoo_everything")
        with pytest.raises(DataError) as raised:
            copy_table(src, tgt, job, 1000, NullBar(), guard=None)
    finally:
        close(src, tgt)
    assert not isinstance(raised.value, TransferError)
    message = str(raised.value)
    assert message.startswith("Could not prepare zoo.Everything rows (pk ") and "NaN" in message
    assert "--resume" not in message and "nothing of this chunk was written" in message
