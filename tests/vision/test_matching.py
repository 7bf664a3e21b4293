"""Duplicate-photo matching on real generated product photos: edited copies match their
source, other products do not, the index persists and forgets, untrusted bytes are refused.
No database; the EfficientNet weights load from their package (the network is blocked)."""
from __future__ import annotations

import marketplace_core.media  # noqa: F401  isort: skip  (sets OpenCV's pixel limit first)

import numpy as np
import pytest

from bench.vision_duplicates import loosest_threshold
from foundation.errors import NotFound, ValidationFailed
from marketplace_core.media import ImageRejected, inspect_and_normalise, to_bgr_array
from marketplace_core.seed import encode_jpeg, generate_catalog, genuine_spec, render_product
from vision import features, hashing
from vision.edits import EDIT_NAMES, apply_edit
from vision.index import DuplicateIndex
from vision.matching import (
    MatchThresholds,
    Signature,
    View,
    signature_of_photo,
    signature_of_upload,
    signatures_of,
    verify,
)
from vision.models import ENGINE_VERSION, CasePhotoComparison, PhotoSignature
from vision.signature_rows import fill_row, signature_of_row

SIDE = 800  # a quarter-size copy is still 200 px, the intake's minimum
# One edit of each kind: recompression, resizing, colour, overlay, geometry, frames.
EDITS = ("jpeg_50", "resize_0.25", "gamma", "noise", "blur", "watermark", "crop_5",
         "crop_10", "crop_20", "pad_20", "rotate_4", "flip", "screenshot")


def _uploaded(image: np.ndarray) -> np.ndarray:
    """What a vision job sees: the photo as the marketplace's intake stored it."""
    return to_bgr_array(inspect_and_normalise(encode_jpeg(image, 95)))


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    """Five different products (two share a category), each photographed once."""
    specs = generate_catalog(5, seed=61)
    return [_uploaded(render_product(spec, angle="front", size=(SIDE, SIDE),
                                     rng_seed=spec.item_seed)) for spec in specs]


@pytest.fixture(scope="module")
def signatures(photos):
    return signatures_of(photos)


@pytest.fixture(scope="module")
def index(signatures) -> DuplicateIndex:
    index = DuplicateIndex()
    for photo_id, signature in enumerate(signatures[:4]):
        index.add(photo_id, signature)
    return index


@pytest.fixture(scope="module")
def copies(photos):
    """Every edit of EDITS applied to photo 1, each passed through the intake again."""
    edited = [_uploaded(apply_edit(name, photos[1], seed=7)) for name in EDITS]
    return dict(zip(EDITS, signatures_of(edited), strict=True))


@pytest.mark.parametrize("edit", EDITS)
def test_an_edited_copy_matches_its_source_and_nothing_else(index, copies, edit):
    matches = index.query(copies[edit], k=4)

    duplicates = [m for m in matches if m.is_duplicate]
    assert [m.photo_id for m in duplicates] == [1], [(m.photo_id, m.score) for m in matches]
    assert "correlation" in duplicates[0].fired
    if edit == "flip":
        assert duplicates[0].alignment.startswith("mirror_")


def test_a_photo_of_another_product_matches_nothing(index, signatures):
    outsider = signatures[4]  # never indexed

    matches = index.query(outsider, k=4)

    assert matches, "the global indexes always propose candidates"
    assert not any(m.is_duplicate for m in matches)
    assert all(m.score < index.thresholds.ncc_threshold for m in matches)


def test_the_photo_itself_is_a_perfect_match_unless_excluded(index, signatures):
    assert index.query(signatures[2], k=1)[0].photo_id == 2
    assert index.query(signatures[2], k=1)[0].score > 0.99
    assert all(m.photo_id != 2 for m in index.query(signatures[2], exclude=2))


def test_verify_reports_the_signals_behind_a_decision(signatures, copies):
    result = verify(copies["jpeg_50"], signatures[1])
    assert result.is_duplicate
    assert result.signals["pdq_distance"] <= 31
    assert result.signals["embedding_cosine"] > 0.9

    assert not verify(signatures[0], signatures[3]).is_duplicate


