import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver


def _api_routes(patterns=None, prefix="") -> set[str]:
    routes = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes |= _api_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return routes - {"/api/v1/schema/", "/api/v1/docs/"}


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory, django_db_blocker):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        # Fails on any generation warning and validates against the OpenAPI spec.
        call_command("spectacular", "--file", str(path), "--fail-on-warn", "--validate")
    return yaml.safe_load(path.read_text())


def test_schema_generates_without_warnings_and_validates(schema_file):
    assert schema_file["openapi"].startswith("3.")


def test_every_api_route_is_in_the_schema(schema_file):
    routes = _api_routes()
    assert len(routes) > 30, routes  # the walk found the API
    missing = routes - set(schema_file["paths"])
    assert not missing, sorted(missing)


def test_the_session_token_is_documented_as_auth(schema_file):
    schemes = schema_file["components"]["securitySchemes"]
    assert schemes["sessionToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Session-Token",
        "description": schemes["sessionToken"]["description"],
    }


def test_swagger_ui_is_served_from_our_own_static_files(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html
