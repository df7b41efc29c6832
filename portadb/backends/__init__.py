"""Per-vendor behaviour behind one small interface.

Everything that differs between database vendors lives in this package; the
rest of portadb asks an adapter (``adapter_for(connection)``) or branches on
``connection.features``.
"""

from __future__ import annotations

from importlib import import_module

from django.core.exceptions import ImproperlyConfigured

from ..exceptions import MissingDriver, UnsupportedBackend, first_line

#: Vendor names accepted by ``--from``/``--to``, and their Django vendor.
VENDOR_ALIASES = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "oracle": "oracle",
}

_MODULES = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql"}
_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB", "oracle": "Oracle"}
_EXTRAS = {"postgresql": "postgresql", "mysql": "mysql", "oracle": "oracle"}
_cache: dict[int, object] = {}
#: Field packages that only one vendor can hold, and that vendor.
_VENDOR_FIELDS = {"django.contrib.postgres.": "postgresql", "django.contrib.gis.": "spatial"}


def connection_for(alias: str, shown: str | None = None):
    """``connections[alias]``, or one sentence on why its backend cannot be loaded.

    ``shown`` names the database in that sentence (default: the alias).
    """
    from django.db import connections

    try:
        return connections[alias]
    except (ImportError, ImproperlyConfigured) as e:
        raise _unloadable(connections.settings[alias], shown or repr(alias), e) from e


def adapter_for(connection):
    """The :class:`~portadb.backends.base.Adapter` bound to ``connection``."""
    key = id(connection)
    adapter = _cache.get(key)
    if adapter is None or adapter.connection is not connection:
        adapter = _cache[key] = _adapter_class(connection)(connection)
    return adapter


def field_vendor(field) -> str | None:
    """The one vendor that can hold ``field`` (``"postgresql"`` for ArrayField), or ``None``."""
    for cls in type(field).__mro__:
        for prefix, vendor in _VENDOR_FIELDS.items():
            if cls.__module__.startswith(prefix):
                return vendor
    return None


def require_supported(vendor: str, alias: str | None = None) -> None:
    """Raise :class:`UnsupportedBackend` unless portadb has an adapter for ``vendor``."""
    if vendor not in _MODULES:
        where = f" (alias {alias!r})" if alias else ""
        raise UnsupportedBackend(
            f"portadb does not support {_NAMES.get(vendor, vendor)} databases yet{where}; "
            f"it supports {', '.join(_NAMES[v] for v in _MODULES)}."
        )


def _adapter_class(connection):
    try:
        vendor = connection.vendor
    except ImportError as e:
        raise MissingDriver(_missing_driver(connection.settings_dict, e)) from e
    except Exception as e:  # Django raises ImproperlyConfigured for a missing driver
        raise MissingDriver(_missing_driver(connection.settings_dict, e)) from e
    require_supported(vendor, connection.alias)
    return import_module(f"{__name__}.{_MODULES[vendor]}").Adapter


def _unloadable(settings_dict, shown: str, error: Exception) -> Exception:
    """A missing driver for a vendor portadb supports; otherwise an unsupported vendor."""
    engine = settings_dict.get("ENGINE", "")
    if any(vendor in engine for vendor in _MODULES):
        return MissingDriver(_missing_driver(settings_dict, error))
    return UnsupportedBackend(
        f"portadb does not support {engine} databases ({shown}); "
        "it supports SQLite, PostgreSQL and MySQL/MariaDB."
    )


def _missing_driver(settings_dict, error) -> str:
    engine = settings_dict.get("ENGINE", "")
    extra = next((x for v, x in _EXTRAS.items() if v in engine), None)
    hint = f"; install it with: pip install 'portadb[{extra}]'" if extra else ""
    return f"The database driver for {engine} cannot be loaded ({first_line(error)}){hint}."
