from django.apps import AppConfig


class HeadshotsConfig(AppConfig):
    name = "headshots"

    def ready(self) -> None:
        from headshots import signals  # noqa: F401 - a running job deleted releases its hold
