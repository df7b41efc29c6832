"""The plan of a copy: which tables, in which order, with which conversions."""

from __future__ import annotations

from dataclasses import dataclass, field

from .convert import Column, columns_for
from .endpoints import Endpoint
from .inspect import Inventory
from .models import label


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


def table_jobs(models, source: Endpoint, target: Endpoint, counts: dict[str, int]) -> list[TableJob]:
    """A :class:`TableJob` per model, parents before children where the graph allows."""
    jobs = []
    for model in fk_order(models):
        opts = model._meta
        key = [f.column for f in _key_fields(model)]
        jobs.append(
            TableJob(
                table=opts.db_table,
                label=label(model),
                model=model,
                columns=columns_for(model, source.connection, target.connection),
                key=key,
                source_rows=counts.get(opts.db_table, 0),
            )
        )
    return jobs


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


def _key_fields(model):
    pk = model._meta.pk
    fields = getattr(pk, "fields", None)  # CompositePrimaryKey (Django 5.2+)
    return list(fields) if fields else [pk]
