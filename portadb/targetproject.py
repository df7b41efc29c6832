"""The project as its own ``migrate`` builds it on the target: a child process, target as ``default``.

A project's models and migrations may depend on the database vendor
(libraries pick model fields by ``connection.vendor`` at import time,
migrations run vendor-specific ``RunSQL``), and data migrations write to
``default`` whatever ``--database`` says. So the target's schema is built
the way a fresh install on that backend builds it: ``python -m portadb.child``
runs with the project's own settings where the target is the ``default``
database (:mod:`portadb.child_settings`; the source is not in its settings at
all, so nothing there can write to it). The child starts at once and
describes the target's models while this process plans; it migrates only
when asked, after every precondition passed. Starting Python and Django there
takes a good part of a second; a copy onto a fresh target need not wait for
it: it may start on this process's own view of the target's models
(:meth:`TargetProject.guess`) and learn later (:meth:`TargetProject.confirm`)
whether the child saw the same, undoing what it wrote where it did not.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader

from .backends import adapter_for
from .endpoints import Endpoint, engine_vendor
from .exceptions import PortadbError, PreconditionError, TransferError
from .inspect import unexpressed_operations
from .models import project_models
from .processes import die_with_parent
from .shapes import ModelShape, shapes_of

_schema_log = logging.getLogger("django.db.backends.schema")

#: Children whose work is done, by their request: the next copy to the same target uses one.
_parked: dict[str, tuple] = {}

#: Descriptions of a backend's models, by what they depend on: a process's
#: models do not change, so a second copy to the same target need not ask again.
_described: dict[tuple, Description] = {}


@dataclass
class Description:
    """The project's models as a process whose ``default`` is one database sees them."""

    vendor: str
    models: dict[str, ModelShape]
    #: Operations its migrations run there that models cannot express (RunSQL, extensions).
    operations: list[str] = field(default_factory=list)


def available() -> bool:
    """Whether a child process can load the project's settings (they are a module)."""
    return bool(getattr(settings, "SETTINGS_MODULE", None))


@contextmanager
def children(source: Endpoint, target: Endpoint) -> Iterator[tuple[TargetProject | None, ...]]:
    """The child processes a plan asks: the target's, and, where this process's default database
    is not of the source's vendor, one that only describes the source's models (it never migrates)."""
    if not available():
        yield None, None
        return
    project = TargetProject(target, exclude=(source.alias,))
    theirs = None
    try:
        if engine_vendor(DEFAULT_DB_ALIAS) != engine_vendor(source.alias):
            theirs = TargetProject(source, exclude=(target.alias,), read_only=True)
        yield project, theirs
    finally:
        project.close()
        if theirs is not None:
            theirs.close()


