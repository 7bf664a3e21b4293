"""The scoring jobs: one listing, enqueued (id only, after commit) when its photos are
stored, when it enters authentication and when it goes live; and batches, when a new
champion rescores every watched listing.  A forked work horse loads the image model once
per job (seconds), so a rescore of thousands of listings goes in batches, each listing
committed on its own so that a long batch never holds the database's write lock."""
from __future__ import annotations

from dataclasses import asdict

from foundation import db, jobs
from vision.counterfeit import services


@jobs.job(queue="vision")
def score_listing_risk(listing_id: int) -> dict:
    return asdict(services.score_listing(db.session(), listing_id))


@jobs.job(queue="vision", timeout=1800)
def score_listings_risk(listing_ids: list[int]) -> dict:
    s = db.session()
    outcomes: dict[str, int] = {}
    for listing_id in listing_ids:
        status = services.score_listing(s, listing_id).status
        s.commit()
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


def enqueue_scoring(listing_id: int) -> None:
    # One waiting job per listing: a burst of photo uploads is scored once.
    score_listing_risk.enqueue(listing_id, job_id=f"counterfeit-score-{listing_id}")
