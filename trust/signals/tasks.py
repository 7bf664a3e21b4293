"""The recompute jobs (queue "default"), their enqueueing, and the safety-net sweeps.

    recompute_trust(subject, id)   one seller or listing; enqueued after the commit of the
                                   change that marked it, one waiting job per subject
    rescore_all_trust(cause)       everything, in committed batches (new weights)
    sweep_pending_trust            every 30 s: marks no job cleared (a lost job, or a job
                                   that was already running when the change committed)
    sweep_stale_trust              hourly: sellers not recomputed for a day (account age)
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from foundation import clock, db, jobs

from . import pending, recompute
from .models import SellerTrustRecord, TrustPending

PENDING_GRACE = timedelta(seconds=15)   # leave a fresh mark to its own job
SWEEP_LIMIT = 500
STALE_AFTER = timedelta(days=1)


@jobs.job(queue="default")
def recompute_trust(subject: str, subject_id: int) -> bool:
    return handle(db.session(), subject, subject_id)


def handle(s, subject: str, subject_id: int) -> bool:
    """Recompute one subject and clear the mark it was asked for; True if it recomputed.

    No mark left means a recompute that started after the change committed (the sweep, a
    batch recompute, the demo's seed) already cleared it: the stored trust is current."""
    mark = s.get(TrustPending, (subject, subject_id))
    if mark is None:
        return False
    version, cause = mark.version, mark.cause
    if subject == pending.SELLER:
        found = recompute.recompute_seller(s, subject_id, cause) is not None
    else:
        found = recompute.recompute_listing(s, subject_id, cause) is not None
    pending.clear(s, subject, subject_id, version)
    return found


def enqueue_recompute(subject: str, subject_id: int) -> None:
    # One waiting job per subject: a burst of events is computed once; a change that
    # commits while the job runs keeps its mark, which the sweep picks up.
    recompute_trust.enqueue(subject, subject_id, job_id=pending.job_id(subject, subject_id))


@jobs.job(queue="default", timeout=3600)
def rescore_all_trust(cause: str) -> dict:
    done = recompute.recompute_all(db.session(), cause)
    return {"done": done.done, "total": done.total}


@jobs.job(queue="scheduled")
def sweep_pending_trust() -> int:
    """Recompute, in two batches (sellers, listings), what overdue marks name; each mark
    is cleared only at the version read, as the job does."""
    s = db.session()
    marks = [(m.subject, m.subject_id, m.version) for m in
             pending.overdue(s, PENDING_GRACE, SWEEP_LIMIT)]
    recompute.recompute_sellers(
        s, [i for subject, i, _ in marks if subject == pending.SELLER], "sweep")
    recompute.recompute_listings(
        s, [i for subject, i, _ in marks if subject == pending.LISTING], "sweep")
    for subject, subject_id, version in marks:
        pending.clear(s, subject, subject_id, version)
    return len(marks)


@jobs.job(queue="scheduled")
def sweep_stale_trust() -> int:
    s = db.session()
    ids = list(s.scalars(select(SellerTrustRecord.seller_id).where(
        SellerTrustRecord.computed_at <= clock.now() - STALE_AFTER)
        .order_by(SellerTrustRecord.computed_at).limit(SWEEP_LIMIT)))
    recompute.recompute_sellers(s, ids, "stale")
    return len(ids)
