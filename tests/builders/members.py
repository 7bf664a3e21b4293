"""Members: registered through the public API (with their bearer headers) or through the
members services (an id), and fresh bearer tokens for a member id."""
from __future__ import annotations

import itertools

from foundation import db
from marketplace_core.members import services as member_services
from marketplace_core.members.models import Member

PASSWORD = "member-password-1"
_counter = itertools.count(1)


def register(client, username: str | None = None) -> dict:
    username = username or f"member{next(_counter)}"
    response = client.post("/api/v1/auth/register", json={
        "email": f"{username}@example.in", "username": username, "password": PASSWORD})
    assert response.status_code == 201, response.json
    body = response.json
    return {"id": body["user"]["id"], "username": username,
            "headers": {"Authorization": f"Bearer {body['token']}"}}


def make_member(username: str) -> int:
    with db.unit_of_work() as s:
        return member_services.register(s, email=f"{username}@example.in", username=username,
                                        password="a-long-password").id


def headers_for(member_id: int) -> dict[str, str]:
    """A fresh bearer token at the (possibly frozen) current time."""
    with db.unit_of_work() as s:
        raw = member_services.issue_token(s, s.get(Member, member_id))
    return {"Authorization": f"Bearer {raw}"}
