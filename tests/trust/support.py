"""Reading stored trust in a fresh session, and running the queued trust jobs for real."""
from __future__ import annotations

from sqlalchemy import select

from foundation import db, jobs
from tests.builders.rows import row
from trust.recommender import runs
from trust.signals.models import (
    ItemRiskRecord,
    ItemRiskSnapshot,
    SellerTrustRecord,
    SellerTrustSnapshot,
    TrustPending,
)


def run_trust_jobs() -> int:
    """Drain the default queue (where the recompute jobs wait) in this process."""
    return jobs.run_pending(["scheduled", "default"])


def precompute_through_the_queue() -> int:
    """Start a precompute run and let the worker carry it out; the run's id."""
    with db.unit_of_work() as s:
        run_id = runs.start_run(s, "precompute", "test").id
    jobs.run_pending(["default"])
    return run_id


def _read(fn):
    db.session.remove()
    s = db.session()
    try:
        return fn(s)
    finally:
        db.session.remove()


def seller_record(seller_id: int) -> SellerTrustRecord | None:
    return row(SellerTrustRecord, seller_id)


def item_record(listing_id: int) -> ItemRiskRecord | None:
    return row(ItemRiskRecord, listing_id)


def seller_history(seller_id: int) -> list[tuple[float, str, str]]:
    return _read(lambda s: [(r.score, r.tier, r.cause) for r in s.scalars(
        select(SellerTrustSnapshot).where(SellerTrustSnapshot.seller_id == seller_id)
        .order_by(SellerTrustSnapshot.id))])


def item_history(listing_id: int) -> list[tuple[bool, bool, str]]:
    return _read(lambda s: [(r.excluded, r.flagged, r.cause) for r in s.scalars(
        select(ItemRiskSnapshot).where(ItemRiskSnapshot.listing_id == listing_id)
        .order_by(ItemRiskSnapshot.id))])


def marks() -> list[tuple[str, int]]:
    return _read(lambda s: [(m.subject, m.subject_id) for m in s.scalars(
        select(TrustPending).order_by(TrustPending.subject, TrustPending.subject_id))])
