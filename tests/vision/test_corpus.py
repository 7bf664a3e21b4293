"""The untrusted-input rule for vision: every file of the media intake's hostile corpus,
put on disk as a stored photo's bytes (as if the store were corrupted or tampered with),
goes through the real vision job on the real RQ worker. Each photo gets either its
signature or a failed row with the intake's own reason code, and no job fails."""
from __future__ import annotations

import hashlib

from rq.registry import FailedJobRegistry
from sqlalchemy import select

from foundation import clock, db, jobs
from marketplace_core.listings.models import Listing, ListingPhoto
from marketplace_core.listings.photos import store
from marketplace_core.media.corpus import build_corpus
from marketplace_core.media.errors import RejectionCode
from marketplace_core.members.models import Member
from tests.builders.members import register
from tests.vision.support import run_vision_jobs
from vision import tasks
from vision.models import PhotoSignature, SignatureState


def expected_code(case) -> str | None:
    """A stored file has no declared content type: a valid image whose only fault was
    the type its uploader declared is a valid image here."""
    if case.expected_code == RejectionCode.CONTENT_TYPE_MISMATCH.value:
        return None
    return case.expected_code


def plant(listing_id: int, data: bytes) -> int:
    """A listing photo whose stored file holds `data`, written straight to the store's
    disk (bypassing the intake, as damage or tampering would)."""
    key = hashlib.sha256(data).hexdigest()
    path = store().path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with db.unit_of_work() as s:
        photo = ListingPhoto(listing_id=listing_id, position=0, media_key=key, width=1,
                             height=1, created_at=clock.now())
        s.add(photo)
        s.flush()
        return photo.id


def test_every_corpus_file_is_signed_or_refused_with_its_code(client, tmp_path):
    seller = register(client)
    with db.unit_of_work() as s:
        listing = Listing(seller_id=s.get(Member, seller["id"]).id, title="Corpus",
                          brand="Corpus", brand_key="corpus", category="sarees",
                          size="Free size", condition="good", price_paise=100_000)
        s.add(listing)
        s.flush()
        listing_id = listing.id
    cases = build_corpus(tmp_path / "corpus")
    assert len(cases) >= 200
    planted = {plant(listing_id, case.path.read_bytes()): case for case in cases}
    for photo_id in planted:
        tasks.sign_stored_photo.enqueue_now(photo_id)

    assert run_vision_jobs() == len(planted)
    assert FailedJobRegistry(queue=jobs.queue("photos")).count == 0
    assert jobs.health()["retrying_jobs"] == []

    with db.unit_of_work() as s:
        rows = {r.photo_id: r for r in s.scalars(select(PhotoSignature))}
    wrong = {}
    for photo_id, case in planted.items():
        row = rows[photo_id]
        want = expected_code(case)
        got = row.failure_code if row.state == SignatureState.FAILED else None
        if got != want or (want is None and row.embedding is None):
            wrong[case.path.name] = (want, got, row.failure_message)
        if want is not None:
            assert row.failure_message and row.pdq is None
    assert wrong == {}
    signed = sum(r.state == SignatureState.INDEXED for r in rows.values())
    assert signed == sum(expected_code(c) is None for c in cases)
