"""What the journal costs per chunk: the one UPDATE it adds to the chunk's own transaction.

    python -m tests.bench_journal      (the test servers of tests/settings.py; recreates them)

Each of N transactions makes one real change (as a chunk's rows do, so the
commit flushes either way), with and without ``Journal.advance``.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
N = 500


def per_chunk(journal, alias: str, with_journal: bool) -> float:
    """Best of three: milliseconds per transaction."""
    from django.db import transaction
    from django.db.models import F

    from portadb.journal import TableRow

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(N):
            with transaction.atomic(using=alias):
                # Stands for the chunk's own rows: a real change, so the commit flushes.
                TableRow.objects.using(alias).filter(table="auth_group").update(rows=F("rows") + 1)
                if with_journal:
                    journal.advance("zoo_everything", [12345], 1000)
        best = min(best, time.perf_counter() - t0)
    return best / N * 1000


def main() -> None:
    import django

    django.setup()
    from portadb.endpoints import close, open_endpoints
    from portadb.journal import Journal
    from portadb.plan import make_plan
    from tests import databases as db
    from tests.backends import TARGETS, source_of

    source = source_of("sqlite")
    db.recreate(source)
    db.migrate(source)
    for target in TARGETS:
        db.recreate(target)
        src, tgt = open_endpoints(source, target)
        try:
            journal = Journal.begin(make_plan(src, tgt))
            alone, both = (per_chunk(journal, tgt.alias, w) for w in (False, True))
        finally:
            close(src, tgt)
        print(f"{target:10}  transaction alone {alone:.3f} ms, with the journal UPDATE {both:.3f} ms:"
              f" the journal adds {both - alone:.3f} ms per chunk")


if __name__ == "__main__":
    main()
