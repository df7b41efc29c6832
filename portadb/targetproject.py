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
when asked, after every precondition passed.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from .endpoints import Endpoint
from .exceptions import PreconditionError, TransferError
from .shapes import ModelShape

#: Descriptions of a backend's models, by (settings module, vendor, server): a
#: process's models do not change, so a second copy to the same kind of target
#: need not ask again.
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


class TargetProject:
    """A child process with the project's settings and ``endpoint`` as ``default``.

    ``exclude``: the aliases the child must not have (the source).
    """

    def __init__(self, endpoint: Endpoint, exclude: tuple[str, ...] = ()):
        self.endpoint = endpoint
        self._key = (settings.SETTINGS_MODULE, endpoint.vendor, _server(endpoint))
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "portadb.child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, env=env, text=True, start_new_session=False,
        )
        request = {"settings": settings.SETTINGS_MODULE, "path": sys.path,
                   "databases": _databases(endpoint.alias, exclude)}
        self._send(base64.b64encode(pickle.dumps(request)).decode())
        if self._key not in _described:
            self._send("describe")

    def describe(self) -> Description:
        """The target's models and the operations migrate would run there."""
        if self._key not in _described:
            answer = self._receive("describe the target's models")
            models = {t: ModelShape.from_json(s) for t, s in answer["models"].items()}
            _described[self._key] = Description(answer["vendor"], models, answer["operations"])
        return _described[self._key]

    def migrate(self) -> list[str]:
        """Run the project's migrations into the target; the tables they made."""
        self._send("migrate")
        return self._receive("migrate the target")["created"]

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._send("stop")
                self._process.stdin.close()
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._process.stdout.close()
        self._stderr.close()

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

    def _receive(self, what: str) -> dict:
        line = self._process.stdout.readline()
        if not line:
            self._process.wait()
            raise TransferError(f"Could not {what} on {self.endpoint.display}: the child process "
                                f"stopped ({self._last_words()}).")
        message = json.loads(line)
        if "error" in message:
            error = PreconditionError if what.startswith("describe") else TransferError
            hint = "" if error is PreconditionError else "; copy again with --replace"
            raise error(f"Could not {what} on {self.endpoint.display} with the project's own settings: "
                        f"{message['error']}{hint}.")
        return message["ok"]

    def _last_words(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self._process.returncode}"


def _databases(alias: str, exclude: tuple[str, ...]) -> dict:
    """The project's ``DATABASES`` with ``alias`` as ``default``, and without ``exclude``."""
    databases = {name: dict(conf) for name, conf in connections.settings.items()
                 if name not in exclude and name not in (alias, DEFAULT_DB_ALIAS)}
    databases[DEFAULT_DB_ALIAS] = dict(connections.settings[alias])
    return databases


def _server(endpoint: Endpoint) -> tuple:
    conf = endpoint.connection.settings_dict
    return (conf.get("ENGINE"), conf.get("HOST"), conf.get("PORT"))
