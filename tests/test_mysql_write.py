"""MySQL/MariaDB write paths: LOAD DATA LOCAL INFILE and multi-row INSERT, both exact."""

from __future__ import annotations

import pytest
from django.db import connections, transaction

import portadb
from portadb.backends import adapter_for
from portadb.exceptions import ValueRefused

from . import databases as db
from .backends import second_target_of, target_of
from .zoo import models as m

#: Texts a tab-separated load file gets wrong unless every one is escaped.
TRICKY = ["NULL", "\\N", "N", "\\", "back\\slash", "\\t not a tab", "tab\there", "new\nline",
          "cr\r", "crlf\r\n", "", " ", "nul\0byte", "\\\\N", "🐍 ñ"]
MYSQL = target_of("mysql")
#: The first MySQL target may LOAD DATA LOCAL INFILE (tests/backends.py), the second may not.
PATHS = [(MYSQL, "load data"), (second_target_of("mysql"), "insert")]


@pytest.mark.parametrize("target, method", PATHS, ids=[p[1] for p in PATHS])
def test_tricky_text_and_bytes_survive(zoo_source, empty, target, method):
    for i, text in enumerate(TRICKY):
        m.Everything.objects.using(zoo_source).create(
            slug=f"tricky-{i}", text=text, null_char=text, char=text, binary=text.encode() + b"\t\n\\",
        )
    empty(target)
    assert adapter_for(connections[target]).write_method() == method
    report = portadb.copy(zoo_source, target)
    assert report.ok, portadb.render(report)

    def tricky(alias):
        rows = m.Everything.objects.using(alias).filter(slug__startswith="tricky-")
        return sorted(rows.values_list("slug", "text", "null_char", "char", "binary"))

    got = tricky(target)
    assert got == tricky(zoo_source)
    assert [(text, null_char) for _, text, null_char, _, _ in sorted(got, key=lambda r: int(r[0][7:]))] \
        == [(t, t) for t in TRICKY]
    assert db.snapshot(target) == db.snapshot(zoo_source)


@pytest.mark.parametrize("target, method", PATHS, ids=[p[1] for p in PATHS])
def test_a_primary_key_of_zero_survives(zoo_source, empty, target, method):
    m.PlainAuto.objects.using(zoo_source).create(id=0, name="zero")
    empty(target)
    report = portadb.copy(zoo_source, target)
    assert report.ok, portadb.render(report)
    assert m.PlainAuto.objects.using(target).get(pk=0).name == "zero"
    assert m.PlainAuto.objects.using(target).create(name="next").pk == 15  # past 10..14


@pytest.mark.parametrize("target, method", PATHS, ids=[p[1] for p in PATHS])
def test_a_primary_key_of_zero_survives_beside_bytes(zoo_source, empty, target, method):
    """Bytes load through a SET clause, next to which MariaDB took a 0 for "the next number"."""
    m.Everything.objects.using(zoo_source).create(id=0, slug="zero", binary=b"\x00zero")
    empty(target)
    report = portadb.copy(zoo_source, target)
    assert report.ok, portadb.render(report)
    assert bytes(m.Everything.objects.using(target).get(pk=0).binary) == b"\x00zero"
    assert db.snapshot(target) == db.snapshot(zoo_source)


@pytest.mark.parametrize("target, method", PATHS, ids=[p[1] for p in PATHS])
def test_a_refused_value_fails_the_chunk_and_names_the_table(zoo_source, empty, target, method):
    """The value checks refuse first; under them, the write path refuses on its own.

    LOAD DATA LOCAL downgrades errors to warnings; portadb turns them back into a refusal.
    """
    bad = m.Everything.objects.using(zoo_source).create(slug="too-long", char="x" * 101)
    empty(target)
    with pytest.raises(ValueRefused, match=rf"zoo\.Everything\(pk={bad.pk}\): char"):
        portadb.copy(zoo_source, target)
    assert m.Everything.objects.using(target).count() == 0  # the chunk was not written

    adapter = adapter_for(connections[target])
    columns = ["slug", "char", "email", "url", "text", "integer", "small", "big", "positive",
               "positive_small", "positive_big", "boolean", "file", "image"]
    row = ["too-long", "x" * 101, "", "", "", 0, 0, 0, 0, 0, 0, False, "", ""]
    with adapter.load_session(), pytest.raises(Exception, match="char|too long"):
        with transaction.atomic(using=target):
            adapter.write_rows("zoo_everything", columns, [row])
    assert m.Everything.objects.using(target).count() == 0  # the chunk was rolled back


