"""End to end through the services: each outcome moves exactly the held money."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock
from tests.builders.cases import DELIVERED, claim, delivered_order, open_case, seller_responds
from tests.builders.orders import TOTAL, assert_books_sound, money
from tests.disputes.support import decide, state_of


def _case_under_review(staff):
    order = delivered_order()
    clock.freeze(DELIVERED + timedelta(days=1))
    case_id = open_case(order)
    assert state_of(case_id) == "awaiting_seller"
    assert seller_responds(order, case_id) == "under_review"
    agent, _, _ = staff("support_agent")
    claimed = claim(agent)
    assert claimed[0] == case_id
    return order, case_id, agent, claimed[1]


def test_refund_without_return_refunds_everything_held(app, staff):
    order, case_id, agent, token = _case_under_review(staff)
    decide(agent, case_id, token, "refund_without_return", "missing_item")
    assert state_of(case_id) == "closed_refunded"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert money(order.order_id)["held_paise"] == 0
    assert_books_sound()


def test_release_pays_the_seller_now(app, staff):
    order, case_id, agent, token = _case_under_review(staff)
    decide(agent, case_id, token, "release_to_seller", "as_described")
    assert state_of(case_id) == "closed_released"
    assert money(order.order_id)["held_paise"] == 0
    assert money(order.order_id)["refunded_paise"] == 0
    assert_books_sound()


def test_split_adds_up_to_the_held_amount(app, staff):
    order, case_id, agent, token = _case_under_review(staff)
    decide(agent, case_id, token, "split", "minor_damage", refund_paise=50_000)
    assert state_of(case_id) == "closed_split"
    assert money(order.order_id)["refunded_paise"] == 50_000
    assert money(order.order_id)["held_paise"] == 0
    assert_books_sound()
