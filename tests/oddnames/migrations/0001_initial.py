# The table and column names come from the environment, as in the model (see ../models.py).
# With PORTADB_TEST_ODD_MIGRATE set, the migration also runs SQL of its own: portadb then
# builds the target with the project's migrate instead of from the models.

import os

import django.db.models.deletion
from django.db import migrations, models

from tests.oddnames.models import COLUMN, TABLE


class Migration(migrations.Migration):

    initial = True

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
