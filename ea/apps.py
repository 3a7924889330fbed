from django.apps import AppConfig


class EaConfig(AppConfig):
    name = "ea"
    verbose_name = "Applicatie (EA)"
