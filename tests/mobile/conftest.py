"""A Python client generated from our OpenAPI schema by openapi-python-client, as a
mobile app would build it. It is generated into a temporary directory once per session
and never committed."""

import importlib
import subprocess
import sys

import pytest
import yaml
from django.core.management import call_command

PACKAGE = "portrait_mobile_client"

# The generator can send a body in one content type only. Our schema lists json,
# form and multipart for each body, all with one component, and openapi-python-client
# 0.29.1 then emits code that sets all three and ends up sending multipart under a JSON
# Content-Type. The app uses JSON everywhere except for the operations uploading a
# photo, which need multipart.
UPLOADS = {("post", "/api/v1/headshots"): "photo"}


def _mobile_schema(schema: dict) -> dict:
    """Trim each request body to the content type the app sends; mark uploads binary.

    drf-spectacular documents a request `FileField` as `format: uri` (it needs
    COMPONENT_SPLIT_REQUEST to say `binary`), so the generated model would send the photo
    as a text part; the app sends a file."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content")
            if not content:
                continue
            field = UPLOADS.get((method, path))
            keep = "multipart/form-data" if field else "application/json"
            if keep not in content:
                continue
            operation["requestBody"]["content"] = {keep: content[keep]}
            if field:
                ref = content[keep]["schema"]["$ref"].rsplit("/", 1)[-1]
                properties = schema["components"]["schemas"][ref]["properties"]
                properties[field] = {"type": "string", "format": "binary"}
    return schema


@pytest.fixture(scope="session")
def mobile_api(tmp_path_factory):
    """The generated client package, importable for the session."""
    root = tmp_path_factory.mktemp("mobile_client")
    spectacular = root / "spectacular.yaml"
    call_command("spectacular", "--file", str(spectacular))
    schema = root / "schema.yaml"
    schema.write_text(yaml.safe_dump(_mobile_schema(yaml.safe_load(spectacular.read_text()))))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(schema),
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
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
