"""Wagtail's own test project (from PyPI, with its fixtures) copied between backends, then used.

Wagtail picks its search index's fields and migrations by the default
database's vendor: a copy must build the target with the project's own
``migrate`` there, leave the search index out (its rows are that backend's
own kind of data) and let ``update_index`` rebuild it. Afterwards the site
works: a page is created, published, indexed and found, and so is a page of
the fixtures; the schema equals a fresh ``migrate`` on that backend.

Run by ``nox -s realworld`` (it installs Wagtail); each migrate of its 391
migrations takes a minute or more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import dj_database_url
import pytest
from django.conf import settings

from .. import databases as db
from ..backends import BACKENDS

try:
    import wagtail  # noqa: F401
except ImportError:
    if db.CI:
        raise
    pytest.skip("Wagtail is not installed (nox -s realworld installs it)", allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BY_VENDOR = {b.vendor: b for b in BACKENDS}
DIRECTIONS = [("sqlite", "postgresql"), ("sqlite", "mysql"), ("postgresql", "sqlite")]
#: The search index: its rows are each backend's own (tsvector, FTS5, FULLTEXT); update_index rebuilds it.
SEARCH = ("wagtailsearch.IndexEntry",)
SQLITE_SEARCH = ("wagtailsearch.SQLiteFTSIndexEntry",)  # exists where SQLite is the default only


def run(default_url: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, WT_DEFAULT_URL=default_url, PYTHONPATH=ROOT,
               DJANGO_SETTINGS_MODULE="tests.realworld.wagtail_settings")
    done = subprocess.run([sys.executable, *argv], env=env, cwd=ROOT, capture_output=True, text=True)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def manage(default_url: str, *argv: str) -> str:
    return run(default_url, "-m", "django", *argv).stdout


def fresh(vendor: str, role: str) -> str:
    backend = BY_VENDOR[vendor]
    db.require(backend.target)
    url = backend.url_of(f"wt_{role}", settings.WORK_DIR)
    # As a site's database is made: the server's own collation (Wagtail's MariaDB migrations mix
    # their columns with literals of the connection's, utf8mb4_general_ci).
    db.recreate_database(dj_database_url.parse(url), collation=None)
    return url


def migrated(vendor: str, role: str) -> str:
    url = fresh(vendor, role)
    manage(url, "migrate", "--noinput", "-v", "0")
    manage(url, "createcachetable", "-v", "0")
    return url


def schema(url: str) -> dict:
    script = ("import json, django; django.setup(); from django.db import connection;"
              " from portadb.drift import snapshot;"
              " tables = [t for t in connection.introspection.table_names() if not t.startswith('portadb_')];"
              " print(json.dumps(snapshot(connection, tables)))")
    return json.loads(run(url, "-c", script).stdout)


SOURCES = ("sqlite", "postgresql")


def build_source(vendor: str) -> str:
    """A source: migrated, the fixtures loaded, the search index built."""
    url = migrated(vendor, "source")
    manage(url, "loaddata", "-v", "0", "test")
    manage(url, "update_index", "-v", "0")
    return url


def excluded(source: str) -> list[str]:
    return [f"--exclude={label}" for label in SEARCH + (SQLITE_SEARCH if source == "sqlite" else ())]


def copy(source: str, source_url: str, target: str) -> tuple[str, subprocess.CompletedProcess, float]:
    """``portadb copy`` from ``source_url`` into a new database of ``target``: its URL, run and seconds."""
    target_url = fresh(target, "target")
    started = time.perf_counter()
    done = run(source_url, "-m", "django", "portadb", "copy", "--from=default", f"--to={target_url}",
               "--noinput", "--format=json", *excluded(source), check=False)
    return target_url, done, time.perf_counter() - started


@pytest.fixture(scope="module")
def built():
    """Every database the tests read, two made at a time (each migrate of 391 migrations keeps
    one core busy for a minute or two): the sources, the MySQL reference, the copies."""
    for backend in BACKENDS:
        db.require(backend.target)  # here, not in a thread: the skip or failure is this test run's
    # A job waits only for jobs submitted before it: those have started, so no two threads can
    # both wait for one still queued.
    pool = ThreadPoolExecutor(max_workers=2)
    sources = {vendor: pool.submit(build_source, vendor) for vendor in SOURCES}
    references = {**sources, "mysql": pool.submit(migrated, "mysql", "reference")}
    copies = {(s, t): pool.submit(lambda s=s, t=t: copy(s, sources[s].result(), t)) for s, t in DIRECTIONS}
    yield sources, references, copies
    pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("source, target", DIRECTIONS, ids=[f"{s}->{t}" for s, t in DIRECTIONS])
def test_the_copied_site_works_and_its_schema_is_its_own_migrate(built, source, target):
    sources, references, copies = built
    source_url = sources[source].result()
    target_url, done, seconds = copies[source, target].result()
    assert done.returncode == 0, f"the copy failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    report = json.loads(done.stdout)
    assert report["ok"] and report["schema_path"] == "migrate", done.stdout
    assert report["removed_rows"]  # Wagtail's migrations make a root page, a site, groups, ...

    # Its own migrate built the target: the same schema as a fresh one on that backend.
    assert schema(target_url) == schema(references[target].result())
    verified = run(source_url, "-m", "django", "portadb", "verify", "--from=default", f"--to={target_url}",
                   "--format=json", *excluded(source), check=False)
    assert json.loads(verified.stdout)["ok"], verified.stdout

    # The search index is the target backend's own: rebuilt there, then the site works.
    manage(target_url, "update_index", "-v", "0")
    run(target_url, "-m", "tests.realworld.wagtail_site")
    print(f"\n{source}->{target}: copy {seconds:.1f} s")
