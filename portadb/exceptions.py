"""The errors portadb raises.

Every failure a user can cause or meet is a :class:`PortadbError` whose message
is one sentence saying what went wrong and where. The management command turns
them into ``CommandError``; library users catch them directly.

They cross process boundaries intact: a worker process (``--jobs``, verify's
target reader) sends the error itself, and the parent raises the same type
with the same data (a :class:`ValueRefused` keeps its ``refusals``).
"""

from __future__ import annotations


class PortadbError(Exception):
    """Base class of every error portadb raises on purpose."""

    def __reduce__(self):
        # Pickled as type, message and attributes, whatever the class's
        # __init__ takes: the worker's error is raised again in the parent.
        return _rebuild, (type(self), str(self), self.__dict__)

    def without_data(self) -> PortadbError:
        """The same type and message without the attributes (for data that does not pickle)."""
        return _rebuild(type(self), str(self), {})


def _rebuild(cls: type[PortadbError], message: str, attributes: dict) -> PortadbError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(attributes)
    return error


class EndpointError(PortadbError):
    """``--from``/``--to`` do not name a usable database."""


class UnsupportedBackend(EndpointError):
    """The database vendor is not supported (yet)."""


class MissingDriver(EndpointError):
    """The Python driver for a backend is not installed."""


class OptionError(PortadbError):
    """An option's value cannot work (a chunk size of 0, an unknown ``--on-error``)."""


class PreconditionError(PortadbError):
    """The databases are not in a state a copy can start from."""


class TargetCannotHold(PreconditionError):
    """The target's vendor cannot hold a model or field of the project."""


class SelectionError(PortadbError):
    """``--models``/``--exclude`` name no installed app or model, or leave references dangling."""


class DataError(PortadbError):
    """A value or row cannot be copied exactly."""


class ValueRefused(DataError):
    """The copy stopped before writing a chunk that holds values the target would refuse.

    ``refusals`` lists them (:class:`portadb.checks.Refusal`: model, primary
    key, field, reason and the value as read).
    """

    def __init__(self, refusals: list, command: str = "copy"):
        self.refusals = refusals
        first = refusals[0]
        more = f" (and {len(refusals) - 1} more in the same chunk)" if len(refusals) > 1 else ""
        again = "the same copy with --resume to continue" if command == "copy" else f"the {command} again"
        super().__init__(
            f"Could not copy {first.model}(pk={first.pk!r}): {first.field}: {first.reason}"
            f" (value {first.preview}){more}; the {command} stopped before writing this chunk: fix the"
            f" values on the source and run {again}, or add --on-error=reject --reject-file=FILE to"
            f" {command} the rest (--dry-run lists every such value)."
        )


class TransferError(PortadbError):
    """The copy failed part way; the target can be resumed or replaced."""


class CounterUnreadable(PortadbError):
    """An auto key's sequence exists, but the user may not read it."""


class VerificationError(PortadbError):
    """A database could not be read while verifying."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises ``KeyboardInterrupt`` (``signum`` says which)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def first_line(error: BaseException) -> str:
    """The first line of a driver's message, without a trailing full stop, for our sentences."""
    lines = str(error).strip().splitlines()
    return lines[0].strip().rstrip(".") if lines else type(error).__name__
