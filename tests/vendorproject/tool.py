"""``python -m tests.vendorproject.tool build|examine|examine-and-insert|fill-search``.

Each runs in a process whose default database (and so whose models) is that
of ``VP_DEFAULT_URL``: ``build`` migrates it and adds the notes; ``examine``
prints, as JSON, its schema (portadb.drift.snapshot), every row and whether
``migrate --check`` is clean; ``examine-and-insert`` then saves a new note
and tag and gives the note's key; ``fill-search`` gives the PostgreSQL-only
``search`` column a value.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import os
import sys


def main(command: str) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.vendorproject.settings"
    import django

    django.setup()
    commands = {"build": build, "examine": examine, "examine-and-insert": lambda: examine(insert=True),
                "fill-search": fill_search}
    return commands[command]()


def build() -> int:
    from django.core.management import call_command
    from django.db import connection

    from .notes import models

    call_command("migrate", verbosity=0, interactive=False)
    tags = [models.Tag.objects.create(name=name) for name in ("blue", "Grün", "日本", "a" * 50)]
    for i in range(40):
        note = models.Note.objects.create(
            title=f"Note {i} ✓", body="line\n" * (i % 5) + "é" * i,
            created=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i * 3601,
                                                                                  microseconds=i),
            rating=None if i % 7 == 0 else decimal.Decimal(i * 37 % 10000) / 100,
        )
        note.tags.set(tags[: i % 5])
        if connection.vendor == "sqlite":
            models.NoteIndex.objects.create(note=note, words=note.title.lower())
    return 0


def examine(insert: bool = False) -> int:
    from django.core.management import call_command
    from django.db import connection

    from portadb.drift import snapshot
    from portadb.models import project_models

    from .notes import models

    tables = [t for t in connection.introspection.table_names() if not t.startswith("portadb_")]
    rows = {}
    for model in project_models("default"):
        columns = [f.column for f in model._meta.local_concrete_fields]
        names = [f.attname for f in model._meta.local_concrete_fields]
        values = model._base_manager.order_by("pk").values_list(*names)
        rows[model._meta.db_table] = [dict(zip(columns, map(_plain, row))) for row in values]
    check = 0
    try:
        call_command("migrate", check=True, verbosity=0, stdout=io.StringIO())
    except SystemExit as e:
        check = e.code or 0
    found = {"vendor": connection.vendor, "snapshot": snapshot(connection, tables), "rows": rows,
             "migrate_check": check}
    if insert:
        note = models.Note.objects.create(title="New", body="After the copy",
                                          created=dt.datetime.now(dt.timezone.utc))
        note.tags.add(models.Tag.objects.create(name="new after the copy"))
        found["inserted"] = note.pk
    json.dump(found, sys.stdout)
    return 0


def fill_search() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE notes_note SET search = to_tsvector('simple', title)")
    return 0


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
