"""Staff accounts through the staff services, and bearer tokens for the staff API."""
from __future__ import annotations

import itertools

from foundation import db
from foundation.staff import services as staff_services

STRONG_PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def make_staff(settings, role: str = "admin", email: str | None = None,
               password: str = STRONG_PASSWORD):
    email = email or f"{role}{next(_counter)}@staff.test"
    with db.unit_of_work() as s:
        member = staff_services.create_staff(s, settings, email=email, role=role,
                                             password=password)
        return member.id, email, password


def bearer_headers(client, email: str, password: str = STRONG_PASSWORD) -> dict:
    """Authorization headers of a token the staff API issued to this account."""
    response = client.post("/api/v1/staff/auth/token",
                           json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def staff_bearer(client, staff, role: str) -> dict:
    """Authorization headers for a new staff member of `role` on the staff API."""
    _, email, _ = staff(role)
    return bearer_headers(client, email)


class QueueStaff:
    """A new staff member of `role` on a review queue's staff API (under `BASE`), holding a
    bearer token issued at the current time."""

    BASE: str

    def __init__(self, client, staff, role: str):
        self.client = client
        self.role = role
        self.id, self.email, _ = staff(role)
        self.headers = bearer_headers(client, self.email)

    def claim(self, queue: str | None = None):
        return self.client.post(f"{self.BASE}/claim", json={"queue": queue} if queue else {},
                                headers=self.headers)

    def claimed(self, queue: str | None = None) -> dict:
        response = self.claim(queue)
        assert response.status_code == 200, (response.status_code, response.data)
        return response.json

    def post(self, item_id: int, action: str, **body):
        return self.client.post(f"{self.BASE}/{item_id}/{action}", json=body,
                                headers=self.headers)
