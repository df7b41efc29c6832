"""The target fails under a running copy: one sentence, exit status 2, and --resume finishes it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess

import pytest
from django.conf import settings
from django.db import connections

import portadb
from portadb.exceptions import PortadbError, TransferError

from . import databases as db
from . import processes
from .backends import SERVER_TARGETS, TARGETS, target_of
from .test_resume import assert_identical

POSTGRESQL, SQLITE_TARGET = target_of("postgresql"), target_of("sqlite")
RESUME_HINT = "; run the same copy with --resume to continue."


def cut_connections(alias: str) -> int:
    """End every server session on ``alias``'s database (ours only: it is this test's database)."""
    conf = settings.DATABASES[alias]
    if "postgresql" in conf["ENGINE"]:
        import psycopg

        with psycopg.connect(**db.pg_params(conf, "postgres"), autocommit=True) as c:
            rows = c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()", [conf["NAME"]],
            ).fetchall()
        return len(rows)
    import MySQLdb

    c = MySQLdb.connect(**db.my_params(conf))
    cur = c.cursor()
    cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
                [conf["NAME"]])
    ids = [row[0] for row in cur.fetchall()]
    for session in ids:
        cur.execute(f"KILL {int(session)}")
    c.close()
    return len(ids)


def one_sentence(stderr: str) -> str:
    """The command's only line of error output; never a traceback."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and len(lines) == 1, stderr
    assert lines[0].startswith("CommandError: ")
    return lines[0].removeprefix("CommandError: ")


@pytest.mark.slow
@pytest.mark.parametrize("target", SERVER_TARGETS)
@pytest.mark.parametrize("point", ["chunk:30", "table:14", "deferred:2"])
def test_server_connection_cut_mid_copy(zoo_source, empty, target, point):
    empty(target)
    args = ["copy", f"--from={zoo_source}", f"--to={target}", "--chunk-size=3"]
    proc = processes.start(*args, stop=point)
    processes.wait_stopped(proc)
    assert cut_connections(target) >= 1
    result = processes.resume(proc)

    assert result.returncode == 2
    message = one_sentence(result.stderr)
    assert message.endswith(RESUME_HINT)
    if point.startswith("chunk"):  # inside a chunk: the message names the rows that were not written
        assert re.match(r"Could not write \S+ rows \(pk .+ to .+\) to \S+ \(.+\): .+", message), message

    again = processes.run(*args, "--resume")
    assert again.returncode == 0, again.stderr
    assert "copy (resumed)" in again.stdout
    assert_identical(zoo_source, target)


@pytest.mark.slow
def test_server_unreachable_mid_copy_through_a_cut_proxy(zoo_source, empty):
    """A network cut (not a server-side kill): a TCP proxy in front of PostgreSQL is closed."""
    target = empty(POSTGRESQL)
    conf = settings.DATABASES[target]
    with tcp_proxy(conf.get("HOST") or "127.0.0.1", int(conf.get("PORT") or 5432)) as proxy:
        url = f"postgres://{conf['USER']}@127.0.0.1:{proxy.port}/{conf['NAME']}"
        args = ["copy", f"--from={zoo_source}", f"--to={url}", "--chunk-size=3"]
        proc = processes.start(*args, stop="table:10")
        processes.wait_stopped(proc)
        proxy.cut()
        result = processes.resume(proc)
        assert result.returncode == 2
        assert one_sentence(result.stderr).endswith(RESUME_HINT)
        proxy.reopen()
        again = processes.run(*args, "--resume")
    assert again.returncode == 0, again.stderr
    assert_identical(zoo_source, target)


