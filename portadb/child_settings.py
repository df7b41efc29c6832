"""The settings of portadb's child process: the project's own, with the target as ``default``.

Never edit a project's files: :mod:`portadb.child` calls :func:`configure` with
the project's settings module and the databases to use, before Django reads
this module as its settings.
"""

from importlib import import_module


def configure(project: str, databases: dict) -> None:
    """Take every setting of the module ``project``; then ``DATABASES`` is ``databases``."""
    module = import_module(project)
    values = globals()
    for name in dir(module):
        if name.isupper():
            values[name] = getattr(module, name)
    values["DATABASES"] = databases
