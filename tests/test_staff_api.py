"""The staff JSON API: bearer tokens and JSON errors for every bad input."""
import pytest
from sqlalchemy import func, select

from foundation import db
from foundation.staff.models import StaffSession
from tests.builders.staff import STRONG_PASSWORD
from tests.helpers import sign_in


def token_for(client, email, password=STRONG_PASSWORD):
    response = client.post("/api/v1/staff/auth/token",
                           json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return response.json["token"]


def assert_error(response, status, code):
    assert response.status_code == status, response.data
    body = response.json
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_token_is_issued_and_identifies_the_staff_member(client, staff):
    _, email, _ = staff("senior_authenticator")
    token = token_for(client, email)
    me = client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["staff"]["email"] == email
    assert "authentication.second_review" in me.json["staff"]["permissions"]


@pytest.mark.parametrize("kwargs, status, code", [
    ({"json": {"email": "a@b.c"}}, 422, "validation_failed"),
    ({"json": {"email": 5, "password": "x"}}, 422, "validation_failed"),
    ({"json": ["email", "password"]}, 400, "malformed_json"),
    ({"data": "{not json", "content_type": "application/json"}, 400, "malformed_json"),
    ({"data": "email=a", "content_type": "application/x-www-form-urlencoded"}, 400,
     "unsupported_media_type"),
    ({"json": {"email": "x" * 5000, "password": "p"}}, 422, "validation_failed"),
])
def test_bad_token_requests_get_json_errors(client, kwargs, status, code):
    assert_error(client.post("/api/v1/staff/auth/token", **kwargs), status, code)
    assert db.session().scalar(select(func.count()).select_from(StaffSession)) == 0


def test_wrong_password_is_401_and_counted(client, staff):
    _, email, _ = staff("admin")
    error = assert_error(client.post("/api/v1/staff/auth/token", json={
        "email": email, "password": "wrong-password"}), 401, "bad_credentials")
    assert "password" in error["message"]


def test_lockout_applies_to_the_api_too(client, staff, settings):
    _, email, _ = staff("admin")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        client.post("/api/v1/staff/auth/token", json={"email": email, "password": "nope-nope"})
    assert_error(client.post("/api/v1/staff/auth/token", json={
        "email": email, "password": STRONG_PASSWORD}), 429, "locked")


def test_missing_forged_and_revoked_tokens_are_refused(client, staff):
    _, email, _ = staff("admin")
    assert_error(client.get("/api/v1/staff/me"), 401, "not_authenticated")
    assert_error(client.get("/api/v1/staff/me", headers={"Authorization": "Bearer forged"}),
                 401, "not_authenticated")
    assert_error(client.get("/api/v1/staff/me", headers={"Authorization": "Basic abc"}),
                 401, "not_authenticated")
    token = token_for(client, email)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/staff/auth/token", headers=auth).status_code == 204
    assert_error(client.get("/api/v1/staff/me", headers=auth), 401, "not_authenticated")


def test_a_console_cookie_is_not_a_credential_for_the_api(client, staff):
    _, email, _ = staff("admin")
    sign_in(client, email)
    assert client.get("/console/").status_code == 200
    assert_error(client.get("/api/v1/staff/me"), 401, "not_authenticated")


def test_unknown_paths_and_methods_answer_json(client):
    assert_error(client.get("/api/v1/staff/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/v1/staff/auth/token"), 405, "method_not_allowed")


def test_the_api_refuses_unenrolled_staff_when_totp_is_required(settings, staff):
    import dataclasses

    from console import create_app
    client = create_app(dataclasses.replace(settings, STAFF_REQUIRE_TOTP=True)).test_client()
    _, email, _ = staff("admin")
    assert_error(client.post("/api/v1/staff/auth/token", json={
        "email": email, "password": STRONG_PASSWORD}), 403, "totp_enrollment_required")