def test_disk_full_mid_copy(zoo_source, tmp_path):
    """A real full file system under a SQLite target: the copy stops, --resume finishes once there is room."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        url = f"sqlite:///{mount / 'target.sqlite3'}"
        args = ["copy", f"--from={zoo_source}", f"--to={url}", "--chunk-size=3"]
        proc = processes.start(*args, stop="table:12")
        processes.wait_stopped(proc)
        ballast = fill(mount / "ballast")
        result = processes.resume(proc)
        assert result.returncode == 2
        message = one_sentence(result.stderr)
        assert "database or disk is full" in message and message.endswith(RESUME_HINT), message

        os.remove(ballast)
        again = processes.run(*args, "--resume")
        assert again.returncode == 0, again.stderr
        connections[SQLITE_TARGET].close()
        shutil.copyfile(mount / "target.sqlite3", settings.DATABASES[SQLITE_TARGET]["NAME"])
        assert_identical(zoo_source, SQLITE_TARGET)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_permission_denied_writes_nothing_and_says_so(zoo_source, empty):
    target = empty(POSTGRESQL)
    conf = settings.DATABASES[target]
    role = "portadb_h6_ro" if "h6" in conf["NAME"] else f"{conf['NAME']}_ro"
    ensure_role(target, role)
    url = f"postgres://{role}@{conf.get('HOST') or '127.0.0.1'}:{conf.get('PORT') or 5432}/{conf['NAME']}"

    with pytest.raises(TransferError) as caught:
        portadb.copy(zoo_source, url)
    assert re.fullmatch(r"Could not create the journal tables on \S+: "
                        r"permission denied for schema public\.", str(caught.value)), caught.value
    assert connections[target].introspection.table_names() == []

    admin(target, f'GRANT CREATE ON SCHEMA public TO "{role}"', database=conf["NAME"])
    assert portadb.copy(zoo_source, url).ok


def ensure_role(alias: str, role: str) -> None:
    """Create a login role once; roles are shared by the whole server, so it may exist already."""
    admin(alias, f'DO $$BEGIN CREATE ROLE "{role}" LOGIN; '
                 "EXCEPTION WHEN duplicate_object THEN NULL; END$$")


def admin(alias: str, statement: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(**db.pg_params(settings.DATABASES[alias], database), autocommit=True) as c:
        c.execute(statement)


def fill(path) -> str:
    """Write ``path`` until the file system is full."""
    with open(path, "wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)
    return str(path)


@contextlib.contextmanager
def tcp_proxy(host: str, port: int):
    """A loopback TCP proxy to ``host:port`` whose connections can be cut at will."""
    import socket
    import threading

    class Proxy:
        def __init__(self):
            self.listener = socket.create_server(("127.0.0.1", 0))
            self.port = self.listener.getsockname()[1]
            self.sockets, self.open = [], True
            self.acceptor = threading.Thread(target=self.accept, daemon=True)
            self.acceptor.start()

        def accept(self):
            while True:
                try:
                    client, _ = self.listener.accept()
                except OSError:
                    return
                if not self.open:
                    client.close()
                    continue
                server = socket.create_connection((host, port))
                self.sockets += [client, server]
                for a, b in ((client, server), (server, client)):
                    threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

        @staticmethod
        def pipe(a, b):
            with contextlib.suppress(OSError):
                while data := a.recv(65536):
                    b.sendall(data)
            with contextlib.suppress(OSError):
                b.shutdown(socket.SHUT_WR)

        def cut(self):
            self.open = False
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets = []

        def reopen(self):
            self.open = True

        def close(self):
            self.cut()
            # Closing alone does not wake a thread blocked in accept() on Linux;
            # a thread left running would make later tests' forks warn.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.acceptor.join(timeout=10)

    proxy = Proxy()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("target", TARGETS)
def test_a_dangling_key_past_the_source_checks_still_stops_the_copy(zoo_source, empty, monkeypatch, target,
                                                                    jobs):
    """The target proves its foreign keys: PostgreSQL as it adds each constraint, others by a query."""
    import importlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(settings.DATABASES[zoo_source]["NAME"])) as raw:
        raw.execute("INSERT INTO zoo_book (title, author_id) VALUES ('Orphan', 999)")
        raw.commit()
    # Hide the row from the source checks, as if they had missed it.
    monkeypatch.setattr(importlib.import_module("portadb.guard"), "dangling_rows", lambda *args: {})
    alias = empty(target)
    with pytest.raises(PortadbError) as raised:
        portadb.copy(zoo_source, alias, jobs=jobs)
    assert str(raised.value) == "Foreign key zoo_book.author_id points at missing rows for primary keys 7."
    if target in SERVER_TARGETS:  # MySQL adds a foreign key unchecked: never over the dangling row
        connection = connections[alias]
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, "zoo_book").values()
        assert not [c for c in found if c["foreign_key"] and c["columns"] == ["author_id"]]


@pytest.mark.parametrize("target", SERVER_TARGETS)
def test_a_value_past_the_checks_is_named_with_the_servers_reason(zoo_source, empty, monkeypatch, target):
    """A chunk the target refuses for a reason no check knows: the copy names the one row it
    refuses, with the server's own reason, not the whole chunk."""
    import importlib
    import sqlite3

    from .zoo import models as m

    pks = list(m.Everything.objects.using(zoo_source).order_by("pk").values_list("pk", flat=True))
    bad = pks[len(pks) // 2]
    with contextlib.closing(sqlite3.connect(settings.DATABASES[zoo_source]["NAME"])) as raw:
        raw.execute("UPDATE zoo_everything SET char = ? WHERE id = ?", ["x" * 300, bad])
        raw.commit()
    # Hide the value from the checks, as if they did not know this refusal.
    scan = importlib.import_module("portadb.scan")
    known = scan.column_checks
    monkeypatch.setattr(scan, "column_checks",
                        lambda field, *args: [] if field.name == "char" else known(field, *args))
    with pytest.raises(TransferError) as raised:
        portadb.copy(zoo_source, empty(target), jobs=1)
    message = str(raised.value)
    assert message.startswith(f"Could not write zoo.Everything (pk={bad}) to "), message
    # The server's words: PostgreSQL's "value too long", MariaDB's "Data truncated for column".
    assert re.search(r"value too long|truncated for column 'char'", message) and message.endswith(RESUME_HINT)
    assert m.Everything.objects.using(target).count() == 0
