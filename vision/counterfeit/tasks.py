"""The scoring job: enqueued (ids only, after commit) when a listing's photos are stored,
when it enters authentication and when it goes live."""
from __future__ import annotations

from dataclasses import asdict

from foundation import db, jobs
from vision.counterfeit import services


@jobs.job(queue="vision")
def score_listing_risk(listing_id: int) -> dict:
    return asdict(services.score_listing(db.session(), listing_id))


def enqueue_scoring(listing_id: int) -> None:
    # One waiting job per listing: a burst of photo uploads is scored once.
    score_listing_risk.enqueue(listing_id, job_id=f"counterfeit-score-{listing_id}")
