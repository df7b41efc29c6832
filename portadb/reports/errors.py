"""The report of a command that failed: one sentence, exit status 2."""

from __future__ import annotations

from dataclasses import dataclass

from .model import SCHEMA_VERSION


@dataclass
class ErrorReport:
    """Why a subcommand stopped before it had a report of its own.

    The command writes it where the report would have gone (``--output``, or
    standard output for ``--format=json`` and ``junit``), so a script that
    reads the report always finds one.
    """

    #: The subcommand that failed: ``copy``, ``copy --dry-run``, ``verify``, ``inspect``.
    command: str
    #: The class of the error: ``PreconditionError``, ``EndpointError``, ...
    #: (:mod:`portadb.exceptions`).
    error: str
    #: One sentence, the one printed on standard error; passwords masked.
    message: str
    kind: str = "error"
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return False

    @property
    def exit_code(self) -> int:
        return 2
