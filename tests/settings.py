"""Settings of the test project: the zoo app, a third-party app, three backends.

Server URLs come from the environment, with this machine's defaults:
``PORTADB_TEST_POSTGRESQL_URL`` and ``PORTADB_TEST_MYSQL_URL``.
"""

import os
import tempfile

import dj_database_url

POSTGRESQL_URL = os.environ.get(
    "PORTADB_TEST_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/portadb_test"
)
MYSQL_URL = os.environ.get("PORTADB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/portadb_test")
WORK_DIR = os.environ.get("PORTADB_TEST_DIR") or tempfile.mkdtemp(prefix="portadb-tests-")
# Child processes (tests/interrupt.py) must find the same SQLite files.
os.environ["PORTADB_TEST_DIR"] = WORK_DIR


def _second(url: str, suffix: str) -> dict:
    config = dj_database_url.parse(url)
    config["NAME"] += suffix
    return config


DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(WORK_DIR, "source.sqlite3"),
    },
    "sqlite2": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(WORK_DIR, "target.sqlite3"),
    },
    "postgresql": dj_database_url.parse(POSTGRESQL_URL),
    "postgresql2": _second(POSTGRESQL_URL, "_2"),
    "mysql": dj_database_url.parse(MYSQL_URL),
    "mysql2": _second(MYSQL_URL, "_2"),
    # Zoo sources on the servers, built once per test session and only read.
    "postgresql_source": _second(POSTGRESQL_URL, "_src"),
    "mysql_source": _second(MYSQL_URL, "_src"),
}
for _conf in DATABASES.values():
    if "mysql" in _conf["ENGINE"]:
        _conf.setdefault("OPTIONS", {})["charset"] = "utf8mb4"
        _conf["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
# portadb loads MySQL through LOAD DATA LOCAL INFILE where allowed, multi-row INSERT elsewhere.
DATABASES["mysql"]["OPTIONS"]["local_infile"] = 1
if os.environ.get("PORTADB_TEST_NO_MYSQL_ALIASES"):
    # A project without MySQL aliases (tests/test_misuse.py: the driver is missing;
    # Django 6.1 checks the backend of every alias before any command runs).
    for _alias in ("mysql", "mysql2", "mysql_source"):
        del DATABASES[_alias]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",  # pgzoo's fields; Django 6 checks for it
    "taggit",
    "tests.zoo",
    "tests.pgzoo",
    "portadb",
]
AUTH_USER_MODEL = "zoo.Person"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "zoo_cache",
    }
}
SECRET_KEY = "portadb-tests"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MEDIA_ROOT = os.path.join(WORK_DIR, "media")
SILENCED_SYSTEM_CHECKS = ["admin.E403", "admin.E408", "admin.E409", "admin.E410"]
