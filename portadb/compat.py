"""Every use of a private Django or CPython API, one shim each, with why.

When Django or CPython changes one of these, this module is the one place to
mend; nothing else in portadb reaches behind a public API.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable, Iterable, Iterator

from django.db import connections


def register_alias(alias: str, config: dict) -> None:
    """Add a ``DATABASES`` entry at run time (a ``--to`` URL becomes a temporary alias).

    ``configure_settings`` fills in the defaults Django gives every entry
    (``TIME_ZONE``, ``CONN_MAX_AGE``, ...); it is the handler's own method,
    undocumented.
    """
    base = dict(connections.settings["default"])
    configured = connections.configure_settings({"default": base, alias: config})
    connections.settings[alias] = configured[alias]


def forget_alias(alias: str, opened: bool) -> None:
    """Remove an alias :func:`register_alias` added, with its connection if ``opened``."""
    if opened:
        del connections[alias]
    del connections.settings[alias]


def forget_inherited_connections() -> list:
    """In a forked child: start with no connections, returning the inherited ones.

    The child must never use or close the parent's sessions (that would end
    them for the parent), so the handler's per-thread store is replaced
    (``ConnectionHandler._connections``, private) and the inherited objects
    are returned for the caller to keep referenced, so that no finalizer
    closes their sockets.
    """
    from asgiref.local import Local

    inherited = list(connections.all(initialized_only=True))
    connections._connections = Local(connections.thread_critical)
    return inherited


def create_foreign_key_sql(editor, model, field) -> object:
    """The ``ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY`` statement Django would make.

    ``BaseDatabaseSchemaEditor._create_fk_sql`` is private; it names the
    constraint exactly as ``migrate`` does.
    """
    return editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s")


def statement_parts(statement) -> dict:
    """The named parts (``table``, ``name``, ``to_table``, ...) of a schema editor's deferred
    ``Statement`` (``django.db.backends.ddl_references``, internal); ``{}`` for plain SQL."""
    return getattr(statement, "parts", None) or {}


def statement_template(statement) -> str:
    """The template a deferred ``Statement`` was made from (``sql_create_index``, ...)."""
    return getattr(statement, "template", "") or ""


def c_json_encoder(encoder: json.JSONEncoder) -> Callable | None:
    """``encoder``'s C encoding function, to call as ``f(obj, 0)`` (a list of strings).

    ``json.encoder.c_make_encoder`` is CPython's C encoder, undocumented;
    ``JSONEncoder.encode()`` builds one on every call, this builds it once.
    ``encoder`` must neither indent nor escape non-ASCII. ``None`` where
    CPython has no C encoder.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    return make({}, encoder.default, json.encoder.encode_basestring, None, encoder.key_separator,
                encoder.item_separator, encoder.sort_keys, encoder.skipkeys, True)


def batched(values: Iterable, size: int) -> Iterator[list]:
    """``values`` in lists of ``size`` (``itertools.batched`` from Python 3.12)."""
    batch = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
