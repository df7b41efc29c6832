"""Settings of the demo project: the sample shop in SQLite, a target to copy it to.

``PORTADB_DEMO_DIR`` is where the SQLite files go (default: a ``portadb-demo``
folder in the temporary directory). The target is the URL in
``PORTADB_DEMO_TARGET_URL``, which ``python -m portadb.demo`` sets: the
PostgreSQL of ``PORTADB_DEMO_POSTGRESQL_URL`` (default
``postgres://postgres@127.0.0.1:5432/portadb_demo``), or a second SQLite file
when no PostgreSQL answers.
"""

import os
import tempfile

import dj_database_url

WORK_DIR = os.environ.get("PORTADB_DEMO_DIR") or os.path.join(tempfile.gettempdir(), "portadb-demo")
POSTGRESQL_URL = os.environ.get(
    "PORTADB_DEMO_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/portadb_demo"
)
TARGET_URL = os.environ.get("PORTADB_DEMO_TARGET_URL") or POSTGRESQL_URL

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(WORK_DIR, "shop.sqlite3"),
    },
    "target": dj_database_url.parse(TARGET_URL),
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "portadb.demo.shop",
    "portadb",
]
SECRET_KEY = "portadb-demo-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
