"""The target schema, built from the project's current models.

Why not ``migrate --database=target``: data migrations of many third-party apps
ignore ``using`` and write to ``default`` -- in-process they would fail or write
into the source, which portadb never touches. Instead every table is created
by the schema editor from the current models (which the preconditions prove
equal to the migrations), foreign keys and secondary indexes are added after
the data, and the source's ``django_migrations`` rows are copied, so
``migrate --check`` on the target finds nothing to do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from .exceptions import DataError, TransferError, first_line
from .models import is_auto_created


@dataclass
class SchemaSteps:
    """DDL of a copy: tables first, then what is built after the data."""

    create: list[str] = field(default_factory=list)
    #: Indexes, unique-together and foreign keys, run after the rows are loaded.
    deferred: list = field(default_factory=list)


def create_tables(connection, models: Sequence, *, collect_only: bool = False) -> SchemaSteps:
    """Create a table per model on ``connection``; keep indexes and FKs for later.

    With ``collect_only`` nothing runs and the statements are only returned
    (the way ``sqlmigrate`` previews DDL).
    """
    from .backends import adapter_for

    steps = SchemaSteps()
    with adapter_for(connection).schema_editor(collect_sql=collect_only, atomic=False) as editor:
        for model in models:
            if not is_auto_created(model):  # auto M2M tables come with their model
                editor.create_model(model)
        steps.deferred = list(editor.deferred_sql)
        editor.deferred_sql.clear()
        if collect_only:
            steps.create = list(editor.collected_sql)
    return steps


def dangling_sql(connection, table: str, key: Sequence[str], field) -> str:
    """SELECT the key columns and ``field``'s value of the rows of ``table`` whose
    foreign key ``field`` points at no row, in key order."""
    q = connection.ops.quote_name
    parent = q(field.related_model._meta.db_table)
    column, target = q(field.column), q(field.target_field.column)
    keys = ", ".join(f"c.{q(k)}" for k in key)
    return (
        f"SELECT {keys}, c.{column} FROM {q(table)} c"
        f" LEFT JOIN {parent} p ON c.{column} = p.{target}"
        f" WHERE c.{column} IS NOT NULL AND p.{target} IS NULL ORDER BY {keys}"
    )


def dangling_references(connection, models: Sequence, limit: int = 5) -> list[tuple[str, str, list]]:
    """Foreign key values that point at no row: ``(table, column, [pk, ...])``."""
    found = []
    for model, f in _references(models):
        found += _dangling(connection, model, f, limit)
    return found


def _references(models: Sequence) -> list[tuple]:
    return [(model, f) for model in models for f in model._meta.local_concrete_fields
            if f.is_relation and f.db_constraint and f.related_model]


def _dangling(connection, model, field, limit: int = 5) -> list[tuple[str, str, list]]:
    opts = model._meta
    with connection.cursor() as cursor:
        cursor.execute(dangling_sql(connection, opts.db_table, [opts.pk.column], field))
        pks = [row[0] for row in cursor.fetchmany(limit)]
    return [(opts.db_table, field.column, pks)] if pks else []


def build_deferred(connection, deferred: Sequence, workers: int = 1, check: Sequence = ()) -> None:
    """Run the indexes and constraints kept back by :func:`create_tables`.

    With ``workers`` > 1, that many sessions build them at once, table by
    table: first keys and indexes, then the foreign keys that need them.
    The foreign keys of the models in ``check`` are searched for dangling
    rows first (:func:`check_references`), side by side with the keys and
    indexes where there are workers; the foreign keys are built only if none dangle.
    """
    if workers < 2:
        check_references(connection, check)
        _run_statements(connection, deferred)
        return
    # Keys and constraints lock their table: one session per table. Plain
    # indexes only share-lock it, so they build side by side even on one table,
    # but not beside its keys (a session would only wait for the lock).
    # A foreign key locks both its tables: two that share one never build at
    # once, or a pair pointing opposite ways (a cycle) deadlocks.
    text = [(statement, str(statement)) for statement in deferred]
    foreign = [s for s, t in text if "FOREIGN KEY" in t]
    indexes = [s for s, t in text if t.lstrip().upper().startswith("CREATE INDEX")]
    keys = [s for s in deferred if s not in foreign and s not in indexes]
    groups: dict[str, list] = {}
    for statement in keys:
        groups.setdefault(_table_of(statement), []).append(statement)
    run = partial(_run_statements, side_by_side=True)
    work = [_Work(partial(run, statements=group), frozenset({table}), statements=len(group))
            for table, group in groups.items()]
    work += [_Work(partial(run, statements=[s]), shared=frozenset({_table_of(s)})) for s in indexes]
    # The largest tables' builds first: the session that takes the last one
    # then ends about when the others do.
    work.sort(key=_largest_first(connection))
    dangling: list = []
    work += [partial(_collect_dangling, dangling, model, f) for model, f in _references(check)]
    _in_sessions(connection.alias, work, workers)
    if dangling:
        _refuse_dangling(sorted(dangling))
    work = [_Work(partial(run, statements=[s]), _tables_of(s)) for s in foreign]
    work.sort(key=_largest_first(connection))
    _in_sessions(connection.alias, work, workers)


def _largest_first(connection) -> Callable:
    from .backends import adapter_for

    sizes = adapter_for(connection).table_sizes()

    def cost(item: _Work) -> int:
        return -item.statements * max((sizes.get(t, 0) for t in item.tables | item.shared), default=0)

    return cost


def _run_statements(connection, statements: Sequence, side_by_side: bool = False) -> None:
    from .backends import adapter_for

    session = adapter_for(connection).build_session(side_by_side)
    with session, connection.schema_editor(atomic=False) as editor:
        for statement in statements:
            try:
                editor.execute(statement)
            except Exception as e:
                raise TransferError(
                    f"Could not build {_what(statement)}: {first_line(e)}; "
                    "run the same copy with --resume to continue."
                ) from e


def _collect_dangling(found: list, model, field, connection) -> None:
    found += _dangling(connection, model, field)


@dataclass(frozen=True)
class _Work:
    """A build for :func:`_in_sessions`, with the tables it locks alone and those it shares."""

    call: Callable
    #: No other build may use these tables meanwhile (ALTER TABLE).
    tables: frozenset = frozenset()
    #: Other builds that share them may run meanwhile (CREATE INDEX).
    shared: frozenset = frozenset()
    #: How many statements it runs: with its table's size, what it costs.
    statements: int = 1


def _in_sessions(alias: str, work: Sequence, workers: int) -> None:
    """Call each item of ``work`` with a connection, up to ``workers`` at once, one session each.

    An item is a callable or a :class:`_Work`: that waits while another item
    holds one of its tables (alone, or shared when it wants it alone), and the
    items behind it go first.
    """
    import threading

    from django.db import connections

    todo = [item if isinstance(item, _Work) else _Work(item) for item in work]
    alone: set[str] = set()
    shared: Counter = Counter()
    errors: list[Exception] = []
    turn = threading.Condition()

    def free(item: _Work) -> bool:
        return alone.isdisjoint(item.tables | item.shared) and shared.keys().isdisjoint(item.tables)

    def take():
        with turn:
            while todo and not errors:
                for i, item in enumerate(todo):
                    if free(item):
                        alone.update(item.tables)
                        shared.update(item.shared)
                        return todo.pop(i)
                turn.wait()
            return None

    def run():
        try:
            while (item := take()) is not None:
                try:
                    item.call(connections[alias])
                finally:
                    with turn:
                        alone.difference_update(item.tables)
                        shared.subtract(item.shared)
                        for table in item.shared:
                            if shared[table] <= 0:
                                del shared[table]
                        turn.notify_all()
        except Exception as e:  # re-raised in the calling thread
            with turn:
                errors.append(e)
                turn.notify_all()
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=run) for _ in range(min(workers, len(todo)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _table_of(statement) -> str:
    """The table a deferred statement changes (``ALTER TABLE t`` or ``CREATE INDEX ... ON t``)."""
    match = re.search(r'(?:ALTER TABLE|\bON)\s+[`"]?([^\s`"(]+)', str(statement))
    return match.group(1) if match else ""


def _tables_of(statement) -> frozenset[str]:
    """The tables a deferred statement locks: the one it changes and the one it references."""
    match = re.search(r'\bREFERENCES\s+[`"]?([^\s`"(]+)', str(statement))
    return frozenset({_table_of(statement)} | ({match.group(1)} if match else set()))


def check_references(connection, models: Sequence) -> None:
    """Raise :class:`DataError` naming the first rows whose foreign keys dangle."""
    dangling = dangling_references(connection, models)
    if dangling:
        _refuse_dangling(dangling)


def _refuse_dangling(dangling: list[tuple[str, str, list]]) -> None:
    table, column, pks = dangling[0]
    more = f" (and {len(dangling) - 1} more columns)" if len(dangling) > 1 else ""
    raise DataError(
        f"Foreign key {table}.{column} points at missing rows for primary keys "
        f"{', '.join(map(str, pks))}{more}."
    )


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
            for f in model._meta.local_concrete_fields:
                if not (f.is_relation and f.db_constraint and f.related_model
                        and f.related_model._meta.concrete_model in targets):
                    continue
                if not _has_foreign_key(connection, table, f.column):
                    editor.execute(editor._create_fk_sql(model, f, "_fk_%(to_table)s_%(to_column)s"))
                    restored.append(f"{table}.{f.column}")
    return restored


def _has_foreign_key(connection, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return any(c["foreign_key"] and c["columns"] == [column] for c in constraints.values())


def unbuilt(connection, deferred: Sequence) -> list:
    """``deferred`` without the indexes and constraints that already exist.

    A resumed copy may find some of them built by the interrupted run; running
    them again would fail. Statements without a name are kept.
    """
    q = connection.ops.quote_name
    existing: dict[str, set[str]] = {}
    kept = []
    with connection.cursor() as cursor:
        for statement in deferred:
            table, name = locate(statement)
            if name is not None and table is not None:
                if table not in existing:
                    found = connection.introspection.get_constraints(cursor, table)
                    existing[table] = {q(n) for n in found}
                if name in existing[table]:
                    continue
            kept.append(statement)
    return kept


# How a backend's deferred key reads (``defer_keys``): plain SQL, named in it.
_ADD_CONSTRAINT = re.compile(r'ALTER TABLE ("?[^"\s]+"?) ADD CONSTRAINT ("?[^"\s]+"?) ')


def locate(statement) -> tuple[str | None, str | None]:
    """The table and the (quoted) index or constraint name a deferred statement makes, if it says."""
    if isinstance(statement, str):
        match = _ADD_CONSTRAINT.match(statement)
        return (match[1].strip('"'), match[2]) if match else (None, None)
    parts = getattr(statement, "parts", None)
    if parts is None:  # a stored statement (portadb.journal)
        return getattr(statement, "table", None), getattr(statement, "name", None)
    name = parts.get("name")
    return getattr(parts.get("table"), "table", None), None if name is None else str(name)


def _what(statement) -> str:
    """``index or constraint NAME on TABLE`` for a deferred statement, else its SQL."""
    table, name = locate(statement)
    if name is not None and table:
        return f"the index or constraint {name} on {table}"
    return repr(str(statement)[:200])
