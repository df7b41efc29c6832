"""Custom fields whose database value differs from their Python value."""

from decimal import Decimal

from django.db import models


class CommaListField(models.TextField):
    """A list of strings, stored as one comma-separated text."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else (value.split(",") if value else [])

    def to_python(self, value):
        if isinstance(value, list) or value is None:
            return value
        return value.split(",") if value else []

    def get_prep_value(self, value):
        return None if value is None else ",".join(value)


class CentsField(models.BigIntegerField):
    """Money as a Decimal in Python, as whole cents in the database."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else Decimal(value) / 100

    def get_prep_value(self, value):
        return None if value is None else int(Decimal(value) * 100)
