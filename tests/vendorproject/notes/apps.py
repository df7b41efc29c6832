from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "tests.vendorproject.notes"
    label = "notes"
    # Not the project's DEFAULT_AUTO_FIELD: the auto-created many-to-many table's
    # key is then AutoField in the model class and BigAutoField in the migrations.
    default_auto_field = "django.db.models.AutoField"
