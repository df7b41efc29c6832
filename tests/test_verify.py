"""portadb verify: an exact copy verifies clean; every way of breaking it is named."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import io
import json
import operator
import os
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

import portadb
from portadb.models import shared_models
from portadb.reports import FindingKind

from .backends import backend_of, direction_id, source_of, target_of
from .zoo import models as m

SQLITE_SOURCE, SQLITE_TARGET = source_of("sqlite"), target_of("sqlite")
POSTGRESQL, MYSQL = target_of("postgresql"), target_of("mysql")
#: (source alias, target alias): the lead widens this to every direction.
DIRECTIONS = [(SQLITE_SOURCE, POSTGRESQL), (POSTGRESQL, SQLITE_TARGET), (SQLITE_SOURCE, MYSQL)]
#: Keys whose order differs between SQLite (binary), PostgreSQL and MariaDB (unicode_ci).
ODD_ORDER_KEYS = ["Zulu", "alpha", "Éclair", "_under", "a b", "10", "9", "zz", "Ab", "~tilde", "日本"]


@pytest.fixture
def copy_of(zoo_source, empty):
    """Return a function that makes ``target`` an exact copy of the zoo on ``source``."""

    def make(source: str, target: str) -> tuple[str, str]:
        if source != zoo_source:
            empty(source)
            assert portadb.copy(zoo_source, source).ok
        empty(target)
        report = portadb.copy(source, target)
        assert report.ok, portadb.render(report)
        return source, target

    return make


@pytest.mark.parametrize("pair", DIRECTIONS, ids=direction_id)
def test_untouched_copy_verifies_clean(copy_of, pair):
    source, target = copy_of(*pair)
    report = portadb.verify(source, target, chunk_size=7)
    assert report.ok, portadb.render(report, verbosity=2)
    assert report.exit_code == 0 and not report.findings
    assert {t.table for t in report.tables} == {m._meta.db_table for m in shared_models(source, target)}
    for t in report.tables:
        assert t.source_rows == t.target_rows == t.compared_rows, t.table
        assert t.source_checksum == t.target_checksum, t.table
    everything = next(t for t in report.tables if t.table == "zoo_everything")
    # 35 rows in chunks of 7, then the tail past the last key (of each key range, where the workers cut it)
    assert everything.chunks >= 6
    alone = portadb.verify(source, target, chunk_size=7, jobs=1)
    assert next(t for t in alone.tables if t.table == "zoo_everything").chunks == 6
    assert len(report.sequences) > 20 and all(s.ok for s in report.sequences)
    assert report.migrations_compared == len(MigrationRecorder(connections[source]).applied_migrations())


@pytest.mark.parametrize("pair", [(SQLITE_SOURCE, POSTGRESQL), (SQLITE_SOURCE, MYSQL),
                                  (MYSQL, SQLITE_TARGET)], ids=direction_id)
def test_text_keys_in_different_collation_orders_raise_no_false_alarm(zoo_source, copy_of, pair):
    m.Code.objects.using(zoo_source).bulk_create(
        [m.Code(code=k, meaning=f"meaning of {k}") for k in ODD_ORDER_KEYS])
    source, target = copy_of(*pair)
    for chunk_size in (1, 2, 5, 1000):
        report = portadb.verify(source, target, chunk_size=chunk_size)
        assert report.ok, (chunk_size, portadb.render(report, verbosity=2))
    codes = next(t for t in report.tables if t.table == "zoo_code")
    assert codes.compared_rows == len(ODD_ORDER_KEYS) + 3
    sampled = portadb.verify(source, target, sample=1.0, chunk_size=2)  # key sets, chunk by chunk
    assert sampled.ok and sampled.compared_rows == report.compared_rows

    m.Code.objects.using(target).filter(code="Éclair").update(meaning="changed")
    report = portadb.verify(source, target, chunk_size=2)
    assert report.exit_code == 1
    assert _finding(report, FindingKind.VALUE_DIFFERENT, "zoo_code", "Éclair", "meaning")


@pytest.mark.parametrize("pair", [(SQLITE_SOURCE, MYSQL), (SQLITE_SOURCE, POSTGRESQL)], ids=direction_id)
def test_key_differing_only_in_case_is_missing_and_extra(copy_of, pair):
    """MariaDB's case-insensitive IN ('plain') finds 'PLAIN': still not the same row."""
    source, target = copy_of(*pair)
    m.Code.objects.using(target).filter(code="plain").update(code="PLAIN")
    report = portadb.verify(source, target, chunk_size=2)
    codes = next(t for t in report.tables if t.table == "zoo_code")
    assert (codes.missing_pks, codes.extra_pks) == (["plain"], ["PLAIN"])
    assert _finding(report, FindingKind.ROW_MISSING, "zoo_code", "plain")
    assert _finding(report, FindingKind.ROW_EXTRA, "zoo_code", "PLAIN")


