from django.apps import AppConfig


class LasConfig(AppConfig):
    name = "las"
    verbose_name = "School (LAS)"

    def ready(self) -> None:
        from las import signals

        signals.connect()
