from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from common import db, schema  # noqa: F401  (schema registers the OpenAPI auth extension)

        connection_created.connect(db.install, dispatch_uid="common.db.install")
