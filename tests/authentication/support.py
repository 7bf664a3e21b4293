"""Driving the authentication staff API as reviewers would."""
from __future__ import annotations

import itertools

from sqlalchemy import select

from authentication import decisions
from authentication.models import CHECKLISTS, AuthenticationRequest, Verdict
from foundation import db
from marketplace_core.listings.models import Listing
from tests.helpers import STRONG_PASSWORD
from tests.marketplace.api_helpers import live_listing, register

BASE = "/api/v1/staff/authentication"
_seed = itertools.count(100)
HIGH = 5_000_000            # Rs 50,000: reviewed, below every second-review price
VERY_HIGH = 15_000_000      # Rs 1,50,000: seniors only
TOP = 25_000_000            # Rs 2,50,000: an authentic verdict needs a second reviewer


class Reviewer:
    def __init__(self, client, staff, role: str):
        self.client = client
        self.id, email, _ = staff(role)
        response = client.post("/api/v1/staff/auth/token",
                               json={"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 200, response.json
        self.headers = {"Authorization": f"Bearer {response.json['token']}"}

    def claim(self, queue: str | None = None):
        body = {"queue": queue} if queue else {}
        return self.client.post(f"{BASE}/claim", json=body, headers=self.headers)

    def claimed(self, queue: str | None = None) -> dict:
        response = self.claim(queue)
        assert response.status_code == 200, (response.status_code, response.data)
        return response.json

    def post(self, request_id: int, action: str, **body):
        return self.client.post(f"{BASE}/{request_id}/{action}", json=body,
                                headers=self.headers)

    def decide(self, claim: dict, verdict: str, **extra):
        body = {"verdict": verdict, "reason": extra.pop("reason", usual_reason(verdict)),
                "lease_token": claim["lease_token"], **extra}
        if verdict in ("authentic", "counterfeit") and "checklist" not in body:
            body["checklist"] = full_checklist(claim["request"]["category"],
                                               "pass" if verdict == "authentic" else "fail")
        return self.post(claim["request"]["id"], "decision", **body)

    def queue(self, name: str = "review"):
        return self.client.get(f"{BASE}/queue", query_string={"queue": name},
                               headers=self.headers)


def usual_reason(verdict: str) -> str:
    """The first reason code offered for the verdict (any valid code for a bad verdict,
    whose refusal is then about the verdict alone)."""
    codes = decisions.REASON_CODES.get(verdict, decisions.REASON_CODES[Verdict.AUTHENTIC])
    return codes[0][0]


def full_checklist(category: str, result: str = "pass") -> dict:
    return {point: result for point in CHECKLISTS[category]}


def seller(client) -> dict:
    return register(client)


def pending_listing(client, owner: dict, price_paise: int = HIGH, **fields) -> dict:
    listing = live_listing(client, owner, seed=next(_seed), price_paise=price_paise, **fields)
    assert listing["status"] == "pending_authentication"
    return listing


def request_for(listing_id: int) -> AuthenticationRequest:
    s = db.session()
    try:
        return s.scalars(select(AuthenticationRequest).where(
            AuthenticationRequest.listing_id == listing_id)
            .order_by(AuthenticationRequest.id.desc())).first()
    finally:
        db.session.remove()


def listing_row(listing_id: int) -> Listing:
    s = db.session()
    try:
        return s.get(Listing, listing_id)
    finally:
        db.session.remove()


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.data)
    assert response.json["error"]["code"] == code, response.json
