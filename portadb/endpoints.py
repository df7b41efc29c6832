"""Resolve ``--from``/``--to`` to Django connections.

An endpoint may be a ``DATABASES`` alias, a vendor name that matches exactly one
alias, or a database URL (parsed by dj-database-url and registered as a
temporary alias). Passwords are kept out of everything an endpoint prints.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from django.db import connections

from .backends import (
    BACKENDS,
    adapter_class,
    adapter_for,
    connection_for,
    require_supported,
    vendor_named,
    vendor_of,
)
from .compat import forget_alias, register_alias
from .exceptions import EndpointError, first_line

_temporary = itertools.count(1)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


@dataclass(frozen=True)
class Endpoint:
    """One side of a copy: a connection alias and how to show it to a user."""

    alias: str
    display: str
    temporary: bool = False

    @property
    def connection(self):
        return connections[self.alias]

    @property
    def vendor(self) -> str:
        return self.connection.vendor

    @property
    def adapter(self):
        return adapter_for(self.connection)

    def close(self) -> None:
        """Close the connection, and forget the alias if portadb made it.

        A database that connecting created (a new SQLite file) and that is
        still empty goes too: a refused copy leaves no trace.
        """
        opened = any(c.alias == self.alias for c in connections.all(initialized_only=True))
        if opened:
            connections[self.alias].close()
        if self.alias in _created:
            _created.discard(self.alias)
            self.adapter.remove_created()
        if self.temporary and self.alias in connections.settings:  # closing twice is harmless
            forget_alias(self.alias, opened)


def describe(alias: str) -> str:
    """``alias (vendor://user@host:port/name)`` with the password left out."""
    return adapter_class(engine_vendor(alias)).describe(alias, connections.settings[alias])


def mask(text: str, *aliases: str) -> str:
    """``text`` with every password portadb knows of replaced by ``***``.

    That is the passwords of ``aliases``, of every configured alias, of every
    URL resolved so far (also after its temporary alias is gone), and anything
    between ``user:`` and ``@`` in a URL.
    """
    for alias in (*aliases, *connections.settings):
        _remember((connections.settings.get(alias) or {}).get("PASSWORD"))
    for secret in sorted(_secrets, key=len, reverse=True):
        # Not inside a longer word: a password "postgres" must not turn
        # "postgresql" into "***ql"; it is still masked wherever it stands alone.
        before = r"(?<![A-Za-z0-9])" if secret[0].isalnum() else ""
        after = r"(?![A-Za-z0-9]|://)" if secret[-1].isalnum() else ""  # a URL scheme is no secret
        text = re.sub(before + re.escape(secret) + after, "***", text)
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


_secrets: set[str] = set()
#: Aliases whose database the connection created (a new SQLite file).
_created: set[str] = set()


def _remember(password) -> None:
    if password:
        text = str(password)
        _secrets.update({text, quote(text, safe=""), unquote(text)})


def resolve(spec: str) -> Endpoint:
    """Turn one ``--from``/``--to`` value into an :class:`Endpoint`."""
    if not spec:
        raise EndpointError("An empty database name was given.")
    if _URL.match(spec):
        return _from_url(spec)
    if spec in connections.settings:
        if engine_vendor(spec) not in BACKENDS:
            adapter_for(connection_for(spec))  # says in one sentence why it cannot be copied
        return Endpoint(spec, describe(spec))
    vendor = vendor_named(spec)
    if vendor is None:
        raise EndpointError(
            f"{spec!r} is neither a database alias, a vendor name nor a URL; "
            f"the aliases are: {_aliases()}."
        )
    require_supported(vendor)
    matches = [a for a in connections.settings if engine_vendor(a) == vendor]
    if len(matches) == 1:
        return resolve(matches[0])
    if not matches:
        raise EndpointError(
            f"No database alias uses {vendor}; the aliases are: {_aliases()}."
        )
    raise EndpointError(
        f"{spec!r} matches several aliases ({', '.join(matches)}); name one of them."
    )


def check_distinct(source: Endpoint, target: Endpoint) -> None:
    """Refuse to copy a database onto itself."""
    if identity(source.alias) == identity(target.alias):
        raise EndpointError(
            f"{source.display} and {target.display} are the same database."
        )


def _from_url(url: str) -> Endpoint:
    import dj_database_url

    try:
        _remember(urlsplit(url).password)
        config = dj_database_url.parse(url)
    except Exception as e:  # the parser raises several types for one cause
        reason = str(e).split(". ")[0].rstrip(".")  # its first sentence; the rest is advice for coders
        raise EndpointError(f"Cannot read the database URL {mask(url)!r}: {reason}.") from e
    _remember(config.get("PASSWORD"))
    require_supported(vendor_of(config.get("ENGINE", "")))
    alias = f"portadb_url_{next(_temporary)}"
    register_alias(alias, config)
    return Endpoint(alias, mask(url), temporary=True)


def engine_vendor(alias: str) -> str:
    """The vendor of ``alias`` by its ``ENGINE``, without loading the backend or its driver."""
    return vendor_of(connections.settings[alias].get("ENGINE", ""))


def _aliases() -> str:
    return ", ".join(f"{a} ({engine_vendor(a)})" for a in connections.settings)


def identity(alias: str) -> tuple:
    """What makes ``alias`` a distinct database: vendor and file, or vendor, host, port and name."""
    return adapter_class(engine_vendor(alias)).identity(alias, connections.settings[alias])


# -- connecting ------------------------------------------------------------------


def connect(endpoint: Endpoint, must_exist: bool = False) -> None:
    """Open the connection, or say in one sentence why it cannot be opened
    (a backend portadb does not support, a driver that is missing, a server that does not answer)."""
    conn = connection_for(endpoint.alias, endpoint.display if endpoint.temporary else None)
    adapter_for(conn)
    if endpoint.adapter.missing():
        if must_exist:
            # Connecting would create it (a SQLite file): never write a source.
            name = str(conn.settings_dict.get("NAME") or "")
            raise EndpointError(f"The database file {name!r} does not exist.")
        _created.add(endpoint.alias)
    try:
        conn.ensure_connection()
    except Exception as e:
        raise EndpointError(f"Cannot connect to {endpoint.display}: {first_line(e)}.") from e


def open_endpoints(source: str, target: str, *,
                   target_must_exist: bool = False) -> tuple[Endpoint, Endpoint]:
    """Resolve and connect both sides; refuse one database twice.

    A SQLite source must exist (connecting would create it); so must the
    target when it is only read (``target_must_exist``).
    """
    src, tgt = name_endpoints(source, target)
    connect_endpoints(src, tgt, target_must_exist=target_must_exist)
    return src, tgt


def name_endpoints(source: str, target: str) -> tuple[Endpoint, Endpoint]:
    """Resolve both sides without loading their drivers; refuse one database twice.

    :func:`connect_endpoints` connects them. In between, nothing but the
    settings is known: a child process started there (:mod:`portadb.targetproject`)
    loads its Django while this one loads the drivers.
    """
    src = resolve(source)
    try:
        tgt = resolve(target)
        check_distinct(src, tgt)
    except Exception:
        close(src)
        raise
    return src, tgt


def connect_endpoints(source: Endpoint, target: Endpoint, *, target_must_exist: bool = False) -> None:
    """Connect both sides of :func:`name_endpoints`; on failure both are closed."""
    try:
        connect(source, must_exist=True)
        connect(target, must_exist=target_must_exist)
        if target.adapter.vanishes():
            raise EndpointError(f"{target.display} is an in-memory database, which ends with this command:"
                                " nothing written there would remain; name a database file.")
    except Exception:
        close(source, target)
        raise


def close(*endpoints: Endpoint) -> None:
    for endpoint in endpoints:
        endpoint.close()
