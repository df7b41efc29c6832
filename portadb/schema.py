"""The target schema: tables before the data, keys, indexes and foreign keys after it.

Why not ``migrate --database=target``: data migrations of many third-party apps
ignore ``using`` and write to ``default`` -- in-process they would fail or write
into the source, which portadb never touches. Instead every table is created
by the schema editor from the current models (which the preconditions prove
equal to the migrations), foreign keys and secondary indexes are added after
the data, and the source's ``django_migrations`` rows are copied, so
``migrate --check`` on the target finds nothing to do.

What is built after the data is a list of :class:`BuildStep`: the SQL and the
tables it locks, read from Django's own ``Statement`` objects, so that the
builds can run side by side (:mod:`portadb.scheduler`) and a resumed copy can
run exactly what the interrupted one would have.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader

from .backends import adapter_for
from .compat import create_foreign_key_sql, statement_parts, statement_template
from .exceptions import TransferError, first_line
from .fields import foreign_keys
from .models import cache_models, is_auto_created
from .references import check_references, dangling, refuse_dangling
from .scheduler import Work, in_sessions

KEY, INDEX, FOREIGN_KEY = "key", "index", "foreign_key"
#: A key built as its unique index (shares its table with other indexes), then made the key by
#: an instant attach, ``ADD CONSTRAINT ... USING INDEX`` (locks its table alone):
#: :mod:`portadb.backends.postgresql_keys`.
UNIQUE_INDEX, ATTACH = "unique_index", "attach"
#: When a build may start, by kind: a key once its table's indexes are built, a foreign key
#: once the keys of both its tables are.
_STAGES = {ATTACH: 1, FOREIGN_KEY: 2}


@dataclass(frozen=True)
class BuildStep:
    """An index or constraint built after the data, and the tables its build locks."""

    sql: str
    #: The table it changes.
    table: str
    #: The index or constraint name as the backend quotes it, where known.
    name: str | None = None
    #: :data:`KEY` or :data:`ATTACH` (locks its table alone), :data:`INDEX` or
    #: :data:`UNIQUE_INDEX` (shares it with other indexes) or :data:`FOREIGN_KEY`
    #: (locks its table and the referenced one).
    kind: str = KEY
    #: The table a foreign key references.
    references: str | None = None

    def __str__(self) -> str:
        return self.sql

    @property
    def tables(self) -> frozenset[str]:
        return frozenset({self.table} | ({self.references} if self.references else set()))

    def describe(self) -> str:
        """``index or constraint NAME on TABLE``, else the SQL, for an error message."""
        if self.name is not None and self.table:
            return f"the index or constraint {self.name} on {self.table}"
        return repr(self.sql[:200])


def step_of(statement) -> BuildStep:
    """A schema editor's deferred ``Statement`` as a :class:`BuildStep`."""
    parts = statement_parts(statement)
    table = getattr(parts.get("table"), "table", "")
    name = None if parts.get("name") is None else str(parts["name"])
    to_table = getattr(parts.get("to_table"), "table", None)
    if to_table is not None:
        return BuildStep(str(statement), table, name, FOREIGN_KEY, to_table)
    plain_index = statement_template(statement).lstrip().upper().startswith("CREATE INDEX")
    return BuildStep(str(statement), table, name, INDEX if plain_index else KEY)


@dataclass
class SchemaSteps:
    """DDL of a copy: tables first, then what is built after the data."""

    create: list[str] = field(default_factory=list)
    #: Indexes, unique-together and foreign keys, run after the rows are loaded.
    deferred: list[BuildStep] = field(default_factory=list)


def create_tables(connection, models: Sequence, *, collect_only: bool = False) -> SchemaSteps:
    """Create a table per model on ``connection``; keep indexes and FKs for later.

    The key of an auto-created many-to-many table is then made what
    ``migrate`` makes: its migrations render it with ``DEFAULT_AUTO_FIELD``
    (``bigint``), where the model class follows the app's ``default_auto_field``.
    With ``collect_only`` nothing runs and the statements are only returned
    (the way ``sqlmigrate`` previews DDL).
    """
    steps = SchemaSteps()
    state = None
    caches = set(cache_models())
    with adapter_for(connection).schema_editor(collect_sql=collect_only, atomic=False) as editor:
        for model in models:
            if not is_auto_created(model) and model not in caches:  # auto M2M tables come with their model
                editor.create_model(model)
        for model in models:
            if is_auto_created(model):
                state = state or MigrationLoader(None, ignore_no_migrations=True).project_state()
                _key_as_migrated(editor, model, state)
        steps.deferred = [step_of(s) for s in editor.deferred_sql]
        editor.deferred_sql.clear()
        if collect_only:
            steps.create = list(editor.collected_sql)
    if caches.intersection(models):
        # Django's own command, not the stand-in models: its index names are not the models'.
        out = io.StringIO()
        call_command("createcachetable", database=connection.alias, dry_run=collect_only, verbosity=0,
                     stdout=out)
        steps.create += [s.strip() for s in out.getvalue().split(";") if s.strip()]
    return steps


