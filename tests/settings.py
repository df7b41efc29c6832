"""Settings of the test project: the zoo app, a third-party app, the backends of tests/backends.py.

Server URLs come from the environment, with this machine's defaults:
``PORTADB_TEST_POSTGRESQL_URL`` and ``PORTADB_TEST_MYSQL_URL`` (see tests/backends.py).
SQLite files and other scratch files go to ``PORTADB_TEST_DIR`` (a new temporary
directory without it).
"""

import os
import tempfile

from tests.backends import databases

WORK_DIR = os.environ.get("PORTADB_TEST_DIR") or tempfile.mkdtemp(prefix="portadb-tests-")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # each pytest-xdist worker its own files
if _WORKER and os.path.basename(WORK_DIR) != _WORKER:
    WORK_DIR = os.path.join(WORK_DIR, _WORKER)
    os.makedirs(WORK_DIR, exist_ok=True)
# Child processes (tests/interrupt.py) must find the same SQLite files.
os.environ["PORTADB_TEST_DIR"] = WORK_DIR

DATABASES = databases(WORK_DIR)

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
