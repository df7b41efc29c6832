"""Fields only PostgreSQL holds (django.contrib.postgres), in models only PostgreSQL gets.

``Meta.required_db_vendor`` is Django's own way to say so: ``migrate`` skips
these models on SQLite and MySQL, and so does portadb -- refusing the copy when
such a model holds rows the target cannot take.
"""

from django.contrib.postgres.fields import (
    ArrayField,
    BigIntegerRangeField,
    DateRangeField,
    DateTimeRangeField,
    DecimalRangeField,
    HStoreField,
    IntegerRangeField,
)
from django.db import models


class Arrays(models.Model):
    numbers = ArrayField(models.IntegerField())
    grid = ArrayField(ArrayField(models.CharField(max_length=10, null=True)), null=True)
    words = ArrayField(models.TextField(), default=list, blank=True)

    class Meta:
        required_db_vendor = "postgresql"


class Ranges(models.Model):
    ints = IntegerRangeField(null=True)
    bigs = BigIntegerRangeField(null=True)
    decimals = DecimalRangeField(null=True)
    dates = DateRangeField(null=True)
    moments = DateTimeRangeField(null=True)

    class Meta:
        required_db_vendor = "postgresql"


class Texts(models.Model):
    """Case-insensitive text (a nondeterministic ICU collation) and hstore."""

    name = models.CharField(max_length=40, db_collation="pgzoo_ci")
    byte_order = models.CharField(max_length=40, db_collation="C")
    store = HStoreField(null=True)

    class Meta:
        required_db_vendor = "postgresql"
