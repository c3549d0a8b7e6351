from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users"  # allauth's own app is "Accounts" (e-mail addresses)

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connects allauth's signup signal)
