"""Reactions to marketplace events: each enqueues the scoring job for after the commit."""
from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace_core import events


def _score_later(s: Session, *, listing_id: int, **_: object) -> None:
    from vision.counterfeit.tasks import enqueue_scoring  # tasks -> services -> models

    enqueue_scoring(listing_id)


for _event in (events.PHOTO_STORED, events.LISTING_NEEDS_AUTHENTICATION,
               events.LISTING_WENT_LIVE):
    events.subscribe(_event, _score_later)
