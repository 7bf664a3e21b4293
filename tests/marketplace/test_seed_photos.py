"""The demo catalogue and its drawn product photos: determinism, validity, counterfeit cues,
catalogue statistics and price norms. Pure numpy/OpenCV: no app, no database."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from marketplace_core.seed import (
    ANGLES,
    BRANDS,
    CATEGORIES,
    CONDITIONS,
    FLAW_KINDS,
    MODELS,
    brand_price_norms,
    counterfeit_twin,
    encode_jpeg,
    generate_catalog,
    genuine_spec,
    listing_angles,
    render_product,
    render_product_with_mask,
    serial_matches,
)
from marketplace_core.seed.brands import valid_sizes
from marketplace_core.seed.counterfeit import LOGO_FLAWS, Flaw
from marketplace_core.seed.photos import angles_for

REPO_ROOT = Path(__file__).resolve().parents[2]
SMALL = (192, 160)  # (width, height): small and non-square keeps the tests fast and honest
LUXURY_THRESHOLD_PAISE = 1_000_000


def _one_model_per_category():
    seen = {}
    for model in MODELS.values():
        seen.setdefault(model.category, model.key)
    return sorted(seen.items())


@pytest.fixture(scope="module")
def catalog():
    return generate_catalog(2000, seed=11)


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes():
    spec = genuine_spec("maison-vellore-cleo", item_seed=3)
    fake = counterfeit_twin(spec, seed=9)
    for item in (spec, fake):
        for angle in ("front", "detail_logo", "label"):
            a = render_product(item, angle=angle, rng_seed=1234)
            b = render_product(item, angle=angle, rng_seed=1234)
            assert a.tobytes() == b.tobytes()
            assert encode_jpeg(a) == encode_jpeg(b)


def test_different_seed_gives_a_different_photo():
    spec = genuine_spec("kalinga-loom-banarasi", item_seed=1)
    a = render_product(spec, angle="front", size=SMALL, rng_seed=1)
    b = render_product(spec, angle="front", size=SMALL, rng_seed=2)
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 2


def test_catalog_is_deterministic_per_seed():
    assert generate_catalog(50, seed=5) == generate_catalog(50, seed=5)
    assert generate_catalog(50, seed=5) != generate_catalog(50, seed=6)


# ---------------------------------------------------------------- validity of every view


@pytest.mark.parametrize("category, model_key", _one_model_per_category())
def test_every_category_and_angle_renders_a_valid_photo(category, model_key):
    spec = genuine_spec(model_key, item_seed=2)
    other = genuine_spec(_different_model(model_key), item_seed=2)
    for angle in angles_for(category):
        photo, mask = render_product_with_mask(spec, angle=angle, size=SMALL, rng_seed=77)
        assert photo.dtype == np.uint8 and photo.shape == (SMALL[1], SMALL[0], 3)
        assert mask.shape == photo.shape[:2]
        assert photo.std() > 12, f"{angle}: nearly blank"
        coverage = (mask > 127).mean()
        low = 0.03 if angle in ("front", "back", "packaging") else 0.5
        assert low < coverage < 1.0, f"{angle}: item covers {coverage:.0%}"
        item = mask > 200
        assert photo[item].std() > 6, f"{angle}: item region is flat"
        # Same shoot, different item: the item region changes, the room around it doesn't.
        if angle in angles_for(other.category):
            photo2, mask2 = render_product_with_mask(other, angle=angle, size=SMALL,
                                                     rng_seed=77)
            diff = np.abs(photo.astype(int) - photo2.astype(int)).mean(axis=2)
            assert diff[item].mean() > 8, f"{angle}: item region does not depend on the item"
            neither = (mask < 5) & (mask2 < 5)
            if neither.mean() > 0.05:
                assert diff[neither].mean() < diff[item].mean() / 2


def _different_model(model_key):
    category = MODELS[model_key].category
    return next(k for k, m in MODELS.items() if m.category != category)


def test_size_is_width_by_height():
    spec = genuine_spec("vasseur-regent")
    assert render_product(spec, size=(300, 200), rng_seed=0).shape == (200, 300, 3)


def test_hardware_angle_only_for_items_with_hardware():
    assert "hardware" in angles_for("handbags") and "hardware" in angles_for("watches")
    assert "hardware" not in angles_for("sarees")
    assert set(angles_for("sarees")) == set(ANGLES) - {"hardware"}
    with pytest.raises(ValueError):
        render_product(genuine_spec("kalinga-loom-banarasi"), angle="hardware", rng_seed=0)


def test_listing_angles_start_with_the_covershot():
    spec = genuine_spec("arcadia-apex")
    assert listing_angles(spec, 3) == ("front", "back", "detail_logo")


def test_reshoot_keeps_the_item_colour():
    """Two shoots of one item agree on its colour more than two colourways of its model."""
    emerald = genuine_spec("cassiane-noor", colour="emerald", item_seed=1)
    wine = genuine_spec("cassiane-noor", colour="wine", item_seed=1)

    def item_colour(spec, seed):
        photo, mask = render_product_with_mask(spec, angle="front", size=SMALL, rng_seed=seed)
        return photo[mask > 200].mean(axis=0)

    same = np.abs(item_colour(emerald, 21) - item_colour(emerald, 22)).sum()
    other = np.abs(item_colour(emerald, 21) - item_colour(wine, 21)).sum()
    assert same * 3 < other


def _fine_detail(photo: np.ndarray) -> np.ndarray:
    """The band of detail a copy keeps and a different item does not share: print,
    stitching, weave, edges (a difference of Gaussians of the grey photo)."""
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return cv2.GaussianBlur(grey, (0, 0), 1.5) - cv2.GaussianBlur(grey, (0, 0), 4.5)


@pytest.mark.parametrize("model_key", ["jaipur-threadworks-anarkali", "maison-vellore-cleo",
                                       "rajwada-couture-bandhgala", "solenne-etoile",
                                       "kalinga-loom-tussar", "kaveri-time-classic"])
def test_two_items_of_one_product_do_not_share_their_fine_detail(model_key):
    """Two units of one model and colour, shot from the same place in the same light,
    are two physical items: their weave, print placement, stitch holes and lie are their
    own, so their fine detail agrees far less than a copy's would (1.0)."""
    first, second = (genuine_spec(model_key, item_seed=seed) for seed in (1, 2))
    assert first.colour == second.colour
    (a, mask_a), (b, mask_b) = (render_product_with_mask(spec, size=(384, 384), rng_seed=4)
                                for spec in (first, second))
    both = (mask_a > 200) & (mask_b > 200)
    detail_a, detail_b = (d[both] - d[both].mean() for d in (_fine_detail(a), _fine_detail(b)))
    agreement = (detail_a * detail_b).sum() / np.sqrt((detail_a ** 2).sum()
                                                      * (detail_b ** 2).sum())
    assert agreement < 0.6


