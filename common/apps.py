from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from common import db, schema  # noqa: F401  (schema registers the OpenAPI auth extension)

        connection_created.connect(db.install, dispatch_uid="common.db.install")
        _json_type_messages()


def _json_type_messages() -> None:
    """DRF names Python types to API clients ("Expected a dictionary, but got list"); a
    client sent JSON, so say it in JSON's words. Field classes merge these class-level
    messages when each field is built, so this covers every serializer."""
    from rest_framework import serializers

    serializers.Serializer.default_error_messages["invalid"] = "Expected a JSON object."
    serializers.ListSerializer.default_error_messages["not_a_list"] = "Expected a JSON array."
    serializers.ListField.default_error_messages["not_a_list"] = "Expected a JSON array."
    serializers.DictField.default_error_messages["not_a_dict"] = "Expected a JSON object."
