"""The buyer's dispute photos compared with the listing's photos as sold: real JPEGs
through the media store, the engine and the job, and the workspace that shows the pairs."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from disputes.evidence import Upload
from foundation import clock, db, jobs
from marketplace_core.listings import services as listing_services
from marketplace_core.listings.photos import store_upload
from marketplace_core.members.models import Member
from marketplace_core.seed import encode_jpeg
from tests.builders.cases import DELIVERED, Delivered, deliver, open_case
from tests.builders.members import make_member
from tests.builders.orders import Sale, place
from tests.builders.photos import photo_bytes
from tests.disputes.support import StaffApi, assert_api_error
from tests.helpers import signed_in
from tests.vision.support import VISION_QUEUES, run_vision_jobs
from vision import case_photos
from vision.edits import apply_edit
from vision.matching import DEFAULT_THRESHOLDS
from vision.models import CasePhotoComparison
from vision.tasks import compare_forgotten_case_photos

REAL_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "real-photos" / \
    "clothing-dataset-cc0"
QUEUE = "/console/disputes/"
_sales = iter(range(1, 1000))


def sale_with_photos(listing_jpegs: list[bytes]) -> Delivered:
    """A delivered order of a listing whose photos are these JPEGs, in this order."""
    n = next(_sales)
    clock.freeze(DELIVERED - timedelta(days=2))
    seller, buyer = make_member(f"photoseller{n}"), make_member(f"photobuyer{n}")
    with db.unit_of_work() as s:
        owner = s.get(Member, seller)
        listing = listing_services.create_draft(s, owner, {
            "title": "Chikankari kurta", "brand": "Fabindia", "category": "kurtas",
            "size": "M", "condition": "like_new", "price_paise": 250_000,
            "weight_grams": 400})
        for data in listing_jpegs:
            stored = store_upload(data, "image/jpeg")
            listing_services.add_photo(s, owner, listing, media_key=stored.key,
                                       width=stored.width, height=stored.height)
        listing_services.publish(s, owner, listing)
        listing_id = listing.id
    order_id = place(Sale(buyer=buyer, seller=seller, listing=listing_id))
    deliver([order_id], DELIVERED)
    return Delivered(order_id, buyer, seller)


def case_with_buyer_photos(listing_jpegs: list[bytes], buyer_jpegs: list[bytes]) -> int:
    order = sale_with_photos(listing_jpegs)
    clock.freeze(DELIVERED + timedelta(days=1))
    return open_case(order, photos=[Upload(data, "image/jpeg") for data in buyer_jpegs])


def edited(product: int, edit: str) -> bytes:
    return photo_bytes(product, edit)


def comparison(case_id: int) -> case_photos.CaseComparison:
    s = db.session()
    try:
        return case_photos.comparisons_of(s, case_id)
    finally:
        db.session.remove()


def queued_comparisons() -> list[tuple]:
    return [job.args[1] for job in jobs.queue("vision").jobs
            if job.args[0].endswith("compare_case_photos")]


def test_an_edited_copy_matches_its_listing_photo_and_a_new_photo_does_not(app):
    case_id = case_with_buyer_photos(
        [photo_bytes(0), photo_bytes(1)],
        [edited(1, "crop_10"), photo_bytes(2)])
    assert queued_comparisons() == [[case_id]]  # the buyer's evidence started the job

    run_vision_jobs()

    copy, other = comparison(case_id).pairs
    assert copy.same_photo and (copy.comparison.item_index, copy.comparison.position) == (0, 1)
    assert copy.comparison.score >= DEFAULT_THRESHOLDS.ncc_threshold
    assert not other.same_photo and other.matched
    assert other.comparison.score < DEFAULT_THRESHOLDS.ncc_threshold
    assert "embedding_cosine" in other.comparison.signals
    assert not comparison(case_id).none_matches


def test_the_comparison_job_is_idempotent(app):
    case_id = case_with_buyer_photos([photo_bytes(3)], [edited(3, "jpeg_75")])
    first = case_photos.compare_case(db.session(), case_id)
    db.session.commit()
    rows = db.session.scalars(select(CasePhotoComparison)).all()
    before = [(row.case_photo_id, row.score, row.computed_at) for row in rows]
    db.session.remove()

    second = case_photos.compare_case(db.session(), case_id)
    db.session.commit()

    assert (first.compared, first.skipped) == (1, 0)
    assert (second.compared, second.skipped) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(CasePhotoComparison)) == 1
    after = [(row.case_photo_id, row.score, row.computed_at)
             for row in db.session.scalars(select(CasePhotoComparison))]
    assert after == before


def test_the_workspace_says_comparing_then_shows_the_pairs(client, staff):
    case_id = case_with_buyer_photos([photo_bytes(4), photo_bytes(5)], [edited(5, "gamma")])
    signed_in(client, staff, "support_agent")

    pending = client.get(f"{QUEUE}{case_id}").get_data(as_text=True)
    assert 'data-testid="similarity-pending"' in pending and "comparing…" in pending

    run_vision_jobs()
    page = client.get(f"{QUEUE}{case_id}").get_data(as_text=True)
    pairs = page.split('data-testid="photo-pairs"')[1].split("</table>")[0]
    photo_id = comparison(case_id).pairs[0].photo.id
    assert f"{QUEUE}{case_id}/photos/{photo_id}" in pairs
    assert f"{QUEUE}{case_id}/sold/0/1" in pairs  # the second listing photo
    assert "same photo / edited copy" in pairs and "verification score" in pairs
    assert "embedding cosine" in pairs
    assert "comparing…" not in page and 'data-testid="similarity-none"' not in page


def test_the_workspace_says_plainly_when_no_buyer_photo_matches(client, staff):
    case_id = case_with_buyer_photos([photo_bytes(6)], [photo_bytes(7), photo_bytes(0)])
    run_vision_jobs()
    signed_in(client, staff, "support_agent")

    page = client.get(f"{QUEUE}{case_id}").get_data(as_text=True)

    assert "None of the buyer's photos matches a listing photo" in page
    pairs = page.split('data-testid="photo-pairs"')[1].split("</table>")[0]
    assert pairs.count("not the same photo") == 2 and "same photo / edited copy" not in pairs


def test_the_staff_api_case_view_gives_the_comparisons_as_a_signal(client, staff):
    case_id = case_with_buyer_photos([photo_bytes(2), photo_bytes(3)],
                                     [edited(3, "crop_10"), photo_bytes(4)])
    agent = StaffApi(client, staff, "support_agent")

    pending = agent.get(f"/{case_id}")
    assert pending.status_code == 200, pending.json
    buyer_photo_ids = [photo["id"] for photo in pending.json["messages"][0]["photos"]]
    assert pending.json["signals"]["photo_comparisons"] == [
        {"case_photo_id": photo_id, "state": "pending"} for photo_id in buyer_photo_ids]

    run_vision_jobs()
    view = agent.get(f"/{case_id}").json
    copy, other = view["signals"]["photo_comparisons"]
    assert [copy["case_photo_id"], other["case_photo_id"]] == buyer_photo_ids
    assert copy["state"] == other["state"] == "compared"
    assert copy["listing_photo"] == {"item_index": 0, "position": 1}
    assert copy["same_photo"] is True and copy["score"] >= DEFAULT_THRESHOLDS.ncc_threshold
    assert other["same_photo"] is False
    assert other["score"] < DEFAULT_THRESHOLDS.ncc_threshold
    assert set(copy["signals"]) >= {"embedding_cosine"}
    assert copy["failure_code"] is None and copy["computed_at"]
    # The matched listing photo is the one the case view links for that item and position.
    sold_url = view["items"][0]["photo_urls"][copy["listing_photo"]["position"]]
    assert sold_url == f"{StaffApi.BASE}/{case_id}/items/0/photos/1"
    assert_api_error(StaffApi(client, staff, "fraud_analyst").get(f"/{case_id}"),
                     403, "forbidden")


def sweep() -> dict:
    """The sweep as a worker runs it: in its own unit of work."""
    return jobs.execute(compare_forgotten_case_photos.spec.name, [], {})


def test_the_sweep_compares_a_case_whose_job_was_lost(app):
    case_id = case_with_buyer_photos([photo_bytes(5)], [edited(5, "jpeg_75")])
    for name in VISION_QUEUES:
        jobs.queue(name).empty()  # the comparison's job (and the signing) lost
    assert comparison(case_id).pending

    assert sweep() == {"cases": 0}  # too young: its job may come
    clock.freeze(clock.now() + timedelta(minutes=6))
    assert sweep() == {"cases": 1}

    (pair,) = comparison(case_id).pairs
    assert pair.same_photo
    assert sweep() == {"cases": 0}


# --- real CC0 photos ------------------------------------------------------------------------

def real_photo(folder: str, index: int) -> bytes:
    return sorted((REAL_PHOTOS / folder).glob("*.jpg"))[index].read_bytes()


def real_edited(folder: str, index: int, edit: str) -> bytes:
    image = cv2.imdecode(np.frombuffer(real_photo(folder, index), np.uint8), cv2.IMREAD_COLOR)
    return encode_jpeg(apply_edit(edit, image, seed=index), 90)


@pytest.mark.skipif(not REAL_PHOTOS.is_dir(), reason="the real CC0 photos are not here")
def test_real_photos_a_buyers_edited_copy_matches_and_another_garment_does_not(app):
    case_id = case_with_buyer_photos(
        [real_photo("dress", 0), real_photo("dress", 1)],
        [real_edited("dress", 1, "jpeg_75"), real_photo("dress", 2)])

    run_vision_jobs()

    copy, other = comparison(case_id).pairs
    assert copy.same_photo and copy.comparison.position == 1
    assert not other.same_photo and other.comparison.score < DEFAULT_THRESHOLDS.ncc_threshold
