"""Schemathesis drives every documented operation with generated input: no 500s, and every
documented response matches its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application

# Binary downloads are exercised by their own tests.
SKIP = r".*/export$|.*/download$"


@pytest.fixture
def _keep_the_test_connection():
    """Like Django's test client: the WSGI app must not close the test's DB connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def session_token(db, _keep_the_test_connection, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle
    from werkzeug.test import Client

    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)
    # Through the same WSGI app as the fuzzer (Django's test Client would reconnect the
    # connection-closing signal handlers when it finishes).
    response = Client(application).post(
        "/_allauth/app/v1/auth/signup",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        json={"email": "fuzz@example.com", "password": "a-long-fuzz-password-1"},
    )
    assert response.status_code == 200, response.get_data()
    return response.get_json()["meta"]["session_token"]


def test_api_never_errors_and_matches_its_schema(session_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application).exclude(
        path_regex=SKIP
    )
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    def fuzz(operation) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case):
            case.headers = {**(case.headers or {}), "X-Session-Token": session_token}
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        run()

    for operation in operations:
        try:
            fuzz(operation)
        except Exception as error:
            failures.append(f"{operation.label}: {str(error)[:600]}")
    assert not failures, "\n\n".join(failures)
