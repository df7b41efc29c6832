from django.apps import AppConfig


class OddNamesConfig(AppConfig):
    name = "tests.oddnames"
    label = "oddnames"
    default_auto_field = "django.db.models.BigAutoField"
