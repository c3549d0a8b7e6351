"""Schemathesis drives the staff endpoints as a staff member (the project-wide fuzz test
signs in as a member, who only ever sees their 403): no 500s, responses match the schema."""

from accounts.models import User
from tests.fuzzing import api_schema, fuzz_failures, signup_token, wsgi_db  # noqa: F401
from tests.staff.conftest import spent_generation


def test_staff_endpoints_never_error_and_match_their_schema(wsgi_db, member):  # noqa: F811
    token = signup_token("fuzz-staff@example.com")
    User.objects.filter(email="fuzz-staff@example.com").update(is_staff=True)
    for _ in range(3):
        spent_generation(member)  # low ids exist, some refundable
    operations = [
        result.ok()
        for result in api_schema().include(path_regex=r"^/api/v1/admin/").get_all_operations()
    ]
    assert len(operations) == 3
    failures = fuzz_failures(operations, token, max_examples=40, detail=1500)
    assert not failures, "\n\n".join(failures)
