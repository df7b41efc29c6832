"""Forked helper processes: what every worker of portadb needs to start and fail well.

Workers are forked: they inherit the settings, the app registry and the plan,
and open their own connections (an inherited one is never used or closed in
a child: that would break the parent's session). A failure in a child comes
back to the parent as the same exception, type and data included
(:class:`~portadb.exceptions.PortadbError` pickles whole); any other error
becomes the caller's error type with its message.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager

from django.db import connections

from .compat import forget_inherited_connections
from .exceptions import PortadbError

# Connections inherited from the parent: kept referenced, never closed, so no
# finalizer in a child ever talks on the parent's sockets.
_inherited: list = []


def forking() -> bool:
    """Whether worker processes can be forked here (not on Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def die_with_parent() -> None:
    """In a child process: be killed when the parent process dies (Linux; elsewhere nothing).

    A child must not outlive the copy that started it: a resumed or replaced
    copy would race with it on the target.
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def fork_context():
    return multiprocessing.get_context("fork")


def start_child() -> None:
    """First thing in a forked child: die with the parent, leave the parent's connections alone."""
    die_with_parent()
    _inherited.extend(forget_inherited_connections())


def end_child() -> None:
    """Last thing in a forked child: close the connections it opened. A signal from here on
    (the parent's terminate after the Ctrl-C that stopped the child) ends it without a
    traceback, where the handler it inherited would raise in the middle of its last words."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    connections.close_all()


def transportable(error: BaseException, fallback: type[PortadbError]) -> PortadbError:
    """``error`` as it can cross to the parent: a portadb error as it is (its type alone if
    its data cannot be pickled), anything else as ``fallback`` with its message."""
    if not isinstance(error, PortadbError):
        return fallback(str(error) or repr(error))
    try:
        pickle.dumps(error)
    except Exception:  # noqa: BLE001 - an attribute that does not pickle
        return error.without_data()
    return error


class Forked:
    """A forked process that answers requests one at a time: ``handle(request)``.

    ``setup()`` is entered in the child before the first request (a snapshot,
    say). :meth:`send` returns at once, so the parent works while the child
    does; :meth:`receive` waits for the answer. A failure in the child is
    raised in the parent (see the module docstring); ``error`` is the type of
    anything else that goes wrong.
    """

    def __init__(self, handle: Callable, setup: Callable[[], AbstractContextManager],
                 error: type[PortadbError] = PortadbError):
        self.error = error
        context = fork_context()
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, handle, setup, error), daemon=True)
        self._process.start()
        child.close()
        self._waiting = 0  # requests sent whose answers are still in the pipe
        self._early: collections.deque = collections.deque()  # answers taken out of turn by ask()

    def send(self, request) -> None:
        self._pipe.send(request)
        self._waiting += 1

    def receive(self):
        """The answer to the oldest request not yet received."""
        return self._early.popleft() if self._early else self._next()

    def ask(self, request):
        """Send ``request`` and return its answer; earlier answers wait for :meth:`receive`."""
        self.send(request)
        while self._waiting > 1:
            self._early.append(self._next())
        return self._next()

    def _next(self):
        try:
            kind, answer = self._pipe.recv()
        except EOFError:
            raise self.error("A worker process stopped unexpectedly.") from None
        self._waiting -= 1
        if kind == "error":
            raise answer
        return answer

    def close(self) -> None:
        try:
            self._pipe.send(None)
        except OSError:  # the child is gone already
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
        self._pipe.close()


def _serve(pipe, handle, setup, error) -> None:
    start_child()
    try:
        with setup(), collector_paused():
            while (request := pipe.recv()) is not None:
                pipe.send(("ok", handle(request)))
    except (EOFError, KeyboardInterrupt):  # the parent went away, or was interrupted and says so
        pass
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it
        try:
            pipe.send(("error", transportable(e, error)))
        except OSError:
            pass
    finally:
        end_child()


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector during a transfer.

    Rows hold no reference cycles, so reference counting frees every chunk;
    the collector would only rescan the chunks coming and going, which costs
    up to a third of a copy's time.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
