"""Reactions to marketplace events; they run inside the emitting transaction, so a
request exists exactly when the listing's pending status does."""
from __future__ import annotations

from sqlalchemy.orm import Session

from authentication import intake


def open_or_reuse_request(s: Session, *, listing_id: int, reason: str) -> None:
    intake.listing_needs_review(s, listing_id, reason)


def requeue_when_photos_arrive(s: Session, *, listing_id: int, photo_id: int) -> None:
    intake.photos_uploaded(s, listing_id)


def cancel_when_listing_removed(s: Session, *, listing_id: int, reason: str) -> None:
    intake.listing_left_review(s, listing_id, "listing_removed")


def cancel_when_live_without_review(s: Session, *, listing_id: int) -> None:
    # Our own approval closes the request before the listing goes live, so an open
    # request here means the price fell to the threshold or below: nothing to review.
    intake.listing_left_review(s, listing_id, "listing_live_below_threshold")
