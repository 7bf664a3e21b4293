"""The scoring jobs: one listing, enqueued (id only, after commit) when its photos are
stored, when it enters authentication and when it goes live; and batches, when a new
champion rescores every watched listing.  A forked work horse reads the champion model
once per job (the worker already holds the embedding network, vision.prefork), so a
rescore of thousands of listings goes in batches, scored
SCORE_BATCH listings at a time (their photos through the network together), each chunk
committed on its own so that a long batch never holds the database's write lock.

Every change that calls for a score leaves a mark (vision.counterfeit.pending) in its own
transaction; a job clears the mark at the version it read before scoring, and
`sweep_pending_scores` enqueues scoring for marks left behind: a photo stored while its
listing's job runs finds that job still pending, so no second one is queued, but its
mark outlives the running job and the sweep scores the listing again."""
from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from sqlalchemy.orm import Session

from foundation import db, jobs
from vision.counterfeit import pending, services, watched

PENDING_GRACE = timedelta(seconds=15)   # leave a fresh mark to its own job
SWEEP_LIMIT = 500
SCORE_BATCH = 32   # listings scored together: one network pass, one commit


@jobs.job(queue="vision")
def score_listing_risk(listing_id: int) -> dict:
    """Score a listing a change marked; none left means a scoring that started after the
    change (the sweep's, a batch's, the demo seed's) already cleared it."""
    s = db.session()
    if pending.version_of(s, listing_id) is None:
        return asdict(services.Outcome(listing_id, "unchanged"))
    return asdict(score_and_clear(s, listing_id))


def score_and_clear(s: Session, listing_id: int) -> services.Outcome:
    return score_and_clear_batch(s, [listing_id])[0]


def score_and_clear_batch(s: Session, listing_ids: list[int]) -> list[services.Outcome]:
    """Score the listings and clear their marks, unless marked again meanwhile: the
    versions are read before the listings' photos are, so a change that commits after the
    read bumps its version and keeps its mark."""
    versions = pending.versions_of(s, listing_ids)
    outcomes = services.score_listings(s, listing_ids)
    for listing_id, version in versions.items():
        pending.clear(s, listing_id, version)
    return outcomes


@jobs.job(queue="vision", timeout=1800)
def score_listings_risk(listing_ids: list[int]) -> dict:
    """A rescoring batch (a new champion): scored in chunks of SCORE_BATCH, each
    committed, so that a long batch never holds the database's write lock for long."""
    return score_in_batches(db.session(), listing_ids)


def score_watched_now(s: Session, progress=None) -> dict[str, int]:
    """Score every watched listing in this process (after a seed or an import, so risk
    shows before a worker gets to it); the marks are cleared, so the jobs the same changes
    queued find the score current."""
    listing_ids = watched.watched_listing_ids(s)
    outcomes = score_in_batches(s, listing_ids, progress)
    # Their jobs would find the marks gone: delete them rather than fork for nothing.
    marked = pending.versions_of(s, listing_ids)
    jobs.discard_waiting(scoring_job_id(listing_id) for listing_id in listing_ids
                         if listing_id not in marked)
    return outcomes


def score_in_batches(s: Session, listing_ids: list[int], progress=None) -> dict[str, int]:
    """Score SCORE_BATCH listings at a time (their photos through the network together),
    committing each batch; counts of the outcomes' statuses."""
    outcomes: dict[str, int] = {}
    for start in range(0, len(listing_ids), SCORE_BATCH):
        for outcome in score_and_clear_batch(s, listing_ids[start:start + SCORE_BATCH]):
            outcomes[outcome.status] = outcomes.get(outcome.status, 0) + 1
        s.commit()
        if progress is not None:
            progress(min(start + SCORE_BATCH, len(listing_ids)), len(listing_ids))
    return outcomes


def scoring_job_id(listing_id: int) -> str:
    return f"counterfeit-score-{listing_id}"


def enqueue_scoring(listing_id: int) -> None:
    # One waiting job per listing: a burst of photo uploads is scored once.
    score_listing_risk.enqueue(listing_id, job_id=scoring_job_id(listing_id))


@jobs.job(queue="scheduled")
def sweep_pending_scores() -> int:
    """Enqueue scoring (on the vision queue, where the model is loaded) for every mark no
    job cleared within the grace; a listing whose job is still waiting or running is
    left to the next sweep."""
    listing_ids = pending.overdue(db.session(), PENDING_GRACE, SWEEP_LIMIT)
    for listing_id in listing_ids:
        enqueue_scoring(listing_id)
    return len(listing_ids)
