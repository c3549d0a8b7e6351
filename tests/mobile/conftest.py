"""A Python client generated from our OpenAPI schema by openapi-python-client, as a
mobile app would build it. It is generated into a temporary directory once per session
and never committed."""

import copy
import importlib
import subprocess
import sys

import pytest
import yaml
from django.core.management import call_command

PACKAGE = "portrait_mobile_client"

# Generator settings a mobile team would keep beside the schema. openapi-python-client
# 0.29.1 knows JSON, text and application/octet-stream responses only; the schema names
# the real media types of the two downloads (a ZIP, an image), so it is told they are
# bytes. Without this it drops both responses and the app could not read the files.
# No post hooks: they run ruff from PATH, and the generated code needs no formatting here.
GENERATOR_CONFIG = {
    "content_type_overrides": {
        "application/zip": "application/octet-stream",
        "image/*": "application/octet-stream",
    },
    "post_hooks": [],
}


def request_media_types(schema: dict) -> dict[tuple[str, str], list[str]]:
    """(method, path) -> the media types its request body is documented in, where several."""
    return {
        (method, path): list(content)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if len(content := (operation.get("requestBody") or {}).get("content") or {}) > 1
    }


def _multipart_only(schema: dict) -> dict:
    """The one rewrite left: an upload documented as multipart, form and JSON at once.

    Every JSON-only operation has one media type since the JSON-only default parsers, and
    COMPONENT_SPLIT_REQUEST documents the photo as binary, so neither needs help. But the
    upload views (submit, batch, inspect, character versions) list several media types
    with one component, and openapi-python-client 0.29.1 then emits a body branch per
    type that all match the same class: the last one wins and the photo goes out as
    multipart under a JSON Content-Type. The app uploads as multipart, so keep that."""
    schema = copy.deepcopy(schema)
    for method, path in request_media_types(schema):
        body = schema["paths"][path][method]["requestBody"]
        body["content"] = {"multipart/form-data": body["content"]["multipart/form-data"]}
    return schema


@pytest.fixture(scope="session")
def mobile_schema(tmp_path_factory) -> dict:
    """The schema exactly as /api/v1/schema/ serves it."""
    path = tmp_path_factory.mktemp("mobile_schema") / "spectacular.yaml"
    call_command("spectacular", "--file", str(path))
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def mobile_api(tmp_path_factory, mobile_schema):
    """The generated client package, importable for the session."""
    root = tmp_path_factory.mktemp("mobile_client")
    schema = root / "schema.yaml"
    schema.write_text(yaml.safe_dump(_multipart_only(mobile_schema)))
    config = root / "generator.yaml"
    config.write_text(yaml.safe_dump(GENERATOR_CONFIG))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(schema),
            "--config",
            str(config),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / PACKAGE / "client.py").exists(), result.stdout + result.stderr
    # Anything the generator had to leave out is a hole in the mobile contract.
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
