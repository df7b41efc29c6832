"""Auto primary keys after a copy and a sync: past the copied keys, and never behind the source.

Rows deleted on the source before the copy had keys above the largest left.
The source never hands those out again; nor may the target, or a new object
would take a deleted one's key, and every row still naming it (an audit
trail, a generic foreign key, a log) would point at the new object.
"""

from __future__ import annotations

import os

import pytest
from django.db import connections

import portadb
from portadb.reports import FindingKind

from .backends import DIRECTIONS, backend_of, direction_id, second_target_of, target_of
from .zoo import models as m


def _source_and_target(zoo_source, empty, direction) -> tuple[str, str]:
    """A writable source of the direction's source vendor holding the zoo, and an empty target."""
    source_vendor, target_vendor = (backend_of(alias).vendor for alias in direction)
    source = zoo_source
    if source_vendor != "sqlite":
        source = empty(target_of(source_vendor))
        assert portadb.copy(zoo_source, source).ok
    if target_vendor == source_vendor and source != zoo_source:
        return source, empty(second_target_of(target_vendor))
    return source, empty(target_of(target_vendor))


def _deleted_on(alias: str, model) -> int:
    """Add two rows to ``model`` on ``alias`` and delete them; return the key after theirs."""
    made = [model.objects.using(alias).create(name=f"gone {i}") for i in range(2)]
    model.objects.using(alias).filter(pk__in=[o.pk for o in made]).delete()
    return made[-1].pk + 1


@pytest.mark.parametrize("direction", DIRECTIONS, ids=direction_id)
def test_keys_of_rows_deleted_on_the_source_are_not_handed_out_again(zoo_source, empty, direction):
    source, target = _source_and_target(zoo_source, empty, direction)
    expected = {model: _deleted_on(source, model) for model in (m.PlainAuto, m.SmallAuto)}

    report = portadb.copy(source, target)

    assert report.ok, portadb.render(report)
    verified = portadb.verify(source, target)
    assert verified.ok and all(s.source_next is not None and s.follows_source for s in verified.sequences), \
        portadb.render(verified)
    for model, key in expected.items():
        assert model.objects.using(target).create(name="new").pk == key, model


@pytest.mark.parametrize("direction", DIRECTIONS, ids=direction_id)
def test_verify_warns_of_a_counter_behind_the_source(zoo_source, empty, direction):
    source, target = _source_and_target(zoo_source, empty, direction)
    assert portadb.copy(source, target).ok
    key = _deleted_on(source, m.PlainAuto)  # after the copy: the target's counter stays behind

    report = portadb.verify(source, target)

    # A warning: the source's counter is read live, and moves for inserts it rolled back too.
    behind = [f for f in report.findings if f.kind == FindingKind.COUNTER_NOT_FOLLOWED]
    assert report.ok and [f.table for f in behind] == [m.PlainAuto._meta.db_table], portadb.render(report)
    assert f"but {key} on the source: new rows may take the keys of rows deleted" in behind[0].message



@pytest.mark.parametrize("target_vendor", ["postgresql", "mysql"])
def test_a_source_counter_beyond_the_target_columns_range_is_named(zoo_source, empty, target_vendor):
    """SQLite's counter of a SmallAutoField may pass 32767 (its integer column has no range); a
    smallint target cannot follow it: the copy says so instead of failing at setval (or setting
    an AUTO_INCREMENT no key can reach)."""
    with connections[zoo_source].cursor() as cursor:
        cursor.execute("UPDATE sqlite_sequence SET seq = 40000 WHERE name = 'zoo_smallauto'")
    connections[zoo_source].close()
    target = empty(target_of(target_vendor))

    report = portadb.copy(zoo_source, target)

    assert report.ok, portadb.render(report)
    [warning] = [f for f in report.findings if f.kind == FindingKind.COUNTER_NOT_FOLLOWED]
    assert warning.table == "zoo_smallauto" and "the source's next key, 40001, is beyond the column's range" \
        in warning.message
    verified = portadb.verify(zoo_source, target)
    assert verified.ok and [f.table for f in verified.findings
                            if f.kind == FindingKind.COUNTER_NOT_FOLLOWED] == ["zoo_smallauto"]
    assert m.SmallAuto.objects.using(target).create(name="next").pk > max(
        m.SmallAuto.objects.using(zoo_source).values_list("pk", flat=True))


