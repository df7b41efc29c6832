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
__all__ = ["copy", "plan", "sync", "verify", "inspect", "render", "__version__"]

# The modules ``plan``, ``inspect``, ``sync`` and ``verify`` share their names with API
# functions; importing a submodule the first time sets it as a package
# attribute, so load them before the functions are defined and the functions
# keep the names, whatever is imported later. The functions below import
# lazily: ``import portadb`` must work before Django's settings are configured.
from . import inspect as _inspect_module  # noqa: E402, F401
from . import plan as _plan_module  # noqa: E402, F401
from . import sync as _sync_module  # noqa: E402, F401
from . import verify as _verify_module  # noqa: E402, F401


def copy(source: str, target: str, **options):
    """Copy every table of the project from ``source`` to ``target``.

    ``source`` and ``target`` are ``DATABASES`` aliases, vendor names
    (``"sqlite"``, ``"postgresql"``, ``"mysql"``) or database URLs. Options:
    ``replace`` (drop the project's tables already on the target),
    ``chunk_size`` (rows per read and per commit), ``jobs`` (worker processes
    copying tables, and key ranges of big tables, at once, in the copy's snapshot of the
    source where it can be shared (PostgreSQL, SQLite without WAL), else each in its own;
    default: one per CPU, at most 8, see :func:`portadb.options.auto_jobs`),
    ``progress`` (tqdm bars on a terminal), ``confirm`` (a callable asked before replacing tables),
    ``resume`` (continue an interrupted copy after its last committed chunk;
    see :mod:`portadb.journal`),
    ``models``/``exclude``: app labels or ``app_label.ModelName`` as ``dumpdata``
    takes them (see :mod:`portadb.selection`), ``verify`` (run :func:`verify`
    after the copy, into ``report.verification``) and ``on_error``
    (``"abort"``, the default: stop before writing a chunk that holds a value
    the target would refuse, raising :class:`portadb.exceptions.ValueRefused`;
    ``"reject"``: copy everything else and write the refused rows, and the rows
    depending on them, to ``reject_file`` as JSON Lines), ``for_sync`` (keep the
    source's fingerprints on the target, one more pass over the source's rows, so
    that the first :func:`sync` reads only the rows that changed; see :mod:`portadb.fingerprints`),
    ``track_changes`` (first install triggers on the source that log the key of every row
    written, so that each :func:`sync` reads only those rows; see :mod:`portadb.tracking`).
    Returns a :class:`portadb.reports.CopyReport`.
    """
    from .pipeline import copy as _copy

    return _copy(source, target, **options)


def verify(source: str, target: str, *, models=None, exclude=None, sample=None,
           counts_only: bool = False, chunk_size: int | None = None, progress: bool = False,
           jobs: int | None = None):
    """Prove that ``target`` holds the same data as ``source``, or show where it does not.

    Compares the row count of every table, the content of every row (both
    sides read in primary-key order through the same normalising path, chunk
    checksums narrowed to rows), the target's sequences against its keys, and
    the applied migrations. ``models``/``exclude``: app or ``app.Model`` labels;
    ``sample``: compare only this fraction of key chunks (0 < sample <= 1);
    ``counts_only``: skip the content; ``progress``: tqdm bars on a terminal,
    as :func:`copy` shows them; ``jobs``: processes comparing tables and key
    ranges of big tables at once (default one per CPU and one more: each waits on a database in turn).
    Writes nothing on either side.
    Returns a :class:`portadb.reports.VerifyReport`; its ``exit_code`` is 0
    when the data is the same, 1 otherwise.
    """
    from .options import VERIFY_CHUNK_SIZE
    from .verify import verify as _verify

    if chunk_size is None:
        chunk_size = VERIFY_CHUNK_SIZE
    return _verify(source, target, models=models, exclude=exclude, sample=sample,
                   counts_only=counts_only, chunk_size=chunk_size, progress=progress, jobs=jobs)


def sync(source: str, target: str, **options):
    """Bring ``target``, which a complete :func:`copy` built from ``source``, up to date with it.

    Both sides are compared as :func:`verify` compares them; only the rows
    that differ move, in one target transaction (inserts, updates and
    deletes alike), through the copy's checks and conversions; then the
    sequences are reset and every row written is read back and compared.
    Options: ``dry_run`` (report what would change, write nothing),
    ``models``/``exclude``, ``chunk_size``, ``progress``, ``on_error`` and
    ``reject_file`` as for :func:`copy`, ``jobs=1`` (read the target in this
    process, not a forked one). Returns a :class:`portadb.reports.SyncReport`.
    """
    from .sync import sync as _sync

    return _sync(source, target, **options)


def plan(source: str, target: str, **options):
    """What :func:`copy` would do, with nothing written to either database.

    Returns a :class:`portadb.reports.PlanReport`: both endpoints, the source
    inventory, the target's state and schema differences, the DDL that would
    run, the copy order and conversions, and every source value the target
    would refuse (model, primary key, field, reason). ``replace``,
    ``chunk_size``, ``progress``, ``models``/``exclude`` and ``jobs`` (processes
    that scan the rows) mean what they mean for :func:`copy`.
    """
    from .dryrun import dry_run

    return dry_run(source, target, **options)


def inspect(database: str = "default", forget: bool = False, untrack: bool = False):
    """The :class:`portadb.reports.Inventory` of one database: tables, rows, migrations, and
    the copy that built it (portadb's journal, ``portadb_run``).

    ``forget``: remove that journal (the project never reads it; a copy that did
    not finish can then no longer be resumed, and ``sync`` no longer knows the target).
    ``untrack``: remove the change log that ``copy(track_changes=True)`` installed on this
    database as a source (its triggers, ``portadb_change`` and ``portadb_tracking``).
    """
    from .endpoints import close, connect, resolve
    from .inspect import inventory
    from .journal import drop, summary
    from .tracking import installed, remove

    endpoint = resolve(database)
    try:
        connect(endpoint, must_exist=True)
        found = inventory(endpoint)
        found.copy = summary(endpoint)
        if forget and found.copy is not None:
            drop(endpoint)
            found.forgotten = True
        found.change_log = installed(endpoint)
        if untrack and found.change_log is not None:
            found.untracked = remove(endpoint)
        return found
    finally:
        close(endpoint)


def render(report, fmt: str = "text", verbosity: int = 1) -> str:
    """A report as ``"text"``, ``"json"``, ``"markdown"`` or ``"junit"``."""
    from .reports import render as _render

    return _render(report, fmt, verbosity)
