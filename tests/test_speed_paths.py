"""The fast paths keep the copy exact: worker processes, binary COPY, keys built after the data."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from decimal import Decimal

import pytest
from django.db import connections

import portadb
from portadb.backends import adapter_for

from . import databases as db
from .backends import SERVER_TARGETS, source_of, target_of

POSTGRESQL = target_of("postgresql")


def test_two_jobs_copy_every_value(zoo_source, empty):
    target = empty(POSTGRESQL)
    report = portadb.copy(zoo_source, target, jobs=2, chunk_size=7)
    assert report.ok, portadb.render(report)
    before, after = db.snapshot(zoo_source), db.snapshot(target)
    for table in before:
        assert after[table] == before[table], table
    assert {t.table for t in report.tables if t.seconds > 0} >= {"zoo_everything", "auth_permission"}


@pytest.mark.parametrize("target", SERVER_TARGETS)
def test_foreign_keys_of_a_cycle_build_in_parallel_without_deadlock(zoo_source, empty, target):
    # zoo_author and zoo_book point at each other: built at once, their two
    # ADD FOREIGN KEY statements lock the same two tables in opposite order.
    from portadb import schema
    from tests.zoo.models import Author, Book

    portadb.copy(zoo_source, empty(target))
    connection = connections[target]
    statements = [s for s in schema.create_tables(connection, [Author, Book], collect_only=True).deferred
                  if s.kind == schema.FOREIGN_KEY and s.table in ("zoo_author", "zoo_book")]
    assert len(statements) == 2
    for _ in range(20):
        with connection.schema_editor() as editor:
            for model in (Author, Book):
                for name in editor._constraint_names(model, foreign_key=True):
                    editor.execute(editor._delete_fk_sql(model, name))
        schema.build_deferred(connection, statements, workers=2)
    with connection.cursor() as cursor:
        keys = [c for model in (Author, Book) for c in connection.introspection.get_constraints(
            cursor, model._meta.db_table).values() if c["foreign_key"]]
    assert sorted(c["foreign_key"][0] for c in keys) == ["zoo_author", "zoo_book"]


def test_postgresql_builds_side_by_side_without_parallel_workers(empty):
    connection = connections[empty(POSTGRESQL)]

    def workers():
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_maintenance_workers")
            return cursor.fetchone()[0]

    default = workers()  # the server's
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_maintenance_workers = 2")
    with adapter_for(connection).build_session(side_by_side=False):
        assert workers() == "2"  # one session: the idle cores may help its builds
    with adapter_for(connection).build_session(side_by_side=True):
        assert workers() == "0"
    assert workers() == default


def test_sessions_never_share_a_named_table_and_run_the_others_together(empty):
    import threading

    from portadb.scheduler import Work, in_sessions

    alias = empty(POSTGRESQL)
    together = threading.Barrier(2, timeout=30)
    running: set[str] = set()
    overlaps: list = []

    def item(name: str, meet: bool = False, alongside: frozenset = frozenset()):
        def call(connection):
            running.add(name)
            if meet:
                together.wait()  # breaks, failing the run, unless both run at once
            else:
                threading.Event().wait(0.3)
                overlaps.extend(running - {name} - alongside)
            running.discard(name)
        return call

    free = frozenset({"free1", "free2"})
    in_sessions(alias, [Work(item("ab", alongside=free), frozenset("ab")),
                         Work(item("ba", alongside=free), frozenset("ba")),
                         Work(item("bc", alongside=free), frozenset("bc")),
                         Work(item("free1", True), frozenset("x")),
                         Work(item("free2", True), frozenset("y"))], 2)
    assert overlaps == []
    # Builds that share a table run together, and never beside one that wants it alone.
    in_sessions(alias, [Work(item("index1", True), shared=frozenset("t")),
                         Work(item("index2", True), shared=frozenset("t")),
                         Work(item("key", alongside=frozenset({"other"})), frozenset("t")),
                         Work(item("index3", alongside=frozenset({"other"})), shared=frozenset("t")),
                         Work(item("other", alongside=frozenset({"key", "index3"})), frozenset("u"))], 2)
    assert overlaps == []


def test_a_later_stage_waits_only_for_the_builds_of_its_own_tables():
    import threading

    from portadb.scheduler import Work, in_sessions

    ended: set[str] = set()
    seen: dict[str, set[str]] = {}

    def item(name: str, seconds: float):
        def call(connection):
            seen[name] = set(ended)
            threading.Event().wait(seconds)
            ended.add(name)
        return call

    # A foreign key from t to v: after t's key and v's index, not after the other table's long build.
    in_sessions(db.ensure(POSTGRESQL), [Work(item("key t", 0.2), frozenset("t")),
                                        Work(item("long build of u", 1.5), shared=frozenset("u")),
                                        Work(item("foreign key t -> v", 0), frozenset("tv"), stage=1),
                                        Work(item("index v", 0.1), shared=frozenset("v"))], 2)
    assert seen["foreign key t -> v"] == {"key t", "index v"}


def test_the_foreign_keys_of_one_table_count_as_one_chain():
    """Two foreign keys of the largest table run one after the other: together they outrank a
    smaller table's index, which only one of them waits for."""
    from portadb.scheduler import Work
    from portadb.schema import _critical_first

    index = Work(print, shared=frozenset({"orders"}))
    to_orders = Work(print, frozenset({"lines", "orders"}), stage=1)
    to_products = Work(print, frozenset({"lines", "products"}), stage=1)
    ranked = _critical_first({"lines": 100, "orders": 70, "products": 10}, [index, to_orders, to_products])
    assert ranked == [to_orders, to_products, index]


