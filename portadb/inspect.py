"""What a database holds, as an :class:`Inventory`: read only, never written."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.migrations.recorder import MigrationRecorder

from .endpoints import Endpoint
from .models import label, project_models, unmanaged_models
from .reports import SCHEMA_VERSION


@dataclass
class TableInfo:
    """One table of a database and the model that owns it, if any."""

    name: str
    rows: int
    #: ``app_label.Model`` of the owning model, or ``None`` for a table no model owns.
    model: str | None
    #: Bytes on disk (data and indexes), where the database tells.
    size: int | None = None


@dataclass
class Inventory:
    """The tables, row counts and migration state of one database."""

    database: str
    vendor: str
    tables: list[TableInfo] = field(default_factory=list)
    applied_migrations: int = 0
    pending_migrations: list[str] = field(default_factory=list)
    unmigrated_changes: list[str] = field(default_factory=list)
    unmanaged_models: list[str] = field(default_factory=list)
    kind: str = "inspect"
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return True

    @property
    def exit_code(self) -> int:
        return 0

    @property
    def unowned_tables(self) -> list[str]:
        return [t.name for t in self.tables if t.model is None]

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)


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


def migration_state(endpoint: Endpoint) -> tuple[int, list[str]]:
    """How many migrations ``endpoint`` has applied, and which known ones it has not."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(endpoint.connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    applied = len(MigrationRecorder(endpoint.connection).applied_migrations())
    return applied, [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]


def unmigrated_changes() -> list[str]:
    """Apps whose models have changes that no migration records (``makemigrations --check``)."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

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


def not_replayed(endpoint: Endpoint) -> list[str]:
    """Applied migration operations that models cannot express (RunSQL, extensions, ...).

    portadb builds the target from the models, so these never run there; the
    report lists them for the user to replay by hand where they matter.
    """
    from django.db.migrations import operations as ops
    from django.db.migrations.loader import MigrationLoader

    schema_ops = tuple(
        getattr(ops, name)
        for name in ops.__all__
        if name not in ("RunSQL", "RunPython", "SeparateDatabaseAndState")
    )
    loader = MigrationLoader(endpoint.connection, ignore_no_migrations=True)
    found = []
    for key in sorted(loader.applied_migrations):
        migration = loader.disk_migrations.get(key)
        for op in _flatten(migration.operations if migration else []):
            if isinstance(op, ops.RunPython):
                continue  # its rows are in the source and are copied with it
            if not isinstance(op, schema_ops):
                found.append(f"{key[0]}.{key[1]}: {type(op).__name__} ({op.describe()})")
    return found


def _flatten(operations):
    from django.db.migrations.operations import SeparateDatabaseAndState

    for op in operations:
        if isinstance(op, SeparateDatabaseAndState):
            yield from _flatten(op.database_operations)
        else:
            yield op
