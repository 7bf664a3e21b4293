"""Vision jobs and the marketplace events that start them.  An upload's own jobs (signing,
forgetting a removed photo) are on the "photos" queue, which a worker takes before
"vision": they never wait behind risk scoring, a re-index or a case comparison.

PhotoStored -> sign_stored_photo(photo_id), enqueued after the upload commits (the
event's handler runs inside the upload's transaction; `Task.enqueue` defers the enqueue
to its commit and drops it on rollback). PhotoRemoved -> forget_removed_photo(photo_id).
Both re-check the database first, so a second delivery changes nothing. A periodic
sweep signs photos whose job was lost. CasePhotosAdded from a buyer ->
compare_case_photos(case_id): the buyer's photos against the listing's as sold.

Every process loads this module (the composition root lists it), web included.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from disputes.models import Party
from foundation.config import current as settings
from foundation.db import session
from foundation.jobs import in_work_horse, job, warm_in_worker
from vision import case_photos, catalogue, pipeline, prefork, reindex

log = logging.getLogger(__name__)
CATCH_UP_BATCH = 64  # one index save per batch
CATCH_UP_CASES = 20
COMPARISON_GRACE = timedelta(minutes=5)  # a comparison's own job usually runs by then


# The worker holds the model and the index before it forks (vision.prefork): a horse
# signs an upload without loading either.
warm_in_worker("photos", "vision")(prefork.hold_model)
warm_in_worker("photos", "vision")(prefork.hold_duplicate_index)
in_work_horse(prefork.set_job_threads)


@job(queue="photos", timeout=900)
def sign_stored_photo(photo_id: int) -> dict:
    """Sign this photo, and catch up on other unsigned ones in the same batch (a burst of
    uploads costs one index save per batch, not per photo). When an earlier job's batch
    already signed it, this returns before loading the image stack."""
    s = session()
    if catalogue.is_signed_and_current(s, photo_id):
        return {"signed": 0, "failed": 0, "flags": 0, "skipped": 1}
    ids = catalogue.unsigned_photo_ids(s, first=photo_id, limit=CATCH_UP_BATCH)
    outcome = pipeline.sign_photos(s, ids)
    return {"signed": outcome.signed, "failed": outcome.failed, "flags": outcome.flags,
            "skipped": outcome.skipped}


@job(queue="vision", timeout=900)
def sign_forgotten_photos() -> dict:
    """The sweep for photos whose job was lost (a worker killed mid-batch leaves them
    unsigned, claimed until the claim lapses): sign the oldest unsigned batch. Off with
    automatic signing (VISION_SIGN_ON_UPLOAD); a re-index does it by hand then."""
    if not settings().VISION_SIGN_ON_UPLOAD:
        return {"signed": 0, "failed": 0, "flags": 0}
    s = session()
    ids = catalogue.unsigned_photo_ids(s, limit=CATCH_UP_BATCH)
    if not ids:
        return {"signed": 0, "failed": 0, "flags": 0}
    outcome = pipeline.sign_photos(s, ids)
    return {"signed": outcome.signed, "failed": outcome.failed, "flags": outcome.flags}


@job(queue="photos")
def forget_removed_photo(photo_id: int) -> bool:
    return pipeline.forget_photo(session(), photo_id)


@job(queue="vision", timeout=24 * 3600)
def run_reindex(run_id: int) -> str:
    """Work a re-index run (started from the console or the API) to its end."""
    return reindex.advance(run_id).state


@job(queue="vision", timeout=900)
def compare_case_photos(case_id: int) -> dict:
    """Compare the case's buyer photos not compared yet with the listing's as sold."""
    outcome = case_photos.compare_case(session(), case_id)
    return {"compared": outcome.compared, "failed": outcome.failed,
            "skipped": outcome.skipped}


@job(queue="vision", timeout=900)
def compare_forgotten_case_photos() -> dict:
    """The sweep for comparisons whose job was lost: the oldest cases with a buyer photo
    not compared yet (a photo that cannot be compared gets a failed row, so it is not
    tried again)."""
    if not settings().VISION_SIGN_ON_UPLOAD:
        return {"cases": 0}
    s = session()
    case_ids = case_photos.cases_not_compared(s, older_than=COMPARISON_GRACE,
                                              limit=CATCH_UP_CASES)
    for case_id in case_ids:
        case_photos.compare_case(s, case_id)
    return {"cases": len(case_ids)}


def compare_case_photos_later(s: Session, *, case_id: int, party: str) -> None:
    """Only the buyer's photos are compared (the seller's show the item as sent)."""
    if party == Party.BUYER and settings().VISION_SIGN_ON_UPLOAD:
        compare_case_photos.enqueue(case_id)


def sign_after_commit(s: Session, *, listing_id: int, photo_id: int) -> None:
    if settings().VISION_SIGN_ON_UPLOAD:
        sign_stored_photo.enqueue(photo_id)


def forget_after_commit(s: Session, *, listing_id: int, photo_id: int) -> None:
    forget_removed_photo.enqueue(photo_id)