# -- breaking a correct copy ------------------------------------------------------------


@dataclass
class Expect:
    kind: FindingKind
    table: str
    pk: object = None
    field: str | None = None


def delete_row(target):
    pk = m.Everything.objects.using(target).get(slug="row-3").pk
    m.Everything.objects.using(target).filter(pk=pk)._raw_delete(target)
    return Expect(FindingKind.ROW_MISSING, "zoo_everything", pk)


def add_row(target):
    tag = m.Tag.objects.using(target).create(name="not on the source")
    return Expect(FindingKind.ROW_EXTRA, "zoo_tag", tag.pk)


def change_text(target):
    row = m.Everything.objects.using(target).get(slug="row-4")
    m.Everything.objects.using(target).filter(pk=row.pk).update(text=row.text + "!")
    return Expect(FindingKind.VALUE_DIFFERENT, "zoo_everything", row.pk, "text")


def move_datetime(target):
    row = m.Everything.objects.using(target).get(slug="row-5")
    later = row.datetime + dt.timedelta(microseconds=1)
    m.Everything.objects.using(target).filter(pk=row.pk).update(datetime=later)
    return Expect(FindingKind.VALUE_DIFFERENT, "zoo_everything", row.pk, "datetime")


def change_json_key(target):
    row = m.Everything.objects.using(target).get(slug="row-6")
    value = dict(row.json)
    value["j"] = value.pop("i")
    m.Everything.objects.using(target).filter(pk=row.pk).update(json=value)
    return Expect(FindingKind.VALUE_DIFFERENT, "zoo_everything", row.pk, "json")


def json_null_for_sql_null(target):
    from django.db.models import JSONField, Value

    row = m.Everything.objects.using(target).get(slug="nulls")
    m.Everything.objects.using(target).filter(pk=row.pk).update(json=Value(None, JSONField()))
    return Expect(FindingKind.VALUE_DIFFERENT, "zoo_everything", row.pk, "json")


def repoint_foreign_key(target):
    book = m.Book.objects.using(target).order_by("pk").first()
    other = m.Author.objects.using(target).exclude(pk=book.author_id).order_by("pk").first()
    m.Book.objects.using(target).filter(pk=book.pk).update(author=other)
    return Expect(FindingKind.VALUE_DIFFERENT, "zoo_book", book.pk, "author_id")


def drop_migration_row(target):
    MigrationRecorder.Migration.objects.using(target).filter(app="zoo").delete()
    return Expect(FindingKind.MIGRATIONS_DIFFERENT, "django_migrations")


def drop_table(target):
    with connections[target].schema_editor() as editor:
        editor.delete_model(m.Code.used_by.through)
    return Expect(FindingKind.TABLE_MISSING, "zoo_code_used_by")


def sequence_below_max(target):
    with connections[target].cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('zoo_tag', 'id'), 1)")
    return Expect(FindingKind.SEQUENCE_BEHIND, "zoo_tag", field="id")


