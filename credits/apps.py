from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CreditsConfig(AppConfig):
    name = "credits"

    def ready(self) -> None:
        from credits.services import system_accounts_ensure

        post_migrate.connect(
            system_accounts_ensure, sender=self, dispatch_uid="credits.system_accounts"
        )