def test_columns_encode_as_each_value_would():
    """The column-wise LOAD DATA encoder writes exactly what the value-by-value one writes."""
    import datetime as dt
    from decimal import Decimal

    from portadb.backends.mysql_load import tsv_field, tsv_text

    rows = [(i, i / 3, text, None, i % 2 == 0, Decimal("1.20"), b"\0\t", dt.date(2020, 1, 1))
            for i, text in enumerate(TRICKY)]
    rows += [(None, None, None, "plain", None, None, None, None), (2**63 - 1, 5e-324, "x", None,
             False, Decimal("-0"), b"", dt.date(1, 1, 1))]
    assert tsv_text(list(zip(*rows))) == "".join("\t".join(map(tsv_field, row)) + "\n" for row in rows)
    # Columns of one type, with and without NULLs, take the column-wide paths.
    columns = [(1, -2), (1, None), (True, False), (True, None), (0.5, None), ("a", "b\tc"),
               ("a", None), ("a\n", None), (None, None)]
    assert tsv_text(columns) == "".join("\t".join(map(tsv_field, row)) + "\n" for row in zip(*columns))
    assert tsv_text([(1, 2), ("a", "b")]) == "1\ta\n2\tb\n"
    assert tsv_text([(), ()]) == ""


@pytest.mark.parametrize("scale", [0, 2, 6, 7, 15])
def test_decimals_read_as_integers_encode_as_their_decimals(scale):
    """A decimal column read as exact integers loads as the text of each Decimal it stands for."""
    from portadb.backends.mysql_load import tsv_field, tsv_form, tsv_text
    from portadb.columns import ScaledIntegers

    column = ScaledIntegers([0, 1, -1, 5, -5, 10**14, 1 - 10**14, None, 123456, -100], scale)
    assert tsv_text([tsv_form(column)]) == "".join(tsv_field(v) + "\n" for v in column.values())


@pytest.mark.parametrize("stored, loaded", [
    ([0.1, None, 12.5], "0.1000\n\\N\n12.5000\n"),  # exact numbers of the scale: read as integers
    ([0.1, -0.0, None], "0.1000\n-0.0000\n\\N\n"),  # -0.0 is read value by value, as Django does
])
def test_a_decimal_column_loads_with_the_field_s_places(zoo_source, empty, stored, loaded):
    """SQLite's REAL decimals reach LOAD DATA with exactly the field's places: with more
    (Django's 15 digits, "0.100000000000000"), MariaDB notes a truncation and the load fails."""
    from portadb.backends.mysql_load import tsv_form, tsv_text
    from portadb.convert import columns_for

    columns = columns_for(m.Everything, connections[zoo_source], connections[empty(MYSQL)])
    decimal = next(c for c in columns if c.name == "decimal")
    assert tsv_text([tsv_form(decimal.convert_column(stored))]) == loaded


def test_a_uuid_column_loads_as_32_hex_digits(zoo_source, empty):
    """SQLite's UUID text, read as bytes, loads as the 32 hex digits MariaDB's uuid type and a
    char(32) column both read; a column that is not all 32 hex digits goes value by value."""
    import uuid

    from portadb.backends.mysql_load import tsv_form, tsv_text
    from portadb.convert import columns_for

    columns = columns_for(m.Everything, connections[zoo_source], connections[empty(MYSQL)])
    column = next(c for c in columns if c.name == "uuid")
    some = [uuid.uuid4().hex, None, "00000000000000000000000000000000", "F" * 32]
    assert tsv_text([tsv_form(column.convert_column(some))]) == \
        "".join(f"{v.lower()}\n" if v else "\\N\n" for v in some)
    odd = ["12345678-1234-5678-1234-567812345678", None]  # Django reads it, the fast path does not
    assert column.convert_column(odd) == [column.convert(v) for v in odd]


