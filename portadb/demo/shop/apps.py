from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "portadb.demo.shop"
    label = "shop"
    verbose_name = "Sample shop"
    default_auto_field = "django.db.models.BigAutoField"
