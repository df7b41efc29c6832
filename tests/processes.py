"""Run ``manage.py portadb`` in a child process that can be stopped, killed or cut off."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.db import connections

from . import schemas

SCRIPT = Path(__file__).with_name("interrupt.py")


#: Stop points (tests/interrupt.py) in the copying process itself, not in a worker.
ONE_PROCESS_POINTS = ("chunk", "table")


def start(*args: str, stop: str | None = None, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start ``portadb <args>``; with ``stop="point:n"`` it stops itself there (see interrupt.py)."""
    for conn in connections.all():
        conn.close()  # the child must not meet this process's open transactions
    child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **(env or {})}
    if stop:
        child_env["PORTADB_TEST_STOP"] = stop
        if stop.split(":")[0] in ONE_PROCESS_POINTS and not any(a.startswith("--jobs") for a in args):
            args = (*args, "--jobs=1")  # else a worker, not the command, would stop there
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), "portadb", *args], env=child_env,
        stdout=popen.pop("stdout", subprocess.PIPE), stderr=popen.pop("stderr", subprocess.PIPE),
        # No terminal, as in CI: nothing may wait for an answer.
        stdin=popen.pop("stdin", subprocess.DEVNULL), text=True, **popen,
    )


def manage(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``manage.py <args>`` (any command) to the end; its exit status, stdout and stderr."""
    for conn in connections.all():
        conn.close()
    child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **(env or {})}
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=child_env, capture_output=True,
                          text=True, timeout=timeout)


def run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``portadb <args>`` to the end; its exit status, stdout and stderr."""
    proc = start(*args, env=env)
    out, err = proc.communicate(timeout=timeout)
    return checked(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))


def checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Validate the JSON report a child wrote (standard output or ``--output``) against its schema."""
    args = [str(a) for a in result.args]
    if "--format=json" in args:
        output = next((a.split("=", 1)[1] for a in args if a.startswith(("--output=", "-o="))), None)
        if output is not None:
            if os.path.exists(output):
                schemas.validate(Path(output).read_text(encoding="utf-8"))
        elif result.stdout.strip():
            schemas.validate(result.stdout)
    return result


def wait_stopped(proc: subprocess.Popen, timeout: float = 120) -> None:
    """Block until ``proc`` has stopped itself; fail if it ended instead."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(proc.pid)
        if state == "T":
            return
        if state in ("Z", None):
            out, err = proc.communicate()
            raise AssertionError(f"the copy ended before its stop point ({proc.returncode}): {out}{err}")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the copy did not reach its stop point in time")


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL: no cleanup of any kind runs in the child."""
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def resume(proc: subprocess.Popen, timeout: float = 120) -> subprocess.CompletedProcess:
    """Let a stopped child continue to the end."""
    proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=timeout)
    return checked(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]
