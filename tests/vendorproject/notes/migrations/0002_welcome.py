# A data migration: it writes to the default database, as most do.

import datetime

from django.db import migrations


def welcome(apps, schema_editor):
    Note = apps.get_model("notes", "Note")
    Tag = apps.get_model("notes", "Tag")
    note = Note.objects.create(title="Welcome", body="Made by migrate.",
                               created=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    note.tags.add(Tag.objects.create(name="migrate"))


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]
    operations = [migrations.RunPython(welcome, migrations.RunPython.noop)]
