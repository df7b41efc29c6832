"""Sphinx configuration for portadb's documentation (``nox -s docs``)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the portadb package of this checkout
sys.path.insert(0, os.path.join(HERE, "_ext"))

# autodoc and the command reference import portadb, which needs configured
# settings. A minimal project is enough: no database is opened while building.
import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "portadb"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
    )
django.setup()

import portadb  # noqa: E402

project = "portadb"
author = "The portadb developers"
copyright = "2026, the portadb developers"
release = portadb.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "portadb_cli",
]
# No intersphinx: the docs build offline; links to Django's docs are plain URLs.

exclude_patterns = ["_build"]
templates_path = []
html_static_path = []
html_theme = "alabaster"
html_theme_options = {
    "description": "Move a Django project's database to another backend, exactly.",
    "fixed_sidebar": True,
}

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}
