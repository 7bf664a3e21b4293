"""The agents' and leads' queues, claimed under a lease (foundation.leases, the same
mechanism as the authentication queue).

Two queues: "review" (cases under review; support agents) and "approval" (large refunds
awaiting a support lead who did not make the decision).  Ordering: priority (stale,
breached, answered, verdict returned) first, then the SLA deadline (the oldest work),
then the amount at stake.
"""
from __future__ import annotations

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from disputes import machine
from disputes.models import CaseDecision, CaseState, DecisionStatus, DisputeCase
from foundation import casework, clock
from foundation.config import current as settings
from foundation.leases import Leases, unclaimed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission

__all__ = ["QUEUES", "claim_next", "extend", "held_by", "lease_guard", "release",
           "require_lease", "require_queue_access", "unclaimed", "visible_cases"]

C = DisputeCase
QUEUES: dict[str, CaseState] = {"review": CaseState.UNDER_REVIEW,
                                 "approval": CaseState.AWAITING_APPROVAL}
QUEUE_PERMISSION = {"review": Permission.DISPUTES_HANDLE,
                    "approval": Permission.DISPUTES_APPROVE_REFUND}
QUEUE_ORDER = (C.priority.desc(), C.sla_due_at.asc().nulls_last(), C.amount_paise.desc(),
               C.id.asc())
LEASES = Leases(model=C, claimed_state=CaseState.CLAIMED, transition=machine.try_transition,
                lease_minutes=lambda: settings().DISPUTE_LEASE_MINUTES,
                max_claims=lambda: settings().DISPUTE_MAX_CLAIMS,
                audit_prefix="disputes", object_type="dispute_case", noun="case")


def require_queue_access(staff: StaffUser, queue: str) -> None:
    casework.require_queue_access(staff, queue, QUEUE_PERMISSION)


def claim_next(s: Session, staff: StaffUser, queue: str = "review") -> DisputeCase | None:
    """The best case this staff member may take from `queue`, claimed; None if none."""
    require_queue_access(staff, queue)
    return LEASES.claim(s, staff, [QUEUES[queue]], conditions=_routing(staff, queue),
                        ordering=QUEUE_ORDER)


def visible_cases(s: Session, staff: StaffUser, queue: str, limit: int = 50) -> list[C]:
    """What claim_next would hand this staff member, in order (without claiming).

    Waiting cases and cases whose lease lapsed are one OR, which no index serves; so the
    first `limit` of each are found apart (the waiting ones by walking the queue-order
    index) and only those few are put in order."""
    require_queue_access(staff, queue)
    now = clock.now()
    parts = [select(C.id).where(*LEASES.claimable(staff, [QUEUES[queue]], now, expired=expired),
                                *_routing(staff, queue))
             .order_by(*QUEUE_ORDER).limit(limit).subquery() for expired in (False, True)]
    candidates = union_all(*(select(part.c.id) for part in parts))
    return list(s.scalars(select(C).where(C.id.in_(candidates)).order_by(*QUEUE_ORDER)
                          .limit(limit)))


def _routing(staff: StaffUser, queue: str) -> list:
    if queue != "approval":
        return []
    # Four eyes: a lead never gets the approval of their own decision.
    return [~select(CaseDecision.id).where(
        CaseDecision.case_id == C.id, CaseDecision.staff_id == staff.id,
        CaseDecision.status == DecisionStatus.PENDING_APPROVAL).exists()]


def held_by(s: Session, staff: StaffUser) -> list[C]:
    return LEASES.held_by(s, staff)


def require_lease(case: C, staff: StaffUser, token: str | None) -> None:
    LEASES.require_lease(case, staff, token)


def lease_guard(staff: StaffUser, token: str) -> casework.Guard:
    return LEASES.guard(staff, token)


def extend(s: Session, staff: StaffUser, case: C, token: str) -> C:
    return LEASES.extend(s, staff, case, token)


def release(s: Session, staff: StaffUser, case: C, token: str) -> C:
    return LEASES.release(s, staff, case, token)
