"""Shared by the schemathesis tests: the app over WSGI, a signed-in token, the fuzz loop."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application

SCHEMA_URL = "/api/v1/schema/?format=json"


def api_schema():
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, application)


@pytest.fixture
def wsgi_db(db, monkeypatch):
    """Like Django's test client: the WSGI app must not close the test's DB connection;
    and no throttling, the fuzzer sends hundreds of requests."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def signup_token(email: str) -> str:
    """Sign up through the same WSGI app (Django's test Client would reconnect the
    connection-closing handlers when it finishes) and return the session token."""
    from werkzeug.test import Client

    response = Client(application).post(
        "/_allauth/app/v1/auth/signup",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        json={"email": email, "password": "a-long-fuzz-password-1"},
    )
    assert response.status_code == 200, response.get_data()
    return response.get_json()["meta"]["session_token"]


def fuzz_failures(operations, token: str, *, max_examples: int, detail: int = 600) -> list[str]:
    """Run each operation with generated input: no 5xx, documented responses match."""
    failures = []

    def fuzz(operation) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=max_examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case):
            case.headers = {**(case.headers or {}), "X-Session-Token": token}
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        run()

    for operation in operations:
        try:
            fuzz(operation)
        except Exception as error:
            failures.append(f"{operation.label}: {str(error)[:detail]}")
    return failures
