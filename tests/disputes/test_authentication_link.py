""""Not authentic" claims: the case goes to the authenticators and their verdict comes
back; a passed item found counterfeit counts against the reviewer who passed it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from authentication import claims as auth_claims
from authentication import decisions as auth_decisions
from authentication import metrics as auth_metrics
from authentication.models import AuthenticationRequest, Strike, Verdict
from disputes import decisions as disputes_decisions
from disputes import timers
from disputes.models import DisputeCase
from foundation import clock, db
from foundation.errors import Conflict
from foundation.staff.models import StaffUser
from tests.builders.cases import Delivered, claim, decide_authentication, open_case
from tests.builders.listings import listing_through_services
from tests.builders.members import make_member
from tests.builders.orders import Sale, assert_books_sound, money, place, ship_and_deliver
from tests.disputes.support import case_row, decide, state_of

PRICE = 5_000_000  # Rs 50,000: authenticated before it can be sold
LISTED = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


def _authenticated_bag_sold_and_delivered(staff) -> tuple[Delivered, int]:
    clock.freeze(LISTED)
    seller, buyer = make_member("bagseller"), make_member("bagbuyer")
    listing = listing_through_services(seller, {
        "title": "Quilted leather shoulder bag", "brand": "Chanel", "category": "handbags",
        "size": "One size", "condition": "like_new", "price_paise": PRICE})
    passer, _, _ = staff("senior_authenticator")
    decide_authentication(passer, "review", Verdict.AUTHENTIC, "all_points_consistent")
    order_id = place(Sale(buyer=buyer, seller=seller, listing=listing))
    ship_and_deliver(order_id, delivered_at=LISTED + timedelta(days=3))
    return Delivered(order_id, buyer, seller), passer


def _sent_to_authentication(staff) -> tuple[Delivered, int, int, int]:
    order, passer = _authenticated_bag_sold_and_delivered(staff)
    clock.freeze(LISTED + timedelta(days=4))
    case_id = open_case(order, reason="not_authentic",
                        description="The logo stamp is crooked and the lining smells of glue.")
    agent, _, _ = staff("support_agent")
    clock.freeze(LISTED + timedelta(days=6, hours=1))   # the seller never answered
    with db.unit_of_work() as s:
        assert timers.seller_response_due(s, case_id)
    case_id_claimed, token = claim(agent)
    assert case_id_claimed == case_id
    decide(agent, case_id, token, "send_to_authentication", "authenticity_claim")
    return order, case_id, agent, passer


def test_a_counterfeit_verdict_returns_to_the_case_strikes_the_seller_and_counts_against_the_passer(
        app, staff):
    order, case_id, agent, passer = _sent_to_authentication(staff)
    assert state_of(case_id) == "with_authentication"
    with db.unit_of_work() as s:
        case = s.get(DisputeCase, case_id)
        request = s.get(AuthenticationRequest, case.authentication_request_id)
        assert (request.reason, request.senior_only, request.state) == ("dispute", True, "queued")

    first, second = staff("senior_authenticator")[0], staff("senior_authenticator")[0]
    decide_authentication(first, "review", Verdict.COUNTERFEIT, "logo_mismatch")
    assert state_of(case_id) == "with_authentication"      # four eyes: not yet final
    decide_authentication(second, "second_review", Verdict.COUNTERFEIT, "stitching_mismatch")

    case = case_row(case_id)
    assert (case.state, case.authentication_verdict) == ("under_review", "counterfeit")
    with db.unit_of_work() as s:
        assert s.scalar(select(Strike.seller_id).where(
            Strike.request_id == case.authentication_request_id)) == order.seller_id
        window = auth_metrics.Window(LISTED, clock.now() + timedelta(seconds=1))
        assert auth_metrics.passed_then_disputed(s, window) == {passer: (1, 1)}
        accuracy = auth_metrics.reviewer_accuracy(s, window)
        assert {r["reviewer_id"]: r["against"] for r in accuracy["reviewers"]}[passer] == 1

    again, token = claim(agent)
    assert again == case_id
    decide(agent, case_id, token, "refund_without_return", "counterfeit_confirmed")
    assert state_of(case_id) == "awaiting_approval"   # Rs 50,000: a support lead approves
    lead, _, _ = staff("support_lead")
    claimed, lead_token = claim(lead, "approval")
    with db.unit_of_work() as s:
        disputes_decisions.review_approval(s, s.get(StaffUser, lead), claimed, approve=True,
                                           note="Counterfeit confirmed by two seniors.",
                                           lease_token=lead_token)
    assert state_of(case_id) == "closed_refunded"
    assert money(order.order_id)["held_paise"] == 0
    assert money(order.order_id)["refunded_paise"] == money(order.order_id)["captured_paise"]
    assert_books_sound()


def test_an_authentic_verdict_comes_back_and_upholds_the_passer(app, staff):
    order, case_id, agent, passer = _sent_to_authentication(staff)
    reviewer = staff("senior_authenticator")[0]
    decide_authentication(reviewer, "review", Verdict.AUTHENTIC, "matches_references")
    case = case_row(case_id)
    assert (case.state, case.authentication_verdict) == ("under_review", "authentic")
    with db.unit_of_work() as s:
        window = auth_metrics.Window(LISTED, clock.now() + timedelta(seconds=1))
        assert auth_metrics.passed_then_disputed(s, window) == {passer: (1, 0)}
        assert s.scalar(select(Strike.id)) is None
    again, token = claim(agent)
    with pytest.raises(Conflict) as refused:
        decide(agent, case_id, token, "send_to_authentication", "authenticity_claim")
    assert refused.value.code == "already_authenticated"
    decide(agent, case_id, token, "release_to_seller", "authentic_confirmed")
    assert state_of(case_id) == "closed_released"
    assert money(order.order_id)["held_paise"] == 0
    assert_books_sound()


def test_a_dispute_review_cannot_ask_the_seller_for_photos(app, staff):
    _sent_to_authentication(staff)
    reviewer = staff("senior_authenticator")[0]
    with db.unit_of_work() as s:
        staff_row = s.get(StaffUser, reviewer)
        request = auth_claims.claim_next(s, staff_row, "review")
        token = request.lease_token
    with pytest.raises(Conflict) as refused, db.unit_of_work() as s:
        request = s.get(AuthenticationRequest, request.id)
        auth_decisions.decide(s, s.get(StaffUser, reviewer), request, token,
                              auth_decisions.Decision(verdict=Verdict.NEEDS_MORE_PHOTOS,
                                                      reason="photos_unclear",
                                                      angles=("logo",)))
    assert refused.value.code == "not_for_dispute"