def _key_as_migrated(editor, through, state) -> None:
    """Give an auto-created many-to-many table the primary key its migrations give it."""
    owner, name = through._meta.auto_created, None
    for f in owner._meta.local_many_to_many:
        if f.remote_field.through is through:
            name = f.name
    key = (owner._meta.app_label, owner._meta.model_name)
    if name is None or key not in state.models:
        return
    migrated = state.apps.get_model(*key)._meta.get_field(name).remote_field.through._meta.pk
    if migrated.db_type(editor.connection) != through._meta.pk.db_type(editor.connection):
        editor.alter_field(through, through._meta.pk, migrated)


def take_apart(connection, tables: Sequence[str]) -> list[BuildStep]:
    """Drop the keys, indexes and foreign keys ``migrate`` built on ``tables`` that load faster
    built after the data; the steps that build them back, as the database defines them."""
    if not tables:
        return []
    return [BuildStep(sql, table, name, kind, referenced)
            for table, name, kind, sql, referenced in adapter_for(connection).take_apart(tables)]


def defer_keys(connection, tables: Sequence[str]) -> list[BuildStep]:
    """Drop the keys of the new, empty ``tables`` where the backend gains by building them
    after the data; the steps that put them back."""
    dropped = adapter_for(connection).defer_keys(tables)
    return [BuildStep(sql, table, name, kind, referenced) for table, name, kind, sql, referenced in dropped]


def build_deferred(connection, deferred: Sequence[BuildStep], workers: int = 1, check: Sequence = ()) -> None:
    """Run the indexes and constraints kept back by :func:`create_tables`.

    With ``workers`` > 1, that many sessions build them at once, table by
    table: a key made of its unique index once the table's other indexes
    are built beside it, a foreign key once the keys and indexes of both its
    tables are, the longest chain of builds first. The foreign keys of the models
    in ``check`` are searched for dangling rows first
    (:func:`~portadb.references.check_references`): each search beside the
    keys and indexes where there are workers, and a foreign key is built
    after the searches of its two tables, only while none found a dangling
    row. Every foreign key waits for every key and index after a step whose
    table is not known (SQL a field gave as text).
    """
    if workers < 2:
        check_references(connection, check)
        _run_steps(connection, deferred)
        return
    run = partial(_run_steps, side_by_side=True)
    groups: dict[str, list[BuildStep]] = {}
    for step in deferred:
        if step.kind == KEY:
            groups.setdefault(_fold(step.table), []).append(step)
    work = [Work(partial(run, steps=group), frozenset({table}), statements=len(group))
            for table, group in groups.items()]
    # Of a table's indexes, which rank alike, a key's go last: an auto key's values arrive in
    # their order, and sorted input is the cheapest sort (a third of a random column's).
    work += [Work(partial(run, steps=[s]), shared=frozenset({_fold(s.table)}))
             for kind in (INDEX, UNIQUE_INDEX) for s in deferred if s.kind == kind]
    work += [Work(partial(run, steps=[s]), frozenset({_fold(s.table)}), statements=0, stage=_STAGES[ATTACH])
             for s in deferred if s.kind == ATTACH]  # instant: costs nothing in the ranking
    found: list = []
    # A search reads its two tables; the foreign key built on them (a later stage) waits for it.
    work += [Work(partial(_collect_dangling, found, model, f),
                  shared=frozenset(map(_fold, (model._meta.db_table, f.related_model._meta.db_table))))
             for model in check for f in foreign_keys(model)]
    # Where the target adds a foreign key unchecked (MySQL), none may follow a dangling row.
    foreign = [Work(partial(_unless_dangling, found, partial(run, steps=[s])),
                    frozenset(map(_fold, s.tables)), stage=_STAGES[FOREIGN_KEY])
               for s in deferred if s.kind == FOREIGN_KEY]
    sizes = {_fold(table): size for table, size in adapter_for(connection).table_sizes().items()}
    if any(not s.table for s in deferred if s.kind != FOREIGN_KEY):  # a barrier
        in_sessions(connection.alias, _critical_first(sizes, work), workers)
        work = []
    if not found:
        in_sessions(connection.alias, _critical_first(sizes, work + foreign), workers)
    if found:
        refuse_dangling(sorted(found))


def _critical_first(sizes: dict[str, int], work: list[Work]) -> list[Work]:
    """``work`` with the longest chains first. An item's chain is its cost (its statements times
    its largest table's size), or where items of its stage take one of its tables alone, theirs
    added up (they run one after another: two foreign keys of one table); then the cost of the
    costliest later-stage item waiting for it. The session that takes the last one then ends
    about when the others do."""

    def cost(item: Work) -> int:
        return item.statements * max((sizes.get(t, 0) for t in item.uses), default=0)

    costliest: dict[tuple[int, str], int] = {}  # by stage and table: the costliest item using it
    queued: dict[tuple[int, str], int] = {}  # by stage and table: the items taking it alone
    for item in work:
        for table in item.uses:
            costliest[item.stage, table] = max(costliest.get((item.stage, table), 0), cost(item))
        for table in item.tables:
            queued[item.stage, table] = queued.get((item.stage, table), 0) + cost(item)
    stages = {item.stage for item in work}

    def chain(item: Work) -> int:
        own = max((queued[item.stage, t] for t in item.tables), default=cost(item))
        later = (costliest.get((s, t), 0) for s in stages if s > item.stage for t in item.uses)
        return own + max(later, default=0)

    return sorted(work, key=chain, reverse=True)


