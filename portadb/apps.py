from django.apps import AppConfig


class PortadbConfig(AppConfig):
    name = "portadb"
    verbose_name = "portadb"
