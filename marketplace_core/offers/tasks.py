"""Offer expiry: a timer per (offer, state, deadline), and a sweep for lost timers."""
from __future__ import annotations

import logging
from datetime import datetime

from foundation import db, jobs
from marketplace_core.offers import machine

log = logging.getLogger(__name__)
# How often the sweep looks for offers whose timer was lost (an operational cadence, not
# a marketplace rule: an offer is never accepted after its deadline either way, because
# acceptance checks the deadline itself).


@jobs.job(queue="scheduled")
def expire_offer(offer_id: int, state: str, deadline: str) -> bool:
    """Fired at the deadline; re-checks everything, so a stale or repeated timer is a no-op."""
    return machine.expire(db.session(), offer_id, state, datetime.fromisoformat(deadline))


@jobs.job(queue="scheduled")
def sweep_expired_offers() -> int:
    s = db.session()
    expired = sum(machine.expire(s, offer_id) for offer_id in machine.overdue_offer_ids(s))
    if expired:
        log.info("offer sweep expired %d offers whose timers were lost", expired)
    return expired
