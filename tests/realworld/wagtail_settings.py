"""Wagtail's own test project (``wagtail.test``, from the PyPI wheel), its database from the environment.

``WT_DEFAULT_URL`` is the default database: Wagtail picks its search index's
fields and migrations by that database's vendor, as a real site does.
"""

import os
import tempfile

import dj_database_url
from wagtail.test.settings import *  # noqa: F403
from wagtail.test.settings import INSTALLED_APPS

DATABASES = {"default": dj_database_url.parse(os.environ["WT_DEFAULT_URL"])}
if "mysql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"]["OPTIONS"] = {"charset": "utf8mb4"}

# Wagtail's settings add contrib.postgres only on PostgreSQL; one project for all three here.
INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres", "portadb"]
_HERE = os.path.join(os.environ.get("PORTADB_TEST_DIR") or tempfile.gettempdir(), "wagtail")
MEDIA_ROOT, STATIC_ROOT = os.path.join(_HERE, "media"), os.path.join(_HERE, "static")
SILENCED_SYSTEM_CHECKS = ["wagtailsearch.W001"]  # Wagtail's own test models raise it
