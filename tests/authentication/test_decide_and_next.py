"""The console's "decide and next" (a decision opens the next item of the same queue, already
claimed) and "claim next" from the first of the reviewer's queues that has work, with the
role, lease and CSRF checks around them."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from authentication.models import CHECKLISTS, AuthenticationRequest, Verdict
from foundation import clock, db
from foundation.audit.models import AuditEvent
from tests.authentication.support import request_for
from tests.builders.cases import decide_authentication, pending_listing
from tests.helpers import page_token, signed_in

QUEUE = "/console/authentication/"


def workspace_path(request_id: int) -> str:
    return f"{QUEUE}{request_id}"


def claim_first(client, token: str | None = None):
    data = {} if token is None else {"csrf_token": token}
    return client.post(f"{QUEUE}claim-first", data=data)


def decision_fields(html: str, verdict: str = "authentic", result: str = "pass",
                    category: str = "sarees", **extra) -> dict:
    fields = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
              "lease_token": re.search(r'name="lease_token" value="([^"]+)"', html).group(1),
              "verdict": verdict,
              "reason": "all_points_consistent" if verdict == "authentic" else "logo_mismatch",
              **{f"check_{point}": result for point in CHECKLISTS[category]}}
    return {**fields, **extra}


def claimed_through_console(client) -> tuple[int, str]:
    """The reviewer presses "Claim next": the request opened and its workspace's HTML."""
    response = claim_first(client, page_token(client, QUEUE))
    assert response.status_code == 302
    request_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    return request_id, client.get(response.headers["Location"]).get_data(as_text=True)


def row(request_id: int) -> AuthenticationRequest:
    s = db.session()
    try:
        return s.get(AuthenticationRequest, request_id)
    finally:
        db.session.remove()


def claim_audits(request_id: int) -> list[AuditEvent]:
    s = db.session()
    try:
        return list(s.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "authentication_request",
            AuditEvent.object_id == str(request_id),
            AuditEvent.action == "authentication.claim")))
    finally:
        db.session.remove()


# --- decide and next ----------------------------------------------------------------------

def test_a_decision_opens_the_next_item_of_the_queue_already_claimed(client, staff, owner):
    first = pending_listing(client, owner, title="Kanjivaram silk, ruby")
    second = pending_listing(client, owner, title="Chanderi silk, ivory")
    reviewer_id = signed_in(client, staff, "authenticator")
    request_id, html = claimed_through_console(client)
    response = client.post(f"{QUEUE}{request_id}/decide", data=decision_fields(html))

    next_id = ({request_for(first["id"]).id, request_for(second["id"]).id} - {request_id}).pop()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(workspace_path(next_id))
    assert row(request_id).state == "closed_authentic"
    claimed = row(next_id)
    assert claimed.state == "claimed" and claimed.claimed_by == reviewer_id
    assert claimed.claimed_from == "queued"
    assert [a.actor_id for a in claim_audits(next_id)] == [reviewer_id]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "authentic recorded" in page
    assert 'data-testid="decision-form"' in page and 'data-testid="not-held"' not in page


def test_with_nothing_left_the_reviewer_is_back_at_the_queue_with_a_message(
        client, staff, owner):
    pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    request_id, html = claimed_through_console(client)
    response = client.post(f"{QUEUE}{request_id}/decide", data=decision_fields(html))
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    page = client.get(QUEUE).get_data(as_text=True)
    assert "authentic recorded" in page
    assert "The Review queue has nothing more for you now." in page
    assert row(request_id).state == "closed_authentic"


def test_record_and_back_to_the_queue_claims_nothing(client, staff, owner):
    pending_listing(client, owner)
    pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    request_id, html = claimed_through_console(client)
    response = client.post(f"{QUEUE}{request_id}/decide",
                           data=decision_fields(html, then="queue"))
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    s = db.session()
    try:
        states = sorted(s.scalars(select(AuthenticationRequest.state)))
    finally:
        db.session.remove()
    assert states == ["closed_authentic", "queued"]


def test_a_refused_decision_stays_on_the_page_and_claims_nothing(client, staff, owner):
    first = pending_listing(client, owner)
    second = pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    request_id, html = claimed_through_console(client)
    fields = decision_fields(html)
    del fields["check_packaging"]
    response = client.post(f"{QUEUE}{request_id}/decide", data=fields)
    assert response.status_code == 422
    assert "packaging: required for a final verdict" in response.get_data(as_text=True)
    assert row(request_id).state == "claimed"
    other = ({request_for(first["id"]).id, request_for(second["id"]).id} - {request_id}).pop()
    assert row(other).state == "queued" and claim_audits(other) == []


def test_a_stale_lease_refuses_the_decision_and_claims_nothing(client, staff, owner):
    first = pending_listing(client, owner)
    second = pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    request_id, html = claimed_through_console(client)
    clock.freeze(clock.now() + timedelta(minutes=16))  # the 15-minute lease ran out
    response = client.post(f"{QUEUE}{request_id}/decide", data=decision_fields(html))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your claim on this request has expired" in page and "Nothing was changed" in page
    other = ({request_for(first["id"]).id, request_for(second["id"]).id} - {request_id}).pop()
    assert row(other).state == "queued" and claim_audits(other) == []
    assert row(request_id).state == "claimed"


def test_a_decision_without_a_csrf_token_is_refused_and_claims_nothing(client, staff, owner):
    pending_listing(client, owner)
    pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    request_id, html = claimed_through_console(client)
    fields = decision_fields(html)
    del fields["csrf_token"]
    assert client.post(f"{QUEUE}{request_id}/decide", data=fields).status_code == 400
    s = db.session()
    try:
        states = sorted(s.scalars(select(AuthenticationRequest.state)))
    finally:
        db.session.remove()
    assert states == ["claimed", "queued"]


