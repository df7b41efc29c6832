# The table and column names come from the environment, as in the model (see ../models.py).
# With PORTADB_TEST_ODD_MIGRATE set, the migration also runs SQL of its own: portadb then
# builds the target with the project's migrate instead of from the models. With
# PORTADB_TEST_ODD_RUNPYTHON set, a RunPython makes an index no model describes (as
# django-oscar's makes a materialized view) through a function of another module: the same.

import os

import django.db.models.deletion
from django.db import migrations, models

from tests.oddnames import sql
from tests.oddnames.models import COLUMN, TABLE


def raw_index(apps, schema_editor):
    sql.make_raw_index(schema_editor)  # in another module, as a project's helpers often are


class Migration(migrations.Migration):

    initial = True
    atomic = not os.environ.get("PORTADB_TEST_ODD_RUNPYTHON")  # MySQL runs no DDL in a transaction

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Odd",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50, unique=True)),
                ("label", models.CharField(db_column=COLUMN, db_index=True, default="", max_length=20)),
                ("parent", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE,
                                             to="oddnames.odd")),
            ],
            options={"db_table": TABLE},
        ),
    ]
    if os.environ.get("PORTADB_TEST_ODD_MIGRATE"):
        operations.append(migrations.RunSQL("SELECT 1", migrations.RunSQL.noop))
    if os.environ.get("PORTADB_TEST_ODD_RUNPYTHON"):
        operations.append(migrations.RunPython(raw_index, migrations.RunPython.noop))
