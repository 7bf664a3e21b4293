"""An open duplicate flag is a suspicion, not evidence: through the real recompute jobs it
costs the seller and the listing's feed rank at most the engine's calibrated precision
times what a confirmed flag costs; a confirmed flag costs the full penalty, a dismissed
one nothing."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from foundation import db
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import ListingPhoto
from tests.builders.listings import listing_through_services
from tests.builders.members import make_member
from tests.builders.model_versions import train_version
from tests.trust.support import item_record, run_trust_jobs, seller_record
from trust.recommender.rerank import Candidate, rerank
from trust.signals.services import current_weights, load_trust
from trust.weights import TrustWeights
from vision import calibration, duplicates
from vision.modelops import services as registry
from vision.modelops.models import ThresholdSetting

PRECISION = 0.6
W = TrustWeights()


@pytest.fixture
def measured_precision(monkeypatch):
    """The engine measured at a precision below 1, so that open and confirmed differ."""
    monkeypatch.setattr(calibration, "SHIPPED",
                        dataclasses.replace(calibration.SHIPPED, precision=PRECISION))
    return PRECISION


def _photo_of(listing_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(ListingPhoto.id).where(ListingPhoto.listing_id == listing_id))


def _item(title: str) -> dict:
    return {"title": title, "brand": "Nalli", "category": "sarees", "size": "Free size",
            "condition": "like_new", "price_paise": 450_000}


def _flagged_copy(name: str) -> tuple[int, int, int, int]:
    """(copier id, the copy's listing, its open flag, an unflagged listing of a third
    seller), trust recomputed by the queued jobs."""
    original_seller, copier, bystander = (make_member(f"{name}_original"),
                                          make_member(f"{name}_copier"),
                                          make_member(f"{name}_bystander"))
    original = listing_through_services(original_seller, _item("Kanjivaram silk saree"))
    copy = listing_through_services(copier, _item("Kanjivaram silk saree"))
    clean = listing_through_services(bystander, _item("Banarasi silk saree"))
    run_trust_jobs()
    match = SimpleNamespace(photo_id=_photo_of(original), score=0.99, alignment="identity",
                            fired=["pdq"], signals={"pdq_distance": 4})
    copy_photo = _photo_of(copy)
    with db.unit_of_work() as s:
        flag_id = duplicates.record_match(s, s.get(ListingPhoto, copy_photo), match).id
    run_trust_jobs()
    return copier, copy, flag_id, clean


def _decide(staff, flag_id: int, decision: str) -> None:
    moderator = staff("admin")[0]
    with db.unit_of_work() as s:
        duplicates.review_flag(s, s.get(StaffUser, moderator), flag_id, decision)
    run_trust_jobs()


def _neutral_drop(copier: int) -> float:
    return round(W.neutral_score - seller_record(copier).score, 4)


def _feed_scores(*listing_ids: int) -> dict[int, float]:
    """The listings' scores on a page after trust, from equal model scores: the feed's own
    stored-trust loader and re-ranking."""
    with db.unit_of_work() as s:
        _, weights = current_weights(s)
        items, sellers = load_trust(s, listing_ids, weights)
    candidates = [Candidate(listing_id, items[listing_id].seller_id, 1.0, "brand")
                  for listing_id in listing_ids]
    page = rerank(candidates, items, sellers, weights, page_size=12)
    return {item.listing_id: item.score for item in page.items}


def test_an_open_flag_costs_the_seller_its_precision_times_the_penalty(
        app, staff, measured_precision):
    copier, _, flag_id, _ = _flagged_copy("open")
    record = seller_record(copier)
    assert record.counts["open_duplicate_flags"] == 1 and record.counts["duplicate_flags"] == 0
    expected = round(measured_precision * W.penalty_duplicate_flag, 4)
    assert record.parts["open_duplicate_flags"] == -expected
    assert 0 < _neutral_drop(copier) <= expected

    _decide(staff, flag_id, "confirm")

    record = seller_record(copier)
    assert record.counts["duplicate_flags"] == 1 and record.counts["open_duplicate_flags"] == 0
    assert record.parts["duplicate_flags"] == -W.penalty_duplicate_flag
    assert _neutral_drop(copier) == pytest.approx(W.penalty_duplicate_flag)


def test_a_dismissed_flag_costs_the_seller_nothing(app, staff, measured_precision):
    copier, copy, flag_id, _ = _flagged_copy("dismissed")
    _decide(staff, flag_id, "dismiss")
    record = seller_record(copier)
    assert (record.counts["open_duplicate_flags"], record.counts["duplicate_flags"]) == (0, 0)
    assert _neutral_drop(copier) == 0
    assert item_record(copy).flagged is False


def test_the_feed_demotes_an_open_flag_by_its_precision_and_a_confirmed_one_fully(
        app, staff, measured_precision):
    _, copy, flag_id, clean = _flagged_copy("feed")
    scores = _feed_scores(copy, clean)
    confirmed_demotion = min(1.0, W.demotion_strength)
    assert scores[clean] == 1.0
    assert 1.0 - scores[copy] == pytest.approx(measured_precision * confirmed_demotion,
                                               abs=1e-3)
    assert item_record(copy).flagged is True      # still first in the analysts' queue

    _decide(staff, flag_id, "confirm")

    scores = _feed_scores(copy, clean)
    assert scores.get(copy, 0.0) == 0.0 and scores[clean] == 1.0


def test_a_promoted_duplicate_model_weighs_open_flags_by_the_lower_precision(app, staff):
    analyst_id = staff("fraud_analyst")[0]
    with db.unit_of_work() as s:
        assert calibration.precision_in_force(s).precision == calibration.SHIPPED.precision
    version = train_version(analyst_id)
    with db.unit_of_work() as s:
        registry.promote(s, s.get(StaffUser, analyst_id), version.id)
    with db.unit_of_work() as s:
        # No held-out precision at the promoted threshold: the real-photo figure stands.
        assert calibration.precision_in_force(s).precision == calibration.SHIPPED.precision
        s.add(ThresholdSetting(kind="duplicate", version_id=version.id, threshold=0.7,
                               target="test", precision=0.42, set_by=analyst_id))
    with db.unit_of_work() as s:
        in_force = calibration.precision_in_force(s)
    assert (in_force.precision, in_force.source) == (
        0.42, "the promoted duplicate model's held-out pairs")
