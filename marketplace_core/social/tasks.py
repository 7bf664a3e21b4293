"""Social jobs: the system keeps the next days' Posh Parties scheduled."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock, db
from foundation.jobs import job
from marketplace_core.social.parties import IST, seed_parties_for_day

DAYS_AHEAD = 2  # today and tomorrow, India time


@job(queue="scheduled")
def schedule_parties() -> int:
    """Create today's and tomorrow's parties from the daily schedule.  Idempotent: a slot
    already created (or already over) is skipped, so a repeated run adds nothing."""
    today = clock.now().astimezone(IST).date()
    s = db.session()
    return sum(len(seed_parties_for_day(s, today + timedelta(days=n)))
               for n in range(DAYS_AHEAD))
