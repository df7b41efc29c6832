"""Which models a copy (or a verification) covers: ``--models`` and ``--exclude``.

Labels are those ``dumpdata`` takes: an app label (``auth``) or
``app_label.ModelName`` (``auth.Group``, model name in any case).

What a selection means for a copy:

* The selected models' tables are created on the target and their rows copied.
* An auto-created many-to-many table follows the model that declares the field.
* ``django_migrations`` and the database cache tables are not models a user
  selects: they are always copied, because the target's schema is always the
  whole project's (``migrate --check`` stays clean).
* An unselected model keeps what the target already holds; where its table is
  missing it is created empty, so the target matches the models.
* A selected model whose foreign key points at rows of an unselected model is
  refused before anything is written, unless the target already holds those rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.apps import apps
from django.db import models as dj_models

from .compat import batched
from .exceptions import SelectionError

#: Rows checked per query when looking for referenced rows on the target.
_BATCH = 1000


@dataclass(frozen=True)
class Reference:
    """A foreign key from a selected model to a model left out of the selection."""

    model: type[dj_models.Model]
    field: dj_models.Field
    referenced: type[dj_models.Model]

    def describe(self) -> str:
        opts = self.model._meta
        if opts.auto_created:  # a many-to-many table: name its owner and the column
            where = f"{opts.auto_created._meta.label}'s table {opts.db_table}.{self.field.column}"
        else:
            where = f"{opts.label}.{self.field.name}"
        return f"{where} points at {self.referenced._meta.label}"


def select_models(
    models: Sequence[type[dj_models.Model]],
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> list[type[dj_models.Model]]:
    """``models`` narrowed to ``include`` (all when empty) minus ``exclude``, order kept.

    Raises :class:`~portadb.exceptions.SelectionError` for a label that names no
    installed app or model.
    """
    wanted = _resolve(include)
    unwanted = _resolve(exclude)
    return [
        m for m in models
        if _infrastructure(m) or ((not wanted or _matches(m, wanted)) and not _matches(m, unwanted))
    ]


def outside_references(
    selected: Sequence[type[dj_models.Model]], others: Sequence[type[dj_models.Model]]
) -> list[Reference]:
    """Foreign keys of ``selected`` models that point at one of ``others``."""
    left_out = set(others)
    return [
        Reference(model, f, f.related_model._meta.concrete_model)
        for model in selected
        for f in model._meta.local_concrete_fields
        if f.is_relation and f.related_model is not None
        and f.related_model._meta.concrete_model in left_out
    ]


def missing_rows(reference: Reference, source: str, target: str | None, limit: int = 5) -> list:
    """Up to ``limit`` values of ``reference`` on ``source`` whose row ``target`` lacks.

    ``target`` is ``None`` when it has no table for the referenced model at all.
    """
    f = reference.field
    manager = reference.model._base_manager
    values = (
        manager.using(source).exclude(**{f"{f.attname}__isnull": True})
        .order_by(f.attname).values_list(f.attname, flat=True).distinct().iterator()
    )
    to_field = f.target_field.attname
    missing = []
    for batch in batched(values, _BATCH):
        found = set()
        if target is not None:
            held = reference.referenced._base_manager.using(target).filter(**{f"{to_field}__in": batch})
            found = set(held.values_list(to_field, flat=True))
        missing += [v for v in batch if v not in found]
        if len(missing) >= limit:
            break
    return missing[:limit]


def _resolve(labels: Iterable[str]) -> list[tuple[str, str | None]]:
    """Labels as ``(app_label, model_name or None)``, checked against the registry."""
    out = []
    for text in labels:
        label = text.strip()
        if not label:
            continue
        app_label, _, model_name = label.partition(".")
        try:
            config = apps.get_app_config(app_label)
        except LookupError as e:
            raise SelectionError(f"No installed app has the label {app_label!r} (from {label!r}).") from e
        if model_name:
            try:
                model_name = config.get_model(model_name)._meta.model_name
            except LookupError as e:
                raise SelectionError(f"The app {app_label!r} has no model {model_name!r}.") from e
        out.append((app_label, model_name or None))
    return out


def _matches(model, labels: list[tuple[str, str | None]]) -> bool:
    opts = (model._meta.auto_created or model)._meta  # an auto M2M table follows its model
    return any(app == opts.app_label and name in (None, opts.model_name) for app, name in labels)


def _infrastructure(model) -> bool:
    """``django_migrations`` and cache tables: stand-in models outside the app registry."""
    return model._meta.apps is not apps
