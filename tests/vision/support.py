"""Running the vision jobs and reading what the pipeline stored, for the pipeline tests (the
product photos and listings come from tests.builders)."""
from __future__ import annotations

import dataclasses

from sqlalchemy import select

from foundation import db, jobs
from vision.models import DuplicateFlag, PhotoSignature

VISION_QUEUES = ["photos", "vision"]   # an upload's signing, then the rest of vision


def run_vision_jobs() -> int:
    return jobs.run_pending(VISION_QUEUES)


def vision_queue_length() -> int:
    return sum(jobs.queue(name).count for name in VISION_QUEUES)


def queued_signing_jobs() -> int:
    """Signing jobs waiting on the photos queue."""
    return sum(job.args[0].endswith("sign_stored_photo") for job in jobs.queue("photos").jobs)


def flags() -> list[DuplicateFlag]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(DuplicateFlag).order_by(DuplicateFlag.id)))


def signature_rows() -> list[PhotoSignature]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(PhotoSignature).order_by(PhotoSignature.photo_id)))


def with_pipeline(settings):
    return dataclasses.replace(settings, VISION_SIGN_ON_UPLOAD=True)
