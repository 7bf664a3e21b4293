"""Reactions to marketplace events: each marks the listing for scoring in the change's own
transaction, and enqueues the scoring job for after the commit."""
from __future__ import annotations

from sqlalchemy.orm import Session

from vision.counterfeit import pending
from vision.counterfeit.tasks import enqueue_scoring


def score_later(s: Session, *, listing_id: int, **_: object) -> None:
    pending.mark(s, listing_id)
    enqueue_scoring(listing_id)
