"""Reading the registry's audit trail back in a fresh session."""
from __future__ import annotations

from sqlalchemy import select

from foundation import db
from foundation.audit.models import AuditEvent


def audit_actions(prefix: str = "vision.") -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)))
