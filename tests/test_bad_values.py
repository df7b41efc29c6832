"""Bad values: the dry-run names each one, the copy refuses exactly those, the rest arrives intact."""

from __future__ import annotations

import base64
import io
import json
import re
from functools import partial

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

import portadb
from portadb.backends import adapter_for
from portadb.checks import VALUE_KINDS
from portadb.endpoints import close, open_endpoints
from portadb.exceptions import PreconditionError, ValueRefused
from portadb.models import project_models, shared_models
from portadb.plan import make_plan
from portadb.reports import FindingKind as K
from portadb.scan import scan_parts

from . import databases as db
from .backends import SERVER_TARGETS, direction_id, source_of, target_of
from .baddata import MY, PG, spoil
from .zoo import models as m

#: From the SQLite zoo to each server.
TARGETS = [pytest.param(t, id=direction_id((source_of("sqlite"), t))) for t in SERVER_TARGETS]
POSTGRESQL, MYSQL = target_of("postgresql"), target_of("mysql")


@pytest.fixture
def bad_source(zoo_source):
    """The zoo in SQLite plus one or more bad rows of every kind; what each target refuses."""
    return zoo_source, spoil(zoo_source)


def flagged(report) -> set[tuple]:
    """(table, pk, field, kind) of every value the dry-run reports."""
    found = set()
    for v in report.values:
        assert v.count == len(v.first_pks), "the fixture keeps every group under the listing limit"
        found |= {(v.table, pk, v.field, v.kind) for pk in v.first_pks}
    return found