@pytest.fixture
def sequence_blind_url(empty):
    """A URL of a PostgreSQL source holding the zoo, for a user who may read its tables but not
    its sequences; dropped afterwards."""
    role = f"portadb_seqless_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    made = []

    def make(zoo_source: str, usage: bool = False) -> tuple[str, str]:
        alias = empty(target_of("postgresql"))
        assert portadb.copy(zoo_source, alias).ok
        conf = connections[alias].settings_dict
        with connections[alias].cursor() as cursor:
            cursor.execute(f"DROP ROLE IF EXISTS {role}")
            cursor.execute(f"CREATE ROLE {role} LOGIN")
            cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
            cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
            if usage:  # what an application's role needs for nextval(), without SELECT
                cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        made.append(alias)
        return alias, f"postgresql://{role}@{conf['HOST']}:{conf['PORT']}/{conf['NAME']}"

    yield make
    for alias in made:
        with connections[alias].cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")


def test_a_counter_the_source_does_not_let_be_read_is_named(zoo_source, empty, sequence_blind_url):
    """Without the privilege to read a sequence, the copy cannot follow it: a warning, not a
    silent floor of nothing (and no failure: the user may read every row)."""
    alias, url = sequence_blind_url(zoo_source)
    _deleted_on(alias, m.PlainAuto)
    target = empty(target_of("sqlite"))

    report = portadb.copy(url, target)

    assert report.ok, portadb.render(report)
    blind = {f.table for f in report.findings if f.kind == FindingKind.COUNTER_NOT_FOLLOWED}
    assert "zoo_plainauto" in blind and all("may not read the sequence" in f.message
                                            for f in report.findings if f.table in blind)
    verified = portadb.verify(url, target)
    assert {f.table for f in verified.findings if f.kind == FindingKind.COUNTER_NOT_FOLLOWED} == blind


def test_a_counter_the_source_lets_be_used_is_followed(zoo_source, empty, sequence_blind_url):
    """USAGE alone (nextval's privilege) reads the counter through pg_sequence_last_value()."""
    alias, url = sequence_blind_url(zoo_source, usage=True)
    key = _deleted_on(alias, m.PlainAuto)
    target = empty(target_of("sqlite"))

    report = portadb.copy(url, target)

    assert report.ok and not [f for f in report.findings if f.kind == FindingKind.COUNTER_NOT_FOLLOWED]
    assert m.PlainAuto.objects.using(target).create(name="new").pk == key


def test_a_sqlite_table_without_autoincrement_has_no_counter_to_move(empty):
    """A plain INTEGER PRIMARY KEY takes max + 1 whatever sqlite_sequence says of it."""
    from portadb.backends import adapter_for

    connection = connections[empty(target_of("sqlite"))]
    adapter = adapter_for(connection)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE plain (id integer PRIMARY KEY)")
        cursor.execute("CREATE TABLE counted (id integer PRIMARY KEY AUTOINCREMENT)")
        cursor.execute("INSERT INTO plain VALUES (3)")
        cursor.execute("INSERT INTO counted VALUES (3)")
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('plain', 90)")
        assert adapter.next_auto_value("plain", "id") == 4 and adapter.counter_sql("plain", "id", 50) == []
        for sql, params in adapter.counter_sql("counted", "id", 50):
            cursor.execute(sql, params)
        cursor.execute("INSERT INTO counted DEFAULT VALUES")
        cursor.execute("SELECT max(id) FROM counted")
        assert cursor.fetchone()[0] == 50 == adapter.next_auto_value("counted", "id") - 1
