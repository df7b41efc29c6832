# Vendor-dependent, as real projects' migrations are: the fields and the
# raw SQL are chosen by the default database's vendor when this is imported.

import os

from django.db import connection, migrations, models

NOTE_FIELDS = [
    ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
    ("title", models.CharField(max_length=200)),
    ("body", models.TextField()),
    ("created", models.DateTimeField()),
    ("rating", models.DecimalField(decimal_places=2, max_digits=5, null=True)),
    ("tags", models.ManyToManyField(blank=True, to="notes.tag")),
]
if connection.vendor == "postgresql":
    from django.contrib.postgres.search import SearchVectorField

    NOTE_FIELDS.append(("search", SearchVectorField(null=True)))
    INDEX = "CREATE INDEX notes_note_body_search ON notes_note USING gin (to_tsvector('simple', body))"
elif connection.vendor == "mysql":
    INDEX = "CREATE FULLTEXT INDEX notes_note_body_fulltext ON notes_note (body)"
else:
    INDEX = "CREATE INDEX notes_note_title_lower ON notes_note (lower(title))"

OPERATIONS = [
    migrations.CreateModel(
        name="Tag",
        fields=[
            ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("name", models.CharField(max_length=50, unique=True)),
        ],
    ),
    migrations.CreateModel(name="Note", fields=NOTE_FIELDS),
]
if connection.vendor == "sqlite":
    OPERATIONS.append(migrations.CreateModel(
        name="NoteIndex",
        fields=[
            ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("words", models.TextField()),
            ("note", models.ForeignKey(on_delete=models.deletion.CASCADE, to="notes.note")),
        ],
    ))
if os.environ.get("VP_RAW_SQL", "1") != "0":  # without it, only the models tell the vendors apart
    OPERATIONS.append(migrations.RunSQL(INDEX, migrations.RunSQL.noop))


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = OPERATIONS
