"""The plan of a copy: which tables, in which order, with which conversions.

:func:`make_plan` inspects both sides and decides every table job before the
first row is written; nothing is written to either side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import DatabaseError

from .convert import Column, columns_for
from .endpoints import Endpoint
from .exceptions import EndpointError, PreconditionError, first_line
from .fields import key_fields
from .inspect import inventory, not_replayed, pending_migrations_error
from .models import label, project_models, shared_models
from .reports.model import Finding, FindingKind, Inventory, Severity
from .selection import select_models


@dataclass
class TableJob:
    """One table to copy: its model, columns and converters, and its source row count."""

    table: str
    label: str
    model: type
    columns: list[Column]
    #: Columns of the primary key, the order rows are read and compared in.
    key: list[str]
    source_rows: int

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def key_index(self) -> list[int]:
        """Where the key's columns are in a row."""
        names = self.column_names
        return [names.index(k) for k in self.key]


@dataclass
class Plan:
    """Everything a copy will do, decided before the first row is written."""

    source: Endpoint
    target: Endpoint
    jobs: list[TableJob]
    source_inventory: Inventory
    #: Project tables already on the target (a copy needs ``replace`` then).
    target_tables: list[str] = field(default_factory=list)
    unowned_tables: list[str] = field(default_factory=list)
    unmanaged_models: list[str] = field(default_factory=list)
    not_replayed: list[str] = field(default_factory=list)
    #: Project models left out by ``models``/``exclude``: the target keeps what it holds.
    unselected: list[type] = field(default_factory=list)
    #: Those of them without a table on the target: created empty.
    unselected_missing: list[type] = field(default_factory=list)
    #: Source models the target's vendor cannot have (``Meta.required_db_vendor``), empty.
    left_behind: list[type] = field(default_factory=list)

    @property
    def models(self) -> list[type]:
        return [job.model for job in self.jobs]

    def findings(self) -> list[Finding]:
        """What the copy leaves alone and a user should know of: the report shows them."""
        return (
            [Finding(FindingKind.UNOWNED_TABLE, Severity.WARNING,
                     f"Table {t} belongs to no model and was not copied.", table=t)
             for t in self.unowned_tables]
            + [Finding(FindingKind.UNMANAGED_MODEL, Severity.WARNING,
                       f"Model {m} is unmanaged; its table was not copied.", model=m)
               for m in self.unmanaged_models]
            + [Finding(FindingKind.VENDOR_ONLY_MODEL, Severity.WARNING,
                       f"Model {label(m)} exists only on {m._meta.required_db_vendor} and holds no rows;"
                       " it is not on the target.", model=label(m))
               for m in self.left_behind]
            + [Finding(FindingKind.NOT_REPLAYED, Severity.WARNING, f"Not replayed on the target: {op}.")
               for op in self.not_replayed]
        )


def make_plan(source: Endpoint, target: Endpoint, models: Sequence[str] = (),
              exclude: Sequence[str] = (), sizes: bool = True) -> Plan:
    """Inspect both sides and decide every table job; nothing is written.

    ``sizes``: read the source tables' sizes on disk too (the dry-run reports them).
    """
    try:
        inv = inventory(source, sizes=sizes)
        if inv.pending_migrations:  # the likelier cause of missing tables: say it first
            raise pending_migrations_error(source, inv)
        # The target gets every table it can have; rows come for those also on the source.
        everything = project_models(target.alias)
        models = select_models(shared_models(source.alias, target.alias), models, exclude)
        unselected = [m for m in everything if m not in models]
        present = {t.name for t in inv.tables}
        missing = [m._meta.db_table for m in models if m._meta.db_table not in present]
        if missing:
            raise PreconditionError(
                f"The source {source.display} lacks the tables {', '.join(missing)} that the "
                "project's models need; create them (migrate, createcachetable) or restore them first."
            )
        counts = {t.name: t.rows for t in inv.tables}
        planned = {m._meta.db_table for m in everything}
        on_target = set(target.adapter.table_names())
        return Plan(
            source=source,
            target=target,
            jobs=table_jobs(models, source, target, counts),
            source_inventory=inv,
            target_tables=sorted({m._meta.db_table for m in models} & on_target),
            unowned_tables=[t for t in inv.unowned_tables if t not in planned],
            unmanaged_models=inv.unmanaged_models,
            not_replayed=not_replayed(source),
            unselected=unselected,
            unselected_missing=[m for m in unselected if m._meta.db_table not in on_target],
            left_behind=left_behind(source, target),
        )
    except DatabaseError as e:
        raise EndpointError(f"Cannot inspect the databases: {first_line(e)}.") from e


def table_jobs(models, source: Endpoint, target: Endpoint, counts: dict[str, int]) -> list[TableJob]:
    """A :class:`TableJob` per model, parents before children where the graph allows."""
    return [
        TableJob(
            table=model._meta.db_table,
            label=label(model),
            model=model,
            columns=columns_for(model, source.connection, target.connection),
            key=[f.column for f in key_fields(model)],
            source_rows=counts.get(model._meta.db_table, 0),
        )
        for model in fk_order(models)
    ]


def fk_order(models) -> list[type]:
    """``models`` with referenced tables first; cycles keep registry order.

    Constraints are off while loading, so the order is a courtesy to humans
    reading the report and to backends that check early, not a requirement.
    """
    tables = {m._meta.db_table: m for m in models}
    deps = {
        t: {
            f.related_model._meta.db_table
            for f in m._meta.local_concrete_fields
            if f.is_relation and f.related_model is not None
        }
        & tables.keys()
        - {t}
        for t, m in tables.items()
    }
    ordered, seen = [], set()

    def visit(table, stack):
        if table in seen or table in stack:
            return
        stack.add(table)
        for dep in sorted(deps[table]):
            visit(dep, stack)
        stack.discard(table)
        seen.add(table)
        ordered.append(tables[table])

    for table in tables:
        visit(table, set())
    return ordered


def left_behind(source: Endpoint, target: Endpoint) -> list[type]:
    """Models on the source that the target's vendor cannot have (``required_db_vendor``)."""
    on_target = set(project_models(target.alias))
    return [
        m for m in project_models(source.alias)
        if m not in on_target and not m._meta.can_migrate(target.connection)
    ]