@pytest.mark.parametrize("stored", [
    ["2024-02-29 23:59:59", None, "2024-02-29 23:59:59.000000", "0001-01-01 00:00:00.000001"],
    ["2024-02-29T23:59:59", "2024-02-29 23:59:59"],  # Django reads a T too: value by value
    ["2024-02-29 23:59:59+01:00", None],  # an offset of its own: value by value
])
def test_sqlite_datetime_text_loads_as_the_datetime_django_reads(zoo_source, empty, stored):
    """SQLite's stored UTC text goes to LOAD DATA as it is only where it is the datetime Django
    reads, in the form MySQL reads the same; else each value is read and prepared."""
    import datetime as dt

    from portadb.backends.mysql_load import tsv_form, tsv_text
    from portadb.convert import columns_for

    columns = columns_for(m.Everything, connections[zoo_source], connections[empty(MYSQL)])
    column = next(c for c in columns if c.name == "datetime")
    loaded = tsv_text([tsv_form(column.convert_column(stored))]).splitlines()
    django = [column.convert(v) for v in stored]
    for text, value in zip(loaded, django):
        assert (None if text == "\\N" else dt.datetime.fromisoformat(text)) == \
            (None if value is None else dt.datetime.fromisoformat(value)), (text, value)
    assert loaded[0] == (stored[0] if " " in stored[0] and "+" not in stored[0] else django[0])


def test_aware_datetimes_prepared_column_wide_as_value_by_value():
    """MySQL's column-wide preparation of aware datetimes gives what each value's would,
    for UTC values in any tzinfo at offset zero and for other offsets alike."""
    import datetime as dt
    import zoneinfo

    connection = connections[MYSQL]
    field = m.Everything._meta.get_field("datetime")
    adapter = adapter_for(connection)
    one, whole = adapter.fast_prep(field), adapter.fast_prep(field, whole=True)
    assert whole is not None
    utc = [dt.datetime(2024, 2, 29, 23, 59, 59, micro, tzinfo=dt.timezone.utc) for micro in (0, 1, 999999)]
    for column in (utc, [*utc, None], [dt.datetime(1, 1, 1, tzinfo=zoneinfo.ZoneInfo("UTC")), None],
                   [*utc, dt.datetime(2024, 3, 31, 2, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))],
                   [dt.datetime(9999, 12, 30, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))]):
        assert whole(column) == [None if v is None else one(v) for v in column]
    assert whole(utc) == ["2024-02-29 23:59:59", "2024-02-29 23:59:59.000001", "2024-02-29 23:59:59.999999"]


def test_a_row_that_cannot_be_encoded_fails_the_load_and_writes_nothing(zoo_source, empty):
    """The rows go to the server through a pipe while they are encoded: a row the
    encoder refuses half way must not leave the rows before it committed."""
    target = empty(MYSQL)
    assert portadb.copy(zoo_source, target).ok
    before = m.PlainAuto.objects.using(target).count()
    adapter = adapter_for(connections[target])
    rows = [(i, f"n{i}") for i in range(1000, 6000)] + [(6000, "lone \udc80")]
    with adapter.load_session(), pytest.raises(Exception, match="Could not encode the rows of zoo_plainauto"):
        with transaction.atomic(using=target):
            adapter.write_rows("zoo_plainauto", ["id", "name"], rows)
    assert m.PlainAuto.objects.using(target).count() == before


def test_a_load_the_server_refuses_before_reading_does_not_hang(empty):
    target = empty(MYSQL)
    adapter = adapter_for(connections[target])
    with adapter.load_session(), pytest.raises(Exception, match="no_such_table|doesn't exist"):
        with transaction.atomic(using=target):
            adapter.write_rows("no_such_table", ["id"], [(i,) for i in range(50_000)])


def test_a_chunk_the_server_rolls_back_as_a_deadlock_victim_is_written_again(zoo_source, empty, monkeypatch):
    """InnoDB rolls the whole transaction of a deadlock's victim back (workers loading side by
    side): the chunk and its journal entry are written again, and the copy is exact. Any other
    error still stops the copy."""
    import MySQLdb
    from django.db import OperationalError

    from portadb import transfer

    target = empty(target_of("mysql"))
    write_chunk, victims = transfer.write_chunk, []

    def once_a_victim(adapter, job, rows, converted):
        write_chunk(adapter, job, rows, converted)
        if job.table == "zoo_everything" and not victims:
            victims.append(job.table)
            try:
                raise MySQLdb.OperationalError(1213, "Deadlock found when trying to get lock")
            except MySQLdb.OperationalError as e:
                raise OperationalError(*e.args) from e

    monkeypatch.setattr(transfer, "write_chunk", once_a_victim)
    report = portadb.copy(zoo_source, target, chunk_size=5, jobs=1, verify=True)
    assert victims and report.ok and report.verification.ok, portadb.render(report)
