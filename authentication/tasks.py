"""Authentication timers and sweeps: the photo-request deadline and SLA breaches."""
from __future__ import annotations

import logging
from datetime import datetime

from authentication import decisions, sla
from foundation import db, jobs

log = logging.getLogger(__name__)
# Operational cadences, not review rules: breaches are flagged within this long, and a
# photo-request timer lost from Redis is made up for by the same sweep.


@jobs.job(queue="scheduled")
def reject_unanswered_photo_request(request_id: int, deadline: str) -> bool:
    return decisions.reject_for_missing_photos(db.session(), request_id,
                                               datetime.fromisoformat(deadline))


@jobs.job(queue="scheduled")
def sweep_authentication_sla() -> dict[str, int]:
    s = db.session()
    rejected = sum(decisions.reject_for_missing_photos(s, request_id)
                   for request_id in decisions.overdue_photo_request_ids(s))
    breached = sla.flag_breaches(s)
    if rejected or breached:
        log.info("authentication sweep: %d breaches flagged, %d photo requests rejected",
                 breached, rejected)
    return {"breached": breached, "rejected": rejected}
