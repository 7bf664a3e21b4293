"""SLA breaches: a request whose active review time ran out is flagged once, raised to
the top of its queue and audited as the system."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authentication import machine
from authentication.models import CLOCK_RUNNING_STATES, AuthenticationRequest
from foundation import clock
from foundation.audit.services import record
from foundation.casework import SYSTEM

R = AuthenticationRequest
BREACHED_PRIORITY = 2  # above photo requeues (1) and the rest (0)


def breached_request_ids(s: Session, limit: int = 500) -> list[int]:
    return list(s.scalars(select(R.id).where(
        R.state.in_(CLOCK_RUNNING_STATES), R.sla_breached_at.is_(None),
        R.sla_due_at <= clock.now()).order_by(R.sla_due_at).limit(limit)))


def flag_breach(s: Session, request_id: int) -> bool:
    """Flag one breach; a second run (or a paused clock) finds nothing to do."""
    now = clock.now()
    result = s.execute(update(R).where(
        R.id == request_id, R.state.in_(CLOCK_RUNNING_STATES), R.sla_breached_at.is_(None),
        R.sla_due_at <= now).values(sla_breached_at=now, priority=BREACHED_PRIORITY,
                                    updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    request = s.get(R, request_id)
    s.refresh(request)
    machine.log(s, request, request.state, SYSTEM, "sla_breached",
                {"sla_due_at": request.sla_due_at.isoformat()})
    record(s, None, "authentication.sla_breached", "authentication_request", request_id,
           before={"priority": None, "sla_breached_at": None},
           after={"priority": BREACHED_PRIORITY, "sla_breached_at": now})
    return True


def flag_breaches(s: Session) -> int:
    return sum(flag_breach(s, request_id) for request_id in breached_request_ids(s))
