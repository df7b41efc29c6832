"""Settings of the benchmark project: the demo's shop app, a SQLite source, two servers.

The harness sets ``PORTADB_BENCH_SOURCE`` / ``PORTADB_BENCH_SMALL_SOURCE`` (the
generated SQLite files). Servers: ``PORTADB_BENCH_POSTGRESQL_URL`` (default
``postgres://postgres@127.0.0.1:5432/portadb_bench``) and
``PORTADB_BENCH_MYSQL_URL`` (default ``mysql://root@127.0.0.1:3306/portadb_bench``);
their databases are dropped and recreated by every run.
"""

import os

import dj_database_url

WORK_DIR = os.environ.get("PORTADB_BENCH_DIR", "/tmp/portadb-bench")
POSTGRESQL_URL = os.environ.get(
    "PORTADB_BENCH_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/portadb_bench"
)
MYSQL_URL = os.environ.get("PORTADB_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/portadb_bench")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PORTADB_BENCH_SOURCE", os.path.join(WORK_DIR, "source.sqlite3")),
    },
    "small": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PORTADB_BENCH_SMALL_SOURCE", os.path.join(WORK_DIR, "small.sqlite3")),
    },
    # A copy of the source that the sync contestant changes after copying it.
    "changed": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PORTADB_BENCH_CHANGED", os.path.join(WORK_DIR, "changed.sqlite3")),
    },
    "postgresql": dj_database_url.parse(POSTGRESQL_URL),
    "mysql": dj_database_url.parse(MYSQL_URL),
}
# local_infile: portadb writes MariaDB/MySQL through LOAD DATA LOCAL when allowed.
DATABASES["mysql"].setdefault("OPTIONS", {}).update(charset="utf8mb4", local_infile=1)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "portadb.demo.shop",
    "portadb",
]
SECRET_KEY = "portadb-bench"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
