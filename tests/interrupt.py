"""``manage.py`` for tests that interrupt a copy: the process stops itself at a chosen point.

``PORTADB_TEST_STOP=<point>:<n>`` makes the process send itself SIGSTOP
the n-th time it reaches ``point``; the test then kills it with SIGKILL, or
cuts its database connection and lets it continue. Points:

``schema``    after the n-th CREATE TABLE of a project table (built from the models),
              or once the project's migrate has built the target (built by migrate)
``migrating`` as soon as the project's migrate starts building the target
``chunk``     inside the n-th chunk's transaction: rows and journal entry
              written, not yet committed
``table``     after the n-th table is copied, before the next one starts
``deferred``  after the first n indexes and foreign keys are built
``sync``      inside a sync's one transaction, after its n-th chunk of rows is written
``synced``    once a sync has committed, before it resets sequences and reads back (n: 1)
``slow``      no stop: each chunk waits n milliseconds before it commits (workers included)

``PORTADB_TEST_HIDE_MODULES=a,b`` makes those modules impossible to import,
the way a driver that is not installed is.
"""

from __future__ import annotations

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def stop() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGSTOP)


def counting(n: int):
    seen = 0

    def reached() -> bool:
        nonlocal seen
        seen += 1
        return seen == n

    return reached


def install(point: str, n: int) -> None:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor

    from portadb import journal, pipeline, schema
    from portadb.targetproject import TargetProject

    reached = counting(n)
    if point == "schema":
        execute = BaseDatabaseSchemaEditor.execute

        def hooked_execute(self, sql, params=()):
            execute(self, sql, params)
            text = str(sql)
            if text.startswith("CREATE TABLE") and "portadb_" not in text and reached():
                stop()

        BaseDatabaseSchemaEditor.execute = hooked_execute
        migrate = TargetProject.migrate

        def hooked_migrate(self):
            made = migrate(self)
            stop()
            return made

        TargetProject.migrate = hooked_migrate
    elif point == "migrating":
        send = TargetProject._send

        def hooked_send(self, line):
            send(self, line)
            if line == "migrate":
                stop()

        TargetProject._send = hooked_send
    elif point == "chunk":
        advance = journal.Journal.advance

        def hooked_advance(self, *args):
            advance(self, *args)
            if reached():
                stop()

        journal.Journal.advance = hooked_advance
    elif point == "table":
        copy_table = pipeline.copy_table

        def hooked_copy_table(*args, **kwargs):
            written = copy_table(*args, **kwargs)
            if reached():
                stop()
            return written

        pipeline.copy_table = hooked_copy_table
    elif point == "sync":
        from portadb import changes

        write_chunk = changes.write_chunk

        def hooked_write_chunk(*args, **kwargs):
            write_chunk(*args, **kwargs)
            if reached():
                stop()

        changes.write_chunk = hooked_write_chunk
    elif point == "synced":
        import importlib

        synced = importlib.import_module("portadb.sync")  # ``portadb.sync`` is also the function
        finish = synced._finish

        def hooked_finish(*args, **kwargs):
            if reached():
                stop()
            finish(*args, **kwargs)

        synced._finish = hooked_finish
    elif point == "slow":
        import time

        advance = journal.Journal.advance

        def slow_advance(self, *args):
            time.sleep(n / 1000)
            advance(self, *args)

        journal.Journal.advance = slow_advance
    elif point == "deferred":
        build = schema.build_deferred

        def hooked_build(connection, deferred, **options):
            build(connection, deferred[:n], **options)
            stop()
            build(connection, deferred[n:], **options)

        schema.build_deferred = hooked_build
    else:
        raise SystemExit(f"unknown stop point {point!r}")


if __name__ == "__main__":
    # Ctrl-C as a terminal sends it: a test run started in the background (a shell's `cmd &`
    # starts it with SIGINT ignored, and every child inherits that) would otherwise hide it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    for name in filter(None, os.environ.get("PORTADB_TEST_HIDE_MODULES", "").split(",")):
        sys.modules[name] = None  # "import name" now raises ImportError
    import django

    django.setup()
    if os.environ.get("PORTADB_TEST_STOP"):
        point, count = os.environ["PORTADB_TEST_STOP"].split(":")
        install(point, int(count))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
