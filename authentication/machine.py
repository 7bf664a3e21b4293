"""The guarded transition every state change goes through, and the SLA clock.

A transition is foundation.transitions' conditional UPDATE ... WHERE id = ? AND state = ?
AND version = ? [AND more], so two reviewers (or a reviewer and a timer) racing on the
same request cannot both win: the loser matches no row.  Each successful transition
bumps `version` and writes a RequestEvent.  The SLA clock (active time only) is the one
disputes use too, with this queue's budget.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from authentication.models import CLOSED_STATES, AuthenticationRequest, RequestEvent
from authentication.models import RequestState as S
from foundation import clock, transitions
from foundation.config import current as settings
from foundation.errors import Conflict

SYSTEM = "system"


def try_transition(s: Session, request: AuthenticationRequest, to: S, *, actor: str,
                   reason: str, conditions: tuple = (), values: dict[str, Any] | None = None,
                   details: dict[str, Any] | None = None) -> bool:
    """Move `request` from the state it was read in to `to`; False if someone moved it."""
    before = transitions.try_move(s, request, to, closed_states=CLOSED_STATES,
                                  conditions=conditions, values=values)
    if before is None:
        return False
    log(s, request, before, actor, reason, details)
    return True


def log(s: Session, request: AuthenticationRequest, before: str | None, actor: str,
        reason: str, details: dict[str, Any] | None = None) -> None:
    s.add(RequestEvent(request_id=request.id, from_state=before, to_state=request.state,
                       actor=actor, reason=reason[:60], details=details or {},
                       occurred_at=clock.now()))
    s.flush()


def illegal(request: AuthenticationRequest, action: str) -> Conflict:
    return Conflict(f"The request is {request.state}; it cannot be {action}.",
                    code="illegal_transition")


# --- the SLA clock (active time only) ------------------------------------------------

def sla_budget() -> timedelta:
    return timedelta(hours=settings().AUTHENTICATION_SLA_HOURS)


def clock_started(now: datetime) -> dict[str, Any]:
    return {**transitions.clock_started(sla_budget(), now), "paused_at": None}


def clock_paused(request: AuthenticationRequest, now: datetime) -> dict[str, Any]:
    return {**transitions.clock_paused(request, now), "paused_at": now}


def clock_resumed(request: AuthenticationRequest, now: datetime) -> dict[str, Any]:
    return {**transitions.clock_resumed(request, sla_budget(), now), "paused_at": None}


def used_seconds(request: AuthenticationRequest, now: datetime) -> int:
    return transitions.used_seconds(request, now)


def seconds_left(request: AuthenticationRequest, now: datetime) -> int | None:
    """Active time left before the SLA is breached (negative once it is); None when closed."""
    if request.state in CLOSED_STATES:
        return None
    return transitions.seconds_left(request, sla_budget(), now)
