"""portadb: move a Django project's database to another backend, exactly.

The public API::

    import portadb
    report = portadb.copy("default", "postgresql")
    print(portadb.render(report))
    assert report.ok

Each function returns a report dataclass; :func:`render` turns any report into
text, JSON or Markdown. Errors are :class:`portadb.exceptions.PortadbError`.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["copy", "inspect", "render", "__version__"]


def copy(source: str, target: str, **options):
    """Copy every table of the project from ``source`` to ``target``.

    ``source`` and ``target`` are ``DATABASES`` aliases, vendor names
    (``"sqlite"``, ``"postgresql"``, ``"mysql"``) or database URLs. Options:
    ``replace`` (drop the project's tables already on the target),
    ``chunk_size`` (rows per read and per commit), ``jobs`` (worker processes
    copying tables at once; each reads its own snapshot), ``progress`` (tqdm
    bars on a
    terminal) and ``confirm`` (a callable asked before replacing tables).
    Returns a :class:`portadb.reports.CopyReport`.
    """
    from .pipeline import copy as _copy

    return _copy(source, target, **options)


def inspect(database: str):
    """The :class:`portadb.inspect.Inventory` of one database: tables, rows, migrations."""
    from .endpoints import resolve
    from .inspect import inventory
    from .pipeline import close, connect

    endpoint = resolve(database)
    try:
        connect(endpoint, must_exist=True)
        return inventory(endpoint)
    finally:
        close(endpoint)


def render(report, fmt: str = "text", verbosity: int = 1) -> str:
    """A report as ``"text"``, ``"json"`` or ``"markdown"``."""
    from .reports import render as _render

    return _render(report, fmt, verbosity)
