from django.apps import AppConfig


class HeadshotsConfig(AppConfig):
    name = "headshots"
