"""Writing the audit trail.  Call `record()` inside the same unit of work as the change.

The web layer fills `context` (address, user agent, request id) per request, so
that domain services can stay free of Flask.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from foundation.audit.models import AuditEvent
from foundation.jobs import current_job_id
from foundation.staff.models import StaffUser


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


context: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "audit_context", default=AuditContext())  # noqa: B039 - frozen, so sharing is safe


def record(s: Session, actor: StaffUser | None, action: str, object_type: str,
           object_id: Any = None, *, before: dict | None = None,
           after: dict | None = None, actor_label: str | None = None) -> AuditEvent:
    ctx = context.get()
    job_id = current_job_id.get()
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.email if actor else "system"),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_jsonable(before),
        after=_jsonable(after),
        ip=ctx.ip,
        user_agent=(ctx.user_agent or "")[:255] or None,
        request_id=ctx.request_id,
        job_id=None if job_id == "-" else job_id,
    )
    s.add(event)
    s.flush()
    return event


def snapshot(obj: Any, *names: str) -> dict[str, Any]:
    """The named attributes of `obj`, for before/after records."""
    return {name: getattr(obj, name) for name in names}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)