def test_verification_stops_early_and_skips_candidates_far_in_embedding(signatures, copies):
    copy = verify(copies["jpeg_50"], signatures[1])
    # Decided on the identity: its inliers are the keypoint matches the identity explains
    # (no RANSAC fit was needed).
    assert copy.alignment == "identity" and copy.signals["inliers"] >= 100
    assert copy.signals["inlier_share"] > 0.5

    cropped = verify(copies["crop_5"], signatures[1])
    assert cropped.is_duplicate and cropped.alignment == "keypoints"

    gated = verify(copies["crop_5"], signatures[1], MatchThresholds(verify_min_cosine=1.0))
    assert (gated.score, gated.alignment, gated.is_duplicate) == (-1.0, "none", False)
    assert gated.signals["embedding_cosine"] < 1.0


def test_save_load_round_trip_with_incremental_add_and_remove(index, signatures, copies,
                                                              tmp_path):
    index.save(tmp_path)
    loaded = DuplicateIndex.load(tmp_path)
    assert len(loaded) == 4
    before = [(m.photo_id, round(m.score, 4)) for m in index.query(copies["crop_10"])]
    assert [(m.photo_id, round(m.score, 4)) for m in loaded.query(copies["crop_10"])] == before

    loaded.add(10, signatures[4])
    loaded.remove(1)
    loaded.save(tmp_path)
    again = DuplicateIndex.load(tmp_path)

    assert 10 in again and 1 not in again and len(again) == 4
    assert not (tmp_path / "items" / "1.npz").exists()
    assert again.query(signatures[4], k=1)[0].photo_id == 10
    assert not any(m.is_duplicate for m in again.query(copies["crop_10"]))
    with pytest.raises(NotFound) as missing:
        again.remove(1)
    assert missing.value.code == "photo_not_indexed"


def test_adding_an_id_again_replaces_its_signature(signatures):
    index = DuplicateIndex()
    index.add(5, signatures[0])
    index.add(5, signatures[3])

    assert len(index) == 1
    assert index.query(signatures[3], k=1)[0].is_duplicate
    assert not any(m.is_duplicate for m in index.query(signatures[0]))


def test_bad_arguments_are_refused_with_codes(index, signatures, tmp_path):
    with pytest.raises(ValidationFailed) as bad_id:
        DuplicateIndex().add(-1, signatures[0])
    assert bad_id.value.code == "invalid_photo_id"
    with pytest.raises(ValidationFailed):
        index.query(signatures[0], k=0)
    with pytest.raises(NotFound) as no_index:
        DuplicateIndex.load(tmp_path / "nothing-here")
    assert no_index.value.code == "index_not_found"
    with pytest.raises(ValueError):
        MatchThresholds(min_inliers=1)
    with pytest.raises(ValueError):
        MatchThresholds(verify_min_cosine=1.5)
    with pytest.raises(ValueError):
        MatchThresholds(colour_max_disagreement=1.5)
    with pytest.raises(ValueError):
        MatchThresholds(reprojection_px=0)
    with pytest.raises(ValueError):
        MatchThresholds(colour_delta_e_penalty=-0.1)
    with pytest.raises(ValueError):
        MatchThresholds(grey_only_threshold=MatchThresholds().ncc_threshold - 0.01)