def reject_lines(path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def refused(lines) -> set[tuple]:
    return {(x["table"], x["pk"], x["field"], K(x["kind"])) for x in lines}


@pytest.mark.parametrize("target", TARGETS)
def test_dry_run_lists_every_bad_value(bad_source, empty, target):
    source, expected = bad_source
    report = portadb.plan(source, empty(target))
    assert flagged(report) == expected[db.vendor_of(target)]
    assert report.exit_code == 1 and not report.ok
    assert report.refused_rows == len({(t, pk) for t, pk, _, _ in expected[db.vendor_of(target)]})


def test_the_fixture_covers_every_kind_on_each_target(bad_source):
    _, expected = bad_source
    kinds = {vendor: {k for *_, k in rows} for vendor, rows in expected.items()}
    only_mariadb = {K.NOT_FINITE, K.UNIQUE_COLLISION}
    # NUL is refused by PostgreSQL alone; 4-byte characters by utf8mb3 alone, characters latin1
    # lacks, wall times a time zone skips without USE_TZ alone, rows over max_allowed_packet, digits
    # SQLite's doubles lose from a typed source (each tested elsewhere).
    elsewhere = {K.FOUR_BYTE_CHARACTER, K.UNSTORABLE_CHARACTER, K.NONEXISTENT_TIME, K.TOO_LARGE,
                 K.TOO_MANY_DIGITS}
    assert kinds[PG] == VALUE_KINDS - elsewhere - {K.UNIQUE_COLLISION}
    assert kinds[MY] == VALUE_KINDS - elsewhere - {K.NUL_CHARACTER}
    assert only_mariadb <= kinds[MY]


@pytest.mark.parametrize("target", TARGETS)
def test_a_scan_in_two_processes_finds_what_one_finds(bad_source, empty, target):
    source, expected = bad_source
    target = empty(target)
    src, tgt = open_endpoints(source, target)
    try:  # chunks of 3 rows: the biggest tables are cut into key ranges, bad rows in several
        parts = scan_parts(make_plan(src, tgt), workers=2, chunk_size=3)
    finally:
        close(src, tgt)
    assert len(parts) > len({p.table for p in parts})

    one = portadb.plan(source, target, jobs=1, chunk_size=3)
    two = portadb.plan(source, target, jobs=2, chunk_size=3)
    assert (one.workers, two.workers) == (1, 2)
    assert flagged(two) == expected[db.vendor_of(target)]
    assert two.values == one.values  # in the same order, with the same first keys
    assert (two.rows_scanned, two.refused_rows) == (one.rows_scanned, one.refused_rows)
    assert two.rows_scanned == sum(t.rows for t in two.tables)  # every row once


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("workers", [{}, {"jobs": 2, "chunk_size": 3}], ids=["default", "two-scanners"])
def test_reject_refuses_exactly_what_the_dry_run_flags(bad_source, empty, target, tmp_path, workers):
    source, _ = bad_source
    target = empty(target)
    dry = flagged(portadb.plan(source, target, **workers))
    path = tmp_path / "rejects.jsonl"
    report = portadb.copy(source, target, on_error="reject", reject_file=str(path), **workers)
    lines = reject_lines(path)
    assert dry - refused(lines) == set(), "flagged by the dry-run but copied"
    assert refused(lines) - dry == set(), "refused by the copy but not flagged by the dry-run"

    # Counts: source rows = target rows + rejected rows, table by table.
    rejected = {}
    for x in lines:
        rejected.setdefault(x["table"], set()).add(x["pk"])
    for t in report.tables:
        assert t.rejected == len(rejected.get(t.table, ())), t.table
        assert t.source_rows == t.target_rows + t.rejected, t.table
    assert report.ok and report.exit_code == 1 and report.reject_file == str(path)
    assert_rest_copied_exactly(source, target, rejected)


@pytest.mark.parametrize("target", TARGETS)
def test_verify_after_a_reject_copy_names_the_rejected_rows_missing(bad_source, empty, target, tmp_path):
    """Some rejected values are ones Django cannot read on the source (a decimal with more
    digits than its field): verify reports the rejected rows missing, never a traceback."""
    source, _ = bad_source
    target = empty(target)
    path = tmp_path / "rejects.jsonl"
    portadb.copy(source, target, on_error="reject", reject_file=str(path))
    rejected = {}
    for x in reject_lines(path):
        rejected.setdefault(x["table"], set()).add(x["pk"])
    report = portadb.verify(source, target)
    assert report.exit_code == 1
    assert {t.table: t.missing_count for t in report.tables if t.missing_count} == \
        {table: len(pks) for table, pks in rejected.items()}
    assert all(set(map(_as_read, t.missing_pks)) <= rejected.get(t.table, set()) and not t.extra_count
               and not t.different_rows for t in report.tables), portadb.render(report, verbosity=2)
    with pytest.raises(CommandError) as failed:
        call_command("portadb", "verify", f"--from={source}", f"--to={target}", stdout=io.StringIO())
    assert failed.value.returncode == 1


def assert_rest_copied_exactly(source, target, rejected):
    """Every row not rejected is on the target, equal value by value (the control rows)."""
    for model in shared_models(source, target):
        table = model._meta.db_table
        fields = [f.attname for f in model._meta.local_concrete_fields]
        left_out = rejected.get(table, set())
        after = model._base_manager.using(target).order_by("pk")
        # By the target's keys: Django cannot even ask for a rejected key that is no UUID.
        kept = model._base_manager.using(source).filter(pk__in=list(after.values_list("pk", flat=True)))
        assert _plain(after.values_list(*fields)) == _plain(kept.order_by("pk").values_list(*fields)), table
        assert model._base_manager.using(source).count() == after.count() + len(left_out), table


def _as_read(pk):
    """A key as the source holds it: verify names one that no value of its field as unreadable."""
    found = re.fullmatch(r"<unreadable '(.*)': \w+>", pk) if isinstance(pk, str) else None
    return found[1] if found else pk


def _plain(rows) -> list[tuple]:
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]


def test_reject_file_keeps_the_original_values(bad_source, empty, tmp_path):
    source, _ = bad_source
    target = empty(POSTGRESQL)
    path = tmp_path / "rejects.jsonl"
    portadb.copy(source, target, on_error="reject", reject_file=str(path))
    by_kind = {}
    for x in reject_lines(path):
        by_kind.setdefault(x["kind"], []).append(x)
    assert by_kind["invalid_utf8"][0]["value"] == {
        "type": "invalid_utf8", "base64": base64.b64encode(b"\xc3(").decode()}
    assert by_kind["wrong_type"][0]["value"] == {
        "type": "bytes", "base64": base64.b64encode(b"\1\2").decode()}
    assert by_kind["nul_character"][0]["value"] == "a\x00b"
    assert {x["value"] for x in by_kind["integer_out_of_range"]} == {2**40, 40_000}
    assert by_kind["too_long"][0]["row"]["slug"].startswith("bad-")
    dependent = next(x for x in by_kind["depends_on_refused"] if x["table"] == "zoo_place")
    assert dependent["model"] == "zoo.Place" and "zoo.Restaurant" in dependent["reason"]


