"""Member sign-up, tokens, profiles and follows through the public API."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from foundation import clock, db
from marketplace_core.members.models import Follow, Member, MemberToken
from marketplace_core.members.services import TOKEN_LIFETIME
from tests.builders.members import PASSWORD, register


def rows(model) -> int:
    return db.session().scalar(select(func.count()).select_from(model))


def test_register_sign_in_and_me(client):
    response = client.post("/api/v1/auth/register", json={
        "email": "Priya@Example.in", "username": "priya_closet", "password": PASSWORD,
        "city": "Pune"})
    assert response.status_code == 201
    assert response.json["user"]["email"] == "priya@example.in"
    token = client.post("/api/v1/auth/token", json={
        "email": "priya@example.in", "password": PASSWORD}).json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["user"]["username"] == "priya_closet"
    assert me.json["user"]["city"] == "Pune"


@pytest.mark.parametrize("body, field", [
    ({"username": "abc", "password": PASSWORD}, "email"),
    ({"email": "not-an-email", "username": "abc", "password": PASSWORD}, "email"),
    ({"email": "a@b.in", "username": "A B!", "password": PASSWORD}, "username"),
    ({"email": "a@b.in", "username": "abc", "password": "short"}, "password"),
    ({"email": "a@b.in", "username": "abc", "password": 12345678}, "password"),
    ({"email": "a@b.in", "username": "abc", "password": PASSWORD, "admin": True}, "admin"),
])
def test_bad_sign_up_is_refused_with_the_field_named(client, body, field):
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert rows(Member) == 0 and rows(MemberToken) == 0


def test_duplicate_email_or_username_is_409(client):
    register(client, "asha")
    response = client.post("/api/v1/auth/register", json={
        "email": "ASHA@example.in", "username": "other", "password": PASSWORD})
    assert response.status_code == 409 and "email" in response.json["error"]["fields"]
    response = client.post("/api/v1/auth/register", json={
        "email": "x@example.in", "username": "Asha", "password": PASSWORD})
    assert response.status_code == 409 and "username" in response.json["error"]["fields"]
    assert rows(Member) == 1


def test_wrong_password_and_bad_tokens(client):
    member = register(client, "ravi")
    wrong = client.post("/api/v1/auth/token", json={"email": "ravi@example.in",
                                                    "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "bad_credentials"
    assert client.get("/api/v1/me").status_code == 401
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401 and forged.json["error"]["code"] == "invalid_token"
    assert client.delete("/api/v1/auth/token", headers=member["headers"]).status_code == 204
    assert client.get("/api/v1/me", headers=member["headers"]).status_code == 401


def test_a_token_past_its_lifetime_or_of_a_deactivated_member_is_refused(client):
    member, other = register(client, "lapsed"), register(client, "closed")
    clock.freeze(clock.now() + TOKEN_LIFETIME - timedelta(minutes=1))
    assert client.get("/api/v1/me", headers=member["headers"]).status_code == 200
    clock.freeze(clock.now() + timedelta(minutes=2))
    expired = client.get("/api/v1/me", headers=member["headers"])
    assert expired.status_code == 401 and expired.json["error"]["code"] == "invalid_token"
    clock.freeze(None)
    with db.unit_of_work() as s:
        s.get(Member, other["id"]).is_active = False
    closed = client.get("/api/v1/me", headers=other["headers"])
    assert closed.status_code == 401 and closed.json["error"]["code"] == "invalid_token"


def test_profile_edit_and_closet(client):
    member = register(client, "meera")
    response = client.patch("/api/v1/me", json={"bio": "Sarees and stories", "city": "Jaipur"},
                            headers=member["headers"])
    assert response.status_code == 200 and response.json["user"]["bio"] == "Sarees and stories"
    bad = client.patch("/api/v1/me", json={"display_name": ""}, headers=member["headers"])
    assert bad.status_code == 422
    closet = client.get("/api/v1/closets/meera").json["closet"]
    assert closet["city"] == "Jaipur" and "email" not in closet
    assert client.get("/api/v1/closets/nobody").status_code == 404


def test_follow_and_unfollow(client):
    fan, star = register(client, "fan"), register(client, "star")
    assert client.post("/api/v1/closets/star/follow", headers=fan["headers"]).status_code == 200
    assert client.post("/api/v1/closets/star/follow", headers=fan["headers"]).status_code == 200
    assert client.get("/api/v1/closets/star").json["closet"]["followers"] == 1
    assert rows(Follow) == 1
    own = client.post("/api/v1/closets/star/follow", headers=star["headers"])
    assert own.status_code == 409
    client.delete("/api/v1/closets/star/follow", headers=fan["headers"])
    assert client.get("/api/v1/closets/star").json["closet"]["followers"] == 0


def test_openapi_document_lists_the_contract_paths(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for path, method in (("/api/v1/auth/register", "post"), ("/api/v1/auth/token", "post"),
                         ("/api/v1/listings", "post"), ("/api/v1/listings", "get"),
                         ("/api/v1/listings/{listing_id}", "patch"),
                         ("/api/v1/listings/{listing_id}/photos", "post"),
                         ("/api/v1/listings/{listing_id}/publish", "post")):
        assert method in doc["paths"][path], (path, method)
    create = doc["paths"]["/api/v1/listings"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert "price_paise" in schema["required"]
