"""Every form field of every page and every body field of the API, one at a time, gets
values no honest client sends (a NUL, 200,000 characters, 40 digits, a superscript digit,
control and direction-override characters, markup, a repeated field): the answer is
always a clear 4xx or a normal page, never a 500. The requests are the access matrix's
(tests/common/test_access_matrix.py), sent by an actor allowed to make them."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import transaction

from tests.common import test_access_matrix as matrix
from tests.common.access_fixtures import fill
from tests.common.test_access_matrix import API_ROWS, PAGE_ROWS, Row, _body, _client, _send

# The matrix's world (built once for the module) and its Stripe stand-in.
world = matrix.world
fake_stripe = matrix.fake_stripe

pytestmark = pytest.mark.django_db

TEXT = {
    "nul": "a\x00b",
    "long": "x" * 200_000,
    "digits": "9" * 40,
    "negative": "-7",
    "superscript": "\u00b2",
    "blank": "",
    "spaces": "   ",
    "override": "\u202eabc",
    "markup": "<script>alert(1)</script>",
    "control": "a\x07b",
}
JSON_ONLY = {"list": ["a"], "object": {"a": 1}, "null": None, "float": 1.5, "bigint": 10**30}
REPEATED = "repeated"


def _actor(row: Row) -> str | None:
    return next((a for a in ("member", "admin", "staff") if row.expect[a].allowed), None)


def _cases(rows, values):
    for row in rows:
        actor = _actor(row)
        if row.method == "GET" or not isinstance(row.data, dict) or actor is None:
            continue
        for field in row.data:
            for name in values:
                if row.kind == "api" and row.fmt == "multipart" and name in JSON_ONLY:
                    continue
                yield pytest.param(row, actor, field, name, id=f"{row.title()}:{field}:{name}")
        if row.kind == "page":
            yield pytest.param(row, actor, None, REPEATED, id=f"{row.title()}:{REPEATED}")


def _value(name: str):
    return TEXT[name] if name in TEXT else JSON_ONLY[name]


def _sent(world, row: Row, actor: str, field: str | None, name: str):
    data = dict(row.data)
    if name == REPEATED:  # every field sent twice, the second time with a NUL-free odd value
        data = {key: [value, "9" * 40] for key, value in data.items() if isinstance(value, str)}
    else:
        data[field] = _value(name)
    row = dataclasses.replace(row, data=data)
    client = _client(row, actor, world)
    with transaction.atomic():  # whatever an accepted request changed goes
        response = _send(row, client, world, world.ids)
        body = _body(response)
        transaction.set_rollback(True)
    return response, body


@pytest.mark.parametrize(("row", "actor", "field", "name"), list(_cases(PAGE_ROWS, TEXT)))
def test_a_page_form_never_answers_500(world, row, actor, field, name):
    response, body = _sent(world, row, actor, field, name)
    assert response.status_code < 500, body[:300]
    if name == "nul":
        assert response.status_code == 400


@pytest.mark.parametrize(
    ("row", "actor", "field", "name"), list(_cases(API_ROWS, {**TEXT, **JSON_ONLY}))
)
def test_an_api_body_never_answers_500(world, row, actor, field, name):
    response, body = _sent(world, row, actor, field, name)
    assert response.status_code < 500, body[:300]
    if name == "nul":
        assert response.status_code == 400
        assert set(response.json()) >= {"detail", "code"}


@pytest.mark.parametrize(
    ("path", "params", "actor"),
    [
        ("/headshots/", ("page", "status", "style", "favorite"), "member"),
        ("/billing/teams/{team}/", ("log_page", "purchases_page", "history_page"), "admin"),
        ("/billing/teams/{team}/log/", ("log_page",), "admin"),
        ("/billing/teams/{team}/quote/", ("package", "quantity"), "admin"),
        ("/billing/success/", ("session_id",), "admin"),
        ("/headshots/new/", ("team", "style"), "admin"),
        ("/characters/", ("team",), "admin"),
        ("/admin/staff/analytics/", ("start", "end"), "staff"),
        ("/accounts/login/", ("next",), "anonymous"),
    ],
)
@pytest.mark.parametrize("name", [name for name in TEXT if name != "nul"] + [REPEATED])
def test_a_page_query_never_answers_500(world, path, params, actor, name):
    from django.test import Client

    client = Client()
    if world.users[actor] is not None:
        client.force_login(world.users[actor])
    url = fill(path, world.ids, world)
    for param in params:
        value = ["1", "9" * 40] if name == REPEATED else TEXT[name]
        response = client.get(url, {param: value})
        assert response.status_code < 500, f"{url}?{param}={name}"
