"""The plan of a copy: which tables, in which order, with which conversions.

:func:`make_plan` inspects both sides and decides every table job before the
first row is written; nothing is written to either side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import DatabaseError, router

from .convert import Column, columns_for
from .endpoints import Endpoint
from .exceptions import EndpointError, PortadbError, PreconditionError, first_line
from .fields import key_fields
from .inspect import inventory, not_replayed, pending_migrations_error
from .models import label, project_models
from .reports.model import Finding, FindingKind, Inventory, Severity
from .selection import select_models
from .shapes import Difference, compare, shapes_of
from .targetproject import Description, TargetProject

#: The target's schema built by the project's own ``migrate``, in a child process.
MIGRATE = "migrate"
#: The target's tables built from the models of this process (the migration state's).
MODELS = "models"


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
    #: Source models the target does not have (``Meta.required_db_vendor``, or a model its
    #: library defines for the source's vendor only).
    left_behind: list[type] = field(default_factory=list)
    #: Models whose table differs between the source's models and the target's.
    differences: list[Difference] = field(default_factory=list)
    #: How the target's schema is built: :data:`MIGRATE` or :data:`MODELS`, and why.
    path: str = MODELS
    path_reason: str = ""
    #: Operations the target's migrations run that models cannot express.
    raw_operations: list[str] = field(default_factory=list)
    #: The child process that sees the target's models, where there is one.
    project: TargetProject | None = field(default=None, repr=False, compare=False)
    #: Every table of the project the target gets (the copied ones and the rest).
    tables: frozenset[str] = frozenset()
    #: Made on this process's guess of the target's models, not yet confirmed by ``project``
    #: (:meth:`~portadb.targetproject.TargetProject.guess`).
    guessed: bool = False

    @property
    def models(self) -> list[type]:
        return [job.model for job in self.jobs]

    def project_tables(self) -> set[str]:
        """The tables of the project on the target: what a replacement drops."""
        return set(self.tables) | {job.table for job in self.jobs}

    def findings(self) -> list[Finding]:
        """What the copy leaves alone and a user should know of: the report shows them."""
        rows = {t.name: t.rows for t in self.source_inventory.tables}
        return (
            [Finding(FindingKind.UNOWNED_TABLE, Severity.WARNING,
                     f"Table {t} belongs to no model and was not copied.", table=t)
             for t in self.unowned_tables]
            + [Finding(FindingKind.UNMANAGED_MODEL, Severity.WARNING,
                       f"Model {m} is unmanaged; its rows were not copied.", model=m)
               for m in self.unmanaged_models]
            + [Finding(FindingKind.VENDOR_ONLY_MODEL, Severity.WARNING,
                       f"Model {label(m)} exists only {_where(m)} and holds no rows;"
                       " it is not on the target.",
                       model=label(m), table=m._meta.db_table)
               for m in self.left_behind if not rows.get(m._meta.db_table)]
            + [Finding(FindingKind.VENDOR_DEPENDENT_MODEL,
                       Severity.INFO if d.how == "target only" else Severity.WARNING,
                       f"{d.describe()}; {_fate(d, rows.get(d.table, 0))}.", table=d.table, model=d.label)
               for d in self.differences if d.how != "source only"]
            + [Finding(FindingKind.NOT_REPLAYED, Severity.WARNING, f"Not replayed on the target: {op}.")
               for op in self.not_replayed]
        )


def _where(model) -> str:
    vendor = model._meta.required_db_vendor
    return f"on {vendor}" if vendor else "where the source's backend is the default database"


def _fate(difference: Difference, rows: int) -> str:
    """What the copy does with the rows of a model whose table differs."""
    if difference.how == "target only":
        return "the target keeps it as its migrate made it"
    if not rows:
        return "it holds no rows; the target keeps its own version, empty"
    if not difference.convertible:
        return f"its {rows:,} rows cannot be copied exactly"
    dropped = f" (without {', '.join(difference.dropped)}, NULL in every row)" if difference.dropped else ""
    return f"its {rows:,} rows are copied, every value exactly{dropped}"


def make_plan(source: Endpoint, target: Endpoint, models: Sequence[str] = (),
              exclude: Sequence[str] = (), sizes: bool = True,
              project: TargetProject | None = None, source_project: TargetProject | None = None,
              guess: bool = False) -> Plan:
    """Inspect both sides and decide every table job; nothing is written.

    ``sizes``: read the source tables' sizes on disk too (the dry-run reports them).
    ``project``: the child process that sees the target's models
    (:mod:`portadb.targetproject`); without one, the target is built from this
    process's models. ``source_project``: one that sees the source's, where
    this process's default database is not of the source's vendor: the rows
    are read with this process's models, which must then be the source's.
    ``guess``: where ``project`` has not described the target yet, plan on this process's own
    view of it instead of waiting (``plan.guessed``; the caller confirms it).
    """
    guessed = None
    try:
        inv = inventory(source, sizes=sizes)
        if inv.pending_migrations:  # the likelier cause of missing tables: say it first
            raise pending_migrations_error(source, inv)
        on_source = project_models(source.alias)
        if source_project is not None:
            _check_own_models(source, on_source, source_project.describe())
        guessed = project.guess() if guess and project is not None else None
        view = guessed or (project.describe() if project is not None else None)
        if view is None:
            on_target = {m._meta.db_table for m in project_models(target.alias)}
            differences: list[Difference] = []
        else:
            on_target = set(view.models)
            differences = compare(shapes_of(on_source, target.connection), view.models,
                                  target.adapter.integer_range)
        shared = [m for m in on_source if m._meta.db_table in on_target]
        chosen = select_models(shared, models, exclude)
        # Left behind: models the target's backend has not (a router's choice is no loss).
        left = select_models([m for m in on_source if m._meta.db_table not in on_target
                              and router.allow_migrate_model(target.alias, m)], models, exclude)
        present = {t.name for t in inv.tables}
        missing = [m._meta.db_table for m in chosen if m._meta.db_table not in present]
        if missing:
            raise PreconditionError(
                f"The source {source.display} lacks the tables {', '.join(missing)} that the "
                "project's models need; create them (migrate, createcachetable) or restore them first."
            )
        counts = {t.name: t.rows for t in inv.tables}
        _check_dropped_columns(source, differences, counts)
        everything = [m for m in project_models() if m._meta.db_table in on_target]
        everything += [m for m in chosen if m not in everything]  # django_migrations, cache tables
        unselected = [m for m in everything if m not in chosen]
        existing = set(target.adapter.table_names())
        plan = Plan(
            source=source,
            target=target,
            jobs=table_jobs(chosen, source, target, counts, differences),
            source_inventory=inv,
            target_tables=sorted({m._meta.db_table for m in chosen} & existing),
            unowned_tables=[t for t in inv.unowned_tables if t not in on_target],
            unmanaged_models=inv.unmanaged_models,
            unselected=unselected,
            unselected_missing=[m for m in unselected if m._meta.db_table not in existing],
            left_behind=left,
            differences=[d for d in differences if _concerns(d, chosen, left)],
            project=project,
            tables=frozenset(on_target),
            guessed=guessed is not None,
        )
        others = {m._meta.db_table for m in shared if m not in chosen} & existing  # --models/--exclude
        plan.path, plan.path_reason = _path(plan, view, others)
        plan.raw_operations = view.operations if view is not None and plan.path == MIGRATE else []
        plan.not_replayed = [] if plan.path == MIGRATE else not_replayed(source)
        return plan
    except DatabaseError as e:
        if guessed is not None and not _confirmed(project):
            raise Misguessed from e
        raise EndpointError(f"Cannot inspect the databases: {first_line(e)}.") from e
    except Exception as e:  # a refusal (or a failure) stands only on the target's own models
        if guessed is not None and not _confirmed(project):
            raise Misguessed from e
        raise


class Misguessed(Exception):
    """The child sees other models on the target than a plan's guess: plan again, on its view."""


