"""Which models portadb copies, and the tables Django makes without a model.

Deliberately free of database access: everything here comes from the app
registry, settings and the routers.
"""

from __future__ import annotations

from django.apps import apps
from django.apps.registry import Apps
from django.conf import settings
from django.db import connections, models, router
from django.db.migrations.recorder import MigrationRecorder


def label(model) -> str:
    """``app_label.ModelName`` for project models, the table name otherwise."""
    opts = model._meta
    if opts.apps is apps:
        return opts.label
    return opts.db_table


def project_models(target_alias: str | None = None) -> list[type[models.Model]]:
    """Every model whose table a copy moves, in registry order.

    Concrete, managed, not swapped out models (auto-created M2M tables
    included) that ``migrate`` would create on ``target_alias`` (its vendor, its
    routers); then
    ``django_migrations`` and the database cache tables of ``CACHES``.
    """
    chosen = [
        m
        for m in apps.get_models(include_auto_created=True)
        if _is_table(m) and (target_alias is None or _allowed(m, target_alias))
    ]
    return chosen + [MigrationRecorder.Migration] + cache_models()


def shared_models(source_alias: str, target_alias: str) -> list[type[models.Model]]:
    """The models whose rows move from ``source_alias`` to ``target_alias``: both may have them."""
    on_source = set(project_models(source_alias))
    return [m for m in project_models(target_alias) if m in on_source]


def unmanaged_models() -> list[str]:
    """Labels of models Django does not manage: listed, never copied."""
    return sorted(
        m._meta.label
        for m in apps.get_models(include_auto_created=True)
        if not m._meta.managed and not m._meta.proxy and not m._meta.swapped
    )


def is_auto_created(model) -> bool:
    return bool(model._meta.auto_created)


def _allowed(model, alias: str) -> bool:
    """What ``migrate`` asks: the model's vendor (``required_db_vendor``), then the routers."""
    return model._meta.can_migrate(connections[alias]) and router.allow_migrate_model(alias, model)


def _is_table(model) -> bool:
    opts = model._meta
    return opts.managed and not opts.proxy and not opts.swapped


_cache_models: dict[str, type[models.Model]] = {}


def cache_models() -> list[type[models.Model]]:
    """A stand-in model for each ``DatabaseCache`` table in ``CACHES``."""
    tables = sorted(
        {
            conf["LOCATION"]
            for conf in getattr(settings, "CACHES", {}).values()
            if conf.get("BACKEND", "").endswith("db.DatabaseCache") and conf.get("LOCATION")
        }
    )
    return [_cache_models.get(t) or _cache_model(t) for t in tables]


def _cache_model(table: str) -> type[models.Model]:
    """The columns ``createcachetable`` makes, as a model in a private registry."""
    meta = type("Meta", (), {"apps": Apps(), "app_label": "portadb_cache", "db_table": table})
    model = type(
        f"CacheTable_{len(_cache_models)}",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": meta,
            "cache_key": models.CharField(max_length=255, primary_key=True),
            "value": models.TextField(),
            "expires": models.DateTimeField(db_index=True),
        },
    )
    _cache_models[table] = model
    return model
