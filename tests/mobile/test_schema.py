"""What the generated mobile client relies on in the schema as served: uploads and
downloads documented as binary, and the one rewrite the client build still makes
(tests/mobile/conftest.py) touching upload operations only."""

import pytest

from tests.mobile.conftest import request_media_types

BINARY = {"type": "string", "format": "binary"}


def _component(schema: dict, media: dict) -> dict:
    return schema["components"]["schemas"][media["schema"]["$ref"].rsplit("/", 1)[-1]]


@pytest.mark.django_db
def test_only_uploads_document_several_request_media_types_and_their_files_are_binary(
    mobile_schema,
):
    several = request_media_types(mobile_schema)
    assert ("post", "/api/v1/headshots") in several
    for method, path in several:
        content = mobile_schema["paths"][path][method]["requestBody"]["content"]
        assert "multipart/form-data" in content, (method, path)
        properties = _component(mobile_schema, content["multipart/form-data"])["properties"]
        files = [name for name, spec in properties.items() if spec == BINARY]
        assert files, (method, path, properties)  # a JSON body would not need multipart
    submit = mobile_schema["paths"]["/api/v1/headshots"]["post"]["requestBody"]["content"]
    assert _component(mobile_schema, submit["multipart/form-data"])["properties"]["photo"] == BINARY


@pytest.mark.django_db
def test_downloads_are_documented_as_binary_in_their_real_media_type(mobile_schema):
    paths = mobile_schema["paths"]
    export = paths["/api/v1/headshots/{generation_id}/export"]["get"]["responses"]["200"]
    assert export["content"] == {"application/zip": {"schema": BINARY}}
    image = paths["/api/v1/headshots/images/{image_id}/download"]["get"]["responses"]["200"]
    assert image["content"] == {"image/*": {"schema": BINARY}}
