"""A listing changed while its counterfeit score job runs is scored again: every change
that calls for a score marks the listing in its own transaction, a job clears only the
mark it read before scoring, and the sweep enqueues scoring for any mark left behind."""
from __future__ import annotations

from datetime import timedelta

from foundation import clock, db, jobs
from tests.builders.listings import create_listing, upload_photo
from tests.builders.members import register
from vision.counterfeit import pending
from vision.counterfeit.tasks import PENDING_GRACE, sweep_pending_scores


def mark_version(listing_id: int) -> int | None:
    db.session.remove()
    try:
        return pending.version_of(db.session(), listing_id)
    finally:
        db.session.remove()


def queued_scoring_jobs() -> list[str]:
    return [job_id for job_id in jobs.queue("vision").job_ids
            if job_id.startswith("counterfeit-score-")]


def listing_with_photo(client) -> tuple[dict, int]:
    seller = register(client)
    listing = create_listing(client, seller)
    assert upload_photo(client, seller, listing["id"], seed=1).status_code == 201
    return seller, listing["id"]


def test_a_stored_photo_marks_its_listing_and_the_job_clears_the_mark(app, client):
    _, listing_id = listing_with_photo(client)
    assert mark_version(listing_id) == 1
    assert queued_scoring_jobs() == [f"counterfeit-score-{listing_id}"]
    jobs.run_pending(["vision"])
    assert mark_version(listing_id) is None


def test_a_photo_stored_while_the_job_runs_keeps_its_mark_for_the_sweep(app, client):
    seller, listing_id = listing_with_photo(client)
    # The job begins: it reads the mark's version before the listing's photos...
    read_by_job = mark_version(listing_id)
    # ...a second photo is stored and committed meanwhile (its enqueue finds the
    # listing's job still pending, so none is added)...
    assert upload_photo(client, seller, listing_id, seed=2).status_code == 201
    assert queued_scoring_jobs() == [f"counterfeit-score-{listing_id}"]
    # ...and the job ends by clearing the version it read: the newer mark stays.
    with db.unit_of_work() as s:
        assert not pending.clear(s, listing_id, read_by_job)
    assert mark_version(listing_id) == 2

    jobs.queue("vision").empty()             # the job that ran is gone
    clock.freeze(clock.now() + PENDING_GRACE + timedelta(seconds=1))
    with db.unit_of_work():
        assert sweep_pending_scores() == 1
    assert queued_scoring_jobs() == [f"counterfeit-score-{listing_id}"]
    jobs.run_pending(["vision"])
    assert mark_version(listing_id) is None


def test_the_sweep_leaves_fresh_marks_to_their_own_jobs(app, client):
    _, listing_id = listing_with_photo(client)
    jobs.queue("vision").empty()             # an enqueue lost with Redis
    with db.unit_of_work():
        assert sweep_pending_scores() == 0
    clock.freeze(clock.now() + PENDING_GRACE + timedelta(seconds=1))
    with db.unit_of_work():
        assert sweep_pending_scores() == 1
    jobs.run_pending(["vision"])
    assert mark_version(listing_id) is None
