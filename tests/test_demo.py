"""``python -m portadb.demo`` runs on its own, into PostgreSQL or, without one, into SQLite."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

from . import databases as db
from .backends import target_of

POSTGRESQL = target_of("postgresql")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_demo(tmp_path, postgresql_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PORTADB_DEMO_DIR=str(tmp_path), PORTADB_DEMO_POSTGRESQL_URL=postgresql_url,
               PYTHONPATH=ROOT)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-m", "portadb.demo", "--rows", "600"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_copies_the_shop_into_postgresql_and_can_be_rerun(tmp_path):
    db.require(POSTGRESQL)
    conf = settings.DATABASES[POSTGRESQL]
    demo_url = (f"postgres://{conf.get('USER') or 'postgres'}@{conf.get('HOST') or '127.0.0.1'}:"
                f"{conf.get('PORT') or 5432}/{conf['NAME']}_demo")
    for _ in range(2):  # the second run replaces the first run's tables
        done = run_demo(tmp_path, demo_url)
        assert done.returncode == 0, done.stderr
        assert "--from=sqlite --to=postgresql" in done.stdout
        assert "OK: " in done.stdout and "shop_orderline" in done.stdout
        assert "No PostgreSQL answers" not in done.stdout
        assert "Meanwhile the shop goes on" in done.stdout and "portadb sync" in done.stdout
        assert done.stdout.count("IDENTICAL") == 2  # after the copy, and after the sync


def test_demo_falls_back_to_sqlite_in_one_line_without_postgresql(tmp_path):
    done = run_demo(tmp_path, "postgres://demo:s3cret-pw@127.0.0.1:1/portadb_demo")
    assert done.returncode == 0, done.stderr
    first, *rest = done.stdout.splitlines()
    assert first.startswith("No PostgreSQL answers") and "shop-copy.sqlite3" in first
    assert "OK: " in done.stdout
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert (tmp_path / "shop-copy.sqlite3").exists()
