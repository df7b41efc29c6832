"""What a database holds, as an :class:`Inventory`: read only, never written."""

from __future__ import annotations

from types import FunctionType, ModuleType

from django.apps import apps
from django.db.migrations import operations as ops
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState

from .endpoints import Endpoint
from .exceptions import PreconditionError
from .models import label, project_models, unmanaged_models
from .reports.model import Inventory, TableInfo


def inventory(endpoint: Endpoint, *, counts: bool = True, sizes: bool = True) -> Inventory:
    """Read ``endpoint``'s tables, row counts, sizes on disk and migration state.

    ``sizes=False`` leaves the sizes out (``None``): SQLite reads every page for them.
    """
    adapter = endpoint.adapter
    owners = {m._meta.db_table: label(m) for m in project_models()}
    present = adapter.table_names()
    on_disk = adapter.table_sizes() if sizes else {}
    tables = [
        TableInfo(name, adapter.count(name) if counts else 0, owners.get(name), on_disk.get(name))
        for name in sorted(present)
        if not name.startswith("portadb_")
    ]
    applied, pending = migration_state(endpoint)
    return Inventory(
        database=endpoint.display,
        vendor=endpoint.vendor,
        tables=tables,
        applied_migrations=applied,
        pending_migrations=pending,
        unmigrated_changes=unmigrated_changes(),
        unmanaged_models=unmanaged_models(),
    )


def pending_migrations_error(endpoint: Endpoint, inv: Inventory) -> PreconditionError:
    """The refusal of a source with unapplied migrations: its models would not describe its data."""
    return PreconditionError(
        f"The source {endpoint.display} has unapplied migrations "
        f"({', '.join(inv.pending_migrations)}); migrate it first so the models describe its data."
    )


def migration_state(endpoint: Endpoint) -> tuple[int, list[str]]:
    """How many migrations ``endpoint`` has applied, and which known ones it has not."""
    executor = MigrationExecutor(endpoint.connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    applied = len(MigrationRecorder(endpoint.connection).applied_migrations())
    return applied, [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]


def unmigrated_changes() -> list[str]:
    """Apps whose models have changes that no migration records (``makemigrations --check``)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    detector = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=set(), dry_run=True),
    )
    changes = detector.changes(graph=loader.graph)
    return sorted(
        f"{app}: {op.describe()}"
        for app, migrations in changes.items()
        for migration in migrations
        for op in migration.operations
    )


def applied_migrations(endpoint: Endpoint) -> set[str]:
    """``app.name`` of every migration ``endpoint`` has applied (none without django_migrations)."""
    applied = MigrationRecorder(endpoint.connection).applied_migrations()
    return {f"{app}.{name}" for app, name in applied}


def not_replayed(endpoint: Endpoint) -> list[str]:
    """Applied migration operations that models cannot express (RunSQL, extensions, ...).

    Where portadb builds the target from the models, these never run there;
    the report lists them for the user to replay by hand where they matter.
    """
    loader = MigrationLoader(endpoint.connection, ignore_no_migrations=True)
    applied = [(key, loader.disk_migrations.get(key)) for key in sorted(loader.applied_migrations)]
    return unexpressed_operations(applied, endpoint.adapter.runs_operation)


def unexpressed_operations(migrations, runs) -> list[str]:
    """The operations of ``[(key, migration), ...]`` that models cannot express and ``runs(op)``.

    A RunPython counts where its function runs SQL of its own (:func:`runs_sql`: django-oscar's
    makes a materialized view on PostgreSQL); one that only makes rows through the ORM does
    not: its rows are copied (or removed) with the data.
    """
    found = []
    for key, migration in migrations:
        for op in _flatten(migration.operations if migration else []):
            if isinstance(op, ops.RunPython):
                if runs_sql(op.code) and runs(op):
                    found.append(f"{key[0]}.{key[1]}: RunPython ({op.describe()} that runs SQL of its own)")
            elif not isinstance(op, _SCHEMA_OPERATIONS) and runs(op):
                found.append(f"{key[0]}.{key[1]}: {type(op).__name__} ({op.describe()})")
    return found


def runs_sql(function, depth: int = 3, seen: set | None = None) -> bool:
    """Whether ``function``, a function defined in it, or a function it calls by name (of its
    module, or of a module it names) calls a cursor's or a schema editor's ``execute``, or a
    schema editor's DDL methods; ``depth`` calls deep. Read from the code, not run. Django's
    own functions are not followed: their ``execute`` (``call_command``'s) is no SQL of the project's."""
    code = getattr(function, "__code__", None)
    seen = set() if seen is None else seen
    if code is None or code in seen:
        return False
    seen.add(code)
    names = _names(code)
    if names & _SQL_CALLS:
        return True
    return depth > 0 and any(runs_sql(f, depth - 1, seen) for f in _called(function, names))


def _called(function, names: set[str]):
    """The plain functions ``names`` reach from ``function``'s module: by name, or as a name of a
    module it names (``helpers.make_views``); none of Django's."""
    scope = getattr(function, "__globals__", {})
    for name in names:
        found = scope.get(name)
        for candidate in ([getattr(found, n, None) for n in names] if isinstance(found, ModuleType)
                          else [found]):
            if isinstance(candidate, FunctionType) and not candidate.__module__.startswith("django."):
                yield candidate


def _names(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names(const)
    return names


#: Calls that change a schema: SQL run by hand, and the schema editor's own methods.
_SQL_CALLS = frozenset({
    "execute", "executemany", "executescript", "callproc", "create_model", "delete_model",
    "add_field", "remove_field", "alter_field", "add_index", "remove_index", "add_constraint",
    "remove_constraint", "alter_db_table", "alter_unique_together", "alter_index_together",
})


#: Operations the models express: a table built from the models has their effect.
_SCHEMA_OPERATIONS = tuple(
    getattr(ops, name) for name in ops.__all__
    if name not in ("RunSQL", "RunPython", "SeparateDatabaseAndState")
)


def _flatten(operations):
    for op in operations:
        if isinstance(op, ops.SeparateDatabaseAndState):
            yield from _flatten(op.database_operations)
        else:
            yield op
