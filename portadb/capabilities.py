"""Can the target hold every model and field the source has? Checked before any write.

Two cases, both named by model and field:

* A model whose ``Meta.required_db_vendor`` the target does not match: ``migrate``
  skips such a model on other vendors, so a copy leaves it behind -- but only
  when it holds no rows (the report says so); rows are refused.
* A field the target cannot store (``ArrayField`` on MySQL, a collation the
  target lacks): refused, because the table cannot be built.
"""

from __future__ import annotations

from collections.abc import Sequence

from .endpoints import Endpoint
from .exceptions import TargetCannotHold
from .models import label, project_models


def left_behind(source: Endpoint, target: Endpoint) -> list[type]:
    """Models on the source that the target's vendor cannot have (``required_db_vendor``)."""
    on_target = set(project_models(target.alias))
    return [
        m for m in project_models(source.alias)
        if m not in on_target and not m._meta.can_migrate(target.connection)
    ]


def check_target_can_hold(target: Endpoint, models: Sequence[type], left: Sequence[type],
                          source_rows: dict[str, int]) -> None:
    """Raise :class:`TargetCannotHold` for the first model or field the target cannot take."""
    adapter = target.adapter
    for model in left:
        rows = source_rows.get(model._meta.db_table, 0)
        if rows:
            field, reason = _first_refused(adapter, model) or (
                "Meta.required_db_vendor", f"the model requires {model._meta.required_db_vendor}")
            raise TargetCannotHold(
                f"Cannot copy {label(model)}.{field} to {target.display}: {reason} "
                f"({rows} rows on the source); nothing was written."
            )
    for model in models:
        refused = _first_refused(adapter, model)
        if refused:
            field, reason = refused
            raise TargetCannotHold(
                f"Cannot copy {label(model)}.{field} to {target.display}: {reason}; nothing was written."
            )


def _first_refused(adapter, model) -> tuple[str, str] | None:
    for field in model._meta.local_concrete_fields:
        reason = adapter.cannot_hold(field)
        if reason:
            return field.name, reason
    return None
