"""Posh Authenticate review: requests, claims under leases, verdicts and their effects."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from authentication.models import (
    AuthenticationRequest,
    KnownCounterfeitPhoto,
    RequestEvent,
    ReviewDecision,
    Strike,
)
from foundation import clock, db
from foundation.audit.models import AuditEvent
from marketplace_core.members.models import Member
from tests.authentication.support import BASE, Reviewer, assert_error, listing_row, request_for
from tests.builders.cases import TOP, VERY_HIGH, pending_listing
from tests.builders.listings import search_ids, upload_photo


def count(model, *where) -> int:
    s = db.session()
    try:
        return s.scalar(select(func.count()).select_from(model).where(*where))
    finally:
        db.session.remove()


def audit_actions(object_id: int) -> list[str]:
    s = db.session()
    try:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "authentication_request",
            AuditEvent.object_id == str(object_id)).order_by(AuditEvent.id)))
    finally:
        db.session.remove()


# --- requests ---------------------------------------------------------------------------

def test_publishing_opens_one_request_and_later_announcements_reuse_it(client, owner):
    listing = pending_listing(client, owner)
    request = request_for(listing["id"])
    assert (request.state, request.reason, request.price_paise) == \
        ("queued", "published", listing["price_paise"])
    assert request.sla_due_at == request.created_at + timedelta(hours=24)
    assert upload_photo(client, owner, listing["id"], seed=9).status_code == 201
    assert count(AuthenticationRequest) == 1
    assert request_for(listing["id"]).id == request.id


def test_withdrawing_the_listing_cancels_its_request(client, owner):
    listing = pending_listing(client, owner)
    assert client.post(f"/api/v1/listings/{listing['id']}/withdraw",
                       headers=owner["headers"]).status_code == 200
    assert request_for(listing["id"]).state == "cancelled"


# --- claims and leases ------------------------------------------------------------------

def test_claim_hands_out_a_lease_and_204_when_nothing_is_left(client, owner, reviewer):
    listing = pending_listing(client, owner)
    claim = reviewer.claimed()
    assert claim["request"]["listing_id"] == listing["id"]
    assert claim["request"]["state"] == "claimed"
    assert claim["lease_token"] and claim["lease_expires_at"]
    assert "authentication.claim" in audit_actions(claim["request"]["id"])
    assert reviewer.post(claim["request"]["id"], "release",
                         lease_token=claim["lease_token"]).status_code == 200
    assert reviewer.claimed()["request"]["id"] == claim["request"]["id"]


def test_nobody_holds_more_than_the_claim_limit(client, owner, reviewer, staff):
    pending_listing(client, owner)
    pending_listing(client, owner)
    reviewer.claimed()
    assert_error(reviewer.claim(), 409, "claim_limit")
    assert Reviewer(client, staff, "authenticator").claim().status_code == 200


def test_an_empty_queue_answers_204(reviewer):
    assert reviewer.claim().status_code == 204


def test_expired_lease_makes_the_decision_stale_and_the_item_claimable(
        client, owner, reviewer, staff):
    listing = pending_listing(client, owner)
    start = clock.now()
    clock.freeze(start)
    claim = reviewer.claimed()
    other = Reviewer(client, staff, "authenticator")
    assert other.claim().status_code == 204          # held under a live lease
    clock.freeze(start + timedelta(minutes=16))
    assert_error(reviewer.decide(claim, "authentic"), 409, "stale_lease")
    assert_error(reviewer.post(claim["request"]["id"], "extend",
                               lease_token=claim["lease_token"]), 409, "stale_lease")
    taken = other.claimed()
    assert taken["request"]["id"] == claim["request"]["id"]
    assert taken["lease_token"] != claim["lease_token"]
    clock.freeze(start + timedelta(minutes=17))
    assert_error(reviewer.decide(claim, "authentic"), 409, "stale_lease")
    assert count(ReviewDecision) == 0
    assert listing_row(listing["id"]).status == "pending_authentication"
    assert other.decide(taken, "authentic").status_code == 200


def test_someone_elses_or_a_wrong_token_is_stale(client, owner, reviewer, staff):
    pending_listing(client, owner)
    claim = reviewer.claimed()
    other = Reviewer(client, staff, "authenticator")
    assert_error(other.decide(claim, "authentic"), 409, "stale_lease")
    assert_error(reviewer.decide({**claim, "lease_token": "nope"}, "authentic"), 409,
                 "stale_lease")
    assert request_for(claim["request"]["listing_id"]).state == "claimed"


def test_extending_moves_the_expiry_and_keeps_the_token(client, owner, reviewer):
    pending_listing(client, owner)
    start = clock.now()
    clock.freeze(start)
    claim = reviewer.claimed()
    clock.freeze(start + timedelta(minutes=10))
    extended = reviewer.post(claim["request"]["id"], "extend", lease_token=claim["lease_token"])
    assert extended.status_code == 200
    assert extended.json["lease_token"] == claim["lease_token"]
    clock.freeze(start + timedelta(minutes=20))
    assert reviewer.decide(claim, "authentic").status_code == 200


def test_a_skipped_item_is_not_offered_again_to_the_same_reviewer(
        client, owner, reviewer, staff):
    pending_listing(client, owner)
    claim = reviewer.claimed()
    assert reviewer.post(claim["request"]["id"], "skip",
                         lease_token=claim["lease_token"]).status_code == 200
    assert reviewer.claim().status_code == 204
    assert Reviewer(client, staff, "authenticator").claimed()["request"]["id"] == \
        claim["request"]["id"]
    assert "authentication.skip" in audit_actions(claim["request"]["id"])


# --- verdicts ---------------------------------------------------------------------------

def test_authentic_puts_the_listing_live_and_in_search(client, owner, reviewer):
    listing = pending_listing(client, owner)
    assert listing["id"] not in search_ids(client)
    claim = reviewer.claimed()
    response = reviewer.decide(claim, "authentic", note="Serial matches the card.")
    assert response.status_code == 200, response.json
    assert response.json["request"]["state"] == "closed_authentic"
    assert listing_row(listing["id"]).status == "live"
    assert listing["id"] in search_ids(client)
    assert audit_actions(claim["request"]["id"])[-1] == "authentication.decision"


def test_counterfeit_needs_a_different_senior_and_then_removes_and_strikes(
        client, owner, reviewer, senior, staff):
    listing = pending_listing(client, owner)
    claim = reviewer.claimed()
    assert reviewer.decide(claim, "counterfeit", reason="logo_mismatch").json["request"][
        "state"] == "awaiting_second_review"
    assert listing_row(listing["id"]).status == "pending_authentication"
    assert_error(reviewer.claim("second_review"), 403, "wrong_role")
    second = senior.claimed("second_review")
    response = senior.decide(second, "counterfeit", reason="logo_mismatch")
    assert response.status_code == 200, response.json
    assert response.json["request"]["state"] == "closed_counterfeit"
    removed = listing_row(listing["id"])
    assert (removed.status, removed.removed_reason) == ("removed", "counterfeit")
    assert listing["id"] not in search_ids(client)
    assert count(Strike, Strike.seller_id == owner["id"]) == 1
    assert count(KnownCounterfeitPhoto, KnownCounterfeitPhoto.listing_id == listing["id"]) == 1


def test_nobody_seconds_their_own_counterfeit_verdict(client, owner, senior, staff):
    pending_listing(client, owner)
    claim = senior.claimed()
    senior.decide(claim, "counterfeit", reason="stitching_mismatch")
    assert senior.claim("second_review").status_code == 204
    assert Reviewer(client, staff, "senior_authenticator").claim("second_review") \
        .status_code == 200


def test_disagreement_goes_to_a_lead_whose_word_is_final(client, owner, reviewer, senior,
                                                         staff):
    listing = pending_listing(client, owner)
    reviewer.decide(reviewer.claimed(), "counterfeit", reason="hardware_mismatch")
    second = senior.claimed("second_review")
    assert senior.decide(second, "authentic").json["request"]["state"] == "awaiting_lead"
    assert senior.claim("lead").status_code == 204        # reviewed it already
    lead = Reviewer(client, staff, "senior_authenticator")
    assert_error(reviewer.claim("lead"), 403, "wrong_role")
    final = lead.claimed("lead")
    assert_error(lead.decide(final, "needs_more_photos", angles=["logo"]), 409,
                 "illegal_transition")
    assert lead.decide(final, "authentic").json["request"]["state"] == "closed_authentic"
    assert listing_row(listing["id"]).status == "live"
    assert count(Strike) == 0


def test_three_counterfeit_strikes_restrict_selling(client, owner, reviewer, senior):
    for _ in range(3):
        pending_listing(client, owner)
    for _ in range(3):
        reviewer.decide(reviewer.claimed(), "counterfeit", reason="logo_mismatch")
        senior.decide(senior.claimed("second_review"), "counterfeit", reason="logo_mismatch")
    s = db.session()
    try:
        assert s.get(Member, owner["id"]).selling_restricted is True
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "member.restrict_selling")) == 1
    finally:
        db.session.remove()
    assert count(Strike, Strike.seller_id == owner["id"]) == 3


def test_a_very_high_value_authentic_verdict_needs_a_second_reviewer(
        client, owner, senior, staff):
    listing = pending_listing(client, owner, price_paise=TOP)
    first = senior.decide(senior.claimed(), "authentic")
    assert first.json["request"]["state"] == "awaiting_second_review"
    assert listing_row(listing["id"]).status == "pending_authentication"
    other = Reviewer(client, staff, "senior_authenticator")
    assert other.decide(other.claimed("second_review"), "authentic").json["request"][
        "state"] == "closed_authentic"
    assert listing_row(listing["id"]).status == "live"


def test_escalated_items_go_to_seniors_only(client, owner, reviewer, senior):
    listing = pending_listing(client, owner)
    escalated = reviewer.decide(reviewer.claimed(), "escalate", reason="outside_expertise")
    assert escalated.json["request"]["state"] == "escalated"
    assert reviewer.claim().status_code == 204
    claim = senior.claimed()
    assert claim["request"]["id"] == escalated.json["request"]["id"]
    assert senior.decide(claim, "authentic").status_code == 200
    assert listing_row(listing["id"]).status == "live"


# --- routing ----------------------------------------------------------------------------

def test_items_above_the_senior_price_go_to_seniors_only(client, owner, reviewer, senior):
    expensive = pending_listing(client, owner, price_paise=VERY_HIGH)
    assert reviewer.claim().status_code == 204
    assert senior.claimed()["request"]["listing_id"] == expensive["id"]


def test_claims_follow_the_sla_then_the_price(client, owner, reviewer):
    start = clock.now()
    clock.freeze(start)
    older = pending_listing(client, owner, price_paise=2_000_000)
    clock.freeze(start + timedelta(minutes=5))
    pricier = pending_listing(client, owner, price_paise=3_000_000)
    first = reviewer.claimed()
    assert first["request"]["listing_id"] == older["id"]
    reviewer.decide(first, "authentic")
    assert reviewer.claimed()["request"]["listing_id"] == pricier["id"]


def test_a_skill_match_is_preferred(client, owner, reviewer):
    from authentication.models import ReviewerSkill

    start = clock.now()
    clock.freeze(start)
    pending_listing(client, owner, brand="Kalinga Loom")
    clock.freeze(start + timedelta(minutes=5))
    watch = pending_listing(client, owner, brand="Titan", category="watches", size="One size")
    with db.unit_of_work() as s:
        s.add(ReviewerSkill(staff_id=reviewer.id, brands=["titan"], categories=[]))
    assert reviewer.claimed()["request"]["listing_id"] == watch["id"]


# --- refusals ---------------------------------------------------------------------------

def test_refusals_are_clear_and_change_nothing(client, owner, reviewer, staff):
    pending_listing(client, owner)
    claim = reviewer.claimed()
    request_id = claim["request"]["id"]
    assert_error(reviewer.post(999_999, "decision", verdict="authentic", reason="x1",
                               lease_token="t"), 404, "not_found")
    assert_error(reviewer.decide(claim, "maybe"), 422, "validation_failed")
    assert_error(reviewer.decide(claim, "authentic", checklist={"logo": "pass"}), 422,
                 "validation_failed")
    assert_error(reviewer.decide(claim, "authentic", checklist={
        "logo": "fail", "materials": "pass", "packaging": "pass"}), 422, "validation_failed")
    assert_error(reviewer.decide(claim, "authentic", checklist={
        "logo": "pass", "materials": "pass", "packaging": "pass", "hardware": "pass"}),
        422, "validation_failed")
    assert_error(reviewer.decide(claim, "needs_more_photos"), 422, "validation_failed")
    assert_error(reviewer.post(request_id, "release"), 422, "validation_failed")
    agent = Reviewer(client, staff, "support_agent")
    assert_error(agent.claim(), 403, "forbidden")
    assert_error(client.post(f"{BASE}/claim", json={}), 401, "not_authenticated")
    assert_error(reviewer.claim("nonsense"), 422, "validation_failed")
    assert count(ReviewDecision) == 0
    request = request_for(claim["request"]["listing_id"])
    assert (request.state, request.version) == ("claimed", 2)
    assert count(RequestEvent, RequestEvent.request_id == request_id) == 2


def test_queue_shows_counts_items_and_time_left(client, owner, reviewer, senior):
    pending_listing(client, owner)
    pending_listing(client, owner, price_paise=VERY_HIGH)
    body = reviewer.queue().json
    assert body["counts"] == {"queued": 2}
    assert len(body["items"]) == 1                       # the senior-only item is hidden
    assert 0 < body["items"][0]["sla_seconds_left"] <= 24 * 3600
    assert len(senior.queue().json["items"]) == 2
    assert_error(reviewer.queue("lead"), 403, "wrong_role")


def test_a_request_shows_its_checklist_decisions_and_history(client, owner, reviewer):
    pending_listing(client, owner)
    claim = reviewer.claimed()
    reviewer.decide(claim, "authentic", reason="all_points_consistent", note="Fine weave.")
    response = client.get(f"{BASE}/{claim['request']['id']}", headers=reviewer.headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["checklist"]["points"] == ["logo", "materials", "packaging"]
    [decision] = body["decisions"]
    assert (decision["verdict"], decision["stage"], decision["note"]) == \
        ("authentic", "first", "Fine weave.")
    assert decision["checklist"] == {"logo": "pass", "materials": "pass", "packaging": "pass"}
    assert [(e["from"], e["to"]) for e in body["events"]] == [
        (None, "queued"), ("queued", "claimed"), ("claimed", "closed_authentic")]
    assert_error(client.get(f"{BASE}/424242", headers=reviewer.headers), 404, "not_found")


# --- reason codes -----------------------------------------------------------------------

def test_a_reason_outside_the_verdicts_codes_is_refused_and_changes_nothing(client, owner,
                                                                         reviewer):
    from authentication.decisions import reason_codes
    from authentication.models import Verdict

    pending_listing(client, owner)
    claim = reviewer.claimed()
    for reason in ("looks_fine", "logo_mismatch"):      # free text; a counterfeit reason
        response = reviewer.decide(claim, "authentic", reason=reason)
        assert_error(response, 422, "bad_reason")
        assert response.json["error"]["fields"]["reason"] == \
            "one of: " + ", ".join(reason_codes(Verdict.AUTHENTIC))
    assert count(ReviewDecision) == 0
    request = request_for(claim["request"]["listing_id"])
    assert (request.state, request.version) == ("claimed", 2)
    assert reviewer.decide(claim, "authentic", reason="matches_references").status_code == 200


def test_a_request_lists_the_reason_codes_of_each_verdict(client, owner, reviewer):
    from authentication.decisions import REASON_CODES

    pending_listing(client, owner)
    claim = reviewer.claimed()
    body = client.get(f"{BASE}/{claim['request']['id']}", headers=reviewer.headers).json
    assert body["reason_codes"] == {verdict.value: [code for code, _ in options]
                                    for verdict, options in REASON_CODES.items()}
    assert body["reason_codes"]["counterfeit"][0] == "logo_mismatch"
