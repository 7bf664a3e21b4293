"""Every change of a case's state goes through `try_transition`, and the decision clock.

The guarded UPDATE (foundation.transitions) makes two agents, an agent and a timer, or
a member and a timer racing on one case resolve to one winner; the loser sees False
(and services turn that into 409).  Each win writes a CaseEvent.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from disputes.models import CLOCK_RUNNING_STATES, CLOSED_STATES, CaseEvent, DisputeCase
from disputes.models import CaseState as S
from foundation import clock, events, transitions
from foundation.config import current as settings
from foundation.errors import Conflict

SYSTEM = "system"


def try_transition(s: Session, case: DisputeCase, to: S, *, actor: str, reason: str,
                   conditions: tuple = (), values: dict[str, Any] | None = None,
                   details: dict[str, Any] | None = None) -> bool:
    """Move `case` from the state it was read in to `to`, keeping the decision clock
    right; False if someone else moved it first."""
    now = clock.now()
    changes = {**_clock_changes(case, S(case.state), to, now), **(values or {})}
    before = transitions.try_move(s, case, to, closed_states=CLOSED_STATES,
                                  conditions=conditions, values=changes)
    if before is None:
        return False
    log(s, case, before, actor, reason, details)
    if to in CLOSED_STATES:
        events.emit(s, events.CaseClosed(
            case_id=case.id, seller_id=case.seller_id, listing_id=case.listing_id, state=str(to)))
    return True


def transition(s: Session, case: DisputeCase, to: S, *, actor: str, reason: str,
               conditions: tuple = (), values: dict[str, Any] | None = None,
               details: dict[str, Any] | None = None) -> None:
    """try_transition, or 409 when the case changed under us."""
    if not try_transition(s, case, to, actor=actor, reason=reason, conditions=conditions,
                          values=values, details=details):
        raise Conflict("The case changed meanwhile; reload it and try again.",
                       code="case_changed")


def log(s: Session, case: DisputeCase, before: str | None, actor: str, reason: str,
        details: dict[str, Any] | None = None) -> None:
    s.add(CaseEvent(case_id=case.id, from_state=before, to_state=case.state, actor=actor[:40],
                    reason=reason[:60], details=details or {}, occurred_at=clock.now()))
    s.flush()


def illegal(case: DisputeCase, action: str) -> Conflict:
    return Conflict(f"The case is {case.state.replace('_', ' ')}; it cannot be {action}.",
                    code="illegal_transition")


# --- the decision clock ----------------------------------------------------------------

def sla_budget() -> timedelta:
    return timedelta(hours=settings().DISPUTE_SLA_HOURS)


def seconds_left(case: DisputeCase, now: datetime) -> int | None:
    """Active decision time left (negative once breached); None before the clock starts
    or after the case closed."""
    if case.state in CLOSED_STATES or case.sla_due_at is None:
        return None
    return transitions.seconds_left(case, sla_budget(), now)


def _clock_changes(case: DisputeCase, before: S, to: S, now: datetime) -> dict[str, Any]:
    running_before = before in CLOCK_RUNNING_STATES
    running_after = to in CLOCK_RUNNING_STATES
    if running_after and not running_before:
        if case.sla_due_at is None:
            return transitions.clock_started(sla_budget(), now)
        return transitions.clock_resumed(case, sla_budget(), now)
    if running_before and not running_after:
        return transitions.clock_paused(case, now)
    return {}
