"""What refuses a copy before its first write, each refusal one sentence.

A source whose migrations or models are unfinished, a target that cannot hold
a model or field, a selection whose foreign keys point at rows the target
will not have, a target that already holds the project's tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from .endpoints import Endpoint
from .exceptions import PreconditionError, SelectionError, TargetCannotHold
from .inspect import pending_migrations_error
from .journal import SCHEMA, Journal, interrupted
from .keys import key_text
from .models import label, project_models
from .parts import Part, count
from .plan import MODELS, Plan
from .selection import missing_rows, outside_references
from .verify.compare import compare_through


def check_preconditions(plan: Plan, replace: bool) -> None:
    """Refuse a source whose models and migrations disagree, or a target in use."""
    inv = plan.source_inventory
    if inv.pending_migrations:
        raise pending_migrations_error(plan.source, inv)
    if inv.unmigrated_changes:
        raise PreconditionError(
            "The models have changes that no migration records "
            f"({'; '.join(inv.unmigrated_changes)}); run makemigrations and migrate first."
        )
    rows = {t.name: t.rows for t in inv.tables}
    dropped = {d.table: set(d.dropped) for d in plan.differences}
    # Where migrate builds the target, it builds the tables of unselected models its own way.
    built = plan.models + (plan.unselected_missing if plan.path == MODELS else [])
    check_target_can_hold(plan.target, built, plan.left_behind, rows, dropped)
    check_names(plan)
    check_vendor_models(plan, rows)
    check_selection(plan)
    if plan.target_tables and not replace:
        if interrupted(plan.target):
            raise PreconditionError(
                f"The target {plan.target.display} holds a copy of this project that did not finish "
                f"({len(plan.target_tables)} tables); run the same copy with --resume to continue it, "
                "or with --replace to start again."
            )
        raise PreconditionError(
            f"The target {plan.target.display} already holds {len(plan.target_tables)} tables of "
            f"this project; use --replace to drop and recreate them."
        )


def check_target_can_hold(target: Endpoint, models: Sequence[type], left: Sequence[type],
                          source_rows: dict[str, int], dropped: dict[str, set] | None = None) -> None:
    """Raise :class:`TargetCannotHold` for the first model or field the target cannot take.

    A model whose ``Meta.required_db_vendor`` the target does not match is left
    behind (``migrate`` skips it too) only when it holds no rows; a field the
    target cannot store (``ArrayField`` on MySQL, a collation the target
    lacks) is refused, because its table cannot be built. ``dropped``: the
    columns, by table, that the target's own version of a model has not.
    """
    adapter = target.adapter
    for model in left:  # the ones its library defines by vendor: check_vendor_models
        rows = source_rows.get(model._meta.db_table, 0)
        vendor = model._meta.required_db_vendor
        if rows and (vendor or _first_refused(adapter, model)):
            field, reason = _first_refused(adapter, model) or (
                "Meta.required_db_vendor", f"the model requires {vendor}")
            raise TargetCannotHold(
                f"Cannot copy {label(model)}.{field} to {target.display}: {reason} "
                f"({rows} rows on the source); nothing was written."
            )
    for model in models:
        refused = _first_refused(adapter, model, (dropped or {}).get(model._meta.db_table, ()))
        if refused:
            field, reason = refused
            raise TargetCannotHold(
                f"Cannot copy {label(model)}.{field} to {target.display}: {reason}; nothing was written."
            )


def check_names(plan: Plan) -> None:
    """Refuse a table or column name the target cannot hold (too long, a character it refuses).

    Every table the target gets counts, copied or not: the project's schema
    is built whole (``--exclude`` leaves a table empty, not missing).
    """
    refusal = name_refusal(plan)
    if refusal:
        raise TargetCannotHold(refusal)


def name_refusal(plan: Plan) -> str | None:
    """The sentence refusing the first table or column name the target cannot hold, if any."""
    tables = plan.project_tables()
    models = list(dict.fromkeys([*plan.models, *(m for m in project_models() if m._meta.db_table in tables)]))
    adapter, where = plan.target.adapter, plan.target.display
    for model in models:
        table = model._meta.db_table
        reason = adapter.cannot_name(table)
        if reason:
            return (f"Cannot copy {label(model)} to {where}: its table name {table!r} {reason};"
                    " rename the table (Meta.db_table); nothing was written.")
        for field in model._meta.local_concrete_fields:
            reason = adapter.cannot_name(field.column, table=False)
            if reason:
                return (f"Cannot copy {label(model)}.{field.name} to {where}: its column name"
                        f" {field.column!r} {reason}; rename the column (db_column); nothing was written.")
    for table in sorted(tables - {m._meta.db_table for m in models}):  # the target's models only
        reason = adapter.cannot_name(table)
        if reason:
            return (f"Cannot copy to {where}: the project's table name {table!r} {reason} there;"
                    " rename the table (Meta.db_table); nothing was written.")
    return _collision(plan, models) or _unreadable(plan)


def _collision(plan: Plan, models: list) -> str | None:
    """The sentence refusing two table names, or two column names of one table, that the target
    takes for one (SQLite and MySQL ignore the case of some names; PostgreSQL's source does not)."""
    adapter, where = plan.target.adapter, plan.target.display
    same = _same_names(sorted(plan.project_tables()), adapter.name_key)
    if same:
        return (f"Cannot copy to {where}: the project's tables {same[0]!r} and {same[1]!r} are one name"
                f" to {adapter.display_name}, which ignores their difference in case; rename one of"
                " them (Meta.db_table); nothing was written.")
    for model in models:
        same = _same_names([f.column for f in model._meta.local_concrete_fields],
                           lambda name: adapter.name_key(name, table=False))
        if same:
            return (f"Cannot copy {label(model)} to {where}: its columns {same[0]!r} and {same[1]!r} are"
                    f" one name to {adapter.display_name}, which ignores their difference in case;"
                    " rename one of them (db_column); nothing was written.")
    return None


def _same_names(names: list[str], key) -> tuple[str, str] | None:
    seen: dict[str, str] = {}
    for name in names:
        if seen.setdefault(key(name), name) != name:
            return seen[key(name)], name
    return None


def _unreadable(plan: Plan) -> str | None:
    """The sentence refusing the first name of a copied model that the source cannot be read by."""
    adapter, where = plan.source.adapter, plan.source.display
    for model in plan.models:
        names = [(model._meta.db_table, "table", "Meta.db_table"),
                 *((f.column, "column", "db_column") for f in model._meta.local_concrete_fields)]
        for name, what, setting in names:
            reason = adapter.unreadable_name(name)
            if reason:
                return (f"Cannot copy {label(model)} from {where}: its {what} name {name!r} {reason};"
                        f" rename the {what} ({setting}); nothing was written.")
    return None


def check_vendor_models(plan: Plan, rows: dict[str, int]) -> None:
    """Refuse the rows of models the target's backend defines otherwise, where a value cannot cross.

    Such a model (a search index, say) is named with the way out: leave it out
    of the copy and let the project rebuild it on the target.
    """
    copied = {job.table for job in plan.jobs}
    refused = [f"{d.describe()} ({rows[d.table]:,} rows)" for d in plan.differences
               if d.how == "differs" and not d.convertible and rows.get(d.table) and d.table in copied]
    labels = [d.label for d in plan.differences if d.how == "differs" and not d.convertible
              and rows.get(d.table) and d.table in copied]
    for model in plan.left_behind:
        table = model._meta.db_table
        if rows.get(table) and not model._meta.required_db_vendor:
            refused.append(f"{label(model)} exists where the source's backend is the default database"
                           f" only ({rows[table]:,} rows)")
            labels.append(label(model))
    if refused:
        raise TargetCannotHold(
            f"Cannot copy to {plan.target.display}: the project defines these models otherwise where its"
            " backend is the default database, and their rows would not arrive exactly:"
            f" {'; '.join(refused)}."
            f" Leave them out ({' '.join(f'--exclude {name}' for name in labels)}) and rebuild them on the"
            " target (a search index: its own update command); nothing was written."
        )


def _first_refused(adapter, model, skip=()) -> tuple[str, str] | None:
    for field in model._meta.local_concrete_fields:
        reason = None if field.column in skip else adapter.cannot_hold(field)
        if reason:
            return field.name, reason
    return None


def check_selection(plan: Plan) -> None:
    """Refuse foreign keys into rows the target will not hold: unselected or routed elsewhere."""
    chosen = set(plan.models)
    for ref in outside_references(plan.models, [m for m in project_models() if m not in chosen]):
        selectable = ref.referenced in plan.unselected
        held = selectable and ref.referenced not in plan.unselected_missing
        missing = missing_rows(ref, plan.source.alias, plan.target.alias if held else None)
        if missing:
            why, fix = (("is not selected", f"select {ref.referenced._meta.label} too") if selectable
                        else ("has no table on the target (routers or required_db_vendor)",
                              "let it onto the target or leave the referencing model out"))
            raise SelectionError(
                f"{ref.describe()}, which {why}, and the target lacks the rows "
                f"{', '.join(map(repr, missing))}; {fix}."
            )


def check_committed(plan: Plan, journal: Journal) -> None:
    """Refuse to resume where a table does not hold exactly the source's rows up to the keys
    its journal records (rows deleted on either side, a table dropped)."""
    if journal.state == SCHEMA:
        return
    source, target = plan.source.adapter, plan.target.adapter
    present = set(target.table_names())
    for job in plan.jobs:
        if job.table not in present:
            raise PreconditionError(
                f"Cannot resume: the table {job.table} is missing from {plan.target.display}; "
                "copy again with --replace."
            )
        parts = {p: pos for p, pos in journal.positions.items() if p.table == job.table}
        written = sum(pos.rows for pos in parts.values())
        on_target = target.count(job.table)
        for part, pos in parts.items():
            below = 0 if pos.key is None else count(source, Part(job.table, after=part.after,
                                                                   through=tuple(pos.key)), job.key)
            if on_target != written or below != pos.rows + pos.rejected:
                rejected = f" (and {pos.rejected} rejected)" if pos.rejected else ""
                raise PreconditionError(
                    f"Cannot resume {job.label}: the journal records {pos.rows} rows{rejected} "
                    f"{_range_text(part, pos.key)}, but the source now has {below} there and the target"
                    f" {on_target} in all; copy again with --replace."
                )


def _range_text(part: Part, key: list | None) -> str:
    start = "" if part.after is None else f"after {key_text(list(part.after))} "
    return f"{start}up to {key_text(key)}"


def check_unchanged(plan: Plan, journal: Journal, chunk_size: int) -> None:
    """Refuse to resume where rows the interrupted copy already wrote changed on the source since.

    Each table's rows up to its last committed key are compared on both sides
    the way ``verify`` compares them; a resumed copy never completes with stale
    values. Rows the interrupted copy rejected (``--on-error=reject``) are the
    ones the target lacks.
    """
    jobs = {job.table: job for job in plan.jobs}
    with plan.source.adapter.snapshot(), plan.target.adapter.snapshot():
        for part, position in journal.positions.items():
            job = jobs[part.table]
            if position.key is None:
                continue
            check = compare_through(plan.source, plan.target, job.model, position.key, chunk_size,
                                    after=part.after)
            changed = check.different_rows + check.extra_count + abs(check.missing_count - position.rejected)
            if changed:
                keys = (check.differences and [d.pk for d in check.differences]) or check.extra_pks \
                    or check.missing_pks
                raise PreconditionError(
                    f"Cannot resume {job.label}: {changed} of the rows the interrupted copy already wrote"
                    f" changed on the source since (pk {', '.join(map(repr, dict.fromkeys(keys)))});"
                    " copy again with --replace."
                )
