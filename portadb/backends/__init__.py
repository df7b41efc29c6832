"""Per-vendor behaviour behind one interface, and the registry of vendors.

Everything that differs between database vendors lives in this package: each
vendor is one module whose ``Adapter`` class (:class:`~portadb.backends.base.Adapter`)
says what its databases are called, how to read and write them, and what
they refuse. The rest of portadb asks an adapter (:func:`adapter_for`) and
never names a vendor. A new backend is a module plus one line in
:data:`BACKENDS` (see ``docs/howto/new-backend.rst``).
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from ..exceptions import MissingDriver, UnsupportedBackend, first_line
from .base import Adapter

#: Every supported vendor (Django's ``connection.vendor``) and its adapter's module.
BACKENDS = {
    "sqlite": "portadb.backends.sqlite",
    "postgresql": "portadb.backends.postgresql",
    "mysql": "portadb.backends.mysql",
}
#: Vendors portadb knows of but cannot copy yet, by the name users see.
PLANNED = {"oracle": "Oracle"}

_cache: dict[int, Adapter] = {}


@cache
def adapter_class(vendor: str) -> type[Adapter]:
    """The :class:`~portadb.backends.base.Adapter` subclass of a supported ``vendor``."""
    require_supported(vendor)
    return import_module(BACKENDS[vendor]).Adapter


def adapter_for(connection) -> Adapter:
    """The adapter bound to ``connection`` (one per connection object)."""
    key = id(connection)
    adapter = _cache.get(key)
    if adapter is None or adapter.connection is not connection:
        adapter = _cache[key] = adapter_class(_vendor_of_connection(connection))(connection)
    return adapter


def connection_for(alias: str, shown: str | None = None):
    """``connections[alias]``, or one sentence on why its backend cannot be loaded.

    ``shown`` names the database in that sentence (default: the alias).
    """
    try:
        return connections[alias]
    except (ImportError, ImproperlyConfigured) as e:
        raise _unloadable(connections.settings[alias], shown or repr(alias), e) from e


def vendor_of(engine: str) -> str:
    """The vendor of a ``DATABASES`` ``ENGINE`` path, read without loading the backend
    (its driver may be missing)."""
    for vendor in BACKENDS:
        if any(marker in engine for marker in adapter_class(vendor).engines):
            return vendor
    for vendor in PLANNED:
        if vendor in engine:
            return vendor
    return engine.rsplit(".", 1)[-1]


def vendor_named(name: str) -> str | None:
    """The vendor a ``--from``/``--to`` name such as ``postgres`` or ``mariadb`` means, if any."""
    name = name.lower()
    for vendor in BACKENDS:
        if name in adapter_class(vendor).names:
            return vendor
    return name if name in PLANNED else None


def display_name(vendor: str) -> str:
    if vendor in BACKENDS:
        return adapter_class(vendor).display_name
    return PLANNED.get(vendor, vendor)


def require_supported(vendor: str, alias: str | None = None) -> None:
    """Raise :class:`UnsupportedBackend` unless portadb has an adapter for ``vendor``."""
    if vendor not in BACKENDS:
        where = f" (alias {alias!r})" if alias else ""
        raise UnsupportedBackend(
            f"portadb does not support {display_name(vendor)} databases yet{where}; "
            f"it supports {_supported()}."
        )


def _vendor_of_connection(connection) -> str:
    try:
        vendor = connection.vendor
    except Exception as e:  # Django raises ImportError or ImproperlyConfigured for a missing driver
        raise MissingDriver(_missing_driver(connection.settings_dict, e)) from e
    require_supported(vendor, connection.alias)
    return vendor


def _supported() -> str:
    return ", ".join(display_name(v) for v in BACKENDS)


def _unloadable(settings_dict, shown: str, error: Exception) -> Exception:
    """A missing driver for a vendor portadb supports; otherwise an unsupported vendor."""
    engine = settings_dict.get("ENGINE", "")
    if vendor_of(engine) in BACKENDS:
        return MissingDriver(_missing_driver(settings_dict, error))
    return UnsupportedBackend(
        f"portadb does not support {engine} databases ({shown}); it supports {_supported()}."
    )


def _missing_driver(settings_dict, error) -> str:
    engine = settings_dict.get("ENGINE", "")
    vendor = vendor_of(engine)
    extra = adapter_class(vendor).extra if vendor in BACKENDS else None
    hint = f"; install it with: pip install 'portadb[{extra}]'" if extra else ""
    return f"The database driver for {engine} cannot be loaded ({first_line(error)}){hint}."