class TargetProject:
    """A child process with the project's settings and ``endpoint`` as ``default``.

    ``exclude``: the aliases the child must not have (the source). A
    ``read_only`` one only describes its models.
    """

    def __init__(self, endpoint: Endpoint, exclude: tuple[str, ...] = (), read_only: bool = False):
        self.endpoint = endpoint
        self._exclude = exclude
        self._read_only = read_only
        # What the child's models depend on: the settings, the backend, and (through the
        # routers) the target's alias.
        self._key = (settings.SETTINGS_MODULE, engine_vendor(endpoint.alias), _server(endpoint),
                     repr(settings.DATABASE_ROUTERS), endpoint.alias if settings.DATABASE_ROUTERS else None)
        self._process: subprocess.Popen | None = None
        #: The child answered everything asked of it: it may serve the next copy.
        self._idle = False
        #: A description asked and not yet read: its answer comes before any other.
        self._asked = False
        #: The description guessed, and the child's answer, as JSON (:meth:`confirm` compares them).
        self._guessed: dict | None = None
        self._answer: dict | None = None
        if self._key not in _described:  # started now: it describes while this process plans
            self._start()
            self._send("describe")
            self._asked = True

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        env.pop("DJANGO_SETTINGS_MODULE", None)
        request = {"settings": settings.SETTINGS_MODULE, "path": sys.path, "alias": self.endpoint.alias,
                   "databases": _databases(self.endpoint.alias, self._exclude),
                   "routers": list(settings.DATABASE_ROUTERS)}  # as this process has them
        try:
            line = base64.b64encode(pickle.dumps(request)).decode()
        except Exception as e:  # noqa: BLE001 - a setting that is no plain data
            raise PreconditionError(f"Cannot pass the project's settings to a second process: {e}.") from e
        self._request = line
        parked = _parked.pop(line, None)
        if parked is not None and parked[0].poll() is None:
            self._process, self._stderr = parked
            return
        self._process = subprocess.Popen(
            [sys.executable, "-m", "portadb.child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, env=env, text=True, preexec_fn=die_with_parent,
        )
        self._send(line)

    def describe(self) -> Description:
        """The target's models and the operations migrate would run there."""
        self._read_description()
        if self._key not in _described:
            if self._process is None:
                self._start()
            self._send("describe")
            self._asked = True
            self._read_description()
        return _described[self._key]

    def guess(self) -> Description | None:
        """This process's own view of the target's models, while the child's is on its way
        (``None`` once that is known): what the child answers where the models do not depend
        on the vendor. A copy may start on it; :meth:`confirm` says whether it was right."""
        if self._key in _described or not self._asked:
            return None
        try:  # through JSON, as the child's answer comes: the two compare as equals where they are
            self._guessed = json.loads(json.dumps(described(self.endpoint.alias)))
        except Exception:  # noqa: BLE001 - models this process cannot describe there: no guess
            return None
        return _description(self._guessed)

    def confirm(self) -> bool:
        """Whether the child sees the target's models as :meth:`guess` did (waits for its answer)."""
        self._read_description()
        return self._guessed is not None and self._answer == self._guessed

    def _read_description(self) -> None:
        # Read even where another child of the same key answered first (a source and a target
        # on one server): an answer left in the pipe would be taken for the next one's.
        if not self._asked:
            return
        self._asked = False
        self._answer = self._receive("describe the target's models", PreconditionError)
        _described.setdefault(self._key, _description(self._answer))

    def migrate(self) -> list[str]:
        """Run the project's migrations into the target; the tables they made.

        The schema SQL that ran goes to Django's schema logger here too (``-v 3`` shows it).
        """
        assert not self._read_only, "a child that describes a source never migrates"
        if self._process is None:
            self._start()
        self._read_description()
        self._send("migrate")
        answer = self._receive("migrate the target", TransferError)
        for statement in answer["sql"]:
            _schema_log.debug(statement)
        return answer["created"]

    def steps(self) -> list[str]:
        """What migrate would do to the empty target: each migration and its operations."""
        if self._process is None:
            self._start()
        self._read_description()
        self._send("steps")
        return self._receive("plan the target's migrations", PreconditionError)["steps"]

    def close(self) -> None:
        """End the child, or keep it for the next copy to the same target (this one's work is done)."""
        if self._process is None:
            return
        if self._process.poll() is None and self._idle and self._request not in _parked:
            # Starting Python and Django again costs more than the migrate of a small project.
            _parked[self._request] = (self._process, self._stderr)
            self._process = None
            return
        if self._process.poll() is None:
            self._process.kill()  # still at work or starting: nothing of it is wanted any more
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout, self._stderr):
            stream.close()
        self._process = None

    def __enter__(self) -> TargetProject:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, line: str) -> None:
        try:
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
        except OSError:  # the child ended; _receive says why
            pass

    def _receive(self, what: str, error: type[PortadbError]) -> dict:
        self._idle = False
        line = self._process.stdout.readline()
        if not line:
            self._process.wait()
            raise TransferError(f"Could not {what} on {self.endpoint.display}: the child process "
                                f"stopped ({self._last_words()}).")
        message = json.loads(line)
        self._idle = "error" not in message
        if "error" in message:
            hint = "; copy again with --replace" if error is TransferError else ""
            raise error(f"Could not {what} on {self.endpoint.display} with the project's own settings: "
                        f"{message['error']}{hint}.")
        return message["ok"]

    def _last_words(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self._process.returncode}"


def described(alias: str) -> dict:
    """What a child answers to ``describe``, as this process sees ``alias``: its vendor, the
    shapes of the models ``migrate`` builds there, and the operations its migrations would run
    there that models cannot express (RunSQL, extensions). Plain JSON data."""
    connection = connections[alias]
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan = [loader.graph.nodes[key] for leaf in loader.graph.leaf_nodes()
            for key in loader.graph.forwards_plan(leaf)]
    migrations = list({(m.app_label, m.name): m for m in plan}.items())  # each once, in plan order
    return {
        "vendor": connection.vendor,
        "models": {t: s.as_json() for t, s in shapes_of(project_models(alias), connection).items()},
        "operations": unexpressed_operations(migrations, adapter_for(connection).runs_operation),
    }


def _description(answer: dict) -> Description:
    """A ``describe`` answer (JSON data) as a :class:`Description`."""
    models = {t: ModelShape.from_json(s) for t, s in answer["models"].items()}
    return Description(answer["vendor"], models, answer["operations"])


def _databases(alias: str, exclude: tuple[str, ...]) -> dict:
    """The project's ``DATABASES`` with ``alias`` as ``default``, and without ``exclude``."""
    databases = {name: dict(conf) for name, conf in connections.settings.items()
                 if name not in exclude and name not in (alias, DEFAULT_DB_ALIAS)}
    databases[DEFAULT_DB_ALIAS] = dict(connections.settings[alias])
    return databases


def _server(endpoint: Endpoint) -> tuple:
    conf = connections.settings[endpoint.alias]
    return (conf.get("ENGINE"), conf.get("HOST"), conf.get("PORT"))
