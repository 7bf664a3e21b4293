"""The guarded transition every state change goes through, and the SLA clock.

A transition is one conditional UPDATE ... WHERE id = ? AND state = ? [AND more], so two
reviewers (or a reviewer and a timer) racing on the same request cannot both win: the
loser matches no row.  Each successful transition bumps `version` and writes a
RequestEvent.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from authentication.models import CLOSED_STATES, AuthenticationRequest, RequestEvent
from authentication.models import RequestState as S
from foundation import clock
from foundation.config import current as settings
from foundation.errors import Conflict

SYSTEM = "system"
R = AuthenticationRequest


def try_transition(s: Session, request: AuthenticationRequest, to: S, *, actor: str,
                   reason: str, conditions: tuple = (), values: dict[str, Any] | None = None,
                   details: dict[str, Any] | None = None) -> bool:
    """Move `request` from the state it was read in to `to`; False if someone moved it."""
    now = clock.now()
    before = request.state
    changes: dict[str, Any] = {"state": to, "updated_at": now, "version": R.version + 1,
                               **(values or {})}
    if to in CLOSED_STATES:
        changes["closed_at"] = now
    result = s.execute(update(R).where(R.id == request.id, R.state == before,
                                       R.version == request.version, *conditions)
                       .values(**changes).execution_options(synchronize_session=False))
    s.refresh(request)
    if result.rowcount != 1:
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
    return {"sla_used_seconds": 0, "sla_running_since": now, "paused_at": None,
            "sla_due_at": now + sla_budget()}


def clock_paused(request: AuthenticationRequest, now: datetime) -> dict[str, Any]:
    return {"sla_used_seconds": used_seconds(request, now), "sla_running_since": None,
            "paused_at": now}


def clock_resumed(request: AuthenticationRequest, now: datetime) -> dict[str, Any]:
    remaining = sla_budget() - timedelta(seconds=request.sla_used_seconds)
    return {"sla_running_since": now, "paused_at": None, "sla_due_at": now + remaining}


def used_seconds(request: AuthenticationRequest, now: datetime) -> int:
    running = 0
    if request.sla_running_since is not None:
        running = int((now - request.sla_running_since).total_seconds())
    return request.sla_used_seconds + max(running, 0)


def seconds_left(request: AuthenticationRequest, now: datetime) -> int | None:
    """Active time left before the SLA is breached (negative once it is); None when closed."""
    if request.state in CLOSED_STATES:
        return None
    return int(sla_budget().total_seconds()) - used_seconds(request, now)
