"""The journal's own pieces: resume-point queries on awkward names, keys stored exactly."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps.registry import Apps
from django.db import connections, models

from portadb import journal
from portadb.backends import adapter_for
from portadb.convert import columns_for
from portadb.endpoints import Endpoint
from portadb.journal import Journal
from portadb.keys import decode_key, encode_key
from portadb.parts import Part, count
from portadb.plan import TableJob
from portadb.transfer import read_chunks

from .backends import TARGETS


class Odd(models.Model):
    """Reserved words, a space and capitals: unquoted, none of these names would parse."""

    key = models.CharField(max_length=10, primary_key=True, db_column="Order")
    number = models.IntegerField(db_column="from")

    class Meta:
        apps = Apps()
        app_label = "portadb_tests"
        db_table = "Odd Select Table"


@pytest.mark.parametrize("alias", TARGETS)
def test_resume_point_queries_quote_every_identifier(empty, alias):
    empty(alias)
    with connections[alias].schema_editor() as editor:
        editor.create_model(Odd)
    Odd.objects.using(alias).bulk_create([Odd(key=f"k{i:02}", number=i % 3) for i in range(10)])
    conn = connections[alias]
    job = TableJob(Odd._meta.db_table, "odd", Odd, columns_for(Odd, conn, conn), ["Order"], 10)

    adapter = adapter_for(conn)
    assert count(adapter, Part(job.table), job.key) == 10
    assert count(adapter, Part(job.table, through=("k04",)), job.key) == 5
    assert count(adapter, Part(job.table, after=("k04",), through=("k07",)), job.key) == 3
    assert adapter.key_at(job.table, job.key, 4) == ("k04",)
    assert adapter.key_at(job.table, job.key, 10) is None
    assert adapter.key_at(job.table, job.key, 2, after=("k04",)) == ("k07",)  # the third above k04
    assert adapter.key_at(job.table, job.key, 5, after=("k04",)) is None
    rest = [row for chunk in read_chunks(Endpoint(alias, alias), job, 3, start=["k04"]) for row in chunk]
    assert [row[0] for row in rest] == [f"k{i:02}" for i in range(5, 10)]

    by_two = TableJob(job.table, "odd", Odd, job.columns, ["from", "Order"], 10)
    # (number, key) <= (1, "k04"): every number 0, and number 1 up to k04 (k01, k04).
    assert count(adapter, Part(job.table, through=(1, "k04")), by_two.key) == 4 + 2
    assert adapter.key_at(job.table, by_two.key, 0, after=(1, "k04")) == (1, "k07")


@pytest.mark.parametrize("key", [
    [2**63 - 1], [-1, "ü/é 'x'"], [0.1 + 0.2], [Decimal("-0.0001")],
    [uuid.UUID(int=7)], [dt.datetime(2024, 2, 29, 23, 59, 59, 999999, dt.timezone.utc)],
    [dt.datetime(2024, 1, 1, 12)], [dt.date(1, 1, 1)], [dt.time(23, 59, 59, 1)], [bytes(range(256))],
])
def test_keys_are_stored_exactly(key):
    back = decode_key(encode_key(key))
    assert back == key
    assert [type(v) for v in back] == [type(v) for v in key]
    if isinstance(key[0], dt.datetime):
        assert back[0].tzinfo == key[0].tzinfo


def test_a_key_of_an_unknown_type_is_refused_not_mangled():
    with pytest.raises(TypeError, match="cannot journal a key of type list"):
        encode_key([[1, 2]])


@pytest.mark.parametrize("alias", TARGETS)
def test_tables_whose_names_differ_in_case_alone_have_a_journal_row_each(empty, alias):
    """MySQL's default collation ignores case: the journal's column of table names must not
    (PostgreSQL keeps ``"CaseT"`` and ``"caset"`` apart, and so does MariaDB on Linux)."""
    empty(alias)
    endpoint = Endpoint(alias, alias)
    plan = SimpleNamespace(target=endpoint, source=endpoint, path="models", jobs=[])
    Journal.begin(plan, [Part("CaseT"), Part("caset")])
    assert sorted(journal.TableRow.objects.using(alias).values_list("table", flat=True)) == ["CaseT", "caset"]
