"""A production worker forks a work horse per job: before it forks, the worker holds the
embedding model (run once, on one thread) and the duplicate index, and its horses sign
photos with them.  Real `flask worker` processes: the test process itself has run torch
on its thread pool, and a fork of it would hang."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from foundation import clock, db, jobs
from foundation.config import PROJECT_ROOT
from marketplace_core.listings.models import ListingPhoto
from marketplace_core.listings.photos import store
from marketplace_core.media import inspect_and_normalise
from tests.builders.listings import create_listing, post_listing
from tests.builders.members import register
from tests.builders.photos import photo_bytes
from tests.helpers import worker_env
from tests.vision.support import VISION_QUEUES, flags, signature_rows
from vision import pipeline
from vision.models import SignatureState

PATIENCE_SECONDS = 240   # what a worker on a loaded machine may take; not a measurement
WARM_UPS = ("hold_model", "hold_duplicate_index")


def test_only_vision_workers_hold_the_model_and_the_index(app):
    """The warm-ups' queues, without running them here (they would put this process's
    torch on one thread)."""
    held = jobs.registered_warm_ups()
    assert {name: held[name] for name in WARM_UPS} == {
        name: frozenset(VISION_QUEUES) for name in WARM_UPS}
    assert jobs.warm_up(["default", "scheduled"]) == []


def test_a_bursting_worker_signs_uploads_with_what_it_held(client, app, settings):
    seller = register(client)
    post_listing(client, seller, photo_bytes(0), photo_bytes(1))
    assert jobs.queue("photos").count >= 2
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues",
         ",".join(VISION_QUEUES), "--burst"], cwd=PROJECT_ROOT,
        env=worker_env(app, settings), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in WARM_UPS:
        assert f"warmed {name}" in result.stderr
    rows = signature_rows()
    assert len(rows) == 2 and {row.state for row in rows} == {"indexed"}
    assert jobs.queue("photos").count == 0


@pytest.fixture
def worker(app, settings, tmp_path):
    """A long-lived production worker on the vision queues (its beat once an hour, so no
    sweep signs what the test means a job to sign), stopped after the test."""
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues",
             ",".join(VISION_QUEUES)], cwd=PROJECT_ROOT,
            env=worker_env(app, settings, PERIODIC_BEAT_SECONDS="3600"),
            stdout=log, stderr=subprocess.STDOUT)
    yield process, log_path
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(worker, what: Callable[[], bool], description: str) -> None:
    process, log_path = worker
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not what():
        assert process.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, (
            f"{description}: not within {PATIENCE_SECONDS} s\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)


def indexed(photo_id: int) -> bool:
    return any(row.photo_id == photo_id and row.state == SignatureState.INDEXED
               for row in signature_rows())


def flagged(photo_id: int) -> bool:
    return any(flag.photo_id == photo_id for flag in flags())


def idle() -> bool:
    """Nothing queued or running on the vision queues: the worker's copy of the index
    stays as it is until the next job."""
    return all(jobs.queue(name).count == 0
               and StartedJobRegistry(queue=jobs.queue(name)).count == 0
               for name in VISION_QUEUES)


def stored_photo_without_its_job(s, listing_id: int, data: bytes) -> int:
    image = inspect_and_normalise(data)
    photo = ListingPhoto(listing_id=listing_id, position=0, media_key=store().save(image),
                         width=image.width, height=image.height, created_at=clock.now())
    s.add(photo)
    s.flush()
    return photo.id


def photo_ids(listing: dict) -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(ListingPhoto.id).where(
            ListingPhoto.listing_id == listing["id"]).order_by(ListingPhoto.id)))


def test_each_job_finds_the_photos_earlier_jobs_and_other_workers_indexed(
        client, worker):
    """One worker's horses, one after another: the second job's query finds the photo the
    first indexed (the worker caught its copy up between them); then a photo indexed by
    another process (this one), which the worker's copy does not hold, is found by the
    next horse, which catches the copy up from the index's journal.  And the worker
    never hangs in a horse's first torch or FAISS kernel."""
    owner, thief = register(client), register(client)
    [original] = photo_ids(post_listing(client, owner, photo_bytes(0)))
    wait_for(worker, lambda: indexed(original), "the original signed by the worker")

    [copy] = photo_ids(post_listing(client, thief, photo_bytes(0, "crop_10")))
    wait_for(worker, lambda: indexed(copy), "the copy signed by the worker")
    assert flagged(copy)

    wait_for(worker, idle, "the worker done with the uploads' other jobs")
    with db.unit_of_work() as s:   # no PhotoStored, so no job: this process signs it
        other = stored_photo_without_its_job(s, create_listing(client, owner)["id"],
                                             photo_bytes(3))
        assert pipeline.sign_photos(s, [other]).signed == 1
    [second_copy] = photo_ids(post_listing(client, thief, photo_bytes(3, "jpeg_50")))
    wait_for(worker, lambda: indexed(second_copy), "the second copy signed by the worker")
    assert flagged(second_copy)

    process, log_path = worker
    log = log_path.read_text()
    for name in WARM_UPS:
        assert f"warmed {name}" in log
    assert process.poll() is None