def test_a_second_review_opens_the_next_second_review_item(client, staff, owner):
    first_reviewer, _, _ = staff("authenticator")
    for title in ("Pashmina shawl, walnut", "Pashmina shawl, rust"):
        listing = pending_listing(client, owner, title=title)
        decide_authentication(first_reviewer, verdict=Verdict.COUNTERFEIT,
                              reason="logo_mismatch", listing_id=listing["id"])
    senior_id = signed_in(client, staff, "senior_authenticator")
    request_id, html = claimed_through_console(client)  # review is empty: second review
    assert row(request_id).claimed_from == "awaiting_second_review"
    assert 'value="needs_more_photos"' not in html  # the second stage's verdicts only
    response = client.post(f"{QUEUE}{request_id}/decide",
                           data=decision_fields(html, verdict="counterfeit", result="fail"))
    assert response.status_code == 302
    next_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert next_id != request_id
    assert row(request_id).state == "closed_counterfeit"
    claimed = row(next_id)
    assert claimed.state == "claimed" and claimed.claimed_by == senior_id
    assert claimed.claimed_from == "awaiting_second_review"


def test_decide_and_next_never_offers_what_the_reviewer_may_not_take(client, staff, owner):
    """A senior's own first verdict waits for a second reviewer who is someone else: after
    the senior's second review, it is not handed to them."""
    signed_in(client, staff, "senior_authenticator")
    other_first, _, _ = staff("authenticator")
    decided_by_other = pending_listing(client, owner)
    decide_authentication(other_first, verdict=Verdict.COUNTERFEIT, reason="logo_mismatch",
                          listing_id=decided_by_other["id"])
    own = pending_listing(client, owner)
    own_request, html = claimed_through_console(client)  # the review queue comes first
    assert row(own_request).listing_id == own["id"]
    response = client.post(f"{QUEUE}{own_request}/decide",
                           data=decision_fields(html, verdict="counterfeit", result="fail"))
    assert response.headers["Location"].endswith(QUEUE)  # review: nothing more
    assert row(own_request).state == "awaiting_second_review"

    second_request, html = claimed_through_console(client)
    assert row(second_request).listing_id == decided_by_other["id"]
    response = client.post(f"{QUEUE}{second_request}/decide",
                           data=decision_fields(html, verdict="counterfeit", result="fail"))
    assert response.headers["Location"].endswith(QUEUE)
    assert row(own_request).state == "awaiting_second_review"  # not claimed by its author
    assert "The Second review queue has nothing more for you now." in client.get(
        QUEUE).get_data(as_text=True)


# --- claim next from the first queue with work --------------------------------------------

def test_claim_next_takes_the_first_of_the_reviewers_queues_that_has_work(
        client, staff, owner):
    listing = pending_listing(client, owner)
    reviewer_id = signed_in(client, staff, "authenticator")
    request_id, html = claimed_through_console(client)
    assert row(request_id).listing_id == listing["id"]
    assert row(request_id).claimed_by == reviewer_id
    assert [a.actor_id for a in claim_audits(request_id)] == [reviewer_id]
    assert 'data-testid="decision-form"' in html


def test_claim_next_with_nothing_anywhere_says_so(client, staff):
    signed_in(client, staff, "senior_authenticator")
    response = claim_first(client, page_token(client, QUEUE))
    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    assert "Nothing waiting for you in any of your queues." in client.get(QUEUE).get_data(
        as_text=True)


def test_claim_next_skips_queues_the_reviewer_may_not_claim(client, staff, owner):
    first_reviewer, _, _ = staff("authenticator")
    listing = pending_listing(client, owner)
    decide_authentication(first_reviewer, verdict=Verdict.COUNTERFEIT, reason="logo_mismatch",
                          listing_id=listing["id"])
    signed_in(client, staff, "authenticator")  # second review is for seniors only
    response = claim_first(client, page_token(client, QUEUE))
    assert response.headers["Location"].endswith(QUEUE)
    assert "Nothing waiting for you in any of your queues." in client.get(QUEUE).get_data(
        as_text=True)
    assert request_for(listing["id"]).state == "awaiting_second_review"


def test_claim_next_while_holding_the_limit_is_a_message(client, staff, owner):
    held = pending_listing(client, owner)
    waiting = pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    request_id, _ = claimed_through_console(client)
    assert row(request_id).listing_id == held["id"]
    response = claim_first(client, page_token(client, QUEUE))
    assert response.headers["Location"].endswith(QUEUE)
    assert request_for(waiting["id"]).state == "queued"
    assert "alert-warning" in client.get(QUEUE).get_data(as_text=True)


def test_claim_next_needs_a_csrf_token_and_the_role(client, staff, owner):
    listing = pending_listing(client, owner)
    signed_in(client, staff, "authenticator")
    assert claim_first(client).status_code == 400
    assert request_for(listing["id"]).state == "queued"
    client.post("/console/auth/sign-out", data={"csrf_token": page_token(client, QUEUE)})
    signed_in(client, staff, "support_agent")
    assert claim_first(client, page_token(client, "/console/")).status_code == 403
    assert request_for(listing["id"]).state == "queued"


def test_the_queue_page_offers_claim_next_on_the_n_key(client, staff):
    signed_in(client, staff, "authenticator")
    page = client.get(QUEUE).get_data(as_text=True)
    button = re.search(r'<button[^>]*data-testid="claim-first"[^>]*>', page).group(0)
    assert 'data-key="n"' in button and 'aria-keyshortcuts="N"' in button
