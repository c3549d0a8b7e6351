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

# The generator can send a body in one content type only. Most operations now accept
# JSON alone; submit accepts multipart, form and JSON (retry_of), and
# openapi-python-client 0.29.1 then emits code that sets all three and ends up sending
# multipart under a JSON Content-Type. The app sends the photo as multipart.
UPLOADS = {("post", "/api/v1/headshots"): "photo"}


def _mobile_schema(schema: dict) -> dict:
    """Trim each request body to the content type the app sends; make sure uploads are
    binary (COMPONENT_SPLIT_REQUEST documents them so; this keeps the test honest if not)."""
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
