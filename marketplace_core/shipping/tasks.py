"""The late-shipment sweep: labels still without a carrier scan after
SHIPPING_LATE_SCAN_DAYS are flagged once (a signal for seller trust)."""
from __future__ import annotations

import logging

from foundation import db, jobs
from marketplace_core.shipping import services

log = logging.getLogger(__name__)
# How often to look (an operational cadence; the rule's number of days is in settings).


@jobs.job(queue="scheduled")
def flag_late_shipments() -> int:
    flagged = services.flag_late_shipments(db.session())
    if flagged:
        log.info("late-shipment sweep flagged %d shipments", len(flagged))
    return len(flagged)
