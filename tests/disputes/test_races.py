"""Cases under real concurrency on PostgreSQL: one decision per case however many arrive
at once, one refund per idempotency key, every case claimed once, and a timer racing a
person leaves one winner and the money moved once."""
from __future__ import annotations

from datetime import timedelta

import pytest

from disputes import decisions, responses
from disputes.models import CLOSED_STATES
from foundation import clock, db, jobs
from foundation.errors import DomainError
from foundation.staff.models import StaffUser
from marketplace_core.members.models import Member
from marketplace_core.shipping.carrier import CarrierRefused
from tests.builders.cases import (
    DELIVERED,
    case_under_review,
    claim,
    delivered_orders,
    open_case,
    seller_responds,
)
from tests.builders.orders import TOTAL, assert_books_sound, money
from tests.builders.photos import photo
from tests.concurrency import all_at_once, postgresql_only, results_in_threads
from tests.disputes.support import (
    accept_return,
    case_money_moves,
    case_row,
    failed_jobs,
    return_scan,
    settings_changed,
    state_of,
)

pytestmark = postgresql_only("dispute races need PostgreSQL (SQLite serialises writers "
                             "and ignores FOR UPDATE)")
DAY = timedelta(days=1)
OPENED = DELIVERED + DAY


def body(outcome: str, reason: str, key: str, **extra) -> dict:
    return {"outcome": outcome, "reason": reason, "note": "Decided.", "idempotency_key": key,
            **extra}


def decide_in(s, staff_id: int, case_id: int, data: dict, token: str | None):
    result = decisions.decide(s, s.get(StaffUser, staff_id), case_id,
                              decisions.parse_decision(data), token)
    return {"decision": result.decision.id, "outcome": result.decision.outcome,
            "refund_paise": result.decision.refund_paise, "state": result.case.state,
            "replayed": result.replayed}


def outcome_or_code(fn):
    """Run fn (which opens its own unit of work); its result, or the refusal's code."""
    try:
        return fn()
    except DomainError as refused:
        return refused.code


def closing_money_moved_once(order_id: int) -> None:
    moves = case_money_moves(order_id)
    assert sum(moves.values()) == 1, moves
    assert money(order_id)["held_paise"] == 0
    assert_books_sound()


# --- one decision per case ----------------------------------------------------------------

def test_many_decisions_sent_at_once_for_one_case_take_effect_once(app, staff):
    """The agent's double submit, or two tabs with different decisions: the case row is
    locked, the first decision closes the case, every other finds no claim left."""
    order, case_id, agent, token = case_under_review(staff)
    bodies = [body("refund_without_return", "missing_item", "a"),
              body("release_to_seller", "as_described", "b"),
              body("split", "minor_damage", "c", refund_paise=40_000),
              body("refund_without_return", "seller_unresponsive", "d"),
              body("split", "goodwill", "e", refund_paise=90_000),
              body("release_to_seller", "insufficient_evidence", "f")]
    results = all_at_once(len(bodies), lambda s, i: decide_in(s, agent, case_id, bodies[i],
                                                              token))
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1, results
    assert sorted(r for r in results if not isinstance(r, dict)) == ["stale_lease"] * 5
    with db.unit_of_work() as s:
        assert [d.id for d in decisions.decisions_of(s, case_id)] == [won[0]["decision"]]
    assert case_row(case_id).state == won[0]["state"]
    assert won[0]["state"] in CLOSED_STATES
    closing_money_moved_once(order.order_id)


def test_an_agent_whose_lease_lapsed_and_the_one_who_took_over_decide_at_once(app, staff):
    order, case_id, first, first_token = case_under_review(staff)
    clock.freeze(clock.now() + timedelta(minutes=21))
    second = staff("support_agent")[0]
    taken, second_token = claim(second)
    assert taken == case_id
    calls = [(first, first_token, body("refund_without_return", "missing_item", "x")),
             (second, second_token, body("release_to_seller", "as_described", "y"))]
    results = all_at_once(2, lambda s, i: decide_in(s, calls[i][0], case_id, calls[i][2],
                                                    calls[i][1]))
    assert results[0] == "stale_lease"
    assert results[1]["state"] == "closed_released"
    closing_money_moved_once(order.order_id)


# --- one refund per idempotency key -------------------------------------------------------

@pytest.mark.parametrize("copies", [2, 8])
def test_the_same_refund_sent_concurrently_with_one_key_refunds_once(app, staff, copies):
    order, case_id, agent, token = case_under_review(staff)
    data = body("refund_without_return", "missing_item", "refund-once")
    results = all_at_once(copies, lambda s, i: decide_in(s, agent, case_id, data, token))
    assert sorted(r["replayed"] for r in results) == [False] + [True] * (copies - 1)
    first = {key: value for key, value in results[0].items() if key != "replayed"}
    assert all({k: v for k, v in r.items() if k != "replayed"} == first for r in results)
    assert first == {"decision": first["decision"], "outcome": "refund_without_return",
                     "refund_paise": TOTAL, "state": "closed_refunded"}
    assert case_money_moves(order.order_id) == {"refund": 1}
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert_books_sound()


