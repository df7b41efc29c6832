"""The options every entry point shares: their defaults and their checks.

Each check raises :class:`~portadb.exceptions.OptionError` with one sentence,
before anything is connected, read or written.
"""

from __future__ import annotations

import os

from .exceptions import OptionError

#: Rows per read, per commit and per compared chunk when the caller gives none.
DEFAULT_CHUNK_SIZE = 20_000
#: Rows per chunk that ``verify`` compares when the caller gives none: a worker holds both
#: sides' rows of a chunk at once, so half a copy's chunk keeps its memory as low.
VERIFY_CHUNK_SIZE = 10_000
#: Bytes of large values (text, binary, JSON) a chunk holds at most: fewer rows than the
#: chunk size where values are large, at least one row (memory stays flat with 50 MB values).
CHUNK_BYTES = 32 * 2**20
#: The most worker processes a copy starts unless told (``--jobs``): the target's server
#: usually shares the machine or its disks, and beyond it more streams rarely load faster.
MAX_AUTO_JOBS = 8
#: What ``--on-error`` accepts; the first is the default.
ON_ERROR = ("abort", "reject")


def check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise OptionError("The chunk size must be a positive number of rows.")


def check_jobs(jobs: int | None) -> None:
    if jobs is not None and jobs < 1:
        raise OptionError("The number of jobs must be at least 1.")


def auto_jobs(rows: int, chunk_size: int, beyond_cpus: int = 0) -> int:
    """The worker processes a copy of ``rows`` rows uses by default: one per CPU this process may
    run on (and ``beyond_cpus`` more), at most :data:`MAX_AUTO_JOBS`, and no more than there
    are chunks to share."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus + beyond_cpus, MAX_AUTO_JOBS, -(-rows // chunk_size)))


def check_sample(sample: float | None) -> None:
    if sample is not None and not 0 < sample <= 1:
        raise OptionError("The sample must be a fraction above 0 and at most 1, such as 0.1.")


def check_resume(resume: bool, replace: bool) -> None:
    if resume and replace:
        raise OptionError("--resume continues a copy and --replace starts it again; choose one.")


def check_on_error(on_error: str, reject_file: str | None) -> None:
    """Refuse a policy or reject file that cannot work."""
    if on_error not in ON_ERROR:
        raise OptionError(f"--on-error must be one of {', '.join(ON_ERROR)}, not {on_error!r}.")
    if on_error == "reject" and not reject_file:
        raise OptionError("--on-error=reject needs --reject-file FILE for the refused rows.")
    if on_error == "abort" and reject_file:
        raise OptionError("--reject-file is only used with --on-error=reject.")
    if reject_file:
        check_writable(reject_file, "the reject file")


def check_writable(path: str, what: str) -> None:
    """Refuse a file that cannot be written because its folder is missing or read-only."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OptionError(f"Cannot write {what} {path!r}: it is a directory.")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise OptionError(f"Cannot write {what} {path!r}: the file is read-only.")
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise OptionError(f"Cannot write {what} {path!r}: {folder!r} is not a writable directory.")


def check_confirmable(replace: bool, interactive: bool, terminal: bool) -> None:
    """Refuse ``--replace`` where nobody can be asked and nobody said ``--noinput``.

    Django's ``flush`` and ``migrate`` ask before they destroy data unless told
    not to; a script without a terminal must say so, it is never assumed.
    """
    if replace and interactive and not terminal:
        raise OptionError("--replace drops the project's tables on the target and there is no terminal "
                          "to ask; add --noinput to replace them without asking.")
