"""Case timers and the sweep that catches lost ones (see timers.py for the rules)."""
from __future__ import annotations

import logging

from disputes import returns, timers
from foundation import db, jobs

log = logging.getLogger(__name__)
# How often the beat re-checks every deadline, stale case and SLA; the deadlines
# themselves come from settings.


@jobs.job(queue="scheduled")
def seller_response_due(case_id: int) -> bool:
    return timers.seller_response_due(db.session(), case_id)


@jobs.job(queue="scheduled")
def info_due(case_id: int) -> bool:
    return timers.info_due(db.session(), case_id)


@jobs.job(queue="scheduled")
def return_not_shipped(case_id: int) -> bool:
    return returns.return_not_shipped(db.session(), case_id)


@jobs.job(queue="scheduled")
def inspection_due(case_id: int) -> bool:
    return returns.inspection_window_ended(db.session(), case_id)


TIMER_JOBS = {"seller_response_due": seller_response_due, "info_due": info_due,
              "return_not_shipped": return_not_shipped, "inspection_due": inspection_due}


@jobs.job(queue="scheduled")
def sweep_disputes() -> dict[str, int]:
    """Enqueue the timer job of every overdue deadline (each re-checks when it runs),
    then flag stale cases and SLA breaches."""
    s = db.session()
    found = timers.overdue(s)
    for purpose, case_ids in found.items():
        for case_id in case_ids:
            TIMER_JOBS[purpose].enqueue(case_id)
    counts = {purpose: len(case_ids) for purpose, case_ids in found.items()}
    counts.update(timers.flag_stale(s))
    if any(counts.values()):
        log.info("disputes sweep: %s", counts)
    return counts
