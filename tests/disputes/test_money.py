"""The money of every way a case can close: exactly what was held moves, once, through
the ledger; the books balance; a decision retried with its idempotency key moves nothing
more, and the same key with other parameters is refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from disputes.models import CaseDecision
from foundation import clock, db, jobs
from foundation.errors import Conflict
from marketplace_core.ledger import services as ledger
from marketplace_core.orders import services as orders
from marketplace_core.orders.models import Order
from tests.builders.cases import DELIVERED, case_under_review, claim, delivered_order, open_case
from tests.builders.orders import COMMISSION, PRICE, TOTAL, assert_books_sound, money, order_row
from tests.disputes.support import (
    accept_return,
    approve,
    case_money_moves,
    case_row,
    decide,
    inspect,
    return_scan,
    settings_changed,
    state_of,
    withdraw,
)

DAY = timedelta(days=1)
OPENED = DELIVERED + DAY


def balances(order) -> tuple[int, int]:
    """(the seller's available balance, the platform's commission on the order)."""
    with db.unit_of_work() as s:
        return (ledger.seller_balance(s, order.seller_id),
                s.get(Order, order.order_id).commission_paise)


def assert_refunded_in_full(order, case_id: int) -> None:
    m = money(order.order_id)
    assert m == {"captured_paise": TOTAL, "held_paise": 0, "released_paise": 0,
                 "refunded_paise": TOTAL}
    assert case_money_moves(order.order_id) == {"refund": 1}
    assert order_row(order.order_id).status == "refunded"
    assert balances(order)[0] == 0
    assert case_row(case_id).refund_paise == TOTAL
    assert_books_sound()


def assert_released_in_full(order, case_id: int) -> None:
    m = money(order.order_id)
    assert m == {"captured_paise": TOTAL, "held_paise": 0, "released_paise": TOTAL,
                 "refunded_paise": 0}
    assert case_money_moves(order.order_id) == {"release": 1}
    held = order_row(order.order_id)
    assert (held.status, held.completed_by, held.on_hold) == ("completed", "case", False)
    assert balances(order) == (PRICE - COMMISSION, COMMISSION)
    assert case_row(case_id).refund_paise == 0
    assert_books_sound()


# --- refunds ------------------------------------------------------------------------------

def test_refund_with_return_pays_the_buyer_back_after_the_inspection(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
    assert money(order.order_id)["held_paise"] == TOTAL        # nothing moves on the way
    return_scan(order.order_id, "in_transit")
    return_scan(order.order_id, "delivered")
    assert money(order.order_id)["held_paise"] == TOTAL
    inspect(order, case_id, accept=True)
    assert_refunded_in_full(order, case_id)


def test_refund_without_return(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_without_return", "missing_item")
    assert_refunded_in_full(order, case_id)


def test_an_inspection_nobody_made_refunds_the_buyer(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    return_scan(order.order_id, "delivered")
    clock.freeze(case_row(case_id).inspection_due_at)
    jobs.run_pending()
    assert state_of(case_id) == "closed_refunded"
    assert_refunded_in_full(order, case_id)


# --- splits: the two parts add up to exactly what was held -------------------------------------

@pytest.mark.parametrize("refund, seller_gets, commission", [
    # kept = TOTAL - refund; the label fee (Rs 79) comes off first, then the commission
    # (20%, or a Rs 49 flat fee below Rs 300) on the rest.
    (50_000, 80_000, 20_000),
    (1, 119_999, 30_000),
    (130_000, 15_100, 4_900),
    (TOTAL - 1, 0, 0),             # the 1 paisa kept only covers part of the label
])
def test_a_split_refunds_part_and_releases_the_rest(app, staff, refund, seller_gets,
                                                    commission):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "split", "minor_damage", refund_paise=refund)
    m = money(order.order_id)
    assert m == {"captured_paise": TOTAL, "held_paise": 0, "released_paise": TOTAL - refund,
                 "refunded_paise": refund}
    assert case_money_moves(order.order_id) == {"split": 1}
    assert balances(order) == (seller_gets, commission)
    case = case_row(case_id)
    assert (case.state, case.outcome, case.refund_paise) == ("closed_split", "split", refund)
    assert order_row(order.order_id).status == "completed"
    assert_books_sound()


# --- releases ---------------------------------------------------------------------------------

def test_release_to_the_seller(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "release_to_seller", "as_described")
    assert_released_in_full(order, case_id)


def test_a_withdrawn_case_releases_to_the_seller(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    withdraw(order, case_id)
    assert_released_in_full(order, case_id)


def test_a_return_never_shipped_releases_to_the_seller(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    clock.freeze(case_row(case_id).return_ship_by)
    jobs.run_pending()
    assert state_of(case_id) == "closed_released"
    assert_released_in_full(order, case_id)


# --- never more than was captured, never twice ----------------------------------------------------

def test_a_closed_case_cannot_refund_again(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_without_return", "missing_item")
    attempts = {
        "case_refund": lambda s: orders.refund_for_case(s, s.get(Order, order.order_id),
                                                        f"case-{case_id}", 1),
        "ledger_refund": lambda s: ledger.refund_buyer(s, order.order_id, 1, "more-1",
                                                       "one more paisa"),
        "ledger_release": lambda s: ledger.release_to_seller(s, order.order_id, 0, 0,
                                                             "release-1"),
    }
    for attempt in attempts.values():
        with pytest.raises(Conflict), db.unit_of_work() as s:
            attempt(s)
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert case_money_moves(order.order_id) == {"refund": 1}
    assert_books_sound()


def test_the_same_decision_sent_twice_refunds_once(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    first = decide(agent, case_id, token, "refund_without_return", "missing_item",
                   key="refund-1", note="Box was empty.")
    again = decide(agent, case_id, token, "refund_without_return", "missing_item",
                   key="refund-1", note="Box was empty.")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.decision.id == first.decision.id
    assert again.case.state == "closed_refunded"
    assert_refunded_in_full(order, case_id)
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count(CaseDecision.id))) == 1


@pytest.mark.parametrize("changed", [
    {"outcome": "split", "reason": "minor_damage", "refund_paise": 1_000},
    {"outcome": "refund_without_return", "reason": "seller_unresponsive"},
    {"outcome": "refund_without_return", "reason": "missing_item", "note": "Other words."},
    {"outcome": "release_to_seller", "reason": "as_described"},
])
def test_the_same_key_with_other_parameters_is_refused(app, staff, changed):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_without_return", "missing_item", key="k-1",
           note="Box was empty.")
    body = {"note": "Box was empty.", **changed}
    with pytest.raises(Conflict) as refused:
        decide(agent, case_id, token, body.pop("outcome"), body.pop("reason"), key="k-1",
               **body)
    assert refused.value.code == "idempotency_key_reused"
    assert_refunded_in_full(order, case_id)


def test_a_retried_approval_request_waits_once_and_refunds_once(app, staff):
    with settings_changed(DISPUTE_REFUND_APPROVAL_PAISE=100_000):
        order, case_id, agent, token = case_under_review(staff)
        first = decide(agent, case_id, token, "split", "goodwill", refund_paise=120_000,
                       key="big")
        again = decide(agent, case_id, token, "split", "goodwill", refund_paise=120_000,
                       key="big")
        assert (again.replayed, again.decision.id, again.decision.status) == \
            (True, first.decision.id, "pending_approval")
        assert money(order.order_id)["held_paise"] == TOTAL
        lead = staff("support_lead")[0]
        _, lead_token = claim(lead, "approval")
        approve(lead, case_id, lead_token)
        late = decide(agent, case_id, None, "split", "goodwill", refund_paise=120_000,
                      key="big")
    assert (late.replayed, late.decision.status) == (True, "approved")
    assert case_money_moves(order.order_id) == {"split": 1}
    assert money(order.order_id)["refunded_paise"] == 120_000
    assert_books_sound()