@pytest.mark.parametrize("target", TARGETS)
def test_abort_stops_before_writing_the_bad_chunk(bad_source, empty, target):
    source, expected = bad_source
    target = empty(target)
    with pytest.raises(ValueRefused) as raised:  # one process: which refusal comes first is fixed
        portadb.copy(source, target, chunk_size=10, jobs=1)
    first = raised.value.refusals[0]
    assert (first.table, first.pk, first.field, first.kind) in expected[db.vendor_of(target)]
    assert f"{first.model}(pk={first.pk!r})" in str(raised.value) and first.field in str(raised.value)

    # The chunks before the bad one are on the target; nothing of the bad chunk is.
    ids = [r[0] for r in db.raw_snapshot(source, first.table, ["id"], "id")]
    chunk_start = next(i for i in range(0, len(ids), 10) if first.pk in ids[i:i + 10])
    assert chunk_start > 0
    assert [r[0] for r in db.raw_snapshot(target, first.table, ["id"], "id")] == ids[:chunk_start]


@pytest.mark.parametrize("charset, kind, lacks", [
    ("utf8mb3", K.FOUR_BYTE_CHARACTER, lambda c: ord(c) > 0xFFFF),
    ("latin1", K.UNSTORABLE_CHARACTER, lambda c: c not in _LATIN1),
], ids=["utf8mb3", "latin1"])
def test_characters_a_narrow_charset_lacks_are_refused_by_name(zoo_source, empty, tmp_path, charset, kind,
                                                               lacks):
    """utf8mb3 holds no 4-byte character ('🐍'); MariaDB's latin1 is Windows-1252 ('ł', '中' neither).
    Each such value is refused by name, not by its chunk."""
    target = empty(MYSQL)
    name = connections[target].settings_dict["NAME"]
    with connections[target].cursor() as cursor:
        cursor.execute(f"ALTER DATABASE `{name}` CHARACTER SET {charset}")
    connections[target].close()
    m.Everything.objects.using(zoo_source).create(slug="latin1", char="€ ‚ Ÿ ÿ é \x81")
    m.Everything.objects.using(zoo_source).create(slug="not-latin1", text="ł 中")
    found = flagged(portadb.plan(zoo_source, target))
    assert {(t, pk, f) for t, pk, f, k in found if k is kind} == astral_values(zoo_source, lacks) != set()

    path = tmp_path / "rejects.jsonl"
    copied = portadb.copy(zoo_source, target, on_error="reject", reject_file=str(path))
    assert refused(reject_lines(path)) == found
    assert all(t.ok for t in copied.tables)
    assert m.Everything.objects.using(target).get(slug="latin1").char == "€ ‚ Ÿ ÿ é \x81"


_LATIN1 = {bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)}


def astral_values(alias, refused=lambda c: ord(c) > 0xFFFF) -> set[tuple]:
    """(table, pk, field) of every text value holding a ``refused`` character (default: one
    outside the BMP), an oracle."""
    found = set()
    for model in project_models(alias):
        for row in model._base_manager.using(alias).order_by("pk").values():
            for f in model._meta.local_concrete_fields:
                value = row[f.attname]
                if isinstance(value, str) and any(map(refused, value)):
                    found.add((model._meta.db_table, row[model._meta.pk.attname], f.name))
    return found


@pytest.mark.slow
def test_abort_names_one_flagged_row_at_a_time_until_the_copy_succeeds(bad_source, empty):
    """The abort path (per-chunk checks, no scan) agrees with the dry-run, both ways."""
    source, _ = bad_source
    target = empty(POSTGRESQL)
    dry = flagged(portadb.plan(source, target))
    named = set()
    for _ in range(len(dry) + 1):
        try:
            portadb.copy(source, target, replace=True)
            break
        except ValueRefused as e:
            first = e.refusals[0]
            named.add((first.table, first.pk))
            _delete(source, first.table, first.pk)  # "fix the data" and run again
    else:
        pytest.fail("the copy never succeeded")
    rows = {(table, pk) for table, pk, _, _ in dry}
    assert named - rows == set(), "refused by the copy but not flagged by the dry-run"
    bad_in_themselves = {(table, pk) for table, pk, _, kind in dry if kind is not K.DEPENDS_ON_REFUSED}
    assert bad_in_themselves - named == set(), "flagged by the dry-run but copied"


