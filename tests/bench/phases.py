"""Where a copy's time goes: ``python -m tests.bench.phases --rows 1000000 --jobs 2``.

Copies the benchmark's generated SQLite source (``python -m tests.bench --rows N
--keep`` makes it) into an emptied ``--to`` database in this process and prints,
for the load and for the build of keys, indexes and foreign keys, the wall
seconds, the client's CPU seconds (this process and its workers) and, for a
server on this machine (``postgres`` or ``mariadbd``), the server's CPU seconds read from
``/proc``. The benchmark itself times whole commands; this splits one.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time


def client_cpu() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def server_cpu(name: str = "postgres") -> float:
    """CPU seconds of every ``name`` process here, with what ended backends left to their parent."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as fh:
                if not fh.read().startswith(name):
                    continue
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


def timed(module, name: str, lines: list[str], server: str = "postgres") -> None:
    """Wrap ``module.name`` so that each call adds a line of wall and CPU seconds."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        wall, client, before = time.perf_counter(), client_cpu(), server_cpu(server)
        try:
            return original(*args, **kwargs)
        finally:
            lines.append(f"{name:16} wall {time.perf_counter() - wall:6.2f} s   client cpu "
                         f"{client_cpu() - client:6.2f} s   server cpu {server_cpu(server) - before:6.2f} s")

    setattr(module, name, wrapper)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="the generated source to copy")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--to", default="postgresql")
    parser.add_argument("--shape", choices=["shop", "one-big-table"], default="shop")
    args = parser.parse_args(argv)
    work = os.environ.setdefault("PORTADB_BENCH_DIR", "/tmp/portadb-bench")
    shape = "" if args.shape == "shop" else f"-{args.shape}"
    source = os.path.join(work, f"shop-v1{shape}-{args.rows}.sqlite3")
    if not os.path.exists(source + ".done"):
        print(f"{source} is missing: run python -m tests.bench --rows {args.rows} --keep first",
              file=sys.stderr)
        return 2
    os.environ["PORTADB_BENCH_SOURCE"] = source
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    import django

    django.setup()
    import portadb
    from portadb import pipeline

    from .contestants import recreate

    recreate(args.to)
    lines: list[str] = []
    server = "mariadbd" if args.to == "mysql" else "postgres"  # the servers of this machine
    timed(pipeline.parallel, "copy_tables", lines, server)  # the load with --jobs > 1
    timed(pipeline, "copy_table", lines, server)  # the load in one process, table by table
    timed(pipeline.schema, "build_deferred", lines, server)
    started = time.perf_counter()
    report = portadb.copy("default", args.to, jobs=args.jobs)
    total = time.perf_counter() - started
    print("\n".join(line for line in lines if not line.startswith("copy_table ")))
    loads = [line for line in lines if line.startswith("copy_table ")]
    if loads:
        wall = sum(float(line.split()[2]) for line in loads)
        print(f"copy_table       {len(loads)} tables, one after the other, wall {wall:6.2f} s")
    print(f"whole copy       wall {total:6.2f} s   {'exact counts' if report.ok else 'NOT OK'}")
    recreate(args.to)  # leave no copy of the data set behind
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
