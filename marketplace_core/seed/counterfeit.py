"""Counterfeit flaws and the resolved look of one physical item.

A genuine item is drawn exactly by its brand's rules (`BrandMark`) and its model's design.
A counterfeit carries 1-4 `Flaw`s, each with a strength in [0.3, 1.0]; `resolve_look` turns
brand rules + flaws into the concrete drawing parameters (`ItemLook`). The look depends only
on the spec, never on the photo, so every photo of one fake shows the same mistakes.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from functools import lru_cache

import cv2
import numpy as np

from .brands import (
    BGR,
    CATEGORIES,
    COLOURS,
    HARDWARE_FINISHES,
    OFF_HARDWARE,
    get_brand,
    get_model,
    model_pattern,
)

LOGO_FLAWS = ("misspelt_logo", "logo_spacing", "logo_font", "logo_misplaced")
FLAW_KINDS = LOGO_FLAWS + (
    "off_colour_hardware",
    "irregular_stitching",
    "misaligned_pattern",
    "sloppy_edges",
    "wrong_serial_format",
)

# How many flaws a fake carries: most have two or three, so no single cue gives them away.
_FLAW_COUNT_P = {1: 0.2, 2: 0.4, 3: 0.3, 4: 0.1}

# Letters a cheap copy confuses; used by the misspelling flaw.
_LOOKALIKES = {"V": "U", "U": "V", "O": "Q", "Q": "O", "I": "L", "L": "I", "E": "F",
               "F": "E", "N": "M", "M": "N", "R": "P", "P": "R", "C": "G", "G": "C",
               "A": "R", "S": "Z", "T": "I", "H": "N", "K": "X", "D": "O", "W": "V"}

_WEAR_BY_CONDITION = {"new_with_tags": 0.0, "like_new": 0.08, "good": 0.25, "fair": 0.5}


@dataclass(frozen=True)
class Flaw:
    kind: str          # one of FLAW_KINDS
    strength: float    # 0.3 (subtle) .. 1.0 (obvious)


def applicable_flaws(model_key: str) -> tuple[str, ...]:
    """Hardware flaws need hardware; pattern flaws need a print to misalign."""
    model = get_model(model_key)
    kinds = list(FLAW_KINDS)
    if not CATEGORIES[model.category].has_hardware:
        kinds.remove("off_colour_hardware")
    if model_pattern(model) == "plain":
        kinds.remove("misaligned_pattern")
    return tuple(kinds)


def draw_flaws(model_key: str, rng: np.random.Generator) -> tuple[Flaw, ...]:
    """A random subset of flaws for one fake; always at least one on the logo, because
    copying a wordmark exactly is what counterfeiters most often get wrong."""
    counts = list(_FLAW_COUNT_P)
    count = int(rng.choice(counts, p=list(_FLAW_COUNT_P.values())))
    first = LOGO_FLAWS[rng.integers(len(LOGO_FLAWS))]
    others = [k for k in applicable_flaws(model_key) if k != first]
    chosen = [first] + list(rng.choice(others, size=count - 1, replace=False))
    order = {k: i for i, k in enumerate(FLAW_KINDS)}
    chosen.sort(key=order.__getitem__)
    return tuple(Flaw(str(k), round(float(rng.uniform(0.3, 1.0)), 2)) for k in chosen)


@dataclass(frozen=True)
class ItemLook:
    """Concrete drawing parameters of one physical item (brand rules with flaws applied)."""

    family: str
    category: str
    variant: int
    proportions: tuple[float, float]
    material: str
    body: BGR
    accent: BGR
    pattern: str
    pattern_colour: BGR
    pattern_shift: tuple[float, float]   # in pattern cells; genuine prints are centred (0, 0)
    wordmark: str
    true_wordmark: str                   # what the brand prints; sizes are fitted to it
    true_font: int
    true_scale: float
    monogram: str
    font: int
    font_scale: float
    thickness: float
    letter_gaps: tuple[float, ...]       # per gap, in cap heights
    true_gap: float
    logo_shift: tuple[float, float]      # in cap heights
    logo_tilt: float                     # baseline slope (dy/dx)
    ink: BGR
    motif: str
    hardware: BGR
    stitch_pitch: float                  # in 1/100 of the item width
    stitch_jitter: float                 # std of stitch spacing, in pitches
    stitch_wobble: float                 # std of stitch offset across the seam, in pitches
    stitch_skip: float                   # chance a stitch is missing
    stitch_colour: BGR
    edge_wobble: float                   # silhouette irregularity, in 1/100 of the item width
    packaging: BGR
    serial: str
    made_in: str
    size: str
    wear: float                          # 0 new .. 0.5 visibly used
    seed: int                            # for item-level details that must repeat per photo
    last: tuple[float, float]            # the model's own shoe last: (height, length) scales


def _blend(a: BGR, b: BGR, t: float) -> BGR:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))


def _dye_lot(colour: BGR, rng: np.random.Generator) -> BGR:
    """Genuine items vary a little between batches; keeps colour from being a giveaway."""
    jitter = rng.integers(-4, 5, size=3)
    return tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(colour, jitter, strict=True))


def misspell(word: str, rng: np.random.Generator, edits: int = 1) -> str:
    """Swap, double, drop or confuse letters; never returns the word unchanged."""
    result = word
    for _ in range(edits):
        letters = [i for i, ch in enumerate(result) if ch.isalpha()]
        i = letters[rng.integers(len(letters))]
        how = rng.integers(4)
        if how == 0 and i + 1 < len(result) and result[i + 1].isalpha() \
                and result[i + 1] != result[i]:
            result = result[:i] + result[i + 1] + result[i] + result[i + 2:]
        elif how == 1:
            result = result[:i] + result[i] + result[i:]
        elif how == 2 and len(letters) > 3:
            result = result[:i] + result[i + 1:]
        else:
            result = result[:i] + _LOOKALIKES.get(result[i], "O") + result[i + 1:]
    return result if result != word else word[:-1] + _LOOKALIKES.get(word[-1], "O")


_FONT_SWAPS = {
    cv2.FONT_HERSHEY_TRIPLEX: cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_COMPLEX: cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_DUPLEX: cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_SIMPLEX: cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX: cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
}


def _swap_font(font: int) -> int:
    italic = font & cv2.FONT_ITALIC
    return _FONT_SWAPS.get(font & ~cv2.FONT_ITALIC, cv2.FONT_HERSHEY_COMPLEX) | italic


def _item_rng(spec, salt: int) -> np.random.Generator:
    return np.random.default_rng([spec.item_seed, zlib.crc32(spec.item_id.encode()), salt])


@lru_cache(maxsize=4096)
def resolve_look(spec) -> ItemLook:  # spec: catalog.ProductSpec (frozen, hashable)
    brand, model = get_brand(spec.brand), get_model(spec.model)
    mark = brand.mark
    rng = _item_rng(spec, 1)
    flaws = {f.kind: f.strength for f in spec.flaws}
    category = CATEGORIES[model.category]

    wordmark = mark.wordmark
    if "misspelt_logo" in flaws:
        wordmark = misspell(wordmark, rng, 2 if flaws["misspelt_logo"] > 0.8 else 1)
    gaps = np.full(max(len(wordmark) - 1, 1), mark.letter_spacing)
    if "logo_spacing" in flaws:
        s = flaws["logo_spacing"]
        gaps = gaps + rng.choice([-1, 1]) * (0.06 + 0.2 * s) + rng.normal(0, 0.1 * s, gaps.size)
        gaps = np.maximum(gaps, -0.15)
    font, scale, thickness = mark.font, mark.font_scale, mark.thickness
    if "logo_font" in flaws:
        s = flaws["logo_font"]
        change = rng.integers(3)
        if change == 0:
            font = _swap_font(font)
        if change in (0, 1):
            thickness = max(0.8, thickness + rng.choice([-1, 1]) * (0.3 + 0.7 * s))
        scale = scale * (1 + rng.choice([-1, 1]) * (0.08 + 0.2 * s))
    shift, tilt = (0.0, 0.0), 0.0
    if "logo_misplaced" in flaws:
        s = flaws["logo_misplaced"]
        angle = rng.uniform(0, 2 * np.pi)
        dist = 0.25 + 0.9 * s
        shift = (float(dist * np.cos(angle)), float(0.6 * dist * np.sin(angle)))
        tilt = float(rng.choice([-1, 1]) * (0.015 + 0.05 * s))

    hardware = HARDWARE_FINISHES[mark.hardware]
    if "off_colour_hardware" in flaws:
        hardware = _blend(hardware, OFF_HARDWARE[mark.hardware],
                          0.45 + 0.55 * flaws["off_colour_hardware"])

    pitch, jitter, wobble, skip = mark.stitch_pitch, 0.03, 0.02, 0.0
    if "irregular_stitching" in flaws:
        s = flaws["irregular_stitching"]
        pitch = pitch * (1 + rng.choice([-1, 1]) * (0.1 + 0.25 * s))
        jitter, wobble, skip = 0.08 + 0.3 * s, 0.05 + 0.2 * s, 0.02 + 0.08 * s

    pattern_shift = (0.0, 0.0)
    if "misaligned_pattern" in flaws:
        s = flaws["misaligned_pattern"]
        angle = rng.uniform(0, 2 * np.pi)
        pattern_shift = (float((0.15 + 0.3 * s) * np.cos(angle)),
                         float((0.15 + 0.3 * s) * np.sin(angle)))

    edge_wobble = 0.35 + 1.0 * flaws["sloppy_edges"] if "sloppy_edges" in flaws else 0.0
    colour = COLOURS[spec.colour]
    return ItemLook(
        family=category.family,
        category=category.key,
        variant=model.variant,
        proportions=model.proportions,
        material=model.material,
        body=_dye_lot(colour, rng),
        accent=COLOURS[model.accent],
        pattern=model_pattern(model),
        pattern_colour=COLOURS[mark.pattern_colour],
        pattern_shift=pattern_shift,
        wordmark=wordmark,
        true_wordmark=mark.wordmark,
        true_font=mark.font,
        true_scale=mark.font_scale,
        monogram=mark.monogram,
        font=font,
        font_scale=float(scale),
        thickness=float(thickness),
        letter_gaps=tuple(float(g) for g in gaps),
        true_gap=mark.letter_spacing,
        logo_shift=shift,
        logo_tilt=tilt,
        ink=COLOURS[mark.ink],
        motif=mark.motif,
        hardware=hardware,
        stitch_pitch=float(pitch),
        stitch_jitter=float(jitter),
        stitch_wobble=float(wobble),
        stitch_skip=float(skip),
        stitch_colour=COLOURS[mark.stitch_colour],
        edge_wobble=float(edge_wobble),
        packaging=COLOURS[mark.packaging],
        serial=spec.serial,
        made_in=mark.made_in,
        size=spec.size,
        wear=_WEAR_BY_CONDITION.get(spec.condition, 0.2),
        seed=int(rng.integers(2**31)),
        last=model_last(model.key),
    )


def model_last(model_key: str) -> tuple[float, float]:
    """Each shoe model is made on its own last: how high it stands and how long its toe
    runs, within 10% and 6% of its kind's drawing. Fixed by the model (a fake copies it)."""
    rng = np.random.default_rng([zlib.crc32(model_key.encode()), 0x1A57])
    height, length = rng.uniform(-1.0, 1.0, 2)
    return 1.0 + 0.1 * float(height), 1.0 + 0.06 * float(length)


def machine_made(look: ItemLook) -> ItemLook:
    """Parts a machine makes (zip teeth) come out regular even on fakes."""
    return replace(look, stitch_jitter=0.0, stitch_wobble=0.0, stitch_skip=0.0)
