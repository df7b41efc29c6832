"""Large values: chunks bounded by bytes as well as rows, rows over a write path's limit refused
up front (naming the setting), and memory that stays flat with 20 MB values."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

import portadb
from portadb.backends import adapter_for
from portadb.exceptions import ValueRefused
from portadb.reports import FindingKind as K
from portadb.transfer import keyset, large_values

from .backends import second_target_of, target_of
from .zoo import models as m

MYSQL, MYSQL_INSERT = target_of("mysql"), second_target_of("mysql")
POSTGRESQL, SQLITE = target_of("postgresql"), target_of("sqlite")
MB = 1_000_000


def large(alias: str, sizes: list[int], char: str = "x", slug: str = "large") -> list[int]:
    """Rows of zoo.Everything whose text is ``size`` characters of ``char`` (and its index); their pks."""
    return [m.Everything.objects.using(alias).create(slug=f"{slug}-{i}", text=char * size + str(i)).pk
            for i, size in enumerate(sizes)]


@pytest.mark.parametrize("alias", [SQLITE, POSTGRESQL, MYSQL], ids=["sqlite", "postgresql", "mysql"])
def test_chunks_hold_at_most_the_budget_of_large_values(zoo_source, empty, alias):
    """Counted in bytes (two-byte characters count twice), at least one row per chunk,
    every row once and in key order."""
    alias = empty(alias)
    assert portadb.copy(zoo_source, alias).ok
    large(alias, [MB, MB, 3 * MB, MB // 2, MB // 2, MB // 2, 5 * MB], char="é")
    adapter = adapter_for(connections[alias])
    fields = list(m.Everything._meta.local_concrete_fields)
    columns = [f.column for f in fields]
    sizes = large_values(adapter, fields)
    assert len(sizes) >= 3  # text, json, binary at least
    budget = 4 * MB + MB // 2
    chunks = list(keyset(adapter, "zoo_everything", columns, ["id"], 1000, sizes=sizes, budget=budget))
    text, slug = columns.index("text"), columns.index("slug")

    def size(row) -> int:
        return sum(len(v.encode()) if isinstance(v, str) else len(bytes(v)) for v in row
                   if isinstance(v, (str, bytes, memoryview)))

    # 2 + 2 MB with the zoo's rows, then 6 MB alone, 3 x 1 MB, 10 MB alone.
    assert [len(c) for c in chunks][-3:] == [1, 3, 1]
    assert [row[slug] for row in chunks[-4][-2:]] == ["large-0", "large-1"]
    assert all(len(c) == 1 or sum(map(size, c)) <= budget for c in chunks)
    ids = [row[columns.index("id")] for c in chunks for row in c]
    assert ids == sorted(ids) and len(ids) == m.Everything.objects.using(alias).count()
    assert max(len(row[text]) for c in chunks for row in c) == 5 * MB + 1


@pytest.mark.parametrize("target", [MYSQL, MYSQL_INSERT], ids=["load-data", "insert"])
def test_a_20_mb_text_into_mariadb(zoo_source, empty, target, tmp_path):
    """LOAD DATA streams it: exact, verified. A multi-row INSERT sends each row in one packet, and
    the server's max_allowed_packet (16 MB here) is smaller: the dry run names it, the copy
    refuses it before writing, a reject copy leaves it out. A 2.2-million-character text of
    two-byte characters (4.4 MB) fits and goes through either way."""
    big, fits = large(zoo_source, [20 * MB, 2_200_000], char="é")
    target = empty(target)
    adapter = adapter_for(connections[target])
    with connections[target].cursor() as cursor:
        cursor.execute("SELECT @@max_allowed_packet")
        packet = cursor.fetchone()[0]
    assert 4_400_000 < packet < 40 * MB  # the default 16 MB (or anything between)

    plan = portadb.plan(zoo_source, target)
    if adapter.write_method() == "load data":
        assert plan.values == []
        report = portadb.copy(zoo_source, target, verify=True)
        assert report.ok and report.verification.ok, portadb.render(report)
        assert len(m.Everything.objects.using(target).get(pk=big).text) == 20 * MB + 1
        return

    assert [(v.kind, v.first_pks, v.field) for v in plan.values] == [(K.TOO_LARGE, [big], "text")]
    reason = plan.values[0].reason
    assert f"max_allowed_packet is {packet:,} bytes" in reason and "LOAD DATA" in reason
    sent = int(re.match(r"takes ([\d,]+) bytes on the way in with the rest of its row;", reason)[1]
               .replace(",", ""))
    assert 40 * MB < sent < 40 * MB + 200  # é: 2 bytes each; the row's other text around it
    with pytest.raises(ValueRefused, match="max_allowed_packet") as refused:
        portadb.copy(zoo_source, target)
    # The value's problem, not the target's: --resume only once the value is fixed.
    message = str(refused.value)
    assert "Could not write" not in message and "fix the values on the source" in message
    assert not m.Everything.objects.using(target).filter(pk__gte=big).exists()  # not even its chunk
    path = tmp_path / "rejects.jsonl"
    report = portadb.copy(zoo_source, target, replace=True, on_error="reject", reject_file=str(path))
    assert [json.loads(line)["pk"] for line in path.read_text().splitlines()] == [big]
    assert all(t.ok for t in report.tables)
    assert m.Everything.objects.using(target).get(pk=fits).text == "é" * 2_200_000 + "1"


@pytest.mark.slow
def test_memory_stays_flat_with_20_mb_values(zoo_source, empty):
    """Six rows of 20 MB: a copy and a verification each stay far below the six values' worth
    of copies they made before chunks were counted in bytes (634 and 789 MB then). So does a
    sync of twelve (six changed, six new) found by the fingerprints and read by key: 203 MB,
    as with twenty-four (which took 1.5 GB when keys were read a thousand at a time and
    SQLite's GROUP BY sorted every row's values for the fingerprints)."""
    pks = large(zoo_source, [20 * MB] * 6)
    target = empty(POSTGRESQL)
    for command in ("copy", "verify"):
        peak = _peak_rss(command, zoo_source, target)
        assert peak < 400 * 2**20, f"{command}: {peak / 2**20:.0f} MB"
    assert portadb.sync(zoo_source, target).ok  # keeps fingerprints: the next one reads by key
    for pk in pks:
        m.Everything.objects.using(zoo_source).filter(pk=pk).update(text="y" * 20 * MB + str(pk))
    added = large(zoo_source, [20 * MB] * 6, char="z", slug="added")
    peak = _peak_rss("sync", zoo_source, target)
    assert peak < 300 * 2**20, f"sync: {peak / 2**20:.0f} MB"
    assert m.Everything.objects.using(target).get(pk=pks[-1]).text.startswith("y")
    assert m.Everything.objects.using(target).get(pk=added[-1]).text.startswith("z")


def _peak_rss(command: str, source: str, target: str) -> int:
    done = subprocess.run([sys.executable, "-m", "tests.bench_memory", "--child", command, source, target],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "ok", result
    return max(result["self"], result["children"])