BREAKAGES = [delete_row, add_row, change_text, move_datetime, change_json_key, json_null_for_sql_null,
             repoint_foreign_key, drop_migration_row, drop_table, sequence_below_max]


# SQLite and InnoDB never hand out a key below max(pk): a sequence breaks on PostgreSQL only.
BREAK_CASES = [
    pytest.param(pair, breakage, id=f"{direction_id(pair)}-{breakage.__name__}")
    for pair in DIRECTIONS[:2]
    for breakage in BREAKAGES
    if breakage is not sequence_below_max or backend_of(pair[1]).vendor == "postgresql"
]


@pytest.mark.parametrize("pair,breakage", BREAK_CASES)
def test_each_breakage_is_found_and_named(copy_of, pair, breakage):
    source, target = copy_of(*pair)
    expect = breakage(target)
    report = portadb.verify(source, target, chunk_size=10)
    assert report.exit_code == 1
    finding = _finding(report, expect.kind, expect.table, expect.pk, expect.field)
    assert finding, portadb.render(report)
    assert expect.table in finding.message
    if expect.pk is not None:
        assert repr(expect.pk) in finding.message
    bad = {t.table for t in report.tables if not t.ok} | {s.table for s in report.sequences if not s.ok}
    assert bad <= {expect.table}, bad  # nothing else is flagged


@pytest.mark.parametrize("pair", DIRECTIONS, ids=direction_id)
def test_workers_find_what_one_process_finds(copy_of, pair):
    """Eight workers, big tables cut into key ranges: every difference as one process finds it."""
    from django.contrib.auth.models import Permission

    source, target = copy_of(*pair)
    for breakage in (delete_row, add_row, change_text, move_datetime, repoint_foreign_key):
        breakage(target)
    permissions = Permission.objects.using(target).order_by("pk")
    permissions.filter(pk=permissions[40].pk).delete()
    permissions.filter(pk=permissions[80].pk).update(name="renamed on the target")
    last = m.Everything.objects.using(target).order_by("pk").last()
    last.pk, last.slug = last.pk + 1000, "past-the-end"
    last.save(using=target, force_insert=True)
    m.Code.objects.using(target).create(code="only-on-the-target", meaning="extra")

    one = portadb.verify(source, target, chunk_size=3, jobs=1)
    many = portadb.verify(source, target, chunk_size=3, jobs=8)

    assert (one.workers, many.workers) == (1, 8) and not many.ok
    assert _table(many, "zoo_everything").chunks > _table(one, "zoo_everything").chunks  # cut in ranges
    assert _found(many) == _found(one)
    assert [f.message for f in many.findings] == [f.message for f in one.findings]
    assert {t.table for t in many.tables if not t.ok} == {
        "zoo_everything", "zoo_tag", "zoo_book", "auth_permission", "zoo_code"}
    assert _table(many, "zoo_everything").extra_pks == [last.pk]
    for t in many.tables:  # the parts' digests add up alike on both sides
        assert (t.source_checksum == t.target_checksum) is (t.chunks_different == 0), t.table


def _table(report, table):
    return next(t for t in report.tables if t.table == table)


def _found(report) -> list[tuple]:
    # Not how many chunks differ, only whether any does: the workers' key ranges chunk a table
    # otherwise than one process.
    return [(t.table, t.source_rows, t.target_rows, t.compared_rows, t.missing_count, t.missing_pks,
             t.extra_count, t.extra_pks, t.different_rows, t.differences, t.chunks_different > 0, t.ok)
            for t in report.tables]


@pytest.mark.parametrize("breakage", [delete_row, add_row, change_text, move_datetime])
def test_breakages_are_found_without_a_second_process(copy_of, monkeypatch, breakage):
    """Where no process can be forked, a thread reads the target: the same findings."""
    import importlib

    source, target = copy_of(SQLITE_SOURCE, POSTGRESQL)
    expect = breakage(target)
    for module in ("portadb.verify.remote", "portadb.pool"):
        monkeypatch.setattr(importlib.import_module(module), "forking", lambda: False)
    report = portadb.verify(source, target, chunk_size=10)
    assert report.exit_code == 1
    assert _finding(report, expect.kind, expect.table, expect.pk, expect.field), portadb.render(report)
    assert {t.table for t in report.tables if not t.ok} == {expect.table}


