"""Reactions to marketplace events: each enqueues the scoring job for after the commit."""
from __future__ import annotations

from sqlalchemy.orm import Session

from vision.counterfeit.tasks import enqueue_scoring


def score_later(s: Session, *, listing_id: int, **_: object) -> None:
    enqueue_scoring(listing_id)
