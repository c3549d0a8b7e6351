import pytest

from common.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db


def test_our_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert policy == ContentSecurityPolicyMiddleware.POLICY
    assert (
        "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )


def test_login_page_has_the_policy_too(client):
    assert "Content-Security-Policy" in client.get("/accounts/login/").headers


def test_json_responses_need_no_policy(client):
    assert "Content-Security-Policy" not in client.get("/api/v1/headshots/config").headers


def test_no_template_of_ours_has_inline_script():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        if "admin" in path.parts:
            continue  # Django admin pages are exempt from our policy
        text = path.read_text()
        for marker in (
            "<script>",
            " onclick=",
            " onchange=",
            " oninput=",
            " onsubmit=",
            " onload=",
        ):
            if marker in text:
                offenders.append(f"{path.relative_to(root)}: {marker.strip()}")
    assert not offenders, offenders