def test_a_foreign_key_waits_for_the_search_of_its_own_tables_and_none_follows_a_dangling_row(monkeypatch):
    """MySQL adds foreign keys unchecked, after portadb's search of their references. A foreign key
    of other tables goes on while a search runs; the searched one waits for it (its table named
    in another case, as MySQL's catalogue may name it) and is not built once a row dangles."""
    import threading

    from portadb import schema
    from portadb.exceptions import PortadbError
    from tests.zoo.models import Book

    built: list[str] = []
    release = threading.Event()

    def search(connection, model, field):
        assert release.wait(30)
        return [("zoo_book", "author_id", [7])]

    monkeypatch.setattr(schema, "dangling", search)
    monkeypatch.setattr(schema, "_run_steps", lambda connection, steps, side_by_side=False:
                        built.extend(step.sql for step in steps))
    searched = schema.BuildStep("book -> author", "ZOO_BOOK", kind=schema.FOREIGN_KEY,
                                references="Zoo_Author")
    other = schema.BuildStep("x -> y", "other_x", kind=schema.FOREIGN_KEY, references="other_y")
    raised: list = []

    def build():
        try:
            schema.build_deferred(connections[db.ensure(POSTGRESQL)], [searched, other], workers=2,
                                  check=[Book])
        except PortadbError as e:
            raised.append(e)

    thread = threading.Thread(target=build)
    thread.start()
    for _ in range(300):
        if built:
            break
        threading.Event().wait(0.01)
    assert built == ["x -> y"]  # beside the search
    release.set()
    thread.join(30)
    assert built == ["x -> y"]  # never the one whose rows dangle
    assert str(raised[0]) == "Foreign key zoo_book.author_id points at missing rows for primary keys 7."


