"""``python -m portadb.child``: the project as Django builds it where the target is ``default``.

Run by :class:`portadb.targetproject.TargetProject`, never by hand. The first
line on standard input is the request (base64 of a pickle: the project's
settings module, ``sys.path`` and the ``DATABASES`` to use); then one command
per line, ``describe``, ``migrate`` or ``stop``, each answered by one JSON
line on the protocol stream (the process's original standard output; what
migrations print goes to standard error).

``describe`` gives every model's table as the target's backend sees it
(:mod:`portadb.shapes`) and the operations that ``migrate`` would run there
that models cannot express; ``migrate`` runs the project's migrations (and
``createcachetable``) into the empty target and lists the tables it made.
"""

from __future__ import annotations

import base64
import gc
import io
import json
import os
import pickle
import sys
from contextlib import contextmanager


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever migrations print must not mix with the answers
    sys.stdout = sys.stderr
    request = pickle.loads(base64.b64decode(sys.stdin.readline()))
    sys.path[:0] = [p for p in request["path"] if p not in sys.path]
    try:
        setup(request)
    except Exception as e:  # noqa: BLE001 - the parent says it in one sentence
        answer(protocol, {"error": _sentence(e)})
        return 1
    for line in sys.stdin:
        command = line.strip()
        if command == "stop":
            break
        try:
            answer(protocol, {"ok": COMMANDS[command]()})
        except Exception as e:  # noqa: BLE001 - the parent says it in one sentence
            import traceback

            traceback.print_exc()
            answer(protocol, {"error": _sentence(e)})
        finally:  # no session stays open between commands: the database may be gone by the next
            from django.db import connections

            connections.close_all()
    return 0


def setup(request: dict) -> None:
    from portadb import child_settings

    child_settings.configure(request["settings"], request["databases"], request["routers"],
                             request["alias"])
    os.environ["DJANGO_SETTINGS_MODULE"] = "portadb.child_settings"
    import django

    django.setup()


def describe() -> dict:
    from portadb.targetproject import described

    return described("default")


def migrate() -> dict:
    """Migrate the target; the tables made, and the schema SQL that ran (for ``-v 3``)."""
    from django.core.management import call_command
    from django.db import connections

    connection = connections["default"]
    before = set(connection.introspection.table_names())
    out = io.StringIO()
    with _schema_sql() as ran:
        call_command("migrate", database="default", interactive=False, verbosity=0, stdout=out, stderr=out)
        call_command("createcachetable", database="default", verbosity=0, stdout=out, stderr=out)
    after = connection.introspection.table_names()
    return {"created": sorted(set(after) - before), "sql": ran}


def steps() -> dict:
    """What migrate would do to an empty target: each migration with its operations, in order."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    return {"steps": [f"{m.app_label}.{m.name}: " + "; ".join(op.describe() for op in m.operations)
                      for m, _ in plan]}


@contextmanager
def _schema_sql():
    """The statements Django's schema editor runs meanwhile, as its logger gives them."""
    import logging

    ran: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            ran.append(record.getMessage())

    logger = logging.getLogger("django.db.backends.schema")
    handler, level = Collect(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield ran
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


COMMANDS = {"describe": describe, "migrate": migrate, "steps": steps}


def answer(protocol, message: dict) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def _sentence(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


if __name__ == "__main__":
    status = main()
    gc.freeze()  # the process ends: its last collections need not walk all it loaded (see the command)
    sys.exit(status)
