"""The duplicate benchmark's own parts: seller edits give decodable photos of the right
geometry, cut-outs of real CC0 photos land on the studio sweep, false flags and skipped
edits are counted right, and a run on a tiny folder of small photos completes."""
from __future__ import annotations

import marketplace_core.media  # noqa: F401  isort: skip  (sets OpenCV's pixel limit first)

import json
from pathlib import Path

import numpy as np
import pytest

from bench.photo_sets import (
    BACKDROP_BGR,
    CANVAS,
    DEFAULT_REAL_PHOTOS,
    cutout,
    make_generated_same_pose,
    studio_backdrop,
    upright_angle,
)
from bench.seller_edits import EDIT_NAMES, EditNotPossible, decode, jpeg_bytes, make_copy
from bench.vision_duplicates import false_flags, hash_false_flags, main, recall_table
from marketplace_core.seed import encode_jpeg, generate_catalog, render_product

WIDTH, HEIGHT = 300, 400


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    specs = [s for s in generate_catalog(12, seed=3) if not s.counterfeit][:5]
    return [render_product(s, angle="front", size=(WIDTH, HEIGHT), rng_seed=i)
            for i, s in enumerate(specs)]


def _shape_after(name: str, photo: np.ndarray, others: list[np.ndarray]) -> tuple[int, int]:
    h, w = decode(make_copy(name, photo, 5, others)).shape[:2]
    return w, h


def test_every_edit_gives_a_decodable_photo_of_the_expected_geometry(photos):
    source, others = photos[0], photos[1:]
    gutter = round(0.02 * WIDTH)
    expected = {
        "resize_0.5": (150, 200), "resize_0.25": (75, 100),
        "crop_5": (285, 380), "crop_10": (270, 360), "crop_20": (240, 320),
        "pad_20": (360, 480), "mirror": (WIDTH, HEIGHT), "jpeg_30": (WIDTH, HEIGHT),
        "jpeg_twice": (270, 360), "price_banner": (WIDTH, HEIGHT),
        "collage_2x1": (2 * WIDTH + 3 * gutter, HEIGHT + 2 * gutter),
        "collage_2x2": (2 * WIDTH + 3 * gutter, 2 * HEIGHT + 3 * gutter),
    }
    for name in EDIT_NAMES:
        width, height = _shape_after(name, source, others)
        if name in expected:
            assert (width, height) == expected[name], name
        elif name == "rotate_4":
            assert 0.8 * WIDTH < width < WIDTH and 0.8 * HEIGHT < height < HEIGHT
        elif name == "screenshot":
            assert width == int(1.08 * WIDTH) and height == int(width * 19.5 / 9)
        else:
            assert (width, height) == (WIDTH, HEIGHT), name


def test_edits_change_the_photo_where_they_should_and_repeat_exactly(photos):
    source = photos[0]
    plain = decode(jpeg_bytes(source, 92)).astype(int)
    for name in ("price_banner", "sticker", "watermark", "noise", "gamma_0.6"):
        difference = np.abs(decode(make_copy(name, source, 5)).astype(int) - plain)
        marked = (difference.max(axis=2) > 40).mean()      # overlays: a few bold pixels
        assert difference.mean() > 1.0 or marked > 0.005, name
        assert make_copy(name, source, 5) == make_copy(name, source, 5)
    banner = decode(make_copy("price_banner", source, 5)).astype(int)
    band = int(0.14 * HEIGHT)
    assert np.abs(banner[:-band] - plain[:-band]).mean() < 1.0   # only the band changed
    mirrored = decode(make_copy("mirror", source, 5)).astype(int)
    # JPEG noise differs once the block grid is flipped; the picture is the same.
    assert np.abs(mirrored[:, ::-1] - plain).mean() < 0.5 * np.abs(mirrored - plain).mean()
    collage = decode(make_copy("collage_2x1", source, 5, photos[1:])).astype(int)
    gutter = round(0.02 * WIDTH)
    tiles = [collage[gutter:gutter + HEIGHT, x:x + WIDTH] for x in
             (gutter, 2 * gutter + WIDTH)]
    differences = sorted(np.abs(t - plain).mean() for t in tiles)
    assert differences[0] < 5.0 < 3 * differences[0] < differences[1]   # the source is a tile


def test_a_collage_without_other_photos_cannot_be_made(photos):
    with pytest.raises(EditNotPossible):
        make_copy("collage_2x2", photos[0], 5, photos[1:3])
    with pytest.raises(KeyError):
        make_copy("sepia", photos[0], 5)


def test_false_flags_count_each_pair_once_with_its_best_score():
    match = {"alignment": "identity", "fired": [], "signals": {}}
    reported = {0: [{"id": 1, "score": 0.99, **match}], 1: [{"id": 0, "score": 0.995, **match}],
                2: [{"id": 3, "score": 0.984, **match}], 3: [], 4: []}
    flags = false_flags(reported, photos=5)
    assert flags["pairs"] == 2 and flags["photos_flagged"] == 4
    assert flags["share_of_photos"] == 0.8
    assert [(p["a"], p["b"], p["score"]) for p in flags["pair_list"]] == [
        (0, 1, 0.995), (2, 3, 0.984)]