def test_decimals_are_stored_at_the_fields_scale_without_the_readers_quantize(zoo_source, empty):
    from tests.zoo.models import Everything

    target = empty(POSTGRESQL)
    portadb.copy(zoo_source, target)
    expected = [None if v is None else str(v) for v in
                Everything.objects.using(zoo_source).order_by("pk").values_list("decimal", flat=True)]
    with connections[target].cursor() as cursor:
        cursor.execute("SELECT decimal::text FROM zoo_everything ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == expected
    assert any(v is not None for v in expected)


def test_keys_and_unique_constraints_are_back_after_the_copy(zoo_source, empty):
    target = empty(POSTGRESQL)
    portadb.copy(zoo_source, target)
    with connections[target].cursor() as cursor:
        constraints = connections[target].introspection.get_constraints(cursor, "zoo_plainauto")
    assert any(c["primary_key"] for c in constraints.values())
    assert any(c["unique"] and c["columns"] == ["name"] for c in constraints.values())
    with pytest.raises(Exception, match="duplicate key"):
        with connections[target].cursor() as cursor:
            cursor.execute("INSERT INTO zoo_plainauto (id, name) VALUES (10, 'again')")


def sqlite_reader(name: str):
    """SQLite's connection, the column expression and Django's one converter of a zoo field."""
    from tests.zoo.models import Everything

    connection = connections[source_of("sqlite")]
    expression = Everything._meta.get_field(name).get_col(Everything._meta.db_table)
    (reader,) = connection.ops.get_db_converters(expression)
    return connection, expression, reader


@pytest.mark.parametrize("stored", [
    "2024-02-29 23:59:59.999999", "2024-02-29 23:59:59", "1970-01-01 00:00:00.000001",
    "2024-03-31T02:30:00", "2024-03-31 02:30:00+02:00", "0001-01-01 00:00:00", "2024-01-01",
    "2024-1-2 3:04:05", None,
])
def test_sqlite_fast_datetime_reader_gives_what_django_gives(stored):
    for name in ("datetime", "date"):
        connection, expression, reader = sqlite_reader(name)
        fast = adapter_for(connection).fast_reader(reader, expression)
        assert fast is not None
        try:
            expected = reader(stored, expression, connection)
        except Exception as e:  # the fast path must fail the same way
            with pytest.raises(type(e)):
                fast(stored)
            continue
        got = fast(stored)
        assert got == expected and type(got) is type(expected), (name, stored)
        assert getattr(got, "tzinfo", None) == getattr(expected, "tzinfo", None)


@pytest.mark.parametrize("stored", [
    "12345678123456781234567812345678", "ffffffffffffffffffffffffffffffff", "0" * 32,
    "0x345678123456781234567812345678", "12345678-1234-5678-1234-567812345678", "-" + "f" * 31,
    " " + "a" * 31, "zz345678123456781234567812345678", None,
])
def test_sqlite_fast_uuid_reader_gives_what_django_gives(stored):
    connection, expression, reader = sqlite_reader("uuid")
    fast = adapter_for(connection).fast_reader(reader, expression)
    try:
        expected = reader(stored, expression, connection)
    except Exception as e:
        with pytest.raises(type(e)):
            fast(stored)
        return
    got = fast(stored)
    assert got == expected and type(got) is type(expected)
    if got is not None:
        assert (str(got), got.bytes, got.is_safe, got.version, hash(got)) == \
            (str(expected), expected.bytes, expected.is_safe, expected.version, hash(expected))


def test_a_failing_worker_stops_the_copy_with_the_workers_error(zoo_source, empty):
    from portadb.exceptions import PortadbError

    with connections[zoo_source].cursor() as cursor:  # PostgreSQL text cannot hold NUL
        cursor.execute("UPDATE zoo_tag SET name = 'nul' || char(0) || 'byte' WHERE name = 'sci-fi'")
    target = empty(POSTGRESQL)
    with pytest.raises(PortadbError, match="zoo_tag|zoo.Tag"):
        portadb.copy(zoo_source, target, jobs=2)


def djangos_column(many, reader, expression, connection, column: list) -> list | None:
    """Django's values of ``column``; ``None`` once ``many`` is seen to raise Django's error for it."""
    try:
        return [reader(v, expression, connection) for v in column]
    except Exception as e:
        with pytest.raises(type(e)):
            many(column)
        return None


ODD_DATETIMES = ["2024-02-29 23:59:59.999999", "2024-02-29 23:59:59", "1970-01-01 00:00:00.000001",
                 "2024-03-31T02:30:00", "2024-03-31 02:30:00+02:00", "0001-01-01 00:00:00", "2024-01-01",
                 "2024-1-2 3:04:05", None, 1700000000]
ODD_DECIMALS = [1.23, 0.125, 2.675, 1e-9, 12345678.9, -0.005, 7, True, None, 0.1 + 0.2, 1e300, "3.25"]


@pytest.mark.parametrize("name,column", [
    ("datetime", ["2024-02-29 23:59:59.999999", "1970-01-01 00:00:00.000001", None, "2024-03-31T02:30:00"]),
    ("datetime", ODD_DATETIMES),
    ("datetime", ["2024-03-31 02:30:00+02:00", "2024-1-2 3:04:05", None, "2024-01-01"]),
    ("datetime", ["2024-02-29 23:59:59", "2024-02-29 12:00+01", "1999-12-31 23:59:59.000001"]),
    ("datetime", ["2024-02-29 23:59:59", "2024-01-01T12:00:00Z", "2024-01-01+00:00", "2024-01-01 12"]),
    ("datetime", ["2024-02-29 23:59:59", "2024-02-30 00:00:00", "9999-12-31 23:59:59.999999"]),
    ("date", ["2024-02-29", None, "0001-01-01"]),
    ("date", [*ODD_DATETIMES, "2024-02-30"]),
    ("decimal", [1.23, 0.125, 2.675, -0.005, 7, None, 0.1 + 0.2]),
    ("decimal", ODD_DECIMALS),
    ("uuid", ["12345678123456781234567812345678", None, "f" * 32, "0" * 32]),
    ("uuid", ["12345678123456781234567812345678", "0x345678123456781234567812345678",
              "12345678-1234-5678-1234-567812345678", "A" * 32]),
    ("uuid", ["12345678123456781234567812345678", "-" + "f" * 31]),
    ("uuid", ["12345678123456781234567812345678", "zz345678123456781234567812345678"]),
    ("boolean", [1, 0, 1.0, True, 0, 1]),
    ("null_boolean", [1, None, 0, None]),
    ("boolean", [1, 0, 2, "t", b"1", -1]),
])
def test_sqlite_column_readers_give_what_django_gives(name, column):
    """A whole column at once, or value by value where it must: Django's values, or its error."""
    connection, expression, reader = sqlite_reader(name)
    many = adapter_for(connection).column_reader(reader, expression)
    assert many is not None
    expected = djangos_column(many, reader, expression, connection, column)
    if expected is None:
        return
    got = many(column)
    assert got == expected
    assert [(type(v), str(v), getattr(v, "tzinfo", None), getattr(v, "is_safe", None)) for v in got] == \
        [(type(v), str(v), getattr(v, "tzinfo", None), getattr(v, "is_safe", None)) for v in expected]


@pytest.mark.parametrize("column", [[1.23, 0.125, 2.675, -0.005, 7, None, 0.1 + 0.2], ODD_DECIMALS])
def test_sqlite_scaled_decimal_reader_gives_the_same_numbers(column):
    connection, expression, reader = sqlite_reader("decimal")
    many = adapter_for(connection).column_reader(reader, expression, scaled=True)
    expected = djangos_column(many, reader, expression, connection, column)
    if expected is not None:
        assert many(column) == expected


#: Exactly numbers of scale 4, 14 digits at most (zoo's decimal): read as integers.
SCALED_DECIMALS = [1.23, 7, None, -0.005, 0.0, 9999999999.9999, -9999999999.9999, 1e-4, 12345.6789, 2**33]


@pytest.mark.parametrize("column, integers", [
    (SCALED_DECIMALS, True),
    ([None, None], True),
    ([1.23, 0.12345], False),  # five places: Django rounds it
    ([1.23, 99999999999.0], False),  # 15 digits at scale 4: more than max_digits
    ([1.23, -0.0], False),  # Django reads Decimal("-0.0000")
    ([1.23, 0.1 + 0.2], False),  # 0.30000000000000004: more than 15 digits
    ([1.23, "3.25"], False), ([1.23, float("nan")], False), ([1.23, float("inf")], False),
    ([1.23, 10**30], False), ([1.23, b"1"], False),
])
def test_sqlite_decimal_reader_gives_integers_only_when_they_are_djangos_numbers(column, integers):
    from portadb.columns import ScaledIntegers, as_values

    connection, expression, reader = sqlite_reader("decimal")
    many = adapter_for(connection).column_reader(reader, expression, scaled=True,
                                                 forms=frozenset({ScaledIntegers}))
    scaled = adapter_for(connection).column_reader(reader, expression, scaled=True)
    column = tuple(column)  # as a chunk's transposition gives it
    try:
        got = many(column)
    except Exception as e:  # Django's error, as the reader without integers raises it
        assert not integers
        with pytest.raises(type(e)):
            scaled(column)
        return
    assert isinstance(got, ScaledIntegers) is integers
    if integers:  # exactly Django's decimals, to the last place
        expected = [reader(v, expression, connection) for v in column]
        assert [None if v is None else str(v) for v in as_values(got)] == \
            [None if v is None else str(v) for v in expected]
    else:  # what the reader gives without integers
        assert list(map(str, got)) == list(map(str, scaled(column)))


_READ_AS_BYTES = [
    (["12345678123456781234567812345678", None, "F" * 32, "0" * 32], True),
    ([None, None], True),
    (["12345678123456781234567812345678", "12345678-1234-5678-1234-567812345678"], False),
    (["12345678123456781234567812345678", "1234 678123456781234567812345 78"], False),
    (["12345678123456781234567812345678", "1234_678123456781234567812345678"], False),
    (["12345678123456781234567812345678", "zz345678123456781234567812345678"], False),
    (["12345678123456781234567812345678", b"1234567812345678"], False),
]
_READ_AS_TEXT = [
    (["2024-02-29 23:59:59", None, "2024-02-29 23:59:59.000000", "0001-01-01 00:00:00.000001"], True),
    ([None, None], True),
    (["2024-02-29 23:59:59", "2024-02-29T23:59:59"], False),
    (["2024-02-29 23:59:59", "2024-02-29 23:59:59+01:00"], False),
    (["2024-02-29 23:59:59", "2024-02-29 23:59"], False),
    (["2024-02-29 23:59:59", "2024-02-30 23:59:59"], False),
    (["2024-02-29 23:59:59", "2024-02-29 23:59:59,123456"], False),
    (["2024-02-29 23:59:59", "2024-02-29 23:59:59.123"], False),
    (["2024-02-29 23:59:59", "2024-02-29 23:59:59\n"], False),
    (["2024-02-29 23:59:59", 1709251199], False),
]


@pytest.mark.parametrize("name, form, column, in_form", [
    *[("uuid", "UuidBytes", column, in_form) for column, in_form in _READ_AS_BYTES],
    *[("datetime", "UtcTexts", column, in_form) for column, in_form in _READ_AS_TEXT],
])
def test_sqlite_column_reader_gives_a_form_only_where_it_holds_exactly_django_s_values(
        name, form, column, in_form):
    """UUIDs as bytes only for 32 hex digits each, datetimes as their stored text only as Django
    writes them; else the reader's values (or Django's error), and always Django's values."""
    from portadb import columns
    from portadb.columns import as_values

    form = getattr(columns, form)
    connection, expression, reader = sqlite_reader(name)
    many = adapter_for(connection).column_reader(reader, expression, forms=frozenset({form}))
    plain = adapter_for(connection).column_reader(reader, expression)
    column = tuple(column)
    try:
        got = many(column)
    except Exception as e:  # Django's error, as the reader without the form raises it
        assert not in_form
        with pytest.raises(type(e)):
            plain(column)
        return
    assert isinstance(got, form) is in_form
    assert as_values(got) == [reader(v, expression, connection) for v in column]


def encoded_copies(adapter, monkeypatch) -> list:
    """Whether each COPY the adapter runs is its encoded binary one (not a retry in text)."""
    from portadb.backends import postgresql

    calls: list = []
    original = postgresql.copy_rows

    def spy(*args, **kwargs):
        calls.append(kwargs.get("encoded", False))
        return original(*args, **kwargs)

    monkeypatch.setattr(postgresql, "copy_rows", spy)
    return calls


def test_postgresql_encodes_integer_decimals_as_the_numbers_they_are(empty, monkeypatch):
    from portadb.columns import ScaledIntegers

    connection = connections[empty(POSTGRESQL)]
    adapter = adapter_for(connection)
    copies = encoded_copies(adapter, monkeypatch)
    scales = [0, 2, 4, 6, 10]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE numbers (id int, " +
                       ", ".join(f"s{s} numeric(15, {s})" for s in scales) + ")")
    numbers = [0, 1, -1, 7, 10**4, 10**8 - 1, -(10**12), 10**12 + 3, 10**15 - 1, -(10**15 - 1), None]
    adapter.write_columns("numbers", ["id"] + [f"s{s}" for s in scales],
                          [list(range(len(numbers)))] + [ScaledIntegers(numbers, s) for s in scales])
    assert copies == [True]  # no retry in text
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"s{s}::text" for s in scales) + " FROM numbers ORDER BY id")
        stored = list(zip(*cursor.fetchall()))
    for scale, column in zip(scales, stored):
        expected = [None if n is None else f"{Decimal(n).scaleb(-scale):f}" for n in numbers]
        assert list(column) == expected, scale


