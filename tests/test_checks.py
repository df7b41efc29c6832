"""Value checks from typed sources, the checks themselves, and the reject file's encoding."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from decimal import Decimal

import django
import pytest
from django.db import connections
from django.test import override_settings

import portadb
from portadb.backends import adapter_for
from portadb.checks import column_checks, digits
from portadb.rejects import encode
from portadb.reports import FindingKind as K

from . import databases as db
from .backends import SERVER_TARGETS, second_target_of, source_of, target_of
from .zoo import models as m

SQLITE_SOURCE, SQLITE_TARGET = source_of("sqlite"), target_of("sqlite")
POSTGRESQL, MYSQL = target_of("postgresql"), target_of("mysql")


def flagged(report) -> set[tuple]:
    return {(v.table, pk, v.field, v.kind) for v in report.values for pk in v.first_pks}


def _everything(alias, slug) -> int:
    return m.Everything.objects.using(alias).get(slug=slug).pk


def test_postgresql_source_only_checks_what_it_does_not_enforce(zoo_source, empty):
    source = empty(POSTGRESQL)
    portadb.copy(zoo_source, source)
    with connections[source].cursor() as cursor:
        cursor.execute("UPDATE zoo_everything SET floating = 'Infinity' WHERE slug = 'row-3'")
    pk = _everything(source, "row-3")
    connections[source].close()
    # MariaDB has no infinite doubles; SQLite stores them.
    assert flagged(portadb.plan(source, empty(MYSQL))) == {
        ("zoo_everything", pk, "floating", K.NOT_FINITE)}
    assert portadb.plan(source, empty(SQLITE_TARGET)).values == []


def test_mariadb_source_values_postgresql_refuses(zoo_source, empty):
    source = empty(MYSQL)
    portadb.copy(zoo_source, source)
    with connections[source].cursor() as cursor:
        # Unsigned BIGINT holds more than PostgreSQL's bigint; tinyint(1) holds 2.
        cursor.execute("UPDATE zoo_everything SET positive_big = 18446744073709551615 WHERE slug = 'row-3'")
        cursor.execute("UPDATE zoo_everything SET boolean = 2 WHERE slug = 'row-4'")
    big, boolean = _everything(source, "row-3"), _everything(source, "row-4")
    connections[source].close()
    assert flagged(portadb.plan(source, empty(POSTGRESQL))) == {
        ("zoo_everything", big, "positive_big", K.INTEGER_OUT_OF_RANGE),
        ("zoo_everything", boolean, "boolean", K.NOT_A_BOOLEAN),
    }


def _check(field_name: str, values: list, source=SQLITE_SOURCE, target=POSTGRESQL):
    field = m.Everything._meta.get_field(field_name)
    target = db.ensure(target)
    checks = column_checks(field, adapter_for(connections[source]), adapter_for(connections[target]))
    return [(i, kind) for check in checks for i, kind, _ in check(values)]


@pytest.mark.parametrize("target", SERVER_TARGETS)
@pytest.mark.parametrize("name", ["integer", "small", "big", "positive", "positive_small", "positive_big"])
def test_integer_checks_name_exactly_the_values_outside_each_targets_range(name, target):
    """Whole columns pass in one C pass where they can; what they cannot is named value by value,
    as at the edges of each column type of each target."""
    field = m.Everything._meta.get_field(name)
    low, high = adapter_for(connections[db.ensure(target)]).integer_range(field.get_internal_type())
    inside, outside = [low, high, 0], [low - 1, high + 1]
    assert _check(name, inside, target=target) == []
    for value in outside:
        assert _check(name, [*inside, value], target=target) == [(3, K.INTEGER_OUT_OF_RANGE)], value
    assert _check(name, [1, 2.5, "3", None, 2**70], target=target) == [
        (1, K.NOT_AN_INTEGER), (2, K.NOT_AN_INTEGER), (4, K.INTEGER_OUT_OF_RANGE)]


@pytest.mark.parametrize("charset, collation", [
    ("utf8mb4", "utf8mb4_unicode_ci"), ("utf8mb4", "utf8mb4_general_ci"), ("utf8mb3", "utf8mb3_general_ci"),
    ("latin1", "latin1_swedish_ci")])
def test_mysql_sort_keys_of_a_chunk_in_one_statement_are_the_servers_own(charset, collation, monkeypatch):
    """JSON arrays through JSON_TABLE, one or several, give each text the key that text alone in
    a statement gets: NUL, quotes, backslashes, 4-byte characters, 70,000 characters, spaces."""
    from portadb.backends import mysql_collation

    connection = connections[db.ensure(MYSQL)]
    texts = ["a\x00b", "a", "A", "straße", "strasse", "😀", "é", "e", '"\\\'', "\t\n\r\x01\x7f", "x" * 70_000,
             "", "\u2028\u2029", "\ufeffbom", "ǅ", "ǆ"]
    quote = adapter_for(connection).quote
    assert mysql_collation._has_json_table(connection)  # MariaDB 10.6 or later here
    together = mysql_collation.weights(connection, quote, texts, charset, collation)
    monkeypatch.setattr(mysql_collation, "_JSON_CHARACTERS", 5)  # a statement for every few texts
    assert together == mysql_collation.weights(connection, quote, texts, charset, collation)
    monkeypatch.setattr(mysql_collation, "_has_json_table", lambda connection: False)
    assert together == mysql_collation.weights(connection, quote, texts, charset, collation)
    with connection.cursor() as cursor:
        expression = f"WEIGHT_STRING(CONVERT(%s USING {charset}) COLLATE {collation})"
        for text, key in zip(texts, together):
            cursor.execute(f"SELECT {expression}", [text])
            assert cursor.fetchone()[0] == key, text[:20]
    assert together[1] == together[2]  # case-insensitive


def test_an_integer_check_of_a_typed_source_still_names_a_bool():
    """The one-pass check is for SQLite's values, ints or no ints at all: a typed driver may give a
    bool (psycopg, for a boolean column a model calls an integer), which an array would take."""
    assert _check("positive_big", [1, True], source=source_of("mysql")) == [(1, K.NOT_AN_INTEGER)]


def test_datetime_offsets_matter_only_without_time_zone_support(settings):
    values = ["2024-01-01 12:00:00+02:00", "2024-01-01 12:00:00", "2024-01-01T25:00:00"]
    assert _check("datetime", values) == [(2, K.IMPOSSIBLE_DATE)]
    with override_settings(USE_TZ=False):
        assert _check("datetime", values) == [(0, K.TIMEZONE), (2, K.IMPOSSIBLE_DATE)]


def test_checks_that_cannot_fire_are_not_built():
    # PostgreSQL text has no length limit and SQLite no NUL limit: nothing to check.
    assert column_checks(m.Everything._meta.get_field("text"), adapter_for(connections[POSTGRESQL]),
                         adapter_for(connections[SQLITE_TARGET])) == []
    # A PostgreSQL date cannot be February 30th, and what it holds beyond Python's dates
    # (infinity, BC) another PostgreSQL database stores again.
    assert column_checks(m.Everything._meta.get_field("date"), adapter_for(connections[POSTGRESQL]),
                         adapter_for(connections[second_target_of("postgresql")])) == []


@pytest.mark.parametrize("value, expected", [
    ("9999999999.9999", []), (9999999999.9999, []), ("0.00005", [(0, K.DECIMAL_OVERFLOW)]),
    ("1.50000", []), ("100", []), ("-0.0001", []), (0, []), ("1E+11", [(0, K.DECIMAL_OVERFLOW)]),
    ("NaN", [(0, K.NOT_FINITE)]), ("1,5", [(0, K.NOT_A_NUMBER)]),
])
def test_decimal_digits_and_places(value, expected):
    if isinstance(value, str) and not expected and django.VERSION < (6, 0):
        # Text in a SQLite decimal column (SQLite keeps as text only what it cannot read as a
        # number): Django before 6 cannot read it at all.
        expected = [(0, K.NOT_A_NUMBER)]
    assert _check("decimal", [value]) == expected


def test_digits_ignores_trailing_zeros():
    assert digits(Decimal("1.2300")) == (3, 2)
    assert digits(Decimal("0.05")) == (2, 2)
    assert digits(Decimal("0")) == (0, 0)
    assert digits(Decimal("1E+2")) == (3, 0)


@pytest.mark.parametrize("field, good, bad, kind", [
    ("ip", ["10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1"], ["10.0.0.256", "2001:DB8::1", "x"],
     K.INVALID_IP),
    ("uuid", ["12345678123456781234567812345678", "12345678-1234-5678-1234-567812345678"],
     ["xyz", "1234"], K.INVALID_UUID),
    ("boolean", [0, 1, True], [2, -1, "yes", 1.5], K.NOT_A_BOOLEAN),
    ("integer", [0, -(2**31), 2**31 - 1], [2**31, "1", 1.0], None),
    ("json", ['{"a": 1}', "[]", "null", "1.5", 3], ["{", '{"a": Infinity}', "'x'"], K.INVALID_JSON),
    ("time", ["12:00", "23:59:59.999999"], ["24:00:00", "noon"], K.IMPOSSIBLE_DATE),
    ("date", ["2024-02-29", "0001-01-01"], ["2023-02-29", "2024-1-1x"], K.IMPOSSIBLE_DATE),
])
def test_good_values_pass_and_bad_values_are_named(field, good, bad, kind):
    found = _check(field, good + bad)
    assert [i for i, _ in found] == list(range(len(good), len(good) + len(bad)))
    if kind is not None:
        assert {k for _, k in found} == {kind}


def test_encode_keeps_every_value_exactly():
    assert encode(b"\0\xff") == {"type": "bytes", "base64": base64.b64encode(b"\0\xff").decode()}
    assert encode("a\udcc3") == {"type": "invalid_utf8", "base64": base64.b64encode(b"a\xc3").decode()}
    assert encode(Decimal("1.50")) == {"type": "decimal", "value": "1.50"}
    assert encode(float("-inf")) == {"type": "float", "value": "-inf"}
    assert encode(2**70) == 2**70 and encode("ü\0") == "ü\0" and encode(None) is None
    assert encode(dt.timedelta(days=-1, microseconds=1)) == {
        "type": "timedelta", "microseconds": -86399999999}
    assert encode(uuid.UUID(int=1))["value"].endswith("0001")
    assert encode(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))["value"] == "2024-01-01T00:00:00+00:00"


def test_text_that_is_no_ip_address_is_refused_only_by_an_inet_column():
    assert _check("ip", ["not an ip", "2001:DB8::1"], target=MYSQL) == [(1, K.INVALID_IP)]
    assert _check("ip", ["not an ip", "2001:DB8::1"]) == [(0, K.INVALID_IP), (1, K.INVALID_IP)]


def test_jsonb_refuses_more_than_mariadb_json():
    values = ['{"a": 1, "a": 2}', '["\\ud800"]', '["\\ud83d\\ude00"]', '{"a": "\\u0000"}']
    assert _check("json", values, target=MYSQL) == [(1, K.INVALID_JSON)]
    assert _check("json", values) == [(0, K.INVALID_JSON), (1, K.INVALID_JSON), (3, K.NUL_CHARACTER)]


@pytest.mark.parametrize("target", SERVER_TARGETS)
@pytest.mark.parametrize("values, flagged", [
    (['{"a": 1}', None, "[1, 2]", '"text"', "3", "null", '{"b": {"c": [true]}}'], []),
    # Joined, these would read as three JSON values; alone, none is one.
    (['{"a":"}', '{"}', "{},{}"], [0, 1, 2]),
    (["[1", "2]"], [0, 1]), (['{"a": 1} ', ' {"a": 1}', ""], [2]), (["{}", 7, "{"], [2]),
])
def test_json_chunks_are_flagged_exactly_where_a_value_is_no_json(target, values, flagged):
    """The chunk-wide fast path and the value-by-value check agree."""
    assert [i for i, kind in _check("json", values, target=target)] == flagged


@pytest.mark.parametrize("target", SERVER_TARGETS)
@pytest.mark.parametrize("values, on_postgresql", [
    (["plain", None, "ascii \x00 nul"], [2]),
    (["café", "non-ASCII \x00 nul", "ok"], [1]),
    (["café", "lone \udcff surrogate", "🚀"], [1]),
    (["🚀 four bytes", "plain"], []),
    # Over the length joined texts are searched up to: value by value.
    (["x" * 600_000, "y" * 600_000 + "\x00", "é" * 600_000 + "\ud800"], [1, 2]),
])
def test_text_chunks_are_flagged_exactly_where_a_value_is_refused(empty, target, values, on_postgresql):
    """The chunk-wide fast path (no regular expression where it can) and the value-by-value check agree."""
    empty(target)
    field = "null_char" if len(values[0]) < 100 else "text"  # within max_length
    alone = [i for i, value in enumerate(values) if _check(field, [value], target=target)]
    assert [i for i, kind in _check(field, values, target=target)] == alone
    if connections[target].vendor == "postgresql":
        assert alone == on_postgresql


@pytest.mark.parametrize("values, flagged", [
    (["12345678123456781234567812345678", None, "f" * 32], []),
    # Joined, these are 64 hex digits; alone, neither is 32.
    (["1234567812345678", "123456781234567812345678123456781234567812345678"], [0, 1]),
    (["A" * 32, "12345678-1234-5678-1234-567812345678", "{" + "a" * 32 + "}"], []),
    (["g" * 32, "a" * 32, " " + "a" * 31, 12], [0, 3]),  # uuid.UUID reads the third
])
def test_uuid_chunks_are_flagged_exactly_where_a_value_is_no_uuid(values, flagged):
    """The chunk-wide fast path and the value-by-value check agree."""
    assert [i for i, kind in _check("uuid", values)] == flagged


@pytest.mark.parametrize("values, flagged", [
    ([1.5, 9999.99, -9999.99, 0.01, None, 0, Decimal("1.50"), Decimal("-0.00")], []),
    ([1.5, 10000.0], [1]), ([0.001], [0]), ([1e-05], [0]), ([float("nan")], [0]),
    ([Decimal("12345.6")], [0]), (["abc", 2.5], [0]), ([99999], [0]), ([Decimal("1E+4")], [0]),
])
def test_decimal_chunks_are_flagged_exactly_where_a_value_does_not_fit(values, flagged):
    """The chunk-wide fast path and the value-by-value check agree (max_digits=6, places=2)."""
    from django.db import models

    from portadb.checks.numbers import decimal_check

    check = decimal_check(models.DecimalField(max_digits=6, decimal_places=2), "DecimalField",
                          adapter_for(connections[SQLITE_SOURCE]), adapter_for(connections[MYSQL]),
                          lambda kind: True)
    assert sorted({found[0] for found in check(values)}) == flagged


@pytest.mark.parametrize("target", [SQLITE_TARGET, *SERVER_TARGETS], ids=lambda a: connections[a].vendor)
def test_a_sum_sqlite_made_of_decimals_copies_as_django_reads_it(zoo_source, empty, target):
    """SQLite adds decimals as doubles: ``F("decimal") + ...`` leaves 3.3000000000000003, which
    Django reads as 3.3 (15 significant digits, then the field's scale), and so does the copy.
    A fourth decimal place beyond the field's is refused, with what Django reads."""
    with connections[zoo_source].cursor() as cursor:
        cursor.execute("UPDATE zoo_everything SET decimal = 1.1 + 2.2 WHERE slug = 'row-3'")
        cursor.execute("UPDATE zoo_everything SET decimal = 0.1 + 0.2 WHERE slug = 'row-4'")
        cursor.execute("SELECT decimal FROM zoo_everything WHERE slug IN ('row-3', 'row-4') ORDER BY slug")
        assert [v for v, in cursor.fetchall()] == [3.3000000000000003, 0.30000000000000004]
    read = dict(m.Everything.objects.using(zoo_source).values_list("slug", "decimal"))
    assert read["row-3"] == Decimal("3.3000") and read["row-4"] == Decimal("0.3000")
    connections[zoo_source].close()

    assert portadb.plan(zoo_source, empty(target)).values == []
    assert portadb.copy(zoo_source, target).ok
    copied = dict(m.Everything.objects.using(target).values_list("slug", "decimal"))
    assert copied == read
    assert portadb.verify(zoo_source, target).ok

    with connections[zoo_source].cursor() as cursor:
        cursor.execute("UPDATE zoo_everything SET decimal = 1380.04215 WHERE slug = 'row-3'")
    connections[zoo_source].close()
    [refused] = portadb.plan(zoo_source, empty(target)).values
    assert (refused.field, refused.kind, refused.reason) == (
        "decimal", K.DECIMAL_OVERFLOW,
        "1380.04215 has 5 decimal places; the field keeps 4, so it would be rounded"
        " (Django reads it as 1380.0422)")


@pytest.mark.parametrize("max_digits, places", [(6, 2), (10, 2), (14, 4), (15, 0), (18, 6), (40, 20)])
def test_decimal_chunks_of_floats_pass_only_where_each_value_fits(max_digits, places):
    """Many random floats near the limits: the chunk passes exactly when every value alone does."""
    import random

    from django.db import models

    from portadb.checks.numbers import decimal_check

    check = decimal_check(models.DecimalField(max_digits=max_digits, decimal_places=places), "DecimalField",
                          adapter_for(connections[SQLITE_SOURCE]), adapter_for(connections[MYSQL]),
                          lambda kind: True)
    rng = random.Random(max_digits * 100 + places)
    whole = max_digits - places
    for _ in range(300):
        fit = [round(rng.uniform(-1, 1) * 10 ** rng.randint(0, whole), places) for _ in range(20)]
        fit += [rng.randint(-(10 ** whole) + 1, 10 ** whole - 1), 0.0, -0.0]
        assert check(fit) == [], fit
        odd = rng.choice([round(rng.random(), places + 1) + 10 ** -(places + 1), 10.0 ** whole,
                          -(10.0 ** whole), 0.1 + 0.2, 1e-9, float("inf"), 10 ** (whole + 1)])
        index = rng.randrange(len(fit))
        chunk = fit[:index] + [odd] + fit[index:]
        alone = [i for i, value in enumerate(chunk) if check([value])]
        assert [found[0] for found in check(chunk)] == alone, odd


@pytest.mark.parametrize("alias", [SQLITE_TARGET, *SERVER_TARGETS], ids=lambda a: connections[a].vendor)
@pytest.mark.parametrize("within", [None, (100, 400)], ids=["whole", "range"])
def test_dangling_references_are_found_alike_by_value_and_by_row(empty, alias, within):
    """The search by distinct value finds exactly the rows the search row by row finds: many rows
    share each missing parent, some parents exist, NULL points nowhere, rows lie on both sides of
    the range."""
    alias = empty(alias)
    adapter = adapter_for(connections[alias])
    with connections[alias].cursor() as cursor:
        cursor.execute("CREATE TABLE dangle_parent (id INTEGER PRIMARY KEY)")
        cursor.execute("CREATE TABLE dangle_child (id INTEGER PRIMARY KEY, ref INTEGER NULL)")
        cursor.execute("CREATE INDEX dangle_child_ref ON dangle_child (ref)")
        parents = [i for i in range(1, 51) if i % 7]
        cursor.executemany("INSERT INTO dangle_parent (id) VALUES (%s)", [[i] for i in parents])
        children = [(i, None if i % 11 == 0 else i % 60 + 1) for i in range(1, 501)]
        cursor.executemany("INSERT INTO dangle_child (id, ref) VALUES (%s, %s)", children)
    expected = [(i, ref) for i, ref in children if ref is not None and ref not in parents
                and (within is None or within[0] < i <= within[1])]
    found = {}
    for by_value in (False, True):
        sql = adapter.dangling_sql("dangle_child", ["id"], "ref", "dangle_parent", "id", lower=bool(within),
                                   upper=bool(within), by_value=by_value)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, list(within or ()) or None)
            found[by_value] = [tuple(row) for row in cursor.fetchall()]
    assert found[True] == found[False] == expected and len(expected) > 50


