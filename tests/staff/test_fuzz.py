"""Schemathesis drives the staff endpoints as a staff member (the project-wide fuzz test
signs in as a member, who only ever sees their 403): no 500s, responses match the schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import User
from config.wsgi import application
from tests.staff.conftest import spent_generation


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
def staff_token(db, _keep_the_test_connection, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle
    from werkzeug.test import Client

    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)
    response = Client(application).post(
        "/_allauth/app/v1/auth/signup",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        json={"email": "fuzz-staff@example.com", "password": "a-long-fuzz-password-1"},
    )
    assert response.status_code == 200, response.get_data()
    User.objects.filter(email="fuzz-staff@example.com").update(is_staff=True)
    return response.get_json()["meta"]["session_token"]


def test_staff_endpoints_never_error_and_match_their_schema(staff_token, member):
    for _ in range(3):
        spent_generation(member)  # low ids exist, some refundable
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application).include(
        path_regex=r"^/api/v1/admin/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 3
    failures = []

    def fuzz(operation) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case):
            case.headers = {**(case.headers or {}), "X-Session-Token": staff_token}
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        run()

    for operation in operations:
        try:
            fuzz(operation)
        except Exception as error:
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
