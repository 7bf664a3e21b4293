"""CSRF on every console route that changes state, discovered from `app.url_map`: each one
posted by a signed-in admin (who may reach them all) without a token and with a wrong one is
refused with the 400 page, and no row of any table changes.

The JSON APIs under /api/ are exempt on purpose: they accept bearer tokens only, never the
console's cookie, so a forged cross-site request carries no credentials there."""
from __future__ import annotations

import pytest

from tests.builders.digest import database_digest
from tests.builders.world import seed_world, url_for_rule
from tests.helpers import csrf_token, signed_in

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
REFUSAL = "security token"


def console_state_changing_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/"):
            continue
        for method in STATE_CHANGING:
            if method in rule.methods:
                yield rule, method


def test_the_sweep_finds_the_console_forms(app):
    endpoints = {rule.endpoint for rule, _ in console_state_changing_routes(app)}
    # A sample the sweep must find, so that a broken discovery cannot pass empty.
    assert {"staff.change_role", "auth.sign_out", "jobs.requeue", "members.restrict",
            "listings.remove", "disputes.approval", "authentication.skip",
            "account.end_all_sessions", "vision_reindex.start"} <= endpoints


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no token", "wrong token"])
def test_every_console_form_refuses_a_missing_or_wrong_csrf_token(app, staff, token):
    world = seed_world()
    client = app.test_client()
    signed_in(client, staff, "admin")
    real_token = csrf_token(client.get("/console/account/").get_data(as_text=True))
    assert token != real_token
    before = database_digest()
    accepted = []
    for rule, method in console_state_changing_routes(app):
        path = url_for_rule(rule, world)
        data = {"note": "forged", "role": "admin", "reason": "forged"}
        if token is not None:
            data["csrf_token"] = token
        response = client.open(path, method=method, data=data)
        if response.status_code != 400 or REFUSAL not in response.get_data(as_text=True):
            accepted.append(f"{method} {path} ({rule.endpoint}): {response.status_code}")
    assert accepted == []
    assert database_digest() == before
    assert client.get("/console/account/").status_code == 200, "still signed in"


def test_the_digest_sees_what_a_form_with_its_token_changes(app, staff):
    client = app.test_client()
    signed_in(client, staff, "admin")
    token = csrf_token(client.get("/console/account/").get_data(as_text=True))
    before = database_digest()
    response = client.post("/console/account/sessions/end-all", data={"csrf_token": token})
    assert response.status_code == 302
    assert database_digest() != before
