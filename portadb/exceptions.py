"""The errors portadb raises.

Every failure a user can cause or meet is a :class:`PortadbError` whose message
is one sentence saying what went wrong and where. The management command turns
them into ``CommandError``; library users catch them directly.
"""


class PortadbError(Exception):
    """Base class of every error portadb raises on purpose."""


class EndpointError(PortadbError):
    """``--from``/``--to`` do not name a usable database."""


class UnsupportedBackend(EndpointError):
    """The database vendor is not supported (yet)."""


class MissingDriver(EndpointError):
    """The Python driver for a backend is not installed."""


class PreconditionError(PortadbError):
    """The databases are not in a state a copy can start from."""


class DataError(PortadbError):
    """A value or row cannot be copied exactly."""


class TransferError(PortadbError):
    """The copy failed part way; the target can be resumed or replaced."""


class SelectionError(PortadbError):
    """``--models``/``--exclude`` name no installed app or model, or leave references dangling."""


class TargetCannotHold(PreconditionError):
    """The target's vendor cannot hold a model or field of the project."""


def first_line(error: BaseException) -> str:
    """The first line of a driver's message, without a trailing full stop, for our sentences."""
    lines = str(error).strip().splitlines()
    return lines[0].strip().rstrip(".") if lines else type(error).__name__