def test_missing_migration_names_the_migrations_and_rows(copy_of):
    source, target = copy_of(SQLITE_SOURCE, POSTGRESQL)
    drop_migration_row(target)
    report = portadb.verify(source, target)
    assert report.migrations_missing == ["zoo.0001_initial"] and not report.migrations_extra
    assert _finding(report, FindingKind.ROW_MISSING, "django_migrations")


def test_difference_shows_both_values(copy_of):
    source, target = copy_of(SQLITE_SOURCE, POSTGRESQL)
    expect = move_datetime(target)
    report = portadb.verify(source, target)
    table = next(t for t in report.tables if t.table == "zoo_everything")
    (diff,) = table.differences
    assert (diff.pk, diff.field) == (expect.pk, "datetime")
    assert diff.source_value == "2024-03-31T05:30:00.123461+00:00"
    assert diff.target_value == "2024-03-31T05:30:00.123462+00:00"
    assert table.different_rows == 1 and table.chunks_different == 1


def test_sample_and_counts_only(copy_of):
    source, target = copy_of(SQLITE_SOURCE, POSTGRESQL)
    change_text(target)
    whole = sum(t.source_rows for t in portadb.verify(source, target, counts_only=True).tables)
    assert portadb.verify(source, target, counts_only=True).ok  # same counts, content not read
    sampled = portadb.verify(source, target, sample=1.0, chunk_size=4)
    assert not sampled.ok and sampled.compared_rows == whole  # every sampled chunk compared
    assert _finding(sampled, FindingKind.VALUE_DIFFERENT, "zoo_everything", field="text")
    quick = portadb.verify(source, target, sample=0.01, chunk_size=4)
    assert quick.compared_rows < whole
    delete_row(target)
    assert _finding(portadb.verify(source, target, counts_only=True), FindingKind.COUNT_MISMATCH,
                    "zoo_everything")


def test_models_and_exclude_choose_tables(copy_of):
    source, target = copy_of(SQLITE_SOURCE, POSTGRESQL)
    only = portadb.verify(source, target, models=["zoo.Book"])
    # django_migrations and the cache tables are always part of a copy, so of its proof.
    assert {t.table for t in only.tables} == {"zoo_book_tags", "zoo_book", "django_migrations", "zoo_cache"}
    rest = portadb.verify(source, target, exclude=["zoo", "auth"])
    assert {t.table for t in rest.tables} == {
        "django_content_type", "django_admin_log", "django_session", "taggit_tag", "taggit_taggeditem",
        "django_migrations", "zoo_cache",  # the cache table belongs to no app
    }


def test_verify_writes_nothing_on_the_source(copy_of):
    source, target = copy_of(SQLITE_SOURCE, POSTGRESQL)
    path = settings.DATABASES[source]["NAME"]
    before = _sha256(path), os.stat(path).st_mtime_ns
    assert portadb.verify(source, target).ok
    assert (_sha256(path), os.stat(path).st_mtime_ns) == before


# -- the command ---------------------------------------------------------------------------