def test_postgresql_encodes_uuid_bytes_booleans_and_json_text_as_they_are(empty, monkeypatch):
    from portadb.columns import UuidBytes

    connection = connections[empty(POSTGRESQL)]
    adapter = adapter_for(connection)
    copies = encoded_copies(adapter, monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE encoded (id int, u uuid, flag boolean, doc jsonb)")
    uuids = [uuid.UUID(int=0), None, uuid.UUID(int=2**128 - 1), uuid.UUID("12345678123456781234567812345678")]
    flags = [True, False, None, True]
    docs = ['{"a": 1, "b": [true, null]}', None, r'"caf\u00e9 \ud83d\ude80 é 🚀"', "12.50"]
    adapter.write_columns("encoded", ["id", "u", "flag", "doc"],
                          [[1, 2, 3, 4], UuidBytes([u and u.bytes for u in uuids]), flags, docs])
    assert copies == [True]  # no retry in text
    with connection.cursor() as cursor:
        cursor.execute("SELECT u, flag, doc::text FROM encoded ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute("SELECT " + ", ".join("%s::jsonb::text" for d in docs if d), [d for d in docs if d])
        normal = iter(cursor.fetchone())
    assert rows == [(u, f, None if d is None else next(normal)) for u, f, d in zip(uuids, flags, docs)]


_UTC = dt.timezone.utc
_PLUS_2 = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize("name, value", [
    ("datetime", dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=_UTC)),
    ("datetime", dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=_PLUS_2)),
    ("datetime", dt.datetime(1, 1, 1, tzinfo=_UTC)),
    ("datetime", dt.datetime(2024, 3, 31, 2, 30)),  # naive: Django warns and makes it aware
    ("datetime", dt.date(2024, 1, 2)),
    ("datetime", "2024-01-02 03:04:05"),
    ("date", dt.date(2024, 2, 29)), ("date", dt.datetime(2024, 2, 29, 12, tzinfo=_UTC)),
    ("date", "2024-01-02"),
    ("decimal", Decimal("1234.5600")), ("decimal", Decimal("-0.0001")), ("decimal", Decimal("1E+3")),
    ("decimal", Decimal("NaN")), ("decimal", 1.5), ("decimal", "12.5"),
    ("boolean", True), ("boolean", False), ("boolean", 1), ("boolean", "t"), ("boolean", 2),
    ("null_boolean", None),
    ("uuid", uuid.UUID("12345678123456781234567812345678")), ("uuid", "12345678123456781234567812345678"),
    ("uuid", "not a uuid"),
])
@pytest.mark.parametrize("target", [target_of("mysql")])
def test_mysql_fast_prep_gives_what_django_gives(target, name, value):
    from tests.zoo.models import Everything

    connection = connections[db.ensure(target)]  # Django asks the server's version of a uuid
    field = Everything._meta.get_field(name)
    fast = adapter_for(connection).fast_prep(field)
    assert fast is not None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = field.get_db_prep_save(value, connection)
    except Exception as e:  # the fast path must fail the same way
        with pytest.raises(type(e)):
            fast(value)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = fast(value)
    assert got == expected and type(got) is type(expected) and str(got) == str(expected)
    assert fast(None) is None and field.get_db_prep_save(None, connection) is None


