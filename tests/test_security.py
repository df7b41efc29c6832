"""Passwords never reach any output; identifiers are quoted by the backend; no shell is used."""

from __future__ import annotations

import ast
import fcntl
import io
import json
import logging
import os
import pty
import struct
import termios
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from portadb import endpoints
from portadb.endpoints import mask

from . import processes
from .backends import target_of
from .test_failures import admin, cut_connections, ensure_role
from .test_resume import assert_identical

# URL-special characters on purpose: the URL carries it percent-encoded.
PASSWORD = "h6-S3cr3t/pw@x"
FORMS = (PASSWORD, quote(PASSWORD, safe=""))
POSTGRESQL = target_of("postgresql")


@pytest.fixture
def pw_url(empty):
    """A URL with a password for a PostgreSQL role that owns the (empty) target database."""
    target = empty(POSTGRESQL)
    conf = settings.DATABASES[target]
    role = "portadb_h6_pw" if "h6" in conf["NAME"] else f"{conf['NAME']}_pw"
    ensure_role(target, role)
    admin(target, f"ALTER ROLE \"{role}\" PASSWORD '{PASSWORD}'")
    admin(target, f'ALTER DATABASE "{conf["NAME"]}" OWNER TO "{role}"')
    host, port = conf.get("HOST") or "127.0.0.1", conf.get("PORT") or 5432
    return f"postgres://{role}:{quote(PASSWORD, safe='')}@{host}:{port}/{conf['NAME']}"


def assert_no_password(*texts: str) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text, text


def run_on_a_terminal(*args: str) -> tuple[int, str]:
    """Run ``portadb <args>`` with stdout and stderr on a pseudo-terminal, so progress bars show."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 0x0 hides bars
    proc = processes.start(*args, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace")


def test_a_copy_shows_no_password_in_any_format_or_progress(zoo_source, pw_url, tmp_path):
    status, terminal = run_on_a_terminal("copy", f"--from={zoo_source}", f"--to={pw_url}",
                                         "--chunk-size=7", "-v", "2")
    assert status == 0, terminal
    assert "rows/s" in terminal or "rows]" in terminal, "progress bars were not shown: " + terminal
    assert "***@" in terminal
    assert_no_password(terminal)
    for fmt in ("json", "markdown", "text"):
        output = tmp_path / f"report.{fmt}"
        call_command("portadb", "copy", f"--from={zoo_source}", f"--to={pw_url}", "--replace",
                     "--noinput", f"--format={fmt}", f"--output={output}", verbosity=3)
        text = output.read_text()
        assert_no_password(text)
        if fmt == "json":
            assert json.loads(text)["target"].startswith("postgres://portadb")
    assert_identical(zoo_source, POSTGRESQL)


def broken(url: str, **change) -> str:
    parts = urlsplit(url)
    user, password = parts.username, quote(PASSWORD, safe="")
    netloc = f"{change.get('user', user)}:{password}@{parts.hostname}:{change.get('port', parts.port)}"
    return urlunsplit(parts._replace(netloc=netloc, path=parts.path + change.get("suffix", "")))


@pytest.mark.parametrize("break_url", [
    pytest.param(lambda url: broken(url, port=1), id="wrong-port"),
    pytest.param(lambda url: broken(url, suffix="_nope"), id="no-such-database"),
    pytest.param(lambda url: broken(url, user="nobody_h6"), id="no-such-role"),
])
def test_connection_errors_show_no_password(zoo_source, pw_url, break_url, caplog):
    caplog.set_level(logging.DEBUG)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("portadb", "copy", f"--from={zoo_source}", f"--to={break_url(pw_url)}",
                     stdout=out, stderr=err)
    assert caught.value.returncode == 2
    assert str(caught.value).startswith("Cannot connect to postgres://")
    assert_no_password(str(caught.value), out.getvalue(), err.getvalue(), caplog.text)


def test_refusals_and_failures_show_no_password(zoo_source, pw_url):
    args = ["copy", f"--from={zoo_source}", f"--to={pw_url}", "--chunk-size=3"]
    nothing = processes.run(*args, "--resume")
    assert nothing.returncode == 2 and "Nothing to resume" in nothing.stderr
    proc = processes.start(*args, stop="chunk:10")
    processes.wait_stopped(proc)
    cut_connections(POSTGRESQL)
    failed = processes.resume(proc)
    assert failed.returncode == 2 and "--resume" in failed.stderr
    refused = processes.run(*args)
    assert refused.returncode == 2 and "did not finish" in refused.stderr
    resumed = processes.run(*args, "--resume", "--format=json")
    assert resumed.returncode == 0, resumed.stderr
    assert_no_password(*(r.stdout + r.stderr for r in (nothing, failed, refused, resumed)))


@pytest.fixture
def forget_secrets():
    """The passwords mask() learns stay for the process; keep this test's out of the others."""
    known = set(endpoints._secrets)
    yield
    endpoints._secrets.intersection_update(known)


def test_a_password_from_settings_is_masked_in_any_text(forget_secrets):
    """A DATABASES entry's password, as a driver might quote it, is masked; "postgresql" is not."""
    conf = {**settings.DATABASES[POSTGRESQL], "PASSWORD": "postgres"}
    connections.settings["h6_secret"] = conf  # already complete: a copy of a configured alias
    try:
        text = mask('connection to postgresql failed: password="postgres" for user postgres')
    finally:
        del connections.settings["h6_secret"]
    assert text == 'connection to postgresql failed: password="***" for user ***'
    assert mask("postgres://postgres:x@h/db") == "postgres://***:***@h/db"


def test_no_shell_and_no_subprocess_but_its_own_child_in_the_package():
    """Only portadb's own child process runs (``python -m portadb.child``): no shell, fixed argv,
    settings and passwords through a pipe, never on a command line."""
    forbidden = {"subprocess", "os.system", "os.popen", "os.exec", "os.spawn", "pty", "shlex"}
    package = Path(__file__).resolve().parent.parent / "portadb"
    spawned = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        allowed = {"subprocess"} if path.name == "targetproject.py" else set()
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                names = [f"{node.value.id}.{node.attr}"]
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "subprocess.Popen":
                spawned.append(ast.unparse(node.args[0]))
                assert not any(k.arg == "shell" for k in node.keywords), f"{path}: a shell"
            for name in names:
                assert not any((name == f or name.startswith(f)) and f not in allowed for f in forbidden), \
                    f"{path}: {name}"
    assert spawned == ["[sys.executable, '-m', 'portadb.child']"]
