"""A flag's evidence where it is reviewed: beside both photos on the duplicates page, on
the authentication workspace's flag line, in the staff API, with plain labels, the score,
the threshold and the calibrated precision; signals an older engine did not record are
left out."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from foundation import db
from marketplace_core.listings.models import ListingPhoto
from tests.authentication.support import BASE, Reviewer, request_for
from tests.builders.cases import HIGH
from tests.builders.listings import post_listing
from tests.builders.members import register
from tests.builders.photos import photo_bytes
from tests.helpers import signed_in
from tests.vision.support import flags, run_vision_jobs
from vision import duplicates
from vision.calibration import SHIPPED
from vision.flag_evidence import evidence_lines, explained
from vision.matching import DEFAULT_THRESHOLDS

PAGE = "/console/vision_duplicates/"
NEW_SIGNALS = {"inliers": 412, "inlier_share": 0.83, "detail_correlation": 0.912,
               "colour_delta_e": 1.4, "pdq_distance": 6.0, "embedding_cosine": 0.97,
               "correlation": 0.991}


def _photo_of(listing_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(ListingPhoto.id).where(ListingPhoto.listing_id == listing_id)
                        .order_by(ListingPhoto.id))


def _flag_with(client, signals: dict) -> tuple[dict, dict, int]:
    """Two sellers' listings and a flag between them carrying `signals` as its evidence."""
    owner, copier = register(client), register(client)
    original = post_listing(client, owner, photo_bytes(1))
    copy = post_listing(client, copier, photo_bytes(2), price_paise=HIGH)
    original_photo, copy_photo = _photo_of(original["id"]), _photo_of(copy["id"])
    match = SimpleNamespace(photo_id=original_photo, score=0.9912, alignment="crop",
                            fired=["keypoints"], signals=signals)
    with db.unit_of_work() as s:
        flag_id = duplicates.record_match(s, s.get(ListingPhoto, copy_photo), match).id
    return original, copy, flag_id


def test_every_known_signal_is_explained_and_unknown_or_missing_ones_are_left_out():
    lines = {line.key: line for line in evidence_lines({"signals": {
        **NEW_SIGNALS, "something_new": 3.0, "inliers_text": "many"}})}
    assert set(lines) == set(NEW_SIGNALS)
    assert lines["inliers"].shown == "412"
    assert lines["inlier_share"].shown == "83%"
    assert lines["colour_delta_e"].meaning == \
        "colour difference (deltaE; under 3 is imperceptible)"
    assert [line.key for line in evidence_lines({"signals": {"pdq_distance": 4}})] == \
        ["pdq_distance"]
    assert evidence_lines({}) == [] and evidence_lines(None) == []
    shown = explained({"signals": {}, "alignment": "identity"}, 0.99)
    assert (shown["threshold"], shown["precision"]) == (SHIPPED.threshold, SHIPPED.precision)


def test_the_duplicates_page_shows_the_evidence_beside_both_photos(client, staff):
    original, copy, flag_id = _flag_with(client, NEW_SIGNALS)
    signed_in(client, staff, "fraud_analyst")
    page = client.get(PAGE).get_data(as_text=True)
    flag_block = page[page.index(f'data-testid="flag-{flag_id}"'):]
    pair = flag_block[flag_block.index('class="vision-pair"'):]
    pair = pair[:pair.index("</dl>")]
    assert pair.index("/console/listings/photo/") < pair.index(f'data-testid="evidence-{flag_id}"')
    for words in ("keypoints that agree on one transform", "fine detail correlation",
                  "colour difference (deltaE; under 3 is imperceptible)"):
        assert words in pair
    assert 'data-testid="evidence-inliers">412 ' in pair
    assert 'data-testid="evidence-colour_delta_e">1.4 ' in pair
    assert f"flagged at {SHIPPED.threshold:.3f} or more" in pair
    assert f"{SHIPPED.precision * 100:.1f}% of flags at that threshold" in pair
    assert 'data-testid="calibration"' in page
    assert "style=" not in pair and "<script" not in pair


def test_an_old_flag_shows_only_what_it_recorded(client, staff):
    _, _, flag_id = _flag_with(client, {"pdq_distance": 4.0})
    signed_in(client, staff, "fraud_analyst")
    page = client.get(PAGE).get_data(as_text=True)
    evidence = page[page.index(f'data-testid="evidence-{flag_id}"'):]
    evidence = evidence[:evidence.index("</dl>")]
    assert 'data-testid="evidence-pdq_distance">4 ' in evidence
    assert "keypoints that agree" not in evidence and "deltaE" not in evidence


def test_the_workspace_and_the_staff_api_show_the_evidence(client, staff):
    original, copy, flag_id = _flag_with(client, NEW_SIGNALS)
    request_id = request_for(copy["id"]).id
    reviewer = Reviewer(client, staff, "authenticator")
    detail = client.get(f"{BASE}/{request_id}", headers=reviewer.headers).json
    [shown] = detail["signals"]["duplicate_flags"]
    evidence = shown["evidence"]
    assert (evidence["score"], evidence["threshold"], evidence["precision"]) == (
        0.9912, SHIPPED.threshold, SHIPPED.precision)
    assert {line["key"]: line["value"] for line in evidence["signals"]} == NEW_SIGNALS
    assert evidence["signals"][0]["meaning"] == "keypoints that agree on one transform"
    signed_in(client, staff, "authenticator")
    page = client.get(f"/console/authentication/{request_id}").get_data(as_text=True)
    line = page[page.index('data-testid="duplicate-flags"'):]
    assert f"copies a photo of listing #{original['id']}" in line
    assert f'data-testid="evidence-{flag_id}"' in line
    assert "fine detail correlation" in line


def test_a_flag_the_engine_raised_shows_what_it_recorded(client, staff):
    owner, thief = register(client), register(client)
    post_listing(client, owner, photo_bytes(0))
    post_listing(client, thief, photo_bytes(0, "pad_20"), price_paise=HIGH)
    run_vision_jobs()
    [flag] = flags()
    recorded = set(flag.evidence["signals"])
    signed_in(client, staff, "fraud_analyst")
    page = client.get(PAGE).get_data(as_text=True)
    for line in evidence_lines(flag.evidence):
        assert line.key in recorded
        assert f'data-testid="evidence-{line.key}">{line.shown} ' in page


def test_the_weights_page_shows_the_precision_open_flags_are_weighed_by(client, staff):
    signed_in(client, staff, "fraud_analyst")
    page = client.get("/console/trust_weights/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="duplicate-precision"' in text
    assert f"<strong>{SHIPPED.precision * 100:.1f}%</strong>" in text


def test_the_calibration_shown_is_of_the_threshold_the_engine_ships():
    assert SHIPPED.threshold == DEFAULT_THRESHOLDS.ncc_threshold
