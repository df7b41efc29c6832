"""A small project of one app whose table and column names come from the environment
(tests/oddnames): the settings of the child processes of tests/test_identifiers.py."""

from tests.settings import *  # noqa: F403 - the same databases and scratch directory

INSTALLED_APPS = ["tests.oddnames", "portadb"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
