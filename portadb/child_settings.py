"""The settings of portadb's child process: the project's own, with the target as ``default``.

Never edit a project's files: :mod:`portadb.child` calls :func:`configure` with
the project's settings module and the databases to use, before Django reads
this module as its settings. The project's routers still see the target under
its own alias: :class:`TargetAsDefault` translates between the two names.
"""

from importlib import import_module

from django.db.utils import ConnectionRouter


def configure(project: str, databases: dict, routers: list, alias: str) -> None:
    """Take every setting of the module ``project``; then ``DATABASES`` is ``databases``
    (the target as ``default``) and ``routers`` (the parent's) see ``default`` as ``alias``."""
    module = import_module(project)
    values = globals()
    for name in dir(module):
        if name.isupper():
            values[name] = getattr(module, name)
    values["DATABASES"] = databases
    values["DATABASE_ROUTERS"] = [TargetAsDefault(routers, alias)] if routers else []


class TargetAsDefault:
    """The project's routers, asked about the target under its own alias."""

    def __init__(self, routers: list, alias: str):
        self.router = ConnectionRouter(routers)
        self.alias = alias

    def _theirs(self, db: str) -> str:
        return self.alias if db == "default" else db

    def _ours(self, db: str | None) -> str | None:
        return "default" if db == self.alias else db

    def db_for_read(self, model, **hints):
        return self._ours(self.router.db_for_read(model, **hints))

    def db_for_write(self, model, **hints):
        return self._ours(self.router.db_for_write(model, **hints))

    def allow_relation(self, obj1, obj2, **hints):
        return self.router.allow_relation(obj1, obj2, **hints)

    def allow_migrate(self, db, app_label, **hints):
        return self.router.allow_migrate(self._theirs(db), app_label, **hints)
