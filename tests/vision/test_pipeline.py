"""The vision pipeline end to end on real parts: uploads through the member API, the job on
the real RQ worker after commit, real signatures of generated product photos, the FAISS
index on disk, flags in the database."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from foundation import db, jobs
from marketplace_core.listings import services as listings
from marketplace_core.listings.models import Listing, ListingPhoto
from marketplace_core.listings.photos import store
from marketplace_core.media import inspect_and_normalise
from marketplace_core.members.models import Member
from tests.builders.listings import post_listing
from tests.builders.members import register
from tests.builders.model_versions import train_version
from tests.builders.photos import photo_bytes
from tests.vision.support import (
    flags,
    queued_signing_jobs,
    run_vision_jobs,
    signature_rows,
    vision_queue_length,
)
from vision import tasks
from vision.index import DuplicateIndex
from vision.index_store import forget_cached_index, index_directory
from vision.models import FlagKind, SignatureState


def test_an_upload_is_signed_by_a_job_enqueued_after_it_commits(client):
    seller = register(client)
    listing = post_listing(client, seller, photo_bytes(0))
    assert queued_signing_jobs() == 1
    assert signature_rows() == []           # nothing is signed inside the request
    run_vision_jobs()
    [row] = signature_rows()
    assert row.state == SignatureState.INDEXED
    assert row.listing_id == listing["id"] and row.seller_id == seller["id"]
    assert len(row.pdq) == 32 and len(row.phash) == 8 and len(row.embedding) == 1280 * 4
    index = DuplicateIndex.load(index_directory())
    assert row.photo_id in index and len(index) == 1


def test_a_rolled_back_upload_enqueues_nothing(client):
    seller = register(client)
    listing = post_listing(client, seller, photo_bytes(0), publish=False)
    run_vision_jobs()
    image = inspect_and_normalise(photo_bytes(1))
    key = store().save(image)
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        member = s.get(Member, seller["id"])
        photo = listings.add_photo(s, member, s.get(Listing, listing["id"]), media_key=key,
                                   width=image.width, height=image.height)
        assert photo.id is not None       # the event fired inside this transaction ...
        raise RuntimeError("the request fails after the photo was added")
    assert vision_queue_length() == 0      # ... but its job was never enqueued
    assert len(signature_rows()) == 1


def test_running_the_job_again_changes_nothing(client):
    owner, thief = register(client), register(client)
    post_listing(client, owner, photo_bytes(0))
    post_listing(client, thief, photo_bytes(0, "crop_10"))
    run_vision_jobs()
    before_rows = [(r.photo_id, r.computed_at, r.pdq) for r in signature_rows()]
    before_flags = [(f.id, f.kind, f.group_id) for f in flags()]
    assert len(before_flags) == 1
    for photo_id, _, _ in before_rows:      # at-least-once delivery: every job again
        tasks.sign_stored_photo.enqueue_now(photo_id)
    assert run_vision_jobs() == 2
    assert [(r.photo_id, r.computed_at, r.pdq) for r in signature_rows()] == before_rows
    assert [(f.id, f.kind, f.group_id) for f in flags()] == before_flags
    assert len(DuplicateIndex.load(index_directory())) == 2


def test_each_kind_of_duplicate_is_flagged_and_grouped(client, staff):
    owner, thief, returner = register(client), register(client), register(client)
    original = post_listing(client, owner, photo_bytes(0), photo_bytes(1))
    spam = post_listing(client, owner, photo_bytes(0, "flip"))
    stolen = post_listing(client, thief, photo_bytes(1, "pad_20"))
    unrelated = post_listing(client, thief, photo_bytes(2))
    fake = post_listing(client, owner, photo_bytes(3))
    run_vision_jobs()
    with db.unit_of_work() as s:   # staff take the fake down; it comes back elsewhere
        listings.remove_by_staff(s, s.get(Listing, fake["id"]), actor=None,
                                 reason="counterfeit")
    returning = post_listing(client, returner, photo_bytes(3, "rotate_4"))
    run_vision_jobs()

    found = {(f.kind, f.listing_id, f.matched_listing_id) for f in flags()}
    assert found == {
        (FlagKind.SELLER_SPAM, spam["id"], original["id"]),
        (FlagKind.STOLEN_PHOTO, stolen["id"], original["id"]),
        (FlagKind.RETURNING_REMOVED, returning["id"], fake["id"]),
    }
    groups = {f.kind: f.group_id for f in flags()}
    assert groups[FlagKind.SELLER_SPAM] == groups[FlagKind.STOLEN_PHOTO] == original["id"]
    assert groups[FlagKind.RETURNING_REMOVED] == fake["id"]
    assert unrelated["id"] not in {i for f in flags() for i in (f.listing_id,
                                                                f.matched_listing_id)}
    for flag in flags():
        assert flag.score >= 0.97 and flag.evidence["alignment"] != "none"


def test_the_index_is_rebuilt_from_the_database_when_lost_or_damaged(client):
    owner, thief = register(client), register(client)
    post_listing(client, owner, photo_bytes(0))
    run_vision_jobs()
    directory = index_directory()
    (directory / "manifest.json").write_text("{not json")   # damaged on disk
    forget_cached_index()                                    # a fresh worker process
    stolen = post_listing(client, thief, photo_bytes(0, "jpeg_50"))
    run_vision_jobs()
    assert [f.listing_id for f in flags()] == [stolen["id"]]   # matched the rebuilt entry
    assert len(DuplicateIndex.load(directory)) == 2


def test_another_workers_save_is_seen_not_overwritten(client):
    """Two workers (two in-memory copies): the second reloads before it changes anything,
    so neither loses the other's photos."""
    owner, thief = register(client), register(client)
    post_listing(client, owner, photo_bytes(0))
    run_vision_jobs()                       # "worker 1" holds the index in memory
    from vision import index_store
    stale = dict(index_store._cache)
    post_listing(client, owner, photo_bytes(1))
    forget_cached_index()                   # "worker 2" signs the second photo
    run_vision_jobs()
    index_store._cache.update(stale)        # back in worker 1, whose copy is now stale
    post_listing(client, thief, photo_bytes(1, "resize_0.5"))
    run_vision_jobs()
    assert len(flags()) == 1
    assert len(DuplicateIndex.load(index_directory())) == 3
    # worker 1 caught up from the journal: the same copy, not a reload
    assert index_store._cache[index_directory()] is stale[index_directory()]
    assert len(stale[index_directory()].index) == 3