def test_hash_false_flags_take_pairs_within_the_distance():
    zeros = np.zeros(8, np.uint8)
    near = zeros.copy()
    near[0] = 0b111            # 3 bits from zeros
    far = np.full(8, 0xFF, np.uint8)
    flags = hash_false_flags(np.stack([zeros, near, far]), max_distance=3, photos=3)
    assert flags["pairs"] == 1 and flags["pair_list"][0] == {"a": 0, "b": 1, "distance": 3}


def test_an_edit_refused_for_every_copy_is_skipped_with_its_reason():
    rows = [{"edit": "jpeg_75", "ours_found": True}, {"edit": "jpeg_75", "ours_found": False},
            {"edit": "resize_0.25", "skipped": "intake refused it: too_small"},
            {"edit": "crop_20", "ours_found": True},
            {"edit": "crop_20", "skipped": "intake refused it: too_small"}]
    table = recall_table(rows, "ours_found")
    assert table["per_edit"]["resize_0.25"] is None
    assert table["per_edit"]["jpeg_75"] == 0.5 and table["per_edit"]["crop_20"] == 1.0
    assert table["skipped"]["resize_0.25"] == {"copies": 1,
                                               "reasons": ["intake refused it: too_small"]}
    assert table["pooled"] == round(2 / 3, 4) and table["worst_edit"] == 0.5
    assert table["copies"] == 3


def test_a_run_on_a_tiny_folder_of_small_photos_reports_and_skips(photos, tmp_path):
    folder = tmp_path / "photos"
    (folder / "tops").mkdir(parents=True)
    for i, photo in enumerate(photos):
        (folder / "tops" / f"{i}.jpg").write_bytes(encode_jpeg(photo, 92))
    (folder / "again.jpg").write_bytes((folder / "tops" / "0.jpg").read_bytes())
    (folder / "reencoded.jpg").write_bytes(encode_jpeg(photos[1], 80))
    (folder / "tiny.jpg").write_bytes(encode_jpeg(photos[2][:150, :150], 92))
    out = tmp_path / "result.json"
    main(["--images", str(folder), "--sources", "2", "--edits",
          "resize_0.25,jpeg_75,crop_10,collage_2x1", "--workers", "1", "--json", str(out)])
    result = json.loads(out.read_text())
    counts = result["counts"]
    assert counts["byte_identical_removed"] == 1 and counts["rejected_by_intake"] == 1
    assert counts["indexed"] == 6 and counts["copies"] == 8
    assert result["rejected"][0]["reason"] == "intake refused it: too_small"
    ours = result["recall"]["ours"]
    assert ours["per_edit"]["resize_0.25"] is None
    assert ours["skipped"]["resize_0.25"]["reasons"] == ["intake refused it: too_small"]
    assert all(ours["per_edit"][e] is not None for e in ("jpeg_75", "crop_10", "collage_2x1"))
    # The re-encoded file is another photo to the benchmark, and a copy to any engine.
    names = {frozenset((p["photo_a"], p["photo_b"]))
             for p in result["false_flags"]["ours"]["pair_list"]}
    assert frozenset(("reencoded.jpg", "tops/1.jpg")) in names
    assert result["false_flags"]["pdq_31"]["pairs"] >= 1


real_photos = Path(DEFAULT_REAL_PHOTOS)


@pytest.mark.skipif(not real_photos.is_dir(), reason="the real CC0 photos are not beside "
                                                     "the checkout")
def test_a_real_photo_is_cut_out_onto_the_studio_sweep():
    shot, check = cutout(str(sorted((real_photos / "blazer").glob("*.jpg"))[0]))
    assert check.ok and 0.10 <= check.area_share <= 0.75
    assert shot.shape == (CANVAS[1], CANVAS[0], 3)
    backdrop = studio_backdrop(*CANVAS)
    for rows, columns in ((slice(0, 20), slice(0, 20)), (slice(0, 20), slice(-20, None)),
                          (slice(-20, None), slice(0, 20)), (slice(-20, None), slice(-20, None))):
        corner = shot[rows, columns].astype(float).mean(axis=(0, 1))
        assert np.abs(corner - backdrop[rows, columns].mean(axis=(0, 1))).max() < 8
    item = shot[CANVAS[1] // 2 - 40:CANVAS[1] // 2 + 40, CANVAS[0] // 2 - 40:
                CANVAS[0] // 2 + 40].astype(float)
    assert np.abs(item.mean(axis=(0, 1)) - BACKDROP_BGR).max() > 25  # the item at the centre


def test_items_are_aligned_to_their_long_axis_without_turning_on_their_side():
    upright = np.zeros((200, 200), np.uint8)
    upright[20:180, 80:120] = 255
    assert abs(upright_angle(upright)) < 1
    lying = upright.T.copy()
    assert abs(upright_angle(lying)) < 1


def test_the_generated_set_keeps_every_product_as_its_own_photo(tmp_path):
    """One photo per model and colour, in its category's folder; each item is drawn as its
    own, so no render repeats another and none is dropped."""
    summary = make_generated_same_pose(str(tmp_path), count=4, workers=1, seed=6)

    written = sorted(tmp_path.rglob("*.jpg"))
    assert summary["kept"] == len(written) == 4
    assert summary["dropped_as_identical"] == 0
    assert sum(summary["per_category"].values()) == 4
    assert all(path.parent.name in summary["per_category"] for path in written)
    assert len({path.read_bytes() for path in written}) == 4