DIGITS = [Decimal("12345678901234.123456"), Decimal("99999999999999.99"), Decimal("1234567890123456"),
          Decimal("1234567890.123456"), Decimal("123456789.123456"), Decimal("123456789012345.6"),
          Decimal("12345678901234.5"), Decimal("1000000000000000000.00"), Decimal("-0.000001"),
          Decimal("0"), Decimal("1.50"), "99999999999999.99", 12345678901234567,
          Decimal("123456789012345670.00"), Decimal("12345.0000000000"), Decimal("98765432109876543210")]


def _decimals_model():
    from django.apps.registry import Apps
    from django.db import models

    meta = type("Meta", (), {"apps": Apps(), "app_label": "portadb_digits", "db_table": "digits"})
    return type("Digits", (models.Model,), {"__module__": __name__, "Meta": meta,
                                            "d": models.DecimalField(max_digits=30, decimal_places=6)})


@pytest.mark.parametrize("source", [POSTGRESQL, MYSQL], ids=["postgresql", "mysql"])
def test_decimals_sqlite_would_round_are_exactly_those_refused(empty, source):
    """SQLite keeps a decimal as a double (an integer where it is one) and Django 5.2 reads 15
    significant digits back (6.0 reads an integer exactly): each value a real SQLite round trip
    through this Django alters is refused (``too_many_digits``), and no other."""
    from portadb.checks.numbers import decimal_check

    Digits = _decimals_model()
    field = Digits._meta.get_field("d")
    target = empty(SQLITE_TARGET)
    with connections[target].schema_editor() as editor:
        editor.create_model(Digits)
    Digits.objects.using(target).bulk_create(Digits(id=i, d=field.to_python(v)) for i, v in enumerate(DIGITS))
    back = list(Digits.objects.using(target).order_by("id").values_list("d", flat=True))
    altered = [i for i, value in enumerate(DIGITS) if back[i] != field.to_python(value)]

    check = decimal_check(field, "DecimalField", adapter_for(connections[empty(source)]),
                          adapter_for(connections[target]), lambda kind: True)
    found = sorted(check(DIGITS))
    assert [i for i, *_ in found] == altered and altered, found
    assert {kind for _, kind, _ in found} == {K.TOO_MANY_DIGITS}
    decimals = [field.to_python(v) for v in DIGITS]  # as a typed source's driver returns them
    assert [i for i, *_ in sorted(check(decimals))] == altered
    assert check([d for i, d in enumerate(decimals) if i not in altered] + [None]) == []
    assert found[0][2] == ("12345678901234.123456 would come back from sqlite as 12345678901234.100000:"
                           " it keeps a decimal of more than 15 significant digits (this one has 20)"
                           " as a double")