@pytest.mark.parametrize(("data", "code"), [
    (b"<html><script>alert(1)</script></html>", "unsupported_format"),
    (b"", "empty_file"),
    ("truncated", "truncated_or_corrupt"),
    ("tiny", "too_small"),
])
def test_untrusted_bytes_are_refused_with_the_media_code(photos, data, code):
    jpeg = encode_jpeg(photos[0], 90)
    if data == "truncated":
        data = jpeg[:len(jpeg) // 2]
    elif data == "tiny":
        data = encode_jpeg(photos[0][:120, :120], 90)

    with pytest.raises(ImageRejected) as rejected:
        signature_of_upload(data)

    assert rejected.value.code == code


def test_a_clean_upload_gets_a_signature_through_the_intake(photos):
    signature = signature_of_upload(encode_jpeg(photos[0], 90),
                                    declared_content_type="image/jpeg")
    assert signature.pdq.shape == (32,) and signature.phash.shape == (8,)
    assert signature.mirrored is not None and signature.without_mirror().mirrored is None
    normalised = inspect_and_normalise(encode_jpeg(photos[0], 90))
    again = signature_of_photo(normalised)
    assert hashing.hamming(again.pdq, signature.pdq) == 0


def test_hashes_from_the_reduced_decode_agree_with_a_full_decode(photos):
    for photo in photos:
        normalised = inspect_and_normalise(encode_jpeg(photo, 95))
        cut = hashing._first_pass_scans(normalised.data)
        assert cut is not None and len(cut) < len(normalised.data) // 2  # progressive

        fast = hashing.hashes_of_jpeg(normalised.data)
        full = hashing.global_hashes(to_bgr_array(normalised))

        assert hashing.hamming(fast.pdq.bits, full.pdq.bits) <= 31  # Meta's match bound
        assert hashing.hamming(fast.phash, full.phash) <= 6
        assert fast.trim == full.trim == (0, SIDE, 0, SIDE)


def test_a_baseline_jpeg_hashes_through_the_scaled_decoder_and_junk_is_refused(photos):
    baseline = encode_jpeg(photos[0], 90)  # not progressive: decoded whole, at 1/4 scale
    assert hashing._first_pass_scans(baseline) is None
    assert hashing.jpeg_size(baseline) == (SIDE, SIDE)
    assert hashing.hamming(hashing.hashes_of_jpeg(baseline).pdq.bits,
                           hashing.global_hashes(photos[0]).pdq.bits) <= 31
    for junk in (b"", b"GIF89a....", baseline[:2] + b"\x00" * 64):
        with pytest.raises(ValueError):
            hashing.hashes_of_jpeg(junk)
    progressive = inspect_and_normalise(baseline).data
    outcomes = set()
    for cut in (3, 100, 240, 400, len(progressive) // 3):  # inside headers and scans
        try:
            outcomes.add(type(hashing.hashes_of_jpeg(progressive[:cut])).__name__)
        except ValueError:
            outcomes.add("refused")
    # Refused with ValueError, or (cut inside the scans) still hashed; nothing else.
    assert "refused" in outcomes and outcomes <= {"refused", "GlobalHashes"}


def test_the_small_scale_trim_finds_a_frame_within_a_percent(photos):
    padded = _uploaded(apply_edit("pad_20", photos[2], seed=4))
    small_scale = np.array(hashing.global_hashes(padded).trim)
    full_scale = np.array(hashing.trim_box(padded))
    assert np.abs(small_scale - full_scale).max() <= 0.01 * padded.shape[0]


def test_padding_and_screenshot_frames_are_trimmed(photos):
    for name in ("pad_20", "screenshot"):
        framed = _uploaded(apply_edit(name, photos[0], seed=3))
        top, bottom, left, right = hashing.trim_box(framed)
        # What is left has the photo's square shape, give or take the JPEG's edge blur.
        assert abs((bottom - top) / (right - left) - 1) < 0.03
    assert hashing.trim_box(photos[0]) == (0, SIDE, 0, SIDE)


def test_the_correlation_ignores_monotonic_grey_changes_but_not_another_photo(photos):
    grey = features.working_grey(photos[0])
    thumb = features.thumbnail(grey)
    size = (grey.shape[1], grey.shape[0])
    identity = features.identity_alignment(size, size)
    darker = np.clip(255.0 * (thumb / 255.0) ** 1.6, 0, 255).astype(np.uint8)
    other = features.thumbnail(features.working_grey(photos[3]))

    assert features.correlation(thumb, size, darker, size, identity) > 0.99
    assert features.correlation(thumb, size, other, size, identity) \
        < MatchThresholds().grey_only_threshold
    flat = np.full_like(thumb, 128)
    assert features.correlation(thumb, size, flat, size, identity) == -1.0


def test_edits_are_deterministic_and_checked(photos):
    for name in EDIT_NAMES:
        assert np.array_equal(apply_edit(name, photos[0], 5), apply_edit(name, photos[0], 5))
    assert not np.array_equal(apply_edit("crop_20", photos[0], 5),
                              apply_edit("crop_20", photos[0], 6))
    with pytest.raises(ValueError):
        apply_edit("sepia", photos[0], 1)


def test_the_benchmark_threshold_is_the_loosest_that_keeps_precision():
    scores = np.array([0.99, 0.98, 0.97, 0.95, 0.90, 0.80, -np.inf])
    positive = np.array([True, True, True, False, True, True, False])

    assert loosest_threshold(scores, positive, 0.9999) == 0.97
    assert loosest_threshold(scores, positive, 0.8) == 0.80
    assert loosest_threshold(scores, np.zeros(7, bool), 0.9) == float("inf")


# --- the colour check -----------------------------------------------------------------

LEHENGA = "rajwada-couture-mehfil"   # drawn in maroon, emerald or navy


@pytest.fixture(scope="module")
def lehengas() -> dict[str, object]:
    """One lehenga model drawn in maroon and in navy in the same room, light and framing
    (the hardest negative there is: only the garment's colour differs), and edited copies
    of the maroon one."""
    def shot(colour: str) -> np.ndarray:
        spec = genuine_spec(LEHENGA, colour=colour, item_seed=3)
        return _uploaded(render_product(spec, angle="front", size=(480, 480), rng_seed=11))

    maroon, navy = shot("maroon"), shot("navy")
    # The gamma edit draws its power from the seed: 2 draws 0.6 (lighter), 1 draws 1.6.
    copies = {"gamma_0.6": apply_edit("gamma", maroon, 2),
              "gamma_1.6": apply_edit("gamma", maroon, 1),
              "jpeg_50": apply_edit("jpeg_50", maroon, 1)}
    assert copies["gamma_0.6"].mean() > maroon.mean() > copies["gamma_1.6"].mean()
    signed = signatures_of([maroon, navy] + [_uploaded(c) for c in copies.values()])
    return {"maroon": signed[0], "navy": signed[1], **dict(zip(copies, signed[2:], strict=True))}


def test_the_same_garment_in_another_colour_is_not_a_duplicate(lehengas):
    thresholds = MatchThresholds()
    navy, maroon = lehengas["navy"], lehengas["maroon"]
    identity = features.identity_alignment(navy.size, maroon.size)

    aligned = features.aligned_evidence(navy.view.detail, navy.view.colour, navy.size,
                                        maroon.view.detail, maroon.view.colour, maroon.size,
                                        identity)
    result = verify(navy, maroon)

    # Grey alone, or detail alone, would call it a copy: same drawing, same room, light.
    assert features.correlation(navy.view.thumb, navy.size, maroon.view.thumb, maroon.size,
                                identity) >= thresholds.grey_only_threshold
    assert aligned.detail >= 0.95
    # The tiles alike in detail are, for the garment's share of them, in another colour.
    assert aligned.recoloured > thresholds.max_recoloured
    assert not result.is_duplicate and result.score < thresholds.ncc_threshold


@pytest.mark.parametrize("edit", ["gamma_0.6", "gamma_1.6", "jpeg_50"])
def test_gamma_and_jpeg_copies_keep_their_colours(lehengas, edit):
    result = verify(lehengas[edit], lehengas["maroon"])

    assert result.is_duplicate and result.alignment == "identity"
    assert result.signals["colour_disagreement"] <= 0.02
    assert result.signals["colour_delta_e"] <= MatchThresholds().colour_delta_e_tolerance


def test_colour_disagreement_forgives_a_gamma_but_not_a_recoloured_region():
    """A beige room with a maroon garment covering a quarter of the frame (BGR)."""
    photo = np.full((32, 32, 3), (200, 215, 230), np.uint8)
    photo[8:24, 8:24] = (43, 27, 110)
    size = (512, 512)
    identity = features.identity_alignment(size, size)
    darker = np.clip(255.0 * (photo / 255.0) ** 1.6, 0, 255).astype(np.uint8)
    navy = photo.copy()
    navy[8:24, 8:24] = (90, 40, 30)
    pinker = photo.copy()
    pinker[8:24, 8:24] = (120, 60, 220)   # the same hue, lighter: not what a gamma does

    assert features.colour_disagreement(photo, size, photo, size, identity) == 0.0
    assert features.colour_disagreement(darker, size, photo, size, identity) == 0.0
    assert features.colour_disagreement(navy, size, photo, size, identity) == 0.25
    # No one gamma explains a garment that changed alone: the one fitted to the whole
    # photo leaves the garment, or (here) the room, in another colour.
    assert features.colour_disagreement(pinker, size, photo, size, identity) \
        > MatchThresholds().colour_max_disagreement


def test_the_engine_version_fits_the_columns_that_record_it():
    """SQLite ignores a VARCHAR's length and PostgreSQL refuses a longer value."""
    for column in (PhotoSignature.__table__.c.engine_version,
                   CasePhotoComparison.__table__.c.engine_version):
        assert len(ENGINE_VERSION) <= column.type.length


def test_signature_rows_and_index_items_keep_the_colour_thumbnail(lehengas, tmp_path):
    signature = lehengas["maroon"]
    row = PhotoSignature(photo_id=1)

    fill_row(row, signature)
    from_row = signature_of_row(row)
    index = DuplicateIndex()
    index.add(1, signature)
    index.save(tmp_path)
    from_file = DuplicateIndex.load(tmp_path).signature(1)

    assert row.engine_version == ENGINE_VERSION
    for loaded in (from_row, from_file):
        assert loaded.view.colour.dtype == np.uint8
        assert np.array_equal(loaded.view.colour, signature.view.colour)
        assert verify(lehengas["gamma_1.6"], loaded).is_duplicate
        assert not verify(lehengas["navy"], loaded).is_duplicate


def test_an_old_signature_without_colour_is_judged_by_grey_alone_at_the_old_bar(lehengas):
    """Rows signed before the colour check load without a colour thumbnail: their pairs
    must clear grey_only_threshold (the previous engine's), and the score says so."""
    signature = lehengas["maroon"]
    row = PhotoSignature(photo_id=1)
    fill_row(row, _without_colour(signature))
    old = signature_of_row(row)
    thresholds = MatchThresholds()
    margin = thresholds.grey_only_threshold - thresholds.ncc_threshold

    assert old.view.colour is None
    copy = verify(lehengas["jpeg_50"], old)
    assert copy.is_duplicate and "colour_disagreement" not in copy.signals
    assert copy.score == pytest.approx(copy.signals["correlation"] - margin, abs=1e-4)
    strict = verify(lehengas["jpeg_50"], old, MatchThresholds(
        grey_only_threshold=min(1.0, copy.signals["correlation"] + 0.0005)))
    assert not strict.is_duplicate


def test_an_index_saved_in_the_previous_format_is_refused_to_be_rebuilt(signatures, tmp_path):
    index = DuplicateIndex()
    index.add(1, signatures[0])
    index.save(tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"format_version": 4',
                                                     '"format_version": 2'))

    with pytest.raises(ValidationFailed) as refused:
        DuplicateIndex.load(tmp_path)
    assert refused.value.code == "index_format_mismatch"


def _without_colour(signature: Signature) -> Signature:
    view = signature.view
    return Signature(signature.pdq_quality, signature.phash, signature.trim, signature.size,
                     View(view.pdq, view.embedding, view.local, view.thumb, None))


def test_the_tone_keeps_its_order_under_a_gamma(photos):
    """The correlation thumbnail's grey is the channels' geometric mean: a gamma edit
    raises it to the same power (nearly, with the offset), so its ranks stay; luma's do
    not for coloured pixels."""
    size = (512, 512)
    identity = features.identity_alignment(size, size)
    for photo in photos:
        for seed in (1, 2):   # gamma 1.6 and 0.6
            edited = apply_edit("gamma", photo, seed)
            tone = features.correlation(features.thumbnail(features.tone(edited)), size,
                                        features.thumbnail(features.tone(photo)), size,
                                        identity)
            luma = features.correlation(features.thumbnail(features.working_grey(edited)),
                                        size,
                                        features.thumbnail(features.working_grey(photo)),
                                        size, identity)
            assert tone >= 0.995
            assert tone >= luma - 0.001
