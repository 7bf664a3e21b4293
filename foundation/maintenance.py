"""Housekeeping sweeps of the foundation itself."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_

from foundation import clock, db
from foundation.jobs import job
from foundation.staff.models import StaffSession

KEEP_ENDED_SESSIONS = timedelta(days=30)


@job(queue="scheduled")
def purge_old_sessions() -> int:
    """Drop session rows that ended more than 30 days ago (idempotent)."""
    cutoff = clock.now() - KEEP_ENDED_SESSIONS
    result = db.session().execute(delete(StaffSession).where(or_(
        StaffSession.expires_at < cutoff, StaffSession.revoked_at < cutoff)))
    return result.rowcount or 0