def test_command_exit_codes_and_formats(copy_of, tmp_path):
    source, target = copy_of(SQLITE_SOURCE, POSTGRESQL)
    out = io.StringIO()
    call_command("portadb", "verify", f"--from={source}", f"--to={target}", stdout=out)
    assert out.getvalue().splitlines()[1].startswith("IDENTICAL")

    change_text(target)
    with pytest.raises(CommandError) as failed:
        call_command("portadb", "verify", f"--from={source}", f"--to={target}", "--format=json",
                     stdout=(out := io.StringIO()))
    assert failed.value.returncode == 1 and "zoo_everything" in str(failed.value)
    data = json.loads(out.getvalue())
    assert data["schema_version"] == 1 and data["kind"] == "verify" and data["ok"] is False
    assert [f["kind"] for f in data["findings"]] == ["value_different"]

    junit = tmp_path / "verify.xml"
    with pytest.raises(CommandError):
        call_command("portadb", "verify", f"--from={source}", f"--to={target}", "--format=junit",
                     f"--output={junit}")
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {m._meta.db_table for m in shared_models(source, target)}
    assert [n for n, c in cases.items() if c.find("failure") is not None] == ["zoo_everything"]
    assert suite.get("failures") == "1"

    markdown = call_command_text("verify", f"--from={source}", f"--to={target}", "--format=markdown")
    assert "| `zoo_everything` |" in markdown and "### Differing values" in markdown


REFUSALS = {
    "bad-sample": [f"--to={POSTGRESQL}", "--sample=2"],
    "unknown-model": [f"--to={POSTGRESQL}", "--models=zoo.Nope"],
    "bad-chunk-size": [f"--to={POSTGRESQL}", "--chunk-size=0"],
    "missing-target-file": [f"--to={SQLITE_TARGET}"],
    "same-database": [f"--to={SQLITE_SOURCE}"],
}


@pytest.mark.parametrize("args", REFUSALS.values(), ids=REFUSALS.keys())
def test_command_refusals_exit_two_and_create_nothing(zoo_source, args):
    target_file = settings.DATABASES[SQLITE_TARGET]["NAME"]
    if os.path.exists(target_file):
        os.remove(target_file)
    with pytest.raises(CommandError) as failed:
        call_command("portadb", "verify", f"--from={zoo_source}", *args, stdout=io.StringIO())
    assert failed.value.returncode == 2
    assert not os.path.exists(target_file)


def test_copy_verify_runs_the_verification(zoo_source, empty):
    target = empty(POSTGRESQL)
    out = io.StringIO()
    call_command("portadb", "copy", f"--from={zoo_source}", f"--to={target}", "--verify",
                 "--format=json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["ok"] is True and data["verification"]["ok"] is True
    assert data["verification"]["kind"] == "verify"
    compared = sum(t["compared_rows"] for t in data["verification"]["tables"])
    assert compared == sum(t["source_rows"] for t in data["tables"])


# -- helpers -----------------------------------------------------------------------------------


def call_command_text(*args) -> str:
    out = io.StringIO()
    try:
        call_command("portadb", *args, stdout=out)
    except CommandError:
        pass
    return out.getvalue()


def _finding(report, kind, table, pk=None, field=None):
    for f in report.findings:
        if f.kind is kind and f.table == table and (pk is None or f.pk == pk) and \
                (field is None or f.field == field):
            return f
    return None


def _sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


@pytest.mark.parametrize("column", [
    ['{"b": 1, "a": [1.0, 2.5, 1e16]}', None, '"x"', "null", '{"a": {"c": 1, "b": 2}}', "3", "[]"],
    [' {"a": 1}', '{"a": 1} ', "", "{not json", None], [b'{"a": 1}', '{"a": 2}'], [None, None],
    ['{"a": NaN}', '{"a": Infinity}'], ['"\\ud800"', '{"k": "\\u00e9\\n"}'], ['{"a":"}', '{"}', "{},{}"],
    ['{"b": 1, "a": 2}', '{"a": 2, "b": 1}', '{"b": 1, "a": 2}', "null", None, "null", "1.0", "1"],  # repeats
    ['{"a": 1}', "{not json", "{not json", '{"a": 1}'],
])
def test_a_json_column_has_the_canonical_form_of_each_value(column):
    """The whole-column path (C scanner and encoder) gives what value by value gives."""
    from portadb.verify.jsontext import canonical_json, canonical_jsons

    assert canonical_jsons(column) == [canonical_json(v) for v in column]


@pytest.mark.parametrize("column", [
    [dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.timezone.utc), None,
     dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
     dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)],
    [dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 1, 1)],  # naive: its ISO text
    [dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dt.date(2024, 1, 1), "2024-01-01"],
    [None, None],
])
def test_datetime_columns_take_the_canonical_form_of_each_value(column):
    from portadb.verify.canonical import canonical_datetime, canonical_datetimes

    assert canonical_datetimes(tuple(column)) == [canonical_datetime(v) for v in column]


