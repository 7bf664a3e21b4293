"""The demo's planted duplicates, flagged before anyone opens the console.

The marketplace seed posts some listings with other listings' photos (a shady closet
passing off another seller's shots, a removed fake's photos coming back from another
closet and a new account) and records which in `DemoListingTruth`.
`flag_planted_duplicates` signs the photos of the first of them, of the returning ones
and of the listings they copied, in this process and through the same pipeline as the
worker's jobs, so Vision > Duplicates and the listings' risk show them from the start;
the worker signs every other photo in the background.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace_core.listings.models import ListingPhoto
from marketplace_core.seed.models import DemoListingTruth
from marketplace_core.seed.returning import RETURNING
from vision import pipeline

PLANTED_LIMIT = 24


def planted_photo_ids(s: Session, limit: int = PLANTED_LIMIT) -> list[int]:
    """Photos of the first `limit` copying listings, of every returning one (a removed
    fake's photos back in a new listing: the seed plants those few on purpose), and of
    their sources, oldest first (a source is signed before its copy, so the copy is the
    one flagged)."""
    copies = (select(DemoListingTruth.listing_id, DemoListingTruth.reused_from_listing_id)
              .where(DemoListingTruth.reused_from_listing_id.is_not(None))
              .order_by(DemoListingTruth.listing_id))
    pairs = [*s.execute(copies.limit(limit)),
             *s.execute(copies.where(DemoListingTruth.reuse_kind == RETURNING))]
    listing_ids = {listing_id for pair in pairs for listing_id in pair}
    if not listing_ids:
        return []
    return list(s.scalars(select(ListingPhoto.id).where(
        ListingPhoto.listing_id.in_(listing_ids)).order_by(ListingPhoto.id)))


def flag_planted_duplicates(s: Session, limit: int = PLANTED_LIMIT) -> dict[str, int]:
    """Sign the planted photos now; flushes, the caller commits."""
    outcome = pipeline.sign_photos(s, planted_photo_ids(s, limit))
    return {"signed": outcome.signed, "failed": outcome.failed, "flags": outcome.flags}
