"""Driving the authentication staff API as reviewers would."""
from __future__ import annotations

from sqlalchemy import select

from authentication import decisions
from authentication.models import CHECKLISTS, AuthenticationRequest, Verdict
from foundation import db
from marketplace_core.listings.models import Listing
from tests.builders.staff import QueueStaff

BASE = "/api/v1/staff/authentication"


class Reviewer(QueueStaff):
    """A reviewer on the authentication staff API."""

    BASE = BASE

    def decide(self, claim: dict, verdict: str, **extra):
        body = {"verdict": verdict, "reason": extra.pop("reason", usual_reason(verdict)),
                "lease_token": claim["lease_token"], **extra}
        if verdict in ("authentic", "counterfeit") and "checklist" not in body:
            body["checklist"] = full_checklist(claim["request"]["category"],
                                               "pass" if verdict == "authentic" else "fail")
        return self.post(claim["request"]["id"], "decision", **body)

    def queue(self, name: str = "review"):
        return self.client.get(f"{self.BASE}/queue", query_string={"queue": name},
                               headers=self.headers)


def usual_reason(verdict: str) -> str:
    """The first reason code offered for the verdict (any valid code for a bad verdict,
    whose refusal is then about the verdict alone)."""
    codes = decisions.REASON_CODES.get(verdict, decisions.REASON_CODES[Verdict.AUTHENTIC])
    return codes[0][0]


def full_checklist(category: str, result: str = "pass") -> dict:
    return {point: result for point in CHECKLISTS[category]}


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