@pytest.mark.parametrize("column", [
    [uuid.UUID(int=0), None, uuid.UUID(int=2**128 - 1)],
    [uuid.UUID(int=5), "12345678123456781234567812345678"],
    [None],
])
def test_uuid_columns_take_the_canonical_form_of_each_value(column):
    from portadb.verify.canonical import canonical_uuid, canonical_uuids

    assert canonical_uuids(tuple(column)) == [None if v is None else canonical_uuid(v) for v in column]


def test_a_sqlite_uuid_column_read_as_bytes_takes_the_numbers_its_uuids_have():
    """Verify reads a SQLite column of 32 hex digits each as bytes, as the copy does: its
    canonical numbers are those of the UUIDs Django's converter makes of the same text."""
    from portadb.backends.sqlite_read import _uuid_bytes
    from portadb.columns import UuidBytes
    from portadb.verify.canonical import canonical_uuid, canonical_uuids

    texts = ["0" * 32, None, "F" * 32, "00ff" * 8, "0123456789abcdefABCDEF0123456789"]
    column = _uuid_bytes(list, texts)
    assert isinstance(column, UuidBytes)
    assert canonical_uuids(column) == [None if t is None else canonical_uuid(uuid.UUID(t)) for t in texts]


@pytest.mark.parametrize("column", [
    [decimal.Decimal("12.50"), None, decimal.Decimal("-0.01"), decimal.Decimal("-12.05"),
     decimal.Decimal("0.00")],
    [decimal.Decimal("1E-7"), decimal.Decimal("NaN"), decimal.Decimal("-Infinity"), decimal.Decimal("1.5")],
    [decimal.Decimal("-0.00"), decimal.Decimal("-0"), decimal.Decimal("1.555"), decimal.Decimal("1E+2")],
    [decimal.Decimal("1.00"), "<unreadable 'x': ValueError>", 3],
    [None],
])
@pytest.mark.parametrize("places", [0, 2, 7])
def test_decimal_columns_take_the_canonical_form_of_each_value(column, places):
    from portadb.verify.canonical import DecimalText

    text = DecimalText(places)
    assert text.column(tuple(column)) == [None if v is None else text(v) for v in column]


def test_a_decimal_takes_the_fields_scale_where_exact_and_zero_has_no_sign():
    from portadb.verify.canonical import DecimalText

    text = DecimalText(2)
    assert [text(decimal.Decimal(v)) for v in ["12.50", "12.5", "12.555", "-0.00", "-0", "1E+2", "NaN"]] == \
        ["12.50", "12.50", "12.555", "0.00", "0.00", "100.00", "NaN"]


@pytest.mark.parametrize("column", [
    [dt.date(2024, 2, 29), None, dt.date(1, 1, 1), dt.date(9999, 12, 31)],
    [dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 5), "2024-01-01"],
    [None, None],
])
def test_date_columns_take_the_canonical_form_of_each_value(column):
    from portadb.verify.canonical import date_text, date_texts

    assert date_texts(tuple(column)) == [None if v is None else date_text(v) for v in column]


def _fresh(text: str) -> str:
    return "".join(list(text))  # an equal string that is another object, never interned


