"""Deterministic, realistic-looking product photos drawn with OpenCV.

`render_product(spec, angle=..., rng_seed=...)` draws the item (fixed by the spec: design,
colour, wear, and a fake's flaws) and photographs it (fixed by rng_seed: background, light,
framing, noise). Two seeds give two shoots of the same item; the same seed gives the same
bytes. Only numpy Generators seeded from the arguments are used, never global RNG state.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .brands import CATEGORIES
from .canvas import GAIN_DOWNSCALE, ItemCanvas
from .closeups import (
    draw_detail_logo,
    draw_detail_stitching,
    draw_hardware,
    draw_label,
    draw_packaging,
)
from .counterfeit import resolve_look
from .drawing import apply_texture
from .items_accessories import draw_bag, draw_heels, draw_sneakers, draw_watch
from .items_apparel import draw_garment, draw_lehenga, draw_saree

ANGLES = ("front", "back", "detail_logo", "detail_stitching", "label", "hardware", "packaging")
CLOSE_UPS = ("detail_logo", "detail_stitching", "label", "hardware")
BACKGROUNDS = ("studio", "wood_table", "floor_tiles", "bed_sheet")

_FULL_VIEWS = {"bag": draw_bag, "sneaker": draw_sneakers, "heel": draw_heels,
               "watch": draw_watch, "saree": draw_saree, "garment": draw_garment,
               "lehenga": draw_lehenga}
_CLOSE_UP_VIEWS = {"detail_logo": draw_detail_logo, "detail_stitching": draw_detail_stitching,
                   "label": draw_label, "hardware": draw_hardware, "packaging": draw_packaging}


def angles_for(category: str) -> tuple[str, ...]:
    """Angles that make sense for a category: only items with hardware get 'hardware'."""
    if CATEGORIES[category].has_hardware:
        return ANGLES
    return tuple(a for a in ANGLES if a != "hardware")


def listing_angles(spec, count: int = 3) -> tuple[str, ...]:
    """The photos a seller typically posts, covershot first; authentication-relevant
    close-ups come next because high-value listings need them."""
    preferred = ("front", "back", "detail_logo", "label", "detail_stitching", "hardware",
                 "packaging")
    usable = angles_for(spec.category)
    return tuple(a for a in preferred if a in usable)[:count]


def render_product(spec, *, angle: str = "front", size: tuple[int, int] = (512, 512),
                   rng_seed: int) -> np.ndarray:
    """Photo of the item as a BGR uint8 array of shape (size[1], size[0], 3).

    size is (width, height) as in OpenCV. The spec fixes the item; rng_seed fixes the shoot
    (room, light, framing, noise), so the same rng_seed photographs different items in the
    same room from the same position."""
    return render_product_with_mask(spec, angle=angle, size=size, rng_seed=rng_seed)[0]


def render_product_with_mask(spec, *, angle: str = "front", size: tuple[int, int] = (512, 512),
                             rng_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The photo and the item's coverage in it (uint8, 255 = item): ground truth for
    cropping, segmentation and duplicate-detection experiments."""
    if angle not in angles_for(spec.category):
        raise ValueError(f"angle {angle!r} not available for {spec.category}; "
                         f"use one of {angles_for(spec.category)}")
    width, height = int(size[0]), int(size[1])
    if width < 32 or height < 32:
        raise ValueError("size must be at least 32x32")
    look = resolve_look(spec)
    canvas = ItemCanvas(width, height, look)
    if angle in ("front", "back"):
        _FULL_VIEWS[look.family](canvas, angle)
        canvas.lie(angle)
    else:
        _CLOSE_UP_VIEWS[angle](canvas)
    apply_texture(canvas.img, look.material, look.seed)
    return _photograph(canvas, _scene(rng_seed), _shot(rng_seed, angle, width, height))


