"""Every transition of a case (the diagram in disputes/models.py) and every refusal: the
wrong party, the wrong state, a stale or foreign lease, bad decisions, four eyes on large
refunds, and the decision clock pausing while a party is asked for more."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from authentication import claims as auth_claims
from authentication import decisions as auth_decisions
from authentication.models import CHECKLISTS, AuthenticationRequest, Reason, Verdict
from disputes import (
    authentication_link,
    claims,
    decisions,
    machine,
    responses,
    returns,
    timers,
)
from disputes.models import CaseDecision, DisputeCase
from foundation import clock, db
from foundation.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from marketplace_core.members.models import Member
from marketplace_core.shipping.models import Shipment
from tests.builders.cases import (
    DELIVERED,
    as_member,
    case_under_review,
    claim,
    delivered_order,
    open_case,
    seller_responds,
)
from tests.builders.members import make_member
from tests.builders.orders import TOTAL, assert_books_sound, money
from tests.concurrency import results_in_threads
from tests.disputes.support import (
    accept_return,
    approve,
    case_events,
    case_row,
    decide,
    inspect,
    messages,
    respond,
    return_scan,
    settings_changed,
    state_of,
    withdraw,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
OPENED = DELIVERED + DAY


def refusal(fn, *args, error: type = Conflict, **kwargs) -> str:
    with pytest.raises(error) as caught:
        fn(*args, **kwargs)
    return caught.value.code


def decisions_of(case_id: int) -> list[CaseDecision]:
    with db.unit_of_work() as s:
        rows = decisions.decisions_of(s, case_id)
        s.expunge_all()
        return rows


def return_label(order_id: int) -> Shipment | None:
    with db.unit_of_work() as s:
        shipment = s.scalar(select(Shipment).where(Shipment.order_id == order_id,
                                                   Shipment.direction == "return"))
        if shipment is not None:
            s.expunge(shipment)
        return shipment


def seconds_left(case_id: int) -> int | None:
    return machine.seconds_left(case_row(case_id), clock.now())


# --- the seller's turn ----------------------------------------------------------------------

def test_the_sellers_answer_sends_the_case_to_review_and_starts_the_clock(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    clock.freeze(OPENED + 3 * HOUR)
    assert seller_responds(order, case_id, "Sent in perfect condition.") == "under_review"
    case = case_row(case_id)
    assert case.seller_response_due_at is None
    assert case.sla_due_at == clock.now() + timedelta(hours=48)
    assert seconds_left(case_id) == 48 * 3600
    assert case_events(case_id)[-1] == ("awaiting_seller", "under_review", "seller_responded")
    assert [(m.kind, m.author) for m in messages(case_id)] == [("opening", "buyer"),
                                                               ("response", "seller")]


def test_the_buyers_own_message_does_not_move_a_case_waiting_for_the_seller(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    assert respond(order.buyer_id, case_id, "Also a button is missing.") == "awaiting_seller"
    assert case_events(case_id)[-1] == ("awaiting_seller", "awaiting_seller", "buyer_message")
    assert case_row(case_id).sla_due_at is None


@pytest.mark.parametrize("answered_first", [False, True])
def test_the_seller_may_accept_the_return_while_waiting_or_under_review(app, answered_first):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    if answered_first:
        seller_responds(order, case_id)
    assert accept_return(order, case_id) == "awaiting_return"
    case = case_row(case_id)
    assert (case.outcome, case.return_ship_by, case.seller_response_due_at) == \
        ("refund_with_return", clock.now() + 5 * DAY, None)
    label = return_label(order.order_id)
    assert (label.status, label.case_ref) == ("label_created", f"case-{case_id}")
    assert case_events(case_id)[-1][1:] == ("awaiting_return", "seller_accepted_return")
    assert money(order.order_id)["held_paise"] == TOTAL  # money moves only at the close


def test_only_the_seller_accepts_a_return_and_only_before_an_agent_decides(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    assert refusal(accept_return, order, case_id) == "illegal_transition"  # claimed
    with pytest.raises(PermissionDenied) as buyer:
        as_member(responses.accept_return, order.buyer_id, case_id)
    assert buyer.value.code == "not_seller"
    decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
    assert refusal(accept_return, order, case_id) == "illegal_transition"  # awaiting_return
    assert state_of(case_id) == "awaiting_return"


def test_strangers_and_bad_ids_get_not_found(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    stranger = make_member("nosy")
    for member_id, which in ((stranger, case_id), (order.buyer_id, case_id + 99),
                             (order.buyer_id, str(case_id))):
        for fn, kwargs in ((responses.respond, {"body": "hi", "photos": []}),
                           (responses.withdraw, {}), (responses.accept_return, {}),
                           (responses.inspect, {"accept": True, "body": None, "photos": []})):
            assert refusal(as_member, fn, member_id, which, error=NotFound,
                           **kwargs) == "case_not_found"
    assert state_of(case_id) == "awaiting_seller"


def test_a_closed_case_takes_no_more_messages(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    assert withdraw(order, case_id) == "closed_withdrawn"
    assert refusal(respond, order.seller_id, case_id) == "case_closed"
    assert refusal(respond, order.buyer_id, case_id) == "case_closed"


def test_an_answer_that_raced_a_timer_is_refused_whole(app):
    """The seller's request read the case just before the response timer moved it: the
    guarded transition matches no row, so the answer is refused and nothing is kept."""
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    clock.freeze(OPENED + 2 * DAY)
    with pytest.raises(Conflict) as caught, db.unit_of_work() as s:
        loaded = s.get(DisputeCase, case_id)  # the request loads the case ...
        assert loaded.state == "awaiting_seller"

        def timer_fires():
            with db.unit_of_work() as other:
                return timers.seller_response_due(other, case_id)

        assert results_in_threads([timer_fires]) == [True]   # ... the timer wins ...
        responses.respond(s, s.get(Member, order.seller_id), case_id,
                          body="Sorry, late.", photos=[])   # ... and the answer loses
    assert caught.value.code == "case_changed"
    assert state_of(case_id) == "under_review"
    assert [m.kind for m in messages(case_id)] == ["opening"]
    assert case_events(case_id)[-1][2] == "seller_did_not_respond"


# --- the queue --------------------------------------------------------------------------------

def test_claim_and_release_keep_the_clock_running(app, staff):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    seller_responds(order, case_id)
    agent = staff("support_agent")[0]
    clock.freeze(OPENED + HOUR)
    case_id_claimed, token = claim(agent)
    case = case_row(case_id)
    assert (case_id_claimed, case.state, case.claimed_from, case.claimed_by) == \
        (case_id, "claimed", "under_review", agent)
    assert case.lease_expires_at == clock.now() + timedelta(minutes=20)
    clock.freeze(OPENED + HOUR + timedelta(minutes=15))
    with db.unit_of_work() as s:
        claims.release(s, s.get(StaffUser, agent), s.get(DisputeCase, case_id), token)
    case = case_row(case_id)
    assert (case.state, case.claimed_by, case.lease_token) == ("under_review", None, None)
    assert seconds_left(case_id) == (timedelta(hours=46, minutes=45)).total_seconds()
    assert [e[2] for e in case_events(case_id)][-2:] == ["claimed", "released"]


def test_agents_cannot_work_the_approval_queue(app, staff):
    agent = staff("support_agent")[0]
    with db.unit_of_work() as s:
        with pytest.raises(PermissionDenied) as caught:
            claims.claim_next(s, s.get(StaffUser, agent), "approval")
        with pytest.raises(NotFound):
            claims.claim_next(s, s.get(StaffUser, agent), "elsewhere")
    assert caught.value.code == "wrong_role"


# --- asking a party for more ----------------------------------------------------------------------

@pytest.mark.parametrize("asked, other", [("buyer", "seller"), ("seller", "buyer")])
def test_request_info_waits_for_the_party_asked_and_its_answer_brings_the_case_back(
        app, staff, asked, other):
    order, case_id, agent, token = case_under_review(staff)
    member = {"buyer": order.buyer_id, "seller": order.seller_id}
    reason = f"need_{asked}_photos"
    decide(agent, case_id, token, "request_info", reason, info_from=asked,
           note="Please photograph the label.")
    case = case_row(case_id)
    assert (case.state, case.info_requested_from, case.info_due_at, case.claimed_by) == \
        ("awaiting_info", asked, clock.now() + 2 * DAY, None)
    assert messages(case_id)[-1].kind == "info_request"
    # The other party's message is kept for the agent; the case keeps waiting.
    assert respond(member[other], case_id, "Nothing to add.") == "awaiting_info"
    assert respond(member[asked], case_id, "Here is the label.") == "under_review"
    case = case_row(case_id)
    assert (case.info_requested_from, case.info_due_at, case.priority) == (None, None, 1)
    assert [e[2] for e in case_events(case_id)][-3:] == \
        [reason, f"{other}_message", "information_given"]


def test_the_decision_clock_pauses_while_a_party_is_asked(app, staff):
    order, case_id, agent, token = case_under_review(staff)   # under review at OPENED
    used = timedelta(minutes=15)
    clock.freeze(OPENED + used)
    decide(agent, case_id, token, "request_info", "need_buyer_details", info_from="buyer",
           note="When did you open the parcel?")
    budget = timedelta(hours=48) - used
    assert case_row(case_id).sla_running_since is None
    assert seconds_left(case_id) == budget.total_seconds()
    clock.freeze(OPENED + 30 * HOUR)                           # the buyer takes their time
    assert seconds_left(case_id) == budget.total_seconds()
    respond(order.buyer_id, case_id, "On the day it came.")
    assert case_row(case_id).sla_due_at == clock.now() + budget
    clock.freeze(OPENED + 31 * HOUR)
    assert seconds_left(case_id) == (budget - HOUR).total_seconds()


@pytest.mark.parametrize("body, code", [
    ({"info_from": "buyer"}, "bad_text"),                   # no question
    ({"info_from": "courier", "note": "?"}, "bad_info_from"),
    ({"note": "Which one?"}, "bad_info_from"),
])
def test_request_info_needs_a_question_and_a_party(app, staff, body, code):
    order, case_id, agent, token = case_under_review(staff)
    kwargs = {"note": None, **body}
    assert refusal(decide, agent, case_id, token, "request_info", "need_buyer_details",
                   error=ValidationFailed, **kwargs) == code
    assert state_of(case_id) == "claimed"


# --- "not authentic": the authenticators decide -------------------------------------------------

def authenticators_find(staff, verdict: Verdict, reason: str) -> None:
    """Two senior authenticators judge the disputed item (a counterfeit verdict needs a
    second opinion), through the authentication services."""
    first, second = staff("senior_authenticator")[0], staff("senior_authenticator")[0]
    result = "fail" if verdict == Verdict.COUNTERFEIT else "pass"
    for reviewer, queue in ((first, "review"), (second, "second_review")):
        with db.unit_of_work() as s:
            me = s.get(StaffUser, reviewer)
            request = auth_claims.claim_next(s, me, queue)
            assert request is not None and request.reason == Reason.DISPUTE
            auth_decisions.decide(s, me, request, request.lease_token, auth_decisions.Decision(
                verdict=verdict, reason=reason,
                checklist=dict.fromkeys(CHECKLISTS[request.category], result)))


def test_an_authenticity_claim_goes_to_the_authenticators_and_comes_back_with_the_verdict(
        app, staff):
    order, case_id, agent, token = case_under_review(staff, reason="not_authentic")
    decide(agent, case_id, token, "send_to_authentication", "authenticity_claim")
    case = case_row(case_id)
    assert (case.state, case.claimed_by) == ("with_authentication", None)
    assert case.sla_running_since is None        # the authenticators' time is not ours
    with db.unit_of_work() as s:
        request = s.get(AuthenticationRequest, case.authentication_request_id)
        assert (request.reason, request.listing_id, request.senior_only) == \
            ("dispute", case.listing_id, True)
    authenticators_find(staff, Verdict.COUNTERFEIT, "logo_mismatch")
    case = case_row(case_id)
    assert (case.state, case.authentication_verdict, case.priority) == \
        ("under_review", "counterfeit", 1)
    assert case_events(case_id)[-1][1:] == ("under_review", "authentication_verdict")
    # The agent decides the money; the item needs no second trip to the authenticators.
    case_id_again, token = claim(agent)
    assert case_id_again == case_id
    assert refusal(decide, agent, case_id, token, "send_to_authentication",
                   "authenticity_claim") == "already_authenticated"
    decide(agent, case_id, token, "refund_without_return", "counterfeit_confirmed")
    assert state_of(case_id) == "closed_refunded"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert_books_sound()


def test_a_verdict_for_a_case_no_longer_waiting_changes_nothing(app, staff):
    order, case_id, agent, token = case_under_review(staff, reason="not_authentic")
    decide(agent, case_id, token, "send_to_authentication", "authenticity_claim")
    request_id = case_row(case_id).authentication_request_id
    withdraw(order, case_id)
    with db.unit_of_work() as s:
        authentication_link.verdict_given(s, request_id=request_id, verdict="counterfeit")
        authentication_link.verdict_given(s, request_id=request_id + 50, verdict="authentic")
    case = case_row(case_id)
    assert (case.state, case.authentication_verdict) == ("closed_withdrawn", None)


# --- decisions under a lease ------------------------------------------------------------------

def test_a_decision_needs_the_deciders_own_live_lease(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    other = staff("support_agent")[0]
    assert refusal(decide, agent, case_id, None, "release_to_seller", "as_described") == \
        "stale_lease"
    assert refusal(decide, agent, case_id, "not-the-token", "release_to_seller",
                   "as_described") == "stale_lease"
    assert refusal(decide, other, case_id, token, "release_to_seller",
                   "as_described") == "stale_lease"
    assert (state_of(case_id), decisions_of(case_id)) == ("claimed", [])


def test_a_decision_after_the_lease_expired_is_refused_and_another_agent_takes_over(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    clock.freeze(clock.now() + timedelta(minutes=20))            # the lease has just lapsed
    assert refusal(decide, agent, case_id, token, "refund_without_return",
                   "missing_item") == "stale_lease"
    other = staff("support_agent")[0]
    taken, other_token = claim(other)
    assert taken == case_id and other_token != token
    assert refusal(decide, agent, case_id, token, "refund_without_return",
                   "missing_item") == "stale_lease"
    decide(other, case_id, other_token, "release_to_seller", "insufficient_evidence")
    assert state_of(case_id) == "closed_released"
    assert [d.staff_id for d in decisions_of(case_id)] == [other]


def test_an_unclaimed_or_closed_case_cannot_be_decided(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "release_to_seller", "as_described")
    assert refusal(decide, agent, case_id, token, "refund_without_return",
                   "missing_item") == "stale_lease"
    assert refusal(decide, agent, case_id + 40, token, "release_to_seller", "as_described",
                   error=NotFound) == "case_not_found"
    with db.unit_of_work() as s:
        with pytest.raises(NotFound):
            decisions.get_case(s, str(case_id))


MALFORMED = [
    ("refund", "missing_item", {}, "bad_outcome"),
    (None, "missing_item", {}, "bad_outcome"),
    ("release_to_seller", "missing_item", {}, "bad_reason"),   # a refund's reason
    ("split", "made_up", {"refund_paise": 100}, "bad_reason"),
    ("split", "minor_damage", {}, "bad_amount"),
    ("split", "minor_damage", {"refund_paise": 0}, "bad_amount"),
    ("split", "minor_damage", {"refund_paise": -5}, "bad_amount"),
    ("split", "minor_damage", {"refund_paise": TOTAL}, "bad_amount"),      # all of it
    ("split", "minor_damage", {"refund_paise": TOTAL + 1}, "bad_amount"),
    ("split", "minor_damage", {"refund_paise": 500.0}, "bad_amount"),
    ("split", "minor_damage", {"refund_paise": "500"}, "bad_amount"),
    ("split", "minor_damage", {"refund_paise": True}, "bad_amount"),
    ("refund_without_return", "missing_item", {"refund_paise": TOTAL - 1}, "bad_amount"),
    ("refund_without_return", "missing_item", {"refund_paise": TOTAL + 1}, "bad_amount"),
    ("release_to_seller", "as_described", {"refund_paise": 10}, "bad_amount"),
    ("release_to_seller", "as_described", {"key": ""}, "bad_idempotency_key"),
    ("release_to_seller", "as_described", {"key": "k" * 101}, "bad_idempotency_key"),
    ("release_to_seller", "as_described", {"key": 7}, "bad_idempotency_key"),
    ("release_to_seller", "as_described", {"note": "n" * 2001}, "bad_text"),
]


def test_a_malformed_decision_is_refused_and_changes_nothing(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    for outcome, reason, extra, code in MALFORMED:
        assert refusal(decide, agent, case_id, token, outcome, reason,
                       error=ValidationFailed, **extra) == code, (outcome, reason, extra)
        assert (state_of(case_id), decisions_of(case_id)) == ("claimed", [])
    assert money(order.order_id)["held_paise"] == TOTAL
    # The same claim still decides once the request is right.
    decide(agent, case_id, token, "split", "minor_damage", refund_paise=TOTAL - 1)
    assert state_of(case_id) == "closed_split"


def test_a_full_refund_may_name_exactly_what_is_held(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_without_return", "missing_item", refund_paise=TOTAL)
    assert state_of(case_id) == "closed_refunded"


# --- the return and the inspection --------------------------------------------------------------

def test_refund_with_return_runs_label_transit_delivery_inspection_refund(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
    case = case_row(case_id)
    assert (case.state, case.outcome, case.decided_by, case.claimed_by) == \
        ("awaiting_return", "refund_with_return", agent, None)
    assert case.sla_running_since is None
    clock.freeze(clock.now() + DAY)
    return_scan(order.order_id, "in_transit")
    assert (state_of(case_id), case_row(case_id).return_ship_by) == ("return_in_transit", None)
    clock.freeze(clock.now() + 2 * DAY)
    return_scan(order.order_id, "delivered")
    case = case_row(case_id)
    assert (case.state, case.inspection_due_at) == ("awaiting_inspection",
                                                    clock.now() + 3 * DAY)
    assert money(order.order_id)["held_paise"] == TOTAL
    assert inspect(order, case_id, accept=True) == "closed_refunded"
    assert messages(case_id)[-1].kind == "inspection"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert [e[1] for e in case_events(case_id)][-4:] == \
        ["awaiting_return", "return_in_transit", "awaiting_inspection", "closed_refunded"]
    assert_books_sound()


def test_a_delivery_without_an_earlier_scan_still_opens_the_inspection(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    with db.unit_of_work() as s:
        assert returns.return_shipped(s, order.order_id + 7) is False   # no such case
        assert returns.return_delivered(s, order.order_id) is True
        assert returns.return_delivered(s, order.order_id) is False     # said once
        assert returns.return_shipped(s, order.order_id) is False       # too late to matter
    assert state_of(case_id) == "awaiting_inspection"


def test_a_counter_claim_sends_the_case_back_and_a_second_return_is_refused(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
    return_scan(order.order_id, "delivered")
    assert inspect(order, case_id, accept=False, body="A different saree came back.") == \
        "under_review"
    case = case_row(case_id)
    assert (case.counter_claimed_at, case.inspection_due_at, case.priority) == \
        (clock.now(), None, 1)
    kinds = [(m.kind, m.author) for m in messages(case_id)]
    assert kinds[-1] == ("counter_claim", "seller")
    case_id_again, token = claim(agent)
    assert case_id_again == case_id
    assert refusal(decide, agent, case_id, token, "refund_with_return",
                   "damage_confirmed") == "already_returned"
    assert state_of(case_id) == "claimed"
    decide(agent, case_id, token, "split", "minor_damage", refund_paise=100_000)
    assert state_of(case_id) == "closed_split"
    assert money(order.order_id)["refunded_paise"] == 100_000
    assert_books_sound()


def test_inspection_refusals(app, staff):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    assert refusal(inspect, order, case_id, accept=True) == "illegal_transition"
    accept_return(order, case_id)
    assert refusal(inspect, order, case_id, accept=True) == "illegal_transition"
    return_scan(order.order_id, "delivered")
    with pytest.raises(PermissionDenied) as buyer:
        as_member(responses.inspect, order.buyer_id, case_id, accept=True, body=None,
                  photos=[])
    assert buyer.value.code == "not_seller"
    assert refusal(inspect, order, case_id, accept="yes", error=ValidationFailed) == \
        "bad_accept"
    assert refusal(inspect, order, case_id, accept=False, photos=[],
                   error=ValidationFailed) == "photo_required"
    assert refusal(inspect, order, case_id, accept=False, body="",
                   error=ValidationFailed) == "bad_text"
    assert state_of(case_id) == "awaiting_inspection"


# --- withdrawing ----------------------------------------------------------------------------------

def drive_to(staff, target: str):
    """A case driven to `target` through the services: (order, case id)."""
    if target == "awaiting_seller":
        order = delivered_order()
        clock.freeze(OPENED)
        return order, open_case(order)
    order, case_id, agent, token = case_under_review(
        staff, reason="not_authentic" if target == "with_authentication" else
        "not_as_described")
    if target == "under_review":
        with db.unit_of_work() as s:
            claims.release(s, s.get(StaffUser, agent), s.get(DisputeCase, case_id), token)
    elif target == "awaiting_info":
        decide(agent, case_id, token, "request_info", "need_buyer_photos", info_from="buyer",
               note="A closer photo, please.")
    elif target == "with_authentication":
        decide(agent, case_id, token, "send_to_authentication", "authenticity_claim")
    elif target == "awaiting_approval":
        with settings_changed(DISPUTE_REFUND_APPROVAL_PAISE=TOTAL - 1):
            decide(agent, case_id, token, "refund_without_return", "missing_item")
    elif target in ("awaiting_return", "return_in_transit", "awaiting_inspection"):
        decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
        step = {"return_in_transit": "in_transit", "awaiting_inspection": "delivered"}
        if target in step:
            return_scan(order.order_id, step[target])
    assert state_of(case_id) == target
    return order, case_id


@pytest.mark.parametrize("state", ["awaiting_seller", "under_review", "claimed",
                                   "awaiting_info", "with_authentication",
                                   "awaiting_approval", "awaiting_return"])
def test_the_buyer_may_withdraw_until_the_return_ships(app, staff, state):
    order, case_id = drive_to(staff, state)
    assert withdraw(order, case_id) == "closed_withdrawn"
    case = case_row(case_id)
    assert (case.claimed_by, case.lease_token, case.closed_at) == (None, None, clock.now())
    assert case_events(case_id)[-1] == (state, "closed_withdrawn", "withdrawn")
    m = money(order.order_id)
    assert (m["held_paise"], m["released_paise"], m["refunded_paise"]) == (0, TOTAL, 0)
    label = return_label(order.order_id)
    assert label is None or label.status == "voided"
    assert_books_sound()


@pytest.mark.parametrize("state", ["return_in_transit", "awaiting_inspection"])
def test_no_withdrawal_once_the_return_is_on_its_way(app, staff, state):
    order, case_id = drive_to(staff, state)
    assert refusal(withdraw, order, case_id) == "return_in_progress"
    assert state_of(case_id) == state
    assert money(order.order_id)["held_paise"] == TOTAL


def test_only_the_buyer_withdraws_and_only_once(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    with pytest.raises(PermissionDenied) as seller:
        as_member(responses.withdraw, order.seller_id, case_id)
    assert seller.value.code == "not_buyer"
    withdraw(order, case_id)
    assert refusal(withdraw, order, case_id) == "case_closed"


# --- four eyes on large refunds -------------------------------------------------------------------

@pytest.fixture
def low_threshold(app):
    """Refunds above Rs 1,000 need a lead (the order costs Rs 1,579)."""
    with settings_changed(DISPUTE_REFUND_APPROVAL_PAISE=100_000):
        yield 100_000


def test_a_large_refund_waits_for_another_lead(app, staff, low_threshold):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_without_return", "missing_item", note="Empty box.")
    case = case_row(case_id)
    assert (case.state, case.claimed_by, case.decided_by) == ("awaiting_approval", None, agent)
    assert [d.status for d in decisions_of(case_id)] == ["pending_approval"]
    assert money(order.order_id)["held_paise"] == TOTAL
    assert [m.kind for m in messages(case_id)].count("decision") == 0  # not told yet
    assert claim(staff("support_agent")[0]) is None                   # not an agent's work
    lead = staff("support_lead")[0]
    case_id_again, lead_token = claim(lead, "approval")
    assert case_id_again == case_id
    result = approve(lead, case_id, lead_token, note="Agreed.")
    assert (result.decision.status, result.decision.approver_id) == ("approved", lead)
    case = case_row(case_id)
    assert (case.state, case.refund_paise, case.claimed_by) == ("closed_refunded", TOTAL, None)
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert "decision" in [m.kind for m in messages(case_id)]
    assert_books_sound()


def test_a_lead_never_approves_their_own_decision(app, staff, low_threshold):
    order, case_id, _agent, token = case_under_review(staff)
    with db.unit_of_work() as s:                      # the agent lets the case go ...
        claims.release(s, s.get(StaffUser, _agent), s.get(DisputeCase, case_id), token)
    lead, other_lead = staff("support_lead")[0], staff("support_lead")[0]
    lead_case, lead_token = claim(lead)               # ... and a lead decides it
    assert lead_case == case_id
    decide(lead, case_id, lead_token, "split", "minor_damage", refund_paise=120_000)
    assert state_of(case_id) == "awaiting_approval"
    assert claim(lead, "approval") is None            # hidden from the one who decided
    with db.unit_of_work() as s:
        assert claims.visible_cases(s, s.get(StaffUser, lead), "approval") == []
    other_case, other_token = claim(other_lead, "approval")
    assert other_case == case_id
    assert refusal(approve, lead, case_id, other_token) == "stale_lease"
    approve(other_lead, case_id, other_token)
    assert state_of(case_id) == "closed_split"
    assert money(order.order_id)["refunded_paise"] == 120_000


def test_the_own_decision_rule_holds_even_with_a_lease(app, staff, low_threshold):
    """Defence in depth: should routing ever hand a lead their own decision, the
    approval itself still refuses."""
    order, case_id, agent, token = case_under_review(staff)
    with db.unit_of_work() as s:
        claims.release(s, s.get(StaffUser, agent), s.get(DisputeCase, case_id), token)
    lead = staff("support_lead")[0]
    _, lead_token = claim(lead)
    decide(lead, case_id, lead_token, "refund_without_return", "missing_item")
    with db.unit_of_work() as s:                      # claim it bypassing the routing
        case = s.get(DisputeCase, case_id)
        assert claims.LEASES._try_claim(s, s.get(StaffUser, lead), case, clock.now())
        forced_token = case.lease_token
    with pytest.raises(PermissionDenied) as caught:
        approve(lead, case_id, forced_token)
    assert caught.value.code == "own_decision"
    assert money(order.order_id)["held_paise"] == TOTAL


def test_a_refused_refund_goes_back_to_the_agents(app, staff, low_threshold):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
    lead = staff("support_lead")[0]
    _, lead_token = claim(lead, "approval")
    assert refusal(approve, lead, case_id, lead_token, approve=False, note="",
                   error=ValidationFailed) == "bad_text"             # say why
    assert refusal(approve, lead, case_id, lead_token, approve="no", note="x",
                   error=ValidationFailed) == "bad_approve"
    result = approve(lead, case_id, lead_token, approve=False, note="Photos are unclear.")
    assert result.decision.status == "refused"
    case = case_row(case_id)
    assert (case.state, case.priority, case.claimed_by) == ("under_review", 1, None)
    assert messages(case_id)[-1].kind == "staff_note"
    assert money(order.order_id)["held_paise"] == TOTAL
    # The agents decide again; a release needs no approval.
    _, token = claim(agent)
    decide(agent, case_id, token, "release_to_seller", "insufficient_evidence")
    assert state_of(case_id) == "closed_released"
    assert [d.status for d in decisions_of(case_id)] == ["refused", "applied"]


def test_an_approved_return_starts_the_return(app, staff, low_threshold):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
    lead = staff("support_lead")[0]
    _, lead_token = claim(lead, "approval")
    approve(lead, case_id, lead_token)
    assert state_of(case_id) == "awaiting_return"
    assert return_label(order.order_id).status == "label_created"


def test_approval_refusals(app, staff, low_threshold):
    order, case_id, agent, token = case_under_review(staff)
    with pytest.raises(PermissionDenied) as agent_tries:
        approve(agent, case_id, token)
    assert agent_tries.value.code == "wrong_role"
    lead = staff("support_lead")[0]
    assert refusal(approve, lead, case_id, token) == "stale_lease"  # not the lead's claim
    decide(agent, case_id, token, "refund_without_return", "missing_item")
    _, lead_token = claim(lead, "approval")
    # A case claimed from the approval queue is approved or refused, never re-decided.
    assert refusal(decide, lead, case_id, lead_token, "release_to_seller",
                   "as_described") == "illegal_transition"
    assert state_of(case_id) == "claimed"
    # And a case claimed from review is not an approval.
    approve(lead, case_id, lead_token)
    other = delivered_order()
    clock.freeze(OPENED)
    other_case = open_case(other)
    seller_responds(other, other_case)
    _, review_token = claim(lead)
    assert refusal(approve, lead, other_case, review_token) == "illegal_transition"


def test_a_refund_exactly_at_the_threshold_needs_no_approval(app, staff):
    with settings_changed(DISPUTE_REFUND_APPROVAL_PAISE=TOTAL):
        order, case_id, agent, token = case_under_review(staff)
        decide(agent, case_id, token, "refund_without_return", "missing_item")
    assert state_of(case_id) == "closed_refunded"