@pytest.mark.parametrize(("a", "b"), [
    (1, True), (0, False), ("1", 1), (b"a", "a"), (None, "None"), ("0.0", 0.0), ((1, 2), [1, 2]),
    ("12.5", "12.50"), (2**70, 2**70 + 1), ("\ud800", "\ufffd"), (dt.date(2024, 1, 1), "2024-01-01"),
    (decimal.Decimal("1.0"), decimal.Decimal("1.00")), ("x", type("Text", (str,), {})("x")),
])
def test_digests_tell_apart_what_repr_tells_apart(a, b):
    """The bytes hashed differ wherever the values or their types do, marshalled or not."""
    from portadb.verify.digests import digest, serialized

    assert serialized((a,)) != serialized((b,))
    assert digest([(1,), (a,)]) != digest([(1,), (b,)])  # two columns of one row


def test_equal_rows_have_equal_digests_whatever_the_objects():
    """marshal's version 2 writes no back-references, so object identity never shows."""
    from portadb.verify.digests import digest, row_digests

    shared = "shared text"
    ours = [(i, shared, shared, "0.0", 2**70, None, True, b"\x00", "é\ud800", dt.date(2024, 1, 1))
            for i in range(300)]
    theirs = [(i, _fresh("shared text"), _fresh(shared), _fresh("0.0"), 2**70, None, True, b"\x00",
               _fresh("é\ud800"), dt.date(2024, 1, 1)) for i in range(300)]
    assert digest(list(zip(*ours))) == digest(list(zip(*theirs))) == digest([list(c) for c in zip(*theirs)])
    key = operator.itemgetter(0)
    assert row_digests(ours, key) == row_digests(theirs, key)


@pytest.mark.parametrize("places", [0, 2, 6, 8])
@pytest.mark.parametrize("texts", [
    ["12", "-3", "0", None],
    ["12.50", "-0.50", "0.00", "999999.99", None],
    ["0.000001", "-0.000001", "123.456789"],
    ["0.00000001", "1.50000000"],
    ["NaN", "Infinity", "-Infinity", "1.5"],
    ["-0.00", "-0", "012.50", "1E-7", "12.5"],  # none of them as PostgreSQL writes them
])
def test_decimals_read_as_text_take_the_canonical_form_of_their_decimals(places, texts):
    """A PostgreSQL decimal read as its text (verify's reads) is canonical as its Decimal is."""
    from portadb.verify.canonical import DecimalText

    text = DecimalText(places)
    decimals = [None if t is None else decimal.Decimal(t) for t in texts]
    assert text.column(tuple(texts)) == text.column(tuple(decimals))
    assert [text(t) for t in texts] == [text(d) for d in decimals]


@pytest.mark.parametrize("scale", [0, 1, 2, 6, 7, 10])
def test_scaled_integers_have_the_text_of_their_decimals(scale):
    """A SQLite decimal column read as exact integers takes the same canonical text as its Decimals."""
    from portadb.columns import ScaledIntegers
    from portadb.verify.canonical import DecimalText

    numbers = [0, 1, -1, None, 7 * 10**scale, -(10**scale), 10**scale - 1, 123456789012345, -99]
    column = ScaledIntegers(numbers, scale)
    text = DecimalText(scale)
    expected = [None if v is None else text(v) for v in column.values()]
    assert text.column(column) == expected
    # Read from the doubles SQLite stores (integral ones as integers), their texts come from them.
    from portadb.backends.sqlite_read import _scaled_integers

    doubles = tuple(None if n is None else n // 10**scale if n % 10**scale == 0 else n / 10**scale
                    for n in numbers)
    read = _scaled_integers(scale, 15, lambda values: pytest.fail("not read as exact integers"), doubles)
    assert read == numbers and read.doubles is not None
    assert text.column(read) == expected


@pytest.mark.parametrize("column", [
    [1.5, None, -0.0, 0.0, float("nan"), float("-inf"), 1e300, 5e-324],
    [1.5, 2, "3.5", None],  # an integer, a text: value by value
    [None],
])
def test_float_columns_take_the_canonical_form_of_each_value(column):
    from portadb.verify.canonical import _float, canonical_floats

    assert canonical_floats(tuple(column)) == [None if v is None else _float(v) for v in column]
