from django.apps import AppConfig


class CharactersConfig(AppConfig):
    name = "characters"
    verbose_name = "Character studio"

    def ready(self) -> None:
        from characters import signals  # noqa: F401 - a running job deleted releases its hold