def test_encode_jpeg_round_trips():
    photo = render_product(genuine_spec("nordhavn-fjell"), size=SMALL, rng_seed=3)
    data = encode_jpeg(photo, quality=85)
    assert data[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == photo.shape
    assert np.abs(decoded.astype(int) - photo.astype(int)).mean() < 6


# ---------------------------------------------------------------- counterfeit cues

LOGO_MODELS = ("maison-vellore-cleo", "arcadia-apex", "kalinga-loom-banarasi",
               "jaipur-threadworks-straight", "vasseur-regent", "solenne-etoile",
               "nordhavn-fjell", "sitara-couture-nawab")


def _logo_crop(photo):
    h, w = photo.shape[:2]
    return photo[int(h * 0.2):int(h * 0.7), int(w * 0.1):int(w * 0.9)].astype(np.int16)


def _mad(a, b) -> float:
    return float(np.abs(_logo_crop(a) - _logo_crop(b)).mean())


def test_fakes_differ_from_genuine_in_the_logo_region():
    """Same shoot (rng_seed), so the crops are aligned: two genuine items of a model
    differ there by what is each item's own (its weave, its stitch holes, where its print
    falls); fakes of the same model and colour differ by that and by their logo."""
    genuine_pairs, fake_pairs = [], []
    for model_key in LOGO_MODELS:
        a = genuine_spec(model_key, item_seed=1)
        b = genuine_spec(model_key, item_seed=2)
        fakes = [counterfeit_twin(a, seed=100 + k) for k in range(4)]
        for shoot in (3, 4):
            shot_a = render_product(a, angle="detail_logo", size=(256, 256), rng_seed=shoot)
            shot_b = render_product(b, angle="detail_logo", size=(256, 256), rng_seed=shoot)
            genuine_gap = _mad(shot_a, shot_b)
            fake_gaps = [_mad(shot_a, render_product(f, angle="detail_logo", size=(256, 256),
                                                     rng_seed=shoot)) for f in fakes]
            assert np.mean(fake_gaps) > genuine_gap, model_key
            genuine_pairs.append(genuine_gap)
            fake_pairs.extend(fake_gaps)
    assert min(fake_pairs) > 0.5, "every fake leaves a trace in the logo region"
    assert np.mean(fake_pairs) > 2 * np.mean(genuine_pairs)


def test_a_single_logo_flaw_changes_the_logo_crop():
    genuine = genuine_spec("orvella-sera", item_seed=4)
    shot = render_product(genuine, angle="detail_logo", size=(256, 256), rng_seed=8)
    for kind in LOGO_FLAWS:
        fake = counterfeit_twin(genuine, seed=5, flaws=(Flaw(kind, 0.6),))
        fake_shot = render_product(fake, angle="detail_logo", size=(256, 256), rng_seed=8)
        assert _mad(shot, fake_shot) > 0.5, kind


def test_counterfeit_flaws_are_varied_and_include_the_logo(catalog):
    fakes = [s for s in catalog if s.counterfeit]
    kinds = {f.kind for s in fakes for f in s.flaws}
    assert kinds == set(FLAW_KINDS)
    for spec in fakes:
        assert 1 <= len(spec.flaws) <= 4
        assert any(f.kind in LOGO_FLAWS for f in spec.flaws)
        assert all(0.3 <= f.strength <= 1.0 for f in spec.flaws)
        assert len({f.kind for f in spec.flaws}) == len(spec.flaws)
    assert all(s.flaws == () for s in catalog if not s.counterfeit)


def test_serials_follow_the_brand_format_unless_flawed(catalog):
    for spec in catalog:
        template = BRANDS[spec.brand].mark.serial_template
        wrong = any(f.kind == "wrong_serial_format" for f in spec.flaws)
        assert serial_matches(template, spec.serial) is not wrong, spec.serial


# ---------------------------------------------------------------- catalogue statistics


def test_catalog_counterfeit_rate_is_as_requested(catalog):
    assert abs(np.mean([s.counterfeit for s in catalog]) - 0.08) < 0.005
    rare = generate_catalog(1000, seed=3, counterfeit_rate=0.02)
    assert sum(s.counterfeit for s in rare) == 20
    assert not any(s.counterfeit for s in generate_catalog(200, seed=3, counterfeit_rate=0))


def test_catalog_prices_are_plausible(catalog):
    for spec in catalog:
        assert isinstance(spec.price_paise, int) and spec.price_paise > 0
        assert isinstance(spec.original_price_paise, int) and spec.original_price_paise > 0
        assert spec.price_paise <= spec.original_price_paise
    luxury = [s for s in catalog if s.tier == "luxury" and not s.counterfeit]
    above = np.mean([s.price_paise > LUXURY_THRESHOLD_PAISE for s in luxury])
    assert 0.15 < above < 0.4
    everyday = [s.price_paise for s in catalog if s.category in ("sarees", "kurtas")
                and not s.counterfeit]
    assert np.mean([50_000 <= p <= 800_000 for p in everyday]) > 0.8


def test_fakes_are_usually_priced_below_the_brand_norm(catalog):
    norms = brand_price_norms()
    fake_ratio = [s.price_paise / norms[(s.brand, s.category)] for s in catalog if s.counterfeit]
    genuine_ratio = [s.price_paise / norms[(s.brand, s.category)] for s in catalog
                     if not s.counterfeit]
    assert np.median(fake_ratio) < 0.6
    assert np.median(genuine_ratio) > 0.8


def test_catalog_sizes_conditions_and_text_are_valid(catalog):
    for spec in catalog:
        assert spec.size in valid_sizes(spec.category)
        assert spec.condition in CONDITIONS
        assert spec.brand_name in spec.title and spec.colour in spec.title
        assert spec.description
    assert {s.size for s in catalog if s.category == "sarees"} == {"Free Size"}
    shoes = {s.size for s in catalog if s.category in ("sneakers", "heels")}
    assert shoes <= {f"UK {n}" for n in range(3, 12)}
    assert {s.category for s in catalog} == set(CATEGORIES)


def test_brand_book_is_rich_enough():
    assert len(CATEGORIES) >= 8
    for category in CATEGORIES:
        brands = {m.brand for m in MODELS.values() if m.category == category}
        assert len(brands) >= 2, category
    for brand in BRANDS.values():
        assert brand.models and brand.mark.wordmark
        for model in brand.models:
            assert model.colourways


# ---------------------------------------------------------------- price norms


def test_reference_price_norms_cover_every_brand_and_category():
    norms = brand_price_norms()
    expected = {(m.brand, m.category) for m in MODELS.values()}
    assert set(norms) == expected
    assert all(isinstance(v, int) and v > 0 for v in norms.values())
    assert norms[("maison-vellore", "handbags")] > 5 * norms[("indigo-haat", "kurtas")]
    assert brand_price_norms() == norms


def test_price_norms_from_listings_are_medians_of_genuine_items():
    specs = generate_catalog(300, seed=2)
    norms = brand_price_norms(specs)
    key = max(norms, key=lambda k: sum(1 for s in specs if (s.brand, s.category) == k))
    prices = sorted(s.price_paise for s in specs
                    if (s.brand, s.category) == key and not s.counterfeit)
    assert norms[key] == int(np.median(prices))


def test_output_does_not_depend_on_the_process():
    """Seeding runs in worker processes: str hashing is salted per process, so nothing may
    depend on hash() or set order. Two interpreters with different salts agree."""
    import hashlib
    import os
    import subprocess
    import sys

    snippet = (
        "import hashlib;"
        "from marketplace_core.seed import generate_catalog, render_product;"
        "specs = generate_catalog(40, seed=4, counterfeit_rate=0.25);"
        "h = hashlib.sha256(repr(specs).encode());"
        "[h.update(render_product(s, angle='front', size=(96, 96), rng_seed=i).tobytes())"
        " for i, s in enumerate(specs[:12])];"
        "print(h.hexdigest())"
    )
    digests = set()
    for salt in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=salt)
        out = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True,
                             text=True, check=True, cwd=REPO_ROOT)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
    assert hashlib.sha256(b"").hexdigest() not in digests