def test_a_key_is_built_as_its_unique_index_beside_the_tables_other_indexes(monkeypatch):
    """The unique index of a key and another index of its table build at once (each waits for the
    other); the statement that makes the index the key follows both, the foreign key into the
    table follows that."""
    import threading

    from portadb import schema

    together = threading.Barrier(2, timeout=30)
    ended: list[str] = []
    seen: dict[str, list[str]] = {}

    def steps(connection, steps, side_by_side=False):
        for step in steps:
            seen[step.sql] = list(ended)
            if step.kind in (schema.INDEX, schema.UNIQUE_INDEX):
                together.wait()  # breaks, failing the build, unless both run at once
            ended.append(step.sql)

    monkeypatch.setattr(schema, "_run_steps", steps)
    deferred = [schema.BuildStep("unique index", "t", '"t_pkey"', schema.UNIQUE_INDEX),
                schema.BuildStep("attach", "t", '"t_pkey"', schema.ATTACH),
                schema.BuildStep("index", "t", '"t_a"', schema.INDEX),
                schema.BuildStep("foreign key", "u", '"u_t"', schema.FOREIGN_KEY, "t")]
    schema.build_deferred(connections[db.ensure(POSTGRESQL)], deferred, workers=2)
    assert set(seen["attach"]) == {"unique index", "index"}
    assert set(seen["foreign key"]) == {"unique index", "index", "attach"}


def test_of_a_tables_indexes_that_rank_alike_the_keys_go_last(monkeypatch):
    """An auto key's values arrive in their order, the cheapest sort: of one table's index builds,
    which cost alike by the ranking, the key's unique index goes after the plain ones."""
    from portadb import schema

    ranked: list[str] = []
    monkeypatch.setattr(schema, "in_sessions", lambda alias, work, workers: ranked.extend(
        step.sql for item in work for step in item.call.keywords.get("steps", ())))
    deferred = [schema.BuildStep("unique index", "t", '"t_pkey"', schema.UNIQUE_INDEX),
                schema.BuildStep("attach", "t", '"t_pkey"', schema.ATTACH),
                schema.BuildStep("index a", "t", '"t_a"', schema.INDEX),
                schema.BuildStep("index b", "t", '"t_b"', schema.INDEX)]
    schema.build_deferred(connections[db.ensure(POSTGRESQL)], deferred, workers=2)
    assert ranked.index("unique index") > max(ranked.index("index a"), ranked.index("index b"))
