"""The listings whose counterfeit risk matters now, and rescoring them all."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import jobs
from marketplace_core.listings.models import Listing, ListingStatus

RESCORE_BATCH = 64
# Named, not imported: vision.counterfeit.tasks imports the services that import this.
SCORE_LISTINGS_RISK = jobs.named("vision.counterfeit.tasks.score_listings_risk")


def watched_listing_ids(s: Session) -> list[int]:
    """Listings whose risk matters now: live ones and those waiting for authentication."""
    return list(s.scalars(select(Listing.id).where(Listing.status.in_(
        (ListingStatus.LIVE, ListingStatus.PENDING_AUTHENTICATION))).order_by(Listing.id)))


def enqueue_rescoring(s: Session) -> int:
    """Batches of RESCORE_BATCH watched listings (live, or waiting for review),
    enqueued after the caller commits; returns how many listings."""
    ids = watched_listing_ids(s)
    for start in range(0, len(ids), RESCORE_BATCH):
        SCORE_LISTINGS_RISK.enqueue(ids[start:start + RESCORE_BATCH])
    return len(ids)
