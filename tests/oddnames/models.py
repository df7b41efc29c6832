"""One model whose table and column names come from the environment (tests/settings_odd.py).

``PORTADB_TEST_ODD_TABLE`` and ``PORTADB_TEST_ODD_COLUMN`` name them: a space,
a quote character, a name longer than a backend holds. The migration reads the
same variables, so the models and the migrations agree whatever they hold.
"""

import os

from django.db import models

TABLE = os.environ.get("PORTADB_TEST_ODD_TABLE", "odd table")
COLUMN = os.environ.get("PORTADB_TEST_ODD_COLUMN", "odd column")


class Odd(models.Model):
    # A unique key, an index and a foreign key: built after the data.
    name = models.CharField(max_length=50, unique=True)
    label = models.CharField(max_length=20, db_column=COLUMN, db_index=True, default="")
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE)

    class Meta:
        db_table = TABLE
