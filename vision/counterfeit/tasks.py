"""The scoring job: enqueued (ids only, after commit) when a listing's photos are stored,
when it enters authentication and when it goes live."""
from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from foundation import db, jobs
from vision.counterfeit import services


@jobs.job(queue="vision")
def score_listing_risk(listing_id: int) -> dict:
    return asdict(services.score_listing(db.session(), listing_id))


def enqueue_rescoring(s: Session) -> int:
    """One scoring job per listing a buyer could see or that waits for review (each
    its own short transaction), enqueued after the caller commits."""
    ids = services.watched_listing_ids(s)
    for listing_id in ids:
        enqueue_scoring(listing_id)
    return len(ids)


def enqueue_scoring(listing_id: int) -> None:
    # One waiting job per listing: a burst of photo uploads is scored once.
    score_listing_risk.enqueue(listing_id, job_id=f"counterfeit-score-{listing_id}")
