"""The case's timers and the sweep, run by the real RQ worker (`jobs.run_pending`).

The frozen clock is in the past, so RQ (which schedules by the real clock) finds every
timer due at once: a timer that runs before its deadline must see the frozen clock and do
nothing, and the sweep must then catch the deadline.  Each timer fires at its deadline,
not a second before; a second run, or a run after the case moved on, changes nothing; a
timer lost from Redis is caught by the sweep; stale cases and SLA breaches are flagged
once each, audited.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import select

from disputes import tasks
from foundation import clock, db, jobs
from foundation.audit.models import AuditEvent
from marketplace_core.social.models import Notification
from tests.builders.cases import (
    DELIVERED,
    case_under_review,
    claim,
    delivered_order,
    open_case,
    seller_responds,
)
from tests.builders.orders import TOTAL, assert_books_sound, money
from tests.disputes.support import (
    accept_return,
    case_events,
    case_money_moves,
    case_row,
    decide,
    failed_jobs,
    inspect,
    respond,
    return_scan,
    state_of,
    sweep,
    withdraw,
)

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
OPENED = DELIVERED + DAY


@pytest.fixture(autouse=True)
def no_failed_jobs(app):
    yield
    assert failed_jobs() == []


def fire_timers_at(moment) -> None:
    """The worker runs every armed timer with the clock at `moment`."""
    clock.freeze(moment)
    jobs.run_pending()


def lose_timer(purpose: str, case_id: int, deadline) -> None:
    """Redis lost the timer (a flush, a failover): delete its scheduled job."""
    job_id = jobs.timer_id(purpose, "case", case_id, deadline)
    Job.fetch(job_id, connection=jobs.connection()).delete()


def reasons(case_id: int) -> list[str]:
    return [reason for _, _, reason in case_events(case_id)]


def audits(action: str, case_id: int) -> list[AuditEvent]:
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                       AuditEvent.object_id == str(case_id))))
        s.expunge_all()
        return rows


def case_notices(member_id: int) -> list[str]:
    with db.unit_of_work() as s:
        return [n.payload["message"] for n in s.scalars(
            select(Notification).where(Notification.recipient_id == member_id,
                                       Notification.kind == "case_update")
            .order_by(Notification.id))]


# --- the seller's response window ---------------------------------------------------------

def test_the_seller_response_timer_fires_at_the_deadline(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    due = case_row(case_id).seller_response_due_at
    assert due == OPENED + 2 * DAY
    fire_timers_at(due)
    assert state_of(case_id) == "under_review"
    assert reasons(case_id)[-1] == "seller_did_not_respond"
    assert case_row(case_id).sla_due_at == due + timedelta(hours=48)
    assert "The seller's time to respond ended" in case_notices(order.buyer_id)[-1]
    # Run again (RQ delivers at least once), and sweep: nothing more happens.
    tasks.seller_response_due.enqueue_now(case_id)
    sweep()
    assert reasons(case_id).count("seller_did_not_respond") == 1


def test_a_lost_timer_is_caught_by_the_sweep(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    due = case_row(case_id).seller_response_due_at
    lose_timer("seller_response_due", case_id, due)
    fire_timers_at(due + DAY)
    assert state_of(case_id) == "awaiting_seller"  # nothing was left to fire
    sweep()
    assert state_of(case_id) == "under_review"


def test_the_timer_of_a_case_that_moved_on_does_nothing(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    seller_responds(order, case_id)
    fire_timers_at(OPENED + 2 * DAY)
    sweep()
    assert "seller_did_not_respond" not in reasons(case_id)
    assert state_of(case_id) == "under_review"


# --- the information deadline ---------------------------------------------------------------

def test_an_unanswered_question_returns_the_case_to_the_front_of_the_queue(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "request_info", "need_seller_photos", info_from="seller",
           note="Photos of the item before shipping, please.")
    due = case_row(case_id).info_due_at
    assert due == clock.now() + 2 * DAY
    fire_timers_at(due)
    case = case_row(case_id)
    assert (case.state, case.priority, case.info_requested_from) == ("under_review", 1, None)
    assert reasons(case_id)[-1] == "information_not_given"
    # A late answer is kept as a message and moves nothing.
    assert respond(order.seller_id, case_id, "Sorry, here.") == "under_review"
    tasks.info_due.enqueue_now(case_id)
    jobs.run_pending()
    assert reasons(case_id).count("information_not_given") == 1


def test_an_answered_question_leaves_the_timer_nothing_to_do(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "request_info", "need_buyer_photos", info_from="buyer",
           note="The label, please.")
    due = case_row(case_id).info_due_at
    respond(order.buyer_id, case_id, "Attached.")
    fire_timers_at(due)
    sweep()
    assert "information_not_given" not in reasons(case_id)
    assert case_row(case_id).info_requested_from is None


# --- the return shipping deadline --------------------------------------------------------------

def test_a_return_never_shipped_closes_for_the_seller_on_day_5(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    ship_by = case_row(case_id).return_ship_by
    assert ship_by == OPENED + 5 * DAY
    fire_timers_at(ship_by)
    case = case_row(case_id)
    assert (case.state, case.outcome, case.refund_paise) == \
        ("closed_released", "release_to_seller", 0)
    assert reasons(case_id)[-1] == "return_not_shipped"
    m = money(order.order_id)
    assert (m["held_paise"], m["released_paise"], m["refunded_paise"]) == (0, TOTAL, 0)
    tasks.return_not_shipped.enqueue_now(case_id)
    sweep()
    assert case_money_moves(order.order_id) == {"release": 1}
    assert_books_sound()


def test_a_shipped_return_is_not_closed_by_the_shipping_deadline(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    ship_by = case_row(case_id).return_ship_by
    clock.freeze(ship_by - DAY)
    return_scan(order.order_id, "in_transit")
    fire_timers_at(ship_by + DAY)
    sweep()
    assert state_of(case_id) == "return_in_transit"
    assert money(order.order_id)["held_paise"] == TOTAL


def test_a_lost_return_timer_is_caught_by_the_sweep(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    ship_by = case_row(case_id).return_ship_by
    lose_timer("return_not_shipped", case_id, ship_by)
    fire_timers_at(ship_by)
    assert state_of(case_id) == "awaiting_return"
    assert sweep()["return_not_shipped"] == 1
    assert state_of(case_id) == "closed_released"


# --- the inspection deadline ---------------------------------------------------------------------

def returned_for_inspection(staff):
    order, case_id, agent, token = case_under_review(staff)
    decide(agent, case_id, token, "refund_with_return", "damage_confirmed")
    clock.freeze(clock.now() + DAY)
    return_scan(order.order_id, "delivered")
    return order, case_id


def test_a_seller_who_does_not_inspect_in_3_days_refunds_the_buyer(app, staff):
    order, case_id = returned_for_inspection(staff)
    due = case_row(case_id).inspection_due_at
    assert due == clock.now() + 3 * DAY
    fire_timers_at(due)
    case = case_row(case_id)
    assert (case.state, case.outcome, case.refund_paise) == \
        ("closed_refunded", "refund_with_return", TOTAL)
    assert reasons(case_id)[-1] == "inspection_window_ended"
    tasks.inspection_due.enqueue_now(case_id)
    sweep()
    assert case_money_moves(order.order_id) == {"refund": 1}
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert_books_sound()


def test_an_inspected_return_leaves_the_timer_nothing_to_do(app, staff):
    order, case_id = returned_for_inspection(staff)
    due = case_row(case_id).inspection_due_at
    inspect(order, case_id, accept=False)                 # a counter-claim
    fire_timers_at(due)
    sweep()
    assert state_of(case_id) == "under_review"
    assert money(order.order_id)["held_paise"] == TOTAL


def test_a_lost_inspection_timer_is_caught_by_the_sweep(app, staff):
    order, case_id = returned_for_inspection(staff)
    due = case_row(case_id).inspection_due_at
    lose_timer("inspection_due", case_id, due)
    fire_timers_at(due)
    assert state_of(case_id) == "awaiting_inspection"
    assert sweep()["inspection_due"] == 1
    assert state_of(case_id) == "closed_refunded"


# --- every timer: early runs wait, the sweep catches the deadline -------------------------------

def waiting_in(purpose: str, staff):
    """A case waiting on `purpose`'s deadline: (case id, deadline, state it waits in,
    state it goes to)."""
    if purpose in ("seller_response_due", "return_not_shipped"):
        order = delivered_order()
        clock.freeze(OPENED)
        case_id = open_case(order)
        if purpose == "seller_response_due":
            return (case_id, case_row(case_id).seller_response_due_at, "awaiting_seller",
                    "under_review")
        accept_return(order, case_id)
        return case_id, case_row(case_id).return_ship_by, "awaiting_return", "closed_released"
    if purpose == "info_due":
        order, case_id, agent, token = case_under_review(staff)
        decide(agent, case_id, token, "request_info", "need_buyer_photos", info_from="buyer",
               note="The tag, please.")
        return case_id, case_row(case_id).info_due_at, "awaiting_info", "under_review"
    order, case_id = returned_for_inspection(staff)
    return (case_id, case_row(case_id).inspection_due_at, "awaiting_inspection",
            "closed_refunded")


@pytest.mark.parametrize("purpose", sorted(tasks.TIMER_JOBS))
def test_an_early_timer_waits_and_the_sweep_catches_the_deadline(app, staff, purpose):
    case_id, due, waiting, after = waiting_in(purpose, staff)
    fire_timers_at(due - SECOND)           # the armed timer runs a second early: no-op
    assert sweep()[purpose] == 0
    tasks.TIMER_JOBS[purpose].enqueue_now(case_id)
    jobs.run_pending()                     # and so does a stray run of the same job
    assert state_of(case_id) == waiting
    clock.freeze(due)
    assert sweep()[purpose] == 1
    assert state_of(case_id) == after
    assert sweep()[purpose] == 0


# --- stale cases and the decision SLA ----------------------------------------------------------

def test_a_stale_case_is_alerted_at_14_days_and_escalated_at_30_once_each(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    return_scan(order.order_id, "in_transit")   # a parcel lost in transit: nobody's deadline
    clock.freeze(OPENED + 14 * DAY - SECOND)
    assert sweep()["stale_alerted"] == 0
    clock.freeze(OPENED + 14 * DAY)
    assert sweep()["stale_alerted"] == 1
    assert case_row(case_id).stale_alerted_at == clock.now()
    assert sweep()["stale_alerted"] == 0
    clock.freeze(OPENED + 30 * DAY - SECOND)
    assert sweep()["stale_escalated"] == 0
    clock.freeze(OPENED + 30 * DAY)
    assert sweep()["stale_escalated"] == 1
    case = case_row(case_id)
    assert (case.stale_escalated_at, case.priority) == (clock.now(), 3)
    clock.freeze(OPENED + 40 * DAY)
    assert sweep() == {"seller_response_due": 0, "info_due": 0, "return_not_shipped": 0,
                       "inspection_due": 0, "stale_alerted": 0, "stale_escalated": 0,
                       "sla_breached": 0}
    assert reasons(case_id).count("stale_alerted") == 1
    assert reasons(case_id).count("stale_escalated") == 1
    assert [a.actor_id for a in audits("disputes.stale_alerted", case_id)] == [None]
    assert len(audits("disputes.stale_escalated", case_id)) == 1
    assert "escalated" in case_notices(order.buyer_id)[-1]
    assert state_of(case_id) == "return_in_transit"


def test_closed_cases_are_never_stale(app):
    order = delivered_order()
    clock.freeze(OPENED)
    case_id = open_case(order)
    accept_return(order, case_id)
    clock.freeze(OPENED + DAY)
    withdraw(order, case_id)
    clock.freeze(OPENED + 31 * DAY)
    counts = sweep()
    assert (counts["stale_alerted"], counts["stale_escalated"]) == (0, 0)
    assert case_row(case_id).stale_alerted_at is None


def test_an_sla_breach_is_flagged_once_and_raises_the_case(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    due = case_row(case_id).sla_due_at
    clock.freeze(due - SECOND)
    assert sweep()["sla_breached"] == 0
    clock.freeze(due)
    assert sweep()["sla_breached"] == 1
    case = case_row(case_id)
    assert (case.sla_breached_at, case.priority) == (due, 2)
    assert sweep()["sla_breached"] == 0
    assert len(audits("disputes.sla_breached", case_id)) == 1
    assert reasons(case_id).count("sla_breached") == 1


def test_a_paused_clock_is_not_breached(app, staff):
    order, case_id, agent, token = case_under_review(staff)
    clock.freeze(clock.now() + timedelta(minutes=10))
    decide(agent, case_id, token, "request_info", "need_buyer_details", info_from="buyer",
           note="Which day did it arrive?")
    old_due = case_row(case_id).sla_due_at
    clock.freeze(old_due + timedelta(minutes=5))           # past the old due, still asked
    assert case_row(case_id).state == "awaiting_info"
    assert sweep()["sla_breached"] == 0
    respond(order.buyer_id, case_id, "Tuesday.")
    case = case_row(case_id)
    assert case.sla_due_at == clock.now() + timedelta(hours=48, minutes=-10)
    assert sweep()["sla_breached"] == 0
    assert case_row(case_id).sla_breached_at is None


def test_breached_and_stale_cases_come_first_in_the_queue(app, staff):
    first = delivered_order()
    clock.freeze(OPENED)
    old_case = open_case(first)
    seller_responds(first, old_case)
    clock.freeze(OPENED + 3 * DAY)
    second = delivered_order(delivered_at=OPENED + 2 * DAY)
    clock.freeze(OPENED + 3 * DAY)
    new_case = open_case(second)
    seller_responds(second, new_case)
    sweep()                                                # the old case breached its SLA
    assert case_row(old_case).priority == 2
    assert claim(staff("support_agent")[0])[0] == old_case