def test_a_removed_photo_leaves_the_index(client):
    seller = register(client)
    listing = post_listing(client, seller, photo_bytes(0), photo_bytes(1))
    run_vision_jobs()
    with db.unit_of_work() as s:
        photo_id = s.scalar(select(ListingPhoto.id).where(
            ListingPhoto.listing_id == listing["id"]).order_by(ListingPhoto.id))
    response = client.delete(f"/api/v1/listings/{listing['id']}/photos/{photo_id}",
                             headers=seller["headers"])
    assert response.status_code in (200, 204), response.json
    assert run_vision_jobs() == 1
    assert photo_id not in DuplicateIndex.load(index_directory())
    assert [r.photo_id for r in signature_rows()] == [photo_id + 1]   # the row cascaded
    assert tasks.forget_removed_photo(photo_id) is False               # twice: a no-op


def test_photos_of_a_killed_job_are_signed_by_the_sweep(client):
    """A worker killed mid-batch leaves its photos unsigned and claimed; once the claim
    lapses the periodic sweep signs them."""
    seller = register(client)
    post_listing(client, seller, photo_bytes(0))
    [photo_id] = [p for p in _photo_ids()]
    jobs.connection().set(f"vision:signing:{photo_id}", 1, ex=900)   # the dead job's claim
    run_vision_jobs()
    assert signature_rows() == []
    assert tasks.sign_forgotten_photos.spec.name in jobs.periodic_tasks()
    jobs.connection().delete(f"vision:signing:{photo_id}")            # the claim lapsed
    tasks.sign_forgotten_photos.enqueue_now()
    run_vision_jobs()
    assert [r.photo_id for r in signature_rows()] == [photo_id]


def _photo_ids() -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(ListingPhoto.id).order_by(ListingPhoto.id)))


def test_a_promoted_duplicate_model_and_its_threshold_decide_what_is_flagged(client, staff):
    """Analysts' promotion is what the pipeline obeys: the champion's calibrated
    probability of a verified match against the threshold chosen for it.  At 0.5 a copy
    of another seller's photo is flagged; at 1.0 (no probability reaches it) the same
    kind of copy is not."""
    from foundation.staff.models import StaffUser
    from vision.modelops import services as registry
    from vision.modelops.models import ThresholdSetting
    from vision.pipeline import promoted_duplicate_rule

    analyst_id = staff("fraud_analyst")[0]
    with db.unit_of_work() as s:
        assert promoted_duplicate_rule(s) is None
    version = train_version(analyst_id)
    with db.unit_of_work() as s:
        registry.promote(s, s.get(StaffUser, analyst_id), version.id)

    def copy_with_threshold(threshold: float, product: int) -> int:
        with db.unit_of_work() as s:
            s.add(ThresholdSetting(kind="duplicate", version_id=version.id,
                                   threshold=threshold, target=f"test: {threshold}",
                                   set_by=analyst_id))
        owner, thief = register(client), register(client)
        post_listing(client, owner, photo_bytes(product))
        copy = post_listing(client, thief, photo_bytes(product, "jpeg_75"))
        run_vision_jobs()
        return copy["id"]

    flagged = copy_with_threshold(0.5, product=0)
    assert {f.listing_id for f in flags()} == {flagged}
    copy_with_threshold(1.0, product=1)
    assert {f.listing_id for f in flags()} == {flagged}