def confirm_guess(plan: Plan) -> None:
    """Wait for the child's view of the target's models where ``plan`` was made on a guess of
    it (``plan.guessed``); raise :class:`Misguessed` where that differs, or the child cannot say
    (planning again asks it again, and says its failure to the point)."""
    if plan.guessed:
        if not _confirmed(plan.project):
            raise Misguessed
        plan.guessed = False


def _confirmed(project: TargetProject) -> bool:
    """Whether the child confirms the guess; a child that cannot answer does not."""
    try:
        return project.confirm()
    except PortadbError:
        return False


def _check_own_models(source: Endpoint, on_source: list, view: Description) -> None:
    """Refuse to read the source with models that are not the ones its backend has."""
    mine = shapes_of(on_source, source.connection)
    if mine != view.models:
        differ = [table for table in sorted(mine.keys() | view.models.keys())
                  if mine.get(table) != view.models.get(table)]
        raise PreconditionError(
            f"The project's models depend on the database vendor, and where {source.display} is the"
            f" default database they are not the ones this process has (tables {some_of(differ)});"
            " run the copy with settings whose default database is the source."
        )


def _path(plan: Plan, view: Description | None, others: set[str]) -> tuple[str, str]:
    """How the target's schema is built, and why."""
    if view is None:
        return MODELS, "the project's settings are not a module a second process can load"
    if others:
        return MODELS, (f"the target holds {len(others)} more tables of the project: only the copied"
                        " tables are built again")
    differ = [d.label for d in plan.differences if d.how == "differs"]
    if differ:
        return MIGRATE, f"models differ between the two backends: {some_of(differ)}"
    alone = [d.label for d in plan.differences] + [label(m) for m in plan.left_behind]
    if alone:
        return MIGRATE, f"models exist on one backend only: {some_of(alone)}"
    if view.operations:
        return MIGRATE, f"migrations run {len(view.operations)} operations the models cannot express"
    return MODELS, "the models are the same on both backends and no migration runs SQL of its own"


def some_of(labels: list[str], shown: int = 3) -> str:
    """The first ``shown`` of ``labels``, and how many more there are."""
    return ", ".join(labels[:shown]) + (f" and {len(labels) - shown} more" if len(labels) > shown else "")


def _owned(models) -> set[str]:
    return {m._meta.db_table for m in models}


def _concerns(difference: Difference, chosen, left) -> bool:
    """Whether a difference is about a table the copy moves or leaves behind (not an excluded one)."""
    tables = _owned(chosen) | _owned(left)
    return difference.table in tables or difference.how == "target only"


def _check_dropped_columns(source: Endpoint, differences: list[Difference], counts: dict[str, int]) -> None:
    """A source column the target's model lacks converts exactly only where it holds NULL only."""
    for difference in differences:
        for column in list(difference.dropped):
            if counts.get(difference.table) and source.adapter.holds_values(difference.table, column):
                difference.columns.append(f"{column} holds values the target has no column for")
                difference.convertible = False


def table_jobs(models, source: Endpoint, target: Endpoint, counts: dict[str, int],
               differences: Sequence[Difference] = ()) -> list[TableJob]:
    """A :class:`TableJob` per model, parents before children where the graph allows.

    Columns the target's version of a model lacks (``differences``) are left out.
    """
    dropped = {d.table: set(d.dropped) for d in differences}
    return [
        TableJob(
            table=model._meta.db_table,
            label=label(model),
            model=model,
            columns=[c for c in columns_for(model, source.connection, target.connection)
                     if c.name not in dropped.get(model._meta.db_table, ())],
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