def _delete(alias, table, pk):
    import sqlite3

    from django.conf import settings

    key = next(m for m in project_models() if m._meta.db_table == table)._meta.pk.column
    connections[alias].close()
    db = sqlite3.connect(settings.DATABASES[alias]["NAME"], isolation_level=None)
    db.execute(f'DELETE FROM "{table}" WHERE "{key}" = ?', [pk])
    db.close()


@pytest.mark.parametrize("where", ["in-a-chunk", "between-tables"])
def test_a_resumed_reject_copy_keeps_every_rejected_row_once(bad_source, empty, tmp_path, where):
    from . import processes
    from .test_resume import chunks_before

    source, _ = bad_source
    target = empty(POSTGRESQL)
    whole = tmp_path / "whole.jsonl"
    expected = portadb.copy(source, target, on_error="reject", reject_file=str(whole), chunk_size=3)

    target = empty(POSTGRESQL)
    path = tmp_path / "resumed.jsonl"
    rows = m.Everything._base_manager.using(source).count()
    before = chunks_before(source, target, "zoo_everything")
    # The last chunk of zoo_everything holds bad rows: its lines are written, it never commits.
    stop = f"chunk:{before + -(-rows // 3)}" if where == "in-a-chunk" else \
        f"table:{[t.table for t in expected.tables].index('zoo_everything') + 1}"
    proc = processes.start("copy", f"--from={source}", f"--to={target}", "--chunk-size=3",
                           "--on-error=reject", f"--reject-file={path}", stop=stop)
    processes.wait_stopped(proc)
    processes.kill(proc)
    assert reject_lines(path), "the interrupted copy had rejected rows already"

    report = portadb.copy(source, target, resume=True, on_error="reject", reject_file=str(path),
                          chunk_size=3)
    assert report.resumed
    key = partial(json.dumps, sort_keys=True)
    assert sorted(map(key, reject_lines(path))) == sorted(map(key, reject_lines(whole)))
    assert {t.table: t.rejected for t in report.tables} == {t.table: t.rejected for t in expected.tables}
    rejected = {}
    for x in reject_lines(path):
        rejected.setdefault(x["table"], set()).add(x["pk"])
    assert_rest_copied_exactly(source, target, rejected)



def test_a_resume_refuses_a_reject_file_that_lost_rows(bad_source, empty, tmp_path):
    """Deleted or cut short between the crash and the resume: refused in one sentence, nothing
    written; the interrupted copy's own file resumes."""
    from . import processes

    source, _ = bad_source
    target = empty(POSTGRESQL)
    path = tmp_path / "rejects.jsonl"
    order = [job.table for job in portadb.plan(source, target).tables]
    args = [f"--from={source}", f"--to={target}", "--chunk-size=3", "--on-error=reject",
            f"--reject-file={path}"]
    proc = processes.start("copy", *args, stop=f"table:{order.index('zoo_everything') + 1}")
    processes.wait_stopped(proc)
    processes.kill(proc)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = {(json.loads(line)["table"], json.loads(line)["pk"]) for line in lines}
    rejected = len([table for table, _ in rows if table == "zoo_everything"])
    assert rejected > 2
    before = table_counts(target)

    path.unlink()
    with pytest.raises(PreconditionError, match=re.escape(
            f"Cannot resume: the reject file {str(path)!r} of the interrupted copy is missing, and it held"
            f" the {len(rows)} rows that copy rejected; restore it, or copy again with --replace.")):
        portadb.copy(source, target, resume=True, on_error="reject", reject_file=str(path), chunk_size=3)
    assert not path.exists() and table_counts(target) == before

    kept = [line for line in lines if json.loads(line)["pk"] != json.loads(lines[-1])["pk"]]
    path.write_text("".join(kept), encoding="utf-8")
    with pytest.raises(PreconditionError, match=re.escape(
            f"the reject file {str(path)!r} holds {rejected - 1} of the {rejected} rows of zoo_everything")):
        portadb.copy(source, target, resume=True, on_error="reject", reject_file=str(path), chunk_size=3)
    assert table_counts(target) == before

    path.write_text("".join(lines), encoding="utf-8")
    report = portadb.copy(source, target, resume=True, on_error="reject", reject_file=str(path), chunk_size=3)
    assert report.resumed and all(t.ok for t in report.tables)


def table_counts(alias: str) -> dict[str, int]:
    adapter = adapter_for(connections[alias])
    counts = {table: adapter.count(table) for table in adapter.table_names()}
    connections[alias].close()
    return counts
