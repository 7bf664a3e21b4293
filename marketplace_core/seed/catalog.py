"""Listing specs for the demo marketplace: what is for sale, at what price, and which are fakes.

`generate_catalog(n, seed)` is deterministic for a seed. Prices are integer paise. A
counterfeit is a spec with `counterfeit=True` and its flaws; its photos (photos.py) show
them, its serial may be malformed or a code copied from a genuine item, and most are priced
suspiciously low for the brand.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from statistics import median

import numpy as np

from .brands import BRANDS, CATEGORIES, get_brand, get_model, models_in_category, valid_sizes
from .counterfeit import Flaw, draw_flaws
from .serials import break_serial, leaked_serial, make_serial

PAISE_PER_RUPEE = 100
AUTHENTICATION_THRESHOLD_PAISE = 10_000 * PAISE_PER_RUPEE  # domain.md: strictly above it

CONDITIONS = ("new_with_tags", "like_new", "good", "fair")
_CONDITION_P = (0.18, 0.32, 0.38, 0.12)
_CONDITION_PHRASES = {
    "new_with_tags": ("new with tags", "brand new, tags attached", "unused with tags"),
    "like_new": ("worn once", "like new", "used twice"),
    "good": ("gently used", "good condition", "lightly worn"),
    "fair": ("well loved", "visible wear", "used, priced to sell"),
}
# Share of retail a resale fetches by condition (before per-listing spread).
_CONDITION_VALUE = {"new_with_tags": 0.72, "like_new": 0.58, "good": 0.45, "fair": 0.32}
_PRICE_SPREAD = 0.3            # lognormal sigma of sellers' pricing around the norm

# Demo category mix, roughly that of an Indian resale closet.
_CATEGORY_P = {"sarees": 0.16, "kurtas": 0.15, "handbags": 0.14, "sneakers": 0.12,
               "dresses": 0.1, "heels": 0.08, "jackets": 0.07, "lehengas": 0.06,
               "watches": 0.07, "sherwanis": 0.05}
_TIER_POPULARITY = {"luxury": 0.7, "premium": 1.0, "mass": 1.4}
# Fakes concentrate on brands worth faking.
_TIER_FAKE_WEIGHT = {"luxury": 4.0, "premium": 1.5, "mass": 0.3}
_APPAREL_SIZE_P = {"XS": 0.08, "S": 0.22, "M": 0.3, "L": 0.22, "XL": 0.12, "XXL": 0.06}


@dataclass(frozen=True)
class ProductSpec:
    """One physical item offered in one listing."""

    item_id: str
    brand: str                    # key into brands.BRANDS
    model: str                    # key into brands.MODELS
    category: str                 # key into brands.CATEGORIES
    colour: str                   # key into brands.COLOURS
    size: str
    condition: str                # one of CONDITIONS
    price_paise: int
    original_price_paise: int
    title: str
    description: str
    serial: str                   # serial / date code printed on the item's label
    counterfeit: bool = False
    flaws: tuple[Flaw, ...] = ()
    item_seed: int = 0            # fixes item-level details (wear, a fake's exact mistakes)

    @property
    def brand_name(self) -> str:
        return get_brand(self.brand).name

    @property
    def tier(self) -> str:
        return get_brand(self.brand).tier


def generate_catalog(n_items: int, seed: int, counterfeit_rate: float = 0.08
                     ) -> list[ProductSpec]:
    """n_items listing specs; exactly round(n_items * counterfeit_rate) are counterfeit."""
    if n_items < 0 or not 0 <= counterfeit_rate <= 1:
        raise ValueError("n_items must be >= 0 and counterfeit_rate within [0, 1]")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xCA7A])
    picks = [_pick_model(rng) for _ in range(n_items)]
    fakes = _choose_fakes(picks, round(n_items * counterfeit_rate), rng)
    return [_make_spec(f"item-{seed}-{i:05d}", model_key, i in fakes, rng)
            for i, model_key in enumerate(picks)]


def genuine_spec(model_key: str, *, colour: str | None = None, item_seed: int = 0,
                 condition: str = "like_new", item_id: str | None = None) -> ProductSpec:
    """A genuine item of a model (reference photos, tests)."""
    rng = np.random.default_rng([item_seed, 0x6E])
    spec = _make_spec(item_id or f"ref-{model_key}-{item_seed}", model_key, False, rng,
                      colour=colour or get_model(model_key).colourways[0], condition=condition)
    return replace(spec, item_seed=item_seed)


def counterfeit_twin(spec: ProductSpec, seed: int, flaws: tuple[Flaw, ...] | None = None
                     ) -> ProductSpec:
    """A fake of the same model, colour, condition and size as spec, with random (or the
    given) flaws: for training pairs and side-by-side tests."""
    rng = np.random.default_rng([seed, 0xFA])
    flaws = flaws if flaws is not None else draw_flaws(spec.model, rng)
    fake = _make_spec(f"fake-{spec.item_id}-{seed}", spec.model, True, rng, flaws=flaws,
                      colour=spec.colour, condition=spec.condition, size=spec.size)
    return replace(fake, item_seed=seed)


# ---------------------------------------------------------------- pieces


def _pick_model(rng: np.random.Generator) -> str:
    cats = list(_CATEGORY_P)
    category = cats[int(rng.choice(len(cats), p=list(_CATEGORY_P.values())))]
    models = models_in_category(category)
    weights = np.array([_TIER_POPULARITY[BRANDS[m.brand].tier] for m in models])
    return models[int(rng.choice(len(models), p=weights / weights.sum()))].key


def _choose_fakes(picks: list[str], count: int, rng: np.random.Generator) -> set[int]:
    if count <= 0:
        return set()
    weights = np.array([_TIER_FAKE_WEIGHT[BRANDS[get_model(m).brand].tier] for m in picks])
    chosen = rng.choice(len(picks), size=count, replace=False, p=weights / weights.sum())
    return {int(i) for i in chosen}


def _make_spec(item_id: str, model_key: str, counterfeit: bool, rng: np.random.Generator, *,
               flaws: tuple[Flaw, ...] | None = None, colour: str | None = None,
               condition: str | None = None, size: str | None = None) -> ProductSpec:
    model = get_model(model_key)
    brand = get_brand(model.brand)
    # Draw every random choice even when it is overridden, so overrides don't shift the
    # rest of the stream (and with it every later item of a catalogue).
    drawn_colour = model.colourways[int(rng.integers(len(model.colourways)))]
    drawn_condition = CONDITIONS[int(rng.choice(len(CONDITIONS), p=_CONDITION_P))]
    drawn_size = _pick_size(model.category, rng)
    colour, condition, size = (colour or drawn_colour, condition or drawn_condition,
                               size or drawn_size)
    if counterfeit and flaws is None:
        flaws = draw_flaws(model_key, rng)
    flaws = flaws if counterfeit else ()
    original, price = _prices(model.retail_rupees, condition, rng)
    if counterfeit:
        price = _fake_price(price, rng)
    template = brand.mark.serial_template
    if not counterfeit:
        serial = make_serial(template, rng)
    elif any(f.kind == "wrong_serial_format" for f in flaws):
        serial = break_serial(template, make_serial(template, rng), rng)
    else:
        serial = leaked_serial(template, model_key)
    title = _title(brand.name, model, colour, condition, size, rng)
    description = _description(brand, model, colour, condition, size, counterfeit, rng)
    return ProductSpec(
        item_id=item_id, brand=brand.key, model=model.key, category=model.category,
        colour=colour, size=size, condition=condition,
        price_paise=price * PAISE_PER_RUPEE,
        original_price_paise=original * PAISE_PER_RUPEE,
        title=title, description=description, serial=serial, counterfeit=counterfeit,
        flaws=tuple(flaws), item_seed=int(rng.integers(2**31)),
    )


def _pick_size(category: str, rng: np.random.Generator) -> str:
    sizes = valid_sizes(category)
    if len(sizes) == 1:
        return sizes[0]
    if CATEGORIES[category].size_system.startswith("apparel"):
        if "Free Size" in sizes and rng.random() < 0.35:  # semi-stitched lehengas
            return "Free Size"
        names = list(_APPAREL_SIZE_P)
        return names[int(rng.choice(len(names), p=list(_APPAREL_SIZE_P.values())))]
    centre = 7.5 if category == "sneakers" else 5.0
    uk = int(np.clip(np.round(rng.normal(centre, 1.5)), 3, 11 if category == "sneakers" else 9))
    return f"UK {uk}"


def _prices(retail_rupees: int, condition: str, rng: np.random.Generator) -> tuple[int, int]:
    """(original, asking) in rupees. Sellers anchor on retail, discount by condition, round
    like people do, and never ask more than about the original price."""
    original = _round_retail(retail_rupees * rng.uniform(0.92, 1.08), rng)
    value = retail_rupees * _CONDITION_VALUE[condition] * rng.lognormal(0, _PRICE_SPREAD)
    asking = min(_round_price(value, rng), int(original * 0.95) // 50 * 50)
    return original, max(asking, 250)


def _fake_price(genuine_rupees: int, rng: np.random.Generator) -> int:
    """Most fakes are priced too good to be true; some copy a genuine price."""
    factor = rng.uniform(0.18, 0.5) if rng.random() < 0.75 else rng.uniform(0.85, 1.0)
    return max(250, _round_price(genuine_rupees * factor, rng))


def _round_price(rupees: float, rng: np.random.Generator) -> int:
    step = 50 if rupees < 5000 else 100
    rounded = max(step, int(round(rupees / step)) * step)
    return rounded - 1 if rng.random() < 0.25 else rounded


def _round_retail(rupees: float, rng: np.random.Generator) -> int:
    rounded = max(100, int(round(rupees / 100)) * 100)
    return rounded - 1 if rng.random() < 0.5 else rounded


def _title(brand_name, model, colour, condition, size, rng) -> str:
    phrase = _pick(_CONDITION_PHRASES[condition], rng)
    title = f"{brand_name} {model.name} {model.noun}, {colour}, {phrase}"
    if size not in ("One Size", "Free Size") and rng.random() < 0.5:
        title += f", size {size}"
    return title


_OCCASIONS = {
    "sarees": ("weddings and festive evenings", "Diwali and family functions", "office pujas"),
    "lehengas": ("a sangeet or mehendi", "wedding season", "festive functions"),
    "sherwanis": ("the groom's side at a wedding", "a reception", "festive functions"),
    "kurtas": ("office and casual outings", "Eid and Diwali", "college and brunches"),
}
_GENUINE_CLAIMS = ("Comes with original box and dust bag.", "Bill and box available.",
                   "Purchased from the brand store; invoice available.", "Authentic.", "")
_FAKE_CLAIMS = ("100% original, no bill.", "Original, box not available.",
                "Genuine product, gifted so no invoice.", "Authentic.", "")


def _description(brand, model, colour, condition, size, counterfeit, rng) -> str:
    parts = [f"{brand.name} {model.name} {model.noun} in {colour}, {model.material}."]
    parts.append({
        "new_with_tags": "Never used, tags still attached.",
        "like_new": "Worn once for a few hours, no flaws.",
        "good": "Gently used with minor signs of wear; see photos.",
        "fair": "Well used: visible wear on edges and corners, priced accordingly.",
    }[condition])
    if size not in ("One Size",):
        parts.append(f"Size: {size}.")
    if model.category in _OCCASIONS:
        parts.append(f"Perfect for {_pick(_OCCASIONS[model.category], rng)}.")
    if brand.tier != "mass" or counterfeit:
        claim = _pick(_FAKE_CLAIMS if counterfeit else _GENUINE_CLAIMS, rng)
        if claim:
            parts.append(claim)
    parts.append(_pick(("Smoke-free home.", "Ships in 2 days.", "Open to offers.",
                        "Bundle for a discount.", ""), rng))
    return " ".join(p for p in parts if p)


def _pick(options, rng):
    return options[int(rng.integers(len(options)))]


# ---------------------------------------------------------------- price norms


def brand_price_norms(specs: list[ProductSpec] | None = None) -> dict[tuple[str, str], int]:
    """Median asking price in paise of genuine items per (brand key, category).

    With no specs, the norms come from a large fixed reference market (deterministic);
    pass listings to compute norms from them instead."""
    if specs is None:
        return dict(_reference_norms())
    groups: dict[tuple[str, str], list[int]] = {}
    for spec in specs:
        if not spec.counterfeit:
            groups.setdefault((spec.brand, spec.category), []).append(spec.price_paise)
    return {key: int(median(prices)) for key, prices in sorted(groups.items())}


@cache
def _reference_norms() -> tuple[tuple[tuple[str, str], int], ...]:
    rng = np.random.default_rng(0x0B5E55ED)
    prices: dict[tuple[str, str], list[int]] = {}
    for brand in BRANDS.values():
        for model in brand.models:
            for _ in range(151):
                condition = CONDITIONS[int(rng.choice(len(CONDITIONS), p=_CONDITION_P))]
                _, rupees = _prices(model.retail_rupees, condition, rng)
                prices.setdefault((brand.key, model.category), []).append(rupees * 100)
    return tuple((key, int(median(v))) for key, v in sorted(prices.items()))
