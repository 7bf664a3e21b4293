"""The case's deadlines: each is a scheduled job keyed on (purpose, case, deadline) that
re-checks the state and the clock when it fires, plus a sweep that finds what a lost
timer would have done.  Running any of them twice, early or late is harmless.

    seller response (2 days)  awaiting_seller -> under_review
    information (2 days)      awaiting_info   -> under_review (front of the queue)
    return shipping (5 days)  awaiting_return -> closed_released  (returns.py)
    inspection (3 days)       awaiting_inspection -> closed_refunded (returns.py)
    stale (14 / 30 days)      an alert, then an escalation to the top of the queue
    decision SLA (48 active hours) breached -> flagged and raised
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from disputes import machine, notices
from disputes.models import CLOCK_RUNNING_STATES, CLOSED_STATES, CaseState, DisputeCase, Party
from foundation import clock, jobs
from foundation.audit.services import record
from foundation.casework import SYSTEM
from foundation.config import current as settings

# Named, not imported: disputes.tasks imports this module.
TIMER_JOBS = {
    "seller_response_due": jobs.named("disputes.tasks.seller_response_due"),
    "info_due": jobs.named("disputes.tasks.info_due"),
    "return_not_shipped": jobs.named("disputes.tasks.return_not_shipped"),
    "inspection_due": jobs.named("disputes.tasks.inspection_due"),
}

C = DisputeCase
FRONT_OF_QUEUE = 1
BREACHED_PRIORITY = 2
STALE_PRIORITY = 3
SWEEP_BATCH = 500


# --- arming (after commit; the job id makes re-arming a no-op) ----------------------

def arm_seller_response(case: DisputeCase) -> None:
    _arm("seller_response_due", case, case.seller_response_due_at)


def arm_info_deadline(case: DisputeCase) -> None:
    _arm("info_due", case, case.info_due_at)


def arm_return_deadline(case: DisputeCase) -> None:
    _arm("return_not_shipped", case, case.return_ship_by)


def arm_inspection_deadline(case: DisputeCase) -> None:
    _arm("inspection_due", case, case.inspection_due_at)


def _arm(purpose: str, case: DisputeCase, deadline: datetime) -> None:
    task = TIMER_JOBS[purpose]
    at = max(deadline, clock.now())
    task.enqueue(case.id, job_id=jobs.timer_id(purpose, "case", case.id, deadline), at=at)


# --- the waiting states' deadlines ---------------------------------------------------

def seller_response_due(s: Session, case_id: int) -> bool:
    case = s.get(C, case_id)
    if (case is None or case.state != CaseState.AWAITING_SELLER
            or clock.now() < case.seller_response_due_at):
        return False
    won = machine.try_transition(s, case, CaseState.UNDER_REVIEW, actor=SYSTEM,
                                 reason="seller_did_not_respond",
                                 values={"seller_response_due_at": None})
    if won:
        notices.tell_both(s, case, "The seller's time to respond ended; a support agent "
                          "will review the case.")
    return won


def info_due(s: Session, case_id: int) -> bool:
    """Nobody answered the agent's question in time: back to the agent, who decides on
    what the case has."""
    case = s.get(C, case_id)
    if case is None or case.state != CaseState.AWAITING_INFO or clock.now() < case.info_due_at:
        return False
    return machine.try_transition(s, case, CaseState.UNDER_REVIEW, actor=SYSTEM,
                                  reason="information_not_given",
                                  values={"info_requested_from": None, "info_due_at": None,
                                          "priority": max(case.priority, FRONT_OF_QUEUE)})


# --- what the sweep looks for ----------------------------------------------------------

def overdue(s: Session) -> dict[str, list[int]]:
    """Case ids per timer purpose whose deadline has passed in the waiting state."""
    now = clock.now()
    checks = {
        "seller_response_due": (CaseState.AWAITING_SELLER, C.seller_response_due_at),
        "info_due": (CaseState.AWAITING_INFO, C.info_due_at),
        "return_not_shipped": (CaseState.AWAITING_RETURN, C.return_ship_by),
        "inspection_due": (CaseState.AWAITING_INSPECTION, C.inspection_due_at),
    }
    return {purpose: list(s.scalars(select(C.id).where(C.state == state, column <= now)
                                    .order_by(column).limit(SWEEP_BATCH)))
            for purpose, (state, column) in checks.items()}


# --- stale cases and SLA breaches (flags, not transitions) --------------------------

def flag_stale(s: Session) -> dict[str, int]:
    """Open cases older than the alert age get an alert; older than the escalation age
    go to the top of the queue.  Each is flagged once."""
    now = clock.now()
    alert_before = now - timedelta(days=settings().DISPUTE_STALE_ALERT_DAYS)
    escalate_before = now - timedelta(days=settings().DISPUTE_STALE_ESCALATE_DAYS)
    alerted = _flag(s, "stale_alerted", [C.stale_alerted_at.is_(None),
                                         C.opened_at <= alert_before],
                    {"stale_alerted_at": now})
    escalated = _flag(s, "stale_escalated", [C.stale_escalated_at.is_(None),
                                             C.opened_at <= escalate_before],
                      {"stale_escalated_at": now, "priority": STALE_PRIORITY})
    breached = _flag(s, "sla_breached", [C.state.in_(CLOCK_RUNNING_STATES),
                                         C.sla_breached_at.is_(None), C.sla_due_at <= now],
                     {"sla_breached_at": now, "priority": BREACHED_PRIORITY})
    return {"stale_alerted": alerted, "stale_escalated": escalated, "sla_breached": breached}


def _flag(s: Session, reason: str, conditions: list, values: dict) -> int:
    ids = list(s.scalars(select(C.id).where(C.state.not_in(CLOSED_STATES), *conditions)
                         .order_by(C.id).limit(SWEEP_BATCH)))
    flagged = 0
    for case_id in ids:
        applied = dict(values)
        if "priority" in applied:
            # Never lower a priority another step raised higher.
            current = s.scalar(select(C.priority).where(C.id == case_id))
            applied["priority"] = max(current, applied["priority"])
        result = s.execute(update(C).where(C.id == case_id, *conditions)
                           .values(**applied, updated_at=clock.now())
                           .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            continue
        case = s.get(C, case_id)
        s.refresh(case)
        machine.log(s, case, case.state, SYSTEM, reason)
        record(s, None, f"disputes.{reason}", "dispute_case", case_id,
               after={key: str(value) for key, value in applied.items()})
        if reason == "stale_escalated":
            notices.tell(s, case, Party.BUYER, "Your case is taking longer than it should; "
                         "it has been escalated to a support lead.")
        flagged += 1
    return flagged