def encode_jpeg(img: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


# ====================================================================== the shoot


@dataclass(frozen=True)
class Scene:
    """What stays the same across one photo session: the room and the light."""

    background: str
    surface: tuple[float, float, float]
    variation: float
    light_angle: float
    light_strength: float
    vignette: float
    exposure: float
    white_balance: tuple[float, float, float]
    noise_sigma: float
    texture_seed: int


@dataclass(frozen=True)
class Shot:
    """What changes from photo to photo: framing, shadow, focus."""

    homography: np.ndarray
    shadow_offset: tuple[float, float]
    shadow_blur: float
    shadow_strength: float
    soft_focus: bool
    noise_offset: tuple[int, int]


_SURFACES = {
    "studio": [(236, 236, 236), (226, 232, 238), (214, 226, 236), (232, 228, 240)],
    "wood_table": [(70, 110, 160), (55, 85, 125), (100, 140, 185), (45, 65, 95)],
    "floor_tiles": [(215, 220, 225), (195, 205, 215), (226, 226, 222), (180, 185, 190)],
    "bed_sheet": [(240, 240, 244), (225, 230, 245), (235, 225, 215), (215, 232, 225)],
}


def _scene(rng_seed: int) -> Scene:
    rng = np.random.default_rng([int(rng_seed) & 0xFFFFFFFF, 0x5CE4E])
    background = BACKGROUNDS[int(rng.choice(len(BACKGROUNDS), p=[0.34, 0.24, 0.18, 0.24]))]
    options = _SURFACES[background]
    base = np.array(options[int(rng.integers(len(options)))], np.float64)
    base = np.clip(base + rng.normal(0, 6, 3), 0, 255)
    warm = rng.uniform(-0.06, 0.08)  # indoor bulbs are warm, daylight by a window cool
    return Scene(
        background=background,
        surface=tuple(float(c) for c in base),
        variation=float(rng.uniform(0.6, 1.4)),
        light_angle=float(rng.uniform(0, 2 * np.pi)),
        light_strength=float(rng.uniform(0.06, 0.22)),
        vignette=float(rng.uniform(0.05, 0.3)),
        exposure=float(rng.uniform(0.9, 1.06)),
        white_balance=(1 - warm, 1.0, 1 + warm * 0.8),
        noise_sigma=float(rng.uniform(1.5, 5.0)),
        texture_seed=int(rng.integers(2**31)),
    )


def _shot(rng_seed: int, angle: str, width: int, height: int) -> Shot:
    rng = np.random.default_rng([int(rng_seed) & 0xFFFFFFFF, 1 + ANGLES.index(angle)])
    close = angle in CLOSE_UPS
    rotation = rng.uniform(-8, 8) if close else rng.uniform(-7, 7)
    scale = rng.uniform(1.0, 1.12) if close else rng.uniform(0.84, 1.0)
    shift = rng.uniform(-0.045, 0.045, 2) * [width, height]
    jitter = rng.uniform(-0.035, 0.035, (4, 2)) * [width, height]
    centre = np.array([width / 2, height / 2])
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    theta = np.radians(rotation)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    dst = (src - centre) @ rot.T * scale + centre + shift + jitter
    homography = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    light_side = rng.uniform(0, 2 * np.pi)
    reach = rng.uniform(0.008, 0.03) * min(width, height)
    return Shot(
        homography=homography,
        shadow_offset=(float(np.cos(light_side) * reach), float(np.sin(light_side) * reach)),
        shadow_blur=float(rng.uniform(0.01, 0.03) * min(width, height)),
        shadow_strength=float(rng.uniform(0.25, 0.5)),
        soft_focus=bool(rng.random() < 0.3),
        noise_offset=(int(rng.integers(0, 4096)), int(rng.integers(0, 4096))),
    )


# ====================================================================== backgrounds

_BACKGROUND_DOWNSCALE = 2


@lru_cache(maxsize=8)
def _unit_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy / h, xx / w


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Band-limited noise: random values on a coarse grid, upsampled smoothly."""
    grid = rng.standard_normal((cells, cells)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _background(scene: Scene, width: int, height: int) -> np.ndarray:
    """The surface the item lies on, BGR uint8. Drawn at half resolution (it is out of
    the focal plane's detail anyway) and upsampled."""
    h = max(8, height // _BACKGROUND_DOWNSCALE)
    w = max(8, width // _BACKGROUND_DOWNSCALE)
    rng = np.random.default_rng(scene.texture_seed)
    yy, xx = _unit_grid(h, w)
    tone = _BACKGROUND_TONES[scene.background](rng, yy, xx, scene.variation)
    field = tone[..., None] * np.array(scene.surface, np.float32)
    small = np.clip(field, 0, 255).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _studio_tone(rng, yy, xx, variation):
    # A paper sweep: darker at the top, brightest where the paper curves to the floor.
    return 0.93 + 0.1 * np.exp(-((yy - 0.55 - 0.1 * variation) ** 2) / 0.08) - 0.04 * (1 - yy)


def _wood_tone(rng, yy, xx, variation):
    h, w = yy.shape
    planks = 4 + int(rng.integers(3))
    across = yy * planks + 0.3 * variation
    plank = np.floor(across).astype(int)
    tones = (0.85 + 0.25 * rng.random(planks + 2)).astype(np.float32)
    warp = _smooth_noise(rng, h, w, 6) * 0.8
    grain = np.sin((across * 18 + warp * 3 + np.sin(xx * 7 + plank) * 0.6) * np.pi)
    fine = np.sin((yy * 260 + warp * 12) * np.pi) * 0.04
    tone = tones[plank] * (0.92 + 0.08 * grain + fine)
    seam = (across % 1.0) < 0.012 * planks
    return np.where(seam, tone * 0.55, tone)


def _tile_tone(rng, yy, xx, variation):
    h, w = yy.shape
    tiles = 2 + int(rng.integers(2))
    # Marble: faint, thin veins where a smooth noise field crosses zero.
    veins = np.abs(_smooth_noise(rng, h, w, 7))
    tone = 0.97 - 0.05 * np.exp(-veins * 25) + 0.025 * _smooth_noise(rng, h, w, 4)
    grout_x = np.abs(((xx * tiles + 0.37 * variation) % 1.0) - 0.5) > 0.493
    grout_y = np.abs(((yy * tiles + 0.11 * variation) % 1.0) - 0.5) > 0.493
    return np.where(grout_x | grout_y, tone * 0.8, tone)


def _sheet_tone(rng, yy, xx, variation):
    h, w = yy.shape
    folds = _smooth_noise(rng, h, w, 4) * 0.05 + _smooth_noise(rng, h, w, 9) * 0.025
    tone = 0.97 + folds
    if rng.random() < 0.5:  # a woven stripe in the sheet
        period = rng.uniform(9, 20)
        stripe = np.sin((xx * w + yy * w * 0.1) * 2 * np.pi / period) > 0.75
        tone = tone - stripe * 0.05
    return tone


_BACKGROUND_TONES = {"studio": _studio_tone, "wood_table": _wood_tone,
                     "floor_tiles": _tile_tone, "bed_sheet": _sheet_tone}


# ====================================================================== compositing

_NOISE_SCALE = 20.0   # the noise tile stores 128 + 20 * N(0, 1)


@lru_cache(maxsize=4)
def _noise_tile(size: int) -> np.ndarray:
    """Sensor noise, partly shared across channels (luminance) and partly not (chroma).

    One fixed tile, cropped at a random offset per photo: drawing fresh Gaussian noise per
    photo would cost more than drawing the item."""
    rng = np.random.default_rng(20240611)
    common = rng.standard_normal((size, size, 1), dtype=np.float32)
    own = rng.standard_normal((size, size, 3), dtype=np.float32)
    noise = 128 + _NOISE_SCALE * (0.8 * common + 0.6 * own)
    return np.clip(noise, 0, 255).astype(np.uint8)


def _noise(shot: Shot, width: int, height: int) -> np.ndarray:
    size = 1024 if max(width, height) <= 1024 else 2 * max(width, height)
    tile = _noise_tile(size)
    oy = shot.noise_offset[0] % (size - height + 1)
    ox = shot.noise_offset[1] % (size - width + 1)
    return np.ascontiguousarray(tile[oy:oy + height, ox:ox + width])


def _photograph(ic: ItemCanvas, scene: Scene, shot: Shot) -> tuple[np.ndarray, np.ndarray]:
    """Place the item in the room: warp, shadow, light, white balance, sensor noise.

    Full-resolution work is a handful of saturating uint8 OpenCV operations; everything
    smooth (light, shading, shadow) is computed at quarter resolution."""
    width, height = ic.w, ic.h
    warped = cv2.warpPerspective(ic.img, shot.homography, (width, height),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=(0, 0, 0, 0))
    cover = cv2.extractChannel(warped, 3)
    item = cv2.cvtColor(warped, cv2.COLOR_BGRA2BGR)
    gain = cv2.resize(_gain_low(ic, scene, shot, cover), (width, height),
                      interpolation=cv2.INTER_LINEAR)

    background = _background(scene, width, height)
    cover3 = cv2.merge([cover, cover, cover])
    photo = cv2.add(cv2.multiply(item, cover3, scale=1 / 255),
                    cv2.multiply(background, cv2.bitwise_not(cover3), scale=1 / 255))
    photo = cv2.multiply(photo, gain, scale=1 / _GAIN_ONE)
    k = scene.noise_sigma / _NOISE_SCALE
    photo = cv2.addWeighted(photo, 1.0, _noise(shot, width, height), k, -128 * k)
    if shot.soft_focus:
        photo = cv2.GaussianBlur(photo, (3, 3), 0.7)
    return photo, cover


_GAIN_ONE = 128  # gains are stored as uint8 with 128 meaning 1.0 (so up to ~2x)


def _gain_low(ic: ItemCanvas, scene: Scene, shot: Shot, cover: np.ndarray) -> np.ndarray:
    """Per-pixel, per-channel multiplier at quarter resolution: room light x (item shading
    on the item, cast shadow on the background) x white balance."""
    gh, gw = ic.gain.shape
    down = np.diag([1 / GAIN_DOWNSCALE, 1 / GAIN_DOWNSCALE, 1.0])
    low_h = down @ shot.homography @ np.linalg.inv(down)
    item_gain = cv2.warpPerspective(ic.gain, low_h, (gw, gh), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=1.0)
    cover_low = cv2.resize(cover, (gw, gh), interpolation=cv2.INTER_AREA)
    cover_low = cover_low.astype(np.float32) * (1 / 255)
    shadow = _shadow(cover_low, shot)
    light = _light_field(scene, gw, gh)
    gain = light * (cover_low * item_gain + (1 - cover_low) * (1 - shot.shadow_strength * shadow))
    balanced = gain[..., None] * (np.array(scene.white_balance, np.float32) * _GAIN_ONE)
    return np.clip(balanced, 0, 255).astype(np.uint8)


def _shadow(cover_low: np.ndarray, shot: Shot) -> np.ndarray:
    dx, dy = (o / GAIN_DOWNSCALE for o in shot.shadow_offset)
    moved = cv2.warpAffine(cover_low, np.float32([[1, 0, dx], [0, 1, dy]]),
                           (cover_low.shape[1], cover_low.shape[0]))
    sigma = max(0.8, shot.shadow_blur / GAIN_DOWNSCALE)
    return cv2.GaussianBlur(moved, (0, 0), sigma)


def _light_field(scene: Scene, gw: int, gh: int) -> np.ndarray:
    """Directional fall-off plus lens vignetting, times exposure."""
    ys = (np.arange(gh, dtype=np.float32) + 0.5) / gh - 0.5
    xs = (np.arange(gw, dtype=np.float32) + 0.5) / gw - 0.5
    directional = 1 + scene.light_strength * 2 * (np.cos(scene.light_angle) * xs[None, :]
                                                  + np.sin(scene.light_angle) * ys[:, None])
    vignette = 1 - scene.vignette * (xs[None, :] ** 2 + ys[:, None] ** 2) * 2
    return (scene.exposure * directional * vignette).astype(np.float32)
