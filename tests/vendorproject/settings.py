"""A project whose models and migrations depend on the database vendor, as real ones do.

Its ``default`` database comes from ``VP_DEFAULT_URL``: each process of the
tests (tests/test_vendor_project.py) picks its vendor, the way a site's
settings do, so the models are those of that vendor. See ``notes.models``.
"""

import os
import sys
import time

import dj_database_url

if os.environ.get("VP_SLOW_CHILD") and sys.argv[0].endswith("child.py"):  # portadb's describer
    time.sleep(float(os.environ["VP_SLOW_CHILD"]))

DATABASES = {"default": dj_database_url.parse(os.environ["VP_DEFAULT_URL"])}
if "mysql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.postgres",  # Django 6.1 requires it for SearchVectorField, as real sites have it
    "tests.vendorproject.notes",
    "portadb",
]
SECRET_KEY = "portadb-vendor-project"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