def _run_steps(connection, steps: Sequence[BuildStep], side_by_side: bool = False) -> None:
    session = adapter_for(connection).build_session(side_by_side)
    with session, connection.schema_editor(atomic=False) as editor:
        for step in steps:
            try:
                editor.execute(step.sql)
            except Exception as e:
                # A killed copy's statement can go on running on the server and finish
                # after a resume looked: what it built is built.
                if step.name is not None and not unbuilt(connection, [step]):
                    continue
                raise TransferError(
                    f"Could not build {step.describe()}: {first_line(e)}; "
                    "run the same copy with --resume to continue."
                ) from e


def _collect_dangling(found: list, model, field, connection) -> None:
    found += dangling(connection, model, field)


def _unless_dangling(found: list, build, connection) -> None:
    if not found:
        build(connection)


def _fold(table: str | None) -> str | None:
    """A table's name as the build's sessions are scheduled by: one name in any case, as MySQL's
    catalogue may give a model's table (``lower_case_table_names``). Two tables whose names
    differ in case alone then wait for each other, which costs time, never a lock."""
    return table.casefold() if table else table


def restore_foreign_keys(connection, kept: Sequence, replaced: Sequence) -> list[str]:
    """Re-create foreign keys from ``kept`` tables into ``replaced`` ones; return their columns.

    Dropping a replaced table can take the constraints that point at it along
    (PostgreSQL's ``CASCADE``), while the tables a selection leaves out keep
    their rows: put back each constraint the models declare and the target lacks.
    """
    targets = {m._meta.concrete_model for m in replaced}
    restored = []
    with connection.cursor() as cursor:
        present = connection.introspection.table_names(cursor)
    with connection.schema_editor(atomic=False) as editor:
        for model in kept:
            table = model._meta.db_table
            if table not in present:
                continue
            for f in foreign_keys(model):
                if f.related_model._meta.concrete_model not in targets:
                    continue
                if not _has_foreign_key(connection, table, f.column):
                    editor.execute(create_foreign_key_sql(editor, model, f))
                    restored.append(f"{table}.{f.column}")
    return restored


def dependent_views(connection, tables: Sequence[str]) -> dict[str, str]:
    """The views that read ``tables``, directly or through other views, and that dropping them
    drops too: each one's name and ``CREATE`` statement
    (:meth:`~portadb.backends.statements.Statements.dependent_views_sql`)."""
    sql = adapter_for(connection).dependent_views_sql()
    if sql is None or not tables:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(tables)])
        return dict(cursor.fetchall())


def _has_foreign_key(connection, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return any(c["foreign_key"] and c["columns"] == [column] for c in constraints.values())


def unbuilt(connection, deferred: Sequence[BuildStep]) -> list[BuildStep]:
    """``deferred`` without the indexes and constraints that already exist.

    A resumed copy may find some of them built by the interrupted run; running
    them again would fail. A step counts as built only when something of its
    name *and kind* is there: on MySQL a foreign key and the index it needs
    share one name, and the index alone is not the foreign key. Steps without
    a name are kept.
    """
    quote = adapter_for(connection).quote
    existing: dict[str, dict[str, dict]] = {}
    kept = []
    with connection.cursor() as cursor:
        for step in deferred:
            # Django's introspection writes the table's name with quote_name: a table (no
            # model's, holding a foreign key into the copy's) whose name holds the quote
            # character would end it early. Its steps are kept, to run again.
            introspectable = quote(step.table) == connection.ops.quote_name(step.table)
            if step.name is not None and step.table and introspectable:
                if step.table not in existing:
                    found = connection.introspection.get_constraints(cursor, step.table)
                    existing[step.table] = {quote(n): info for n, info in found.items()}
                info = existing[step.table].get(step.name)
                if info is not None and _is_built(step, info):
                    continue
            kept.append(step)
    return kept


def _is_built(step: BuildStep, info: dict) -> bool:
    """Whether the constraint or index ``info`` (Django's introspection) is what ``step`` builds."""
    if step.kind == FOREIGN_KEY:
        return bool(info.get("foreign_key"))
    if step.kind == INDEX:
        return bool(info.get("index"))
    if step.kind == ATTACH:  # the constraint, not only its unique index
        return bool(info.get("primary_key") or info.get("unique")) and not info.get("index")
    return any(info.get(k) for k in ("primary_key", "unique", "check", "index"))
