"""The machine a benchmark ran on, and the results as a text, Markdown or reStructuredText table."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import subprocess
import sys

from django.conf import settings
from django.db import connections


def machine() -> dict:
    """Cores, memory, CPU, load and the versions of everything measured."""
    import django

    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "load_before": os.getloadavg(),
    }
    try:
        import psycopg

        info["psycopg"] = f"{psycopg.__version__} ({psycopg.pq.__impl__})"
    except ImportError:
        pass
    for alias, query in (("postgresql", "SHOW server_version"), ("mysql", "SELECT VERSION()")):
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute(query)
                info[alias] = cursor.fetchone()[0].split(" ")[0]
            connections[alias].close()
        except Exception:  # not reachable: the report leaves it out
            pass
    try:
        out = subprocess.run(["pgloader", "--version"], capture_output=True, text=True).stdout
        info["pgloader"] = out.splitlines()[0].replace("pgloader version ", "").strip('"')
    except (OSError, IndexError):
        pass
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


BASELINE = " [baseline]"
HEADER = ["tool", "target", "rows", "seconds", "rows/s", "peak RSS MB", "portadb is ×", "exact", "note"]


def rows_of(results) -> list[list[str]]:
    """Table rows; "portadb is ×" = the fastest portadb copy's rows/s over the tool's, same target."""
    reference = {}
    for r in results:
        if _copy(r):
            best = reference.get(r.target)
            if best is None or r.rows_per_second > best.rows_per_second:
                reference[r.target] = r
    out = []
    for r in results:
        ref = reference.get(r.target)
        if not r.ok:
            ratio, seconds, speed = "", "failed", ""
        else:
            seconds, speed = f"{r.seconds:.2f}", f"{r.rows_per_second:,.0f}"
            ratio = ("" if ref is None or r is ref or math.isnan(r.rows_per_second)
                     else f"{ref.rows_per_second / r.rows_per_second:.2f}")
        exact = r.exact if len(r.exact) < 90 else r.exact[:87] + "..."
        out.append([r.name, _vendor(r.target), f"{r.rows:,}", seconds, speed, f"{r.peak_rss_mb:.0f}",
                    ratio, exact, r.note])
    return out


def render(results, info: dict, fmt: str = "text") -> str:
    rows = rows_of(results)
    lines = []
    if fmt == "rst":
        lines += _rst_table(HEADER, rows)
    else:
        lines.append("| " + " | ".join(HEADER) + " |")
        lines.append("|" + "|".join("---:" if h in ("rows", "seconds", "rows/s", "peak RSS MB",
                                                    "portadb is ×") else "---" for h in HEADER) + "|")
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    lines.append("")
    bullet = "- " if fmt != "text" else "  "
    lines += [f"{bullet}{line}" for line in ratios(results)]
    lines.append("")
    lines += _machine_lines(info, fmt)
    return "\n".join(lines) + "\n"


def ratios(results) -> list[str]:
    """The ratios the goals are stated in, from this run's medians (those it could compute)."""
    def find(name, target):
        return next((r for r in results if r.name == name and r.target == target and r.ok), None)

    def best(target):
        copies = [r for r in results if _copy(r) and r.target == target]
        return min(copies, key=lambda r: r.seconds, default=None)

    out = []
    pg, my = best("postgresql"), best("mysql")
    default, one = find("portadb copy", "postgresql"), find("portadb copy --jobs 1", "postgresql")
    pgloader, load_data = find("migrate + pgloader", "postgresql"), find("CSV + LOAD DATA LOCAL", "mysql")
    limit = next((r for r in results if r.name.startswith("limit") and r.ok), None)
    verify, dry_run = find("portadb verify", "postgresql"), find("portadb copy --dry-run", "postgresql")
    pairs = [
        ("portadb copy (default options) -> PostgreSQL / migrate + pgloader", default, pgloader,
         "at most 0.5, stretch 0.4"),
        ("portadb copy (default options) -> PostgreSQL / the limit", default, limit, "at most 1.5"),
        ("portadb verify / fastest portadb copy", verify, pg, "at most 0.8"),
        ("portadb copy --dry-run / portadb copy (default options)", dry_run, default, "at most 0.5"),
        ("fastest portadb copy -> MariaDB / CSV + LOAD DATA LOCAL", my, load_data, "at most 1.0"),
        ("portadb copy (default options) / --jobs 1, PostgreSQL", default, one,
         "below 1; on one big table at most 0.625, i.e. 1.6x the rows/s"),
    ]
    syncs = [r for r in results
             if r.name.startswith("portadb sync after") and r.target == "postgresql" and r.ok]
    pairs += [(f"{r.name} / portadb copy (default options)", r, default, "at most 0.2, stretch 0.1")
              for r in syncs]
    for text, a, b, goal in pairs:
        if a is not None and b is not None:
            out.append(f"{text}: {a.seconds / b.seconds:.2f}x in time" + (f" (goal: {goal})" if goal else ""))
    dumpdata = next((r for r in results if r.name.startswith("dumpdata") and r.ok), None)
    if pg is not None and dumpdata is not None:
        out.append(f"fastest portadb copy -> PostgreSQL / dumpdata + loaddata: "
                   f"{pg.rows_per_second / dumpdata.rows_per_second:.0f}x the rows/s (goal: at least 100)")
    for r in results:
        if r.name.endswith(BASELINE) and r.ok:
            now = find(r.name.removesuffix(BASELINE), r.target)
            if now is not None:
                out.append(f"{now.name} -> {_vendor(r.target)} / the same with the baseline code:"
                           f" {now.seconds / r.seconds:.2f}x in time, peak RSS {now.peak_rss_mb:.0f}"
                           f" vs {r.peak_rss_mb:.0f} MB")
    ours = [r for r in results if r.name.startswith("portadb") and not r.name.endswith(BASELINE) and r.ok]
    if ours:
        out.append(f"largest peak RSS of a portadb copy, dry run or verify: "
                   f"{max(r.peak_rss_mb for r in ours):.0f} MB (goal: at most 150)")
    return out


def _copy(r) -> bool:
    """A successful portadb copy of this code (not a dry run, not the baseline)."""
    return (r.name.startswith("portadb copy") and "--dry-run" not in r.name and not r.name.endswith(BASELINE)
            and r.ok)


def _machine_lines(info: dict, fmt: str) -> list[str]:
    bullet = "- " if fmt != "text" else "  "
    load = "/".join(f"{x:.2f}" for x in info.get("load_before", ()))
    after = "/".join(f"{x:.2f}" for x in info.get("load_after", ()))
    versions = ", ".join(f"{k} {info[k]}" for k in ("python", "django", "psycopg", "sqlite", "postgresql",
                                                     "mysql", "pgloader") if k in info)
    return [
        f"{bullet}Run {info['date']} on {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM,"
        f" {info['os']}.",
        f"{bullet}Load average (1/5/15 min) before: {load}; after: {after}.",
        f"{bullet}Versions: {versions}.".replace("mysql", "MariaDB/MySQL"),
        f"{bullet}Command: python -m tests.bench {' '.join(sys.argv[1:])}",
    ]


def _rst_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        out.append(f"   * - {row[0]}")
        out += [f"     - {cell or ' '}" for cell in row[1:]]
    out.append("")
    return out


def _vendor(alias: str) -> str:
    return {"postgresql": "PostgreSQL", "mysql": "MariaDB"}.get(connections[alias].vendor, alias) \
        if alias in settings.DATABASES else alias