def test_the_same_split_sent_concurrently_with_one_key_splits_once(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    data = body("split", "minor_damage", "split-once", refund_paise=30_000)
    results = all_at_once(4, lambda s, i: decide_in(s, agent, case_id, data, token))
    assert len({r["decision"] for r in results}) == 1
    assert case_money_moves(order.order_id) == {"split": 1}
    assert money(order.order_id)["refunded_paise"] == 30_000
    assert_books_sound()


# --- claims -------------------------------------------------------------------------------

AGENTS = 6
ATTEMPTS_EACH = 4
CASES = 12


def test_agents_claiming_together_claim_each_case_exactly_once(app, staff):
    orders = delivered_orders(CASES)
    clock.freeze(OPENED)
    case_ids = []
    for order in orders:
        case_ids.append(open_case(order))
        seller_responds(order, case_ids[-1])
    agents = [staff("support_agent")[0] for _ in range(AGENTS)]

    def agent_work(staff_id: int) -> list[int]:
        won = []
        for _ in range(ATTEMPTS_EACH):
            claimed = claim(staff_id)
            if claimed is not None:
                won.append(claimed[0])
        return won

    with settings_changed(DISPUTE_MAX_CLAIMS=CASES):
        results = results_in_threads([lambda a=a: agent_work(a) for a in agents])
    claimed_ids = [case_id for won in results for case_id in won]
    assert sorted(claimed_ids) == sorted(case_ids)        # 12 claims, all distinct
    holders = {case_row(case_id).claimed_by for case_id in case_ids}
    assert holders <= set(agents)


# --- a timer racing a person --------------------------------------------------------------

def run_timer(name: str, case_id: int):
    """The timer job as the worker runs it (the job wrapper's own unit of work)."""
    return jobs.execute(f"disputes.tasks.{name}", [case_id], {})


def test_the_inspection_deadline_racing_the_sellers_counter_claim_has_one_winner(app, staff):
    orders = delivered_orders(3)
    clock.freeze(OPENED)
    case_ids = []
    for order in orders:
        case_ids.append(open_case(order))
        accept_return(order, case_ids[-1])
        return_scan(order.order_id, "delivered")
    clock.freeze(case_row(case_ids[0]).inspection_due_at)
    for order, case_id in zip(orders, case_ids, strict=True):
        def seller_counter_claims(order=order, case_id=case_id):
            with db.unit_of_work() as s:
                return responses.inspect(
                    s, s.get(Member, order.seller_id), case_id, accept=False,
                    body="The returned saree is a different one.",
                    photos=[photo()]).state

        timer, seller = results_in_threads([
            lambda case_id=case_id: outcome_or_code(lambda: run_timer("inspection_due",
                                                                      case_id)),
            lambda: outcome_or_code(seller_counter_claims)])
        state = state_of(case_id)
        if timer is True:                      # the deadline won: refunded
            assert seller in ("illegal_transition", "case_changed")
            assert state == "closed_refunded"
            assert case_money_moves(order.order_id) == {"refund": 1}
        else:                                  # the seller won: an agent decides
            assert (timer, seller, state) == (False, "under_review", "under_review")
            assert case_money_moves(order.order_id) == {}
            assert money(order.order_id)["held_paise"] == TOTAL
    assert failed_jobs() == []
    assert_books_sound()


def test_the_shipping_deadline_racing_the_first_scan_has_one_winner(app):
    orders = delivered_orders(3)
    clock.freeze(OPENED)
    case_ids = []
    for order in orders:
        case_ids.append(open_case(order))
        accept_return(order, case_ids[-1])
    clock.freeze(case_row(case_ids[0]).return_ship_by)
    for order, case_id in zip(orders, case_ids, strict=True):
        def buyer_ships(order=order):
            try:
                return_scan(order.order_id, "in_transit")
                return "scanned"
            except CarrierRefused as refused:
                return refused.delivery.body["error"]["code"]

        timer, scan = results_in_threads([
            lambda case_id=case_id: outcome_or_code(lambda: run_timer("return_not_shipped",
                                                                      case_id)),
            buyer_ships])
        state = state_of(case_id)
        if timer is True:                      # the deadline won: released, label void
            assert (scan, state) == ("label_voided", "closed_released")
            assert case_money_moves(order.order_id) == {"release": 1}
        else:                                  # the parcel moved first: it is coming back
            assert (timer, scan, state) == (False, "scanned", "return_in_transit")
            assert case_money_moves(order.order_id) == {}
    assert failed_jobs() == []
    assert_books_sound()


def test_the_buyer_withdrawing_while_the_agent_refunds_has_one_winner(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    data = body("refund_without_return", "missing_item", "r-1")

    def buyer_withdraws():
        with db.unit_of_work() as s:
            return responses.withdraw(s, s.get(Member, order.buyer_id), case_id).state

    def agent_refunds():
        with db.unit_of_work() as s:
            return decide_in(s, agent, case_id, data, token)["state"]

    withdrew, refunded = results_in_threads([lambda: outcome_or_code(buyer_withdraws),
                                             lambda: outcome_or_code(agent_refunds)])
    assert sorted([withdrew, refunded]) in (["case_changed", "closed_refunded"],
                                            ["closed_withdrawn", "stale_lease"])
    closing_money_moved_once(order.order_id)


def test_the_sweep_flagging_a_breach_while_the_agent_decides_changes_no_money(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    clock.freeze(case_row(case_id).sla_due_at)          # the decision clock ran out ...
    taken, token = claim(agent)                         # ... as the agent claimed it again
    assert taken == case_id
    data = body("split", "minor_damage", "s-1", refund_paise=20_000)

    def agent_splits():
        with db.unit_of_work() as s:
            return decide_in(s, agent, case_id, data, token)["state"]

    decided, swept = results_in_threads([
        lambda: outcome_or_code(agent_splits),
        lambda: outcome_or_code(lambda: jobs.execute("disputes.tasks.sweep_disputes", [], {}))])
    assert decided == "closed_split"
    assert swept["sla_breached"] in (0, 1)          # flagged only if it came first
    case = case_row(case_id)
    assert (case.state, case.claimed_by, case.refund_paise) == ("closed_split", None, 20_000)
    closing_money_moved_once(order.order_id)
    assert failed_jobs() == []
