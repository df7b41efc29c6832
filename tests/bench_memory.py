"""Peak memory of a copy and a verification with large values.

    python -m tests.bench_memory [--mb 20 50] [--rows 6] [--to postgresql mysql sqlite2]

Fills ``default`` (SQLite) with the zoo plus ``--rows`` rows of zoo.Everything
whose text is ``--mb`` megabytes each, then, per target, copies and verifies
in child processes of their own and prints each one's peak resident set size
(the larger of its own peak, :func:`peak_self`, and the ``ru_maxrss`` of the
processes it started and waited for: verify's target reader). Servers as for the tests. Run it with another
checkout's ``portadb`` first on ``PYTHONPATH`` (from another directory: ``-m`` puts
the current one first) to measure that code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--to", nargs="+", default=["postgresql", "mysql", "sqlite2"])
    parser.add_argument("--child", nargs=3, metavar=("COMMAND", "SOURCE", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    if args.child:
        child(*args.child)
        return

    import portadb

    from . import databases as db

    print(f"portadb from {os.path.dirname(portadb.__file__)}")
    for mb in args.mb:
        db.recreate("default")
        db.migrate("default")
        fill("default", args.rows, mb * 1_000_000)
        for target in args.to:
            db.recreate(target)
            for command in ("copy", "verify"):
                peak, seconds, outcome = measure(command, "default", target)
                print(f"{args.rows} x {mb} MB text, {command:6} sqlite -> {target:10}: peak RSS"
                      f" {peak / 2**20:7.0f} MB, {seconds:5.1f} s, {outcome}")


def fill(alias: str, rows: int, size: int) -> None:
    """``rows`` rows of zoo.Everything whose ``text`` is ``size`` characters, besides the zoo's."""
    from django.conf import settings
    from django.db import connections

    from .zoo.data import populate

    populate(alias, rows=10)
    connections[alias].close()
    db = sqlite3.connect(settings.DATABASES[alias]["NAME"], isolation_level=None)
    try:
        columns = [r[1] for r in db.execute("PRAGMA table_info(zoo_everything)") if r[1] not in ("id",)]
        copied = ", ".join("?" if c in ("slug", "text") else c for c in columns)
        pattern = "0123456789 abcdefghijklmnopqrstuvwxyz\n"
        text = (pattern * (size // len(pattern) + 1))[:size]
        for i in range(rows):
            values = {"slug": f"large-{i}", "text": text[:-1] + str(i % 10)}
            db.execute(f"INSERT INTO zoo_everything ({', '.join(columns)}) SELECT {copied}"
                       " FROM zoo_everything WHERE slug = 'row-3'",
                       [values[c] for c in columns if c in values])
    finally:
        db.close()


def measure(command: str, source: str, target: str) -> tuple[int, float, str]:
    """Peak RSS in bytes, seconds and the outcome of ``command`` run in a process of its own."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench_memory", "--child", command, source, target],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0, seconds, f"failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}"
    return max(result["self"], result["children"]), seconds, result["outcome"]


def child(command: str, source: str, target: str) -> None:
    """Run one copy, verification or sync and print its outcome and peak RSS (bytes) as JSON."""
    import portadb

    try:
        if command == "copy":
            report = portadb.copy(source, target)
        elif command == "sync":
            report = portadb.sync(source, target)
        else:
            report = portadb.verify(source, target)
        outcome = "ok" if report.ok else "NOT OK"
    except Exception as e:  # noqa: BLE001 - the benchmark reports it and goes on
        outcome = f"{type(e).__name__}: {str(e)[:200]}"
    print(json.dumps({"outcome": outcome, "self": peak_self(),
                      "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))


def peak_self() -> int:
    """This process's peak resident set in bytes: on Linux since it started this program, unlike
    ``ru_maxrss``, which keeps the peak of the process it was forked from (a test holding large
    values) across the ``exec``."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    main()
