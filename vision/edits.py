"""The fixed, seeded edit suite of the duplicate benchmark, shared with the tests.

Each edit is what a thief, a spammer or a re-lister does to a photo before posting it again:
`apply_edit(name, image, seed)` returns a new BGR uint8 array and never changes its input.
The same (name, image, seed) always gives the same pixels: randomness (crop offsets, noise,
watermark placement) comes only from a numpy Generator seeded by the arguments.

Edits that end with a recompression (every photo on the marketplace is a JPEG) encode at
quality 90 unless the edit is itself a JPEG quality.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from marketplace_core.media._opencv import cv2

Edit = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.imdecode(buffer, cv2.IMREAD_COLOR)


def _resize(factor: float) -> Edit:
    def edit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return edit


def _quality(quality: int) -> Edit:
    def edit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _jpeg(image, quality)
    return edit


def _blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = 0.006 * max(image.shape[:2])  # about 3 px on a 512 px photo
    return cv2.GaussianBlur(image, (0, 0), sigma)


def _gamma(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    gamma = float(rng.choice([0.6, 1.6]))
    table = np.clip(255.0 * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)
    return cv2.LUT(image, table)


def _noise(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = image.astype(np.float32) + rng.normal(0, 12.0, image.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _watermark(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A seller's handle across the photo, half transparent, as resellers stamp them."""
    out = image.copy()
    h, w = out.shape[:2]
    text = f"@closet_{int(rng.integers(100, 999))}"
    scale = w / 320
    thickness = max(1, round(scale * 2))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x = int(rng.uniform(0.02, 0.98 - min(0.96, tw / w)) * w)
    y = int(rng.uniform(0.25, 0.9) * h)
    overlay = out.copy()
    cv2.putText(overlay, text, (x, y + th // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)
    return cv2.addWeighted(overlay, 0.6, out, 0.4, 0)


def _crop(fraction: float) -> Edit:
    """Keep (1 - fraction) of each side, at a random offset: `crop 10%` drops 10% of the
    width and 10% of the height, as an app's crop handle does."""
    def edit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        keep_h, keep_w = round(h * (1 - fraction)), round(w * (1 - fraction))
        top = int(rng.integers(0, h - keep_h + 1))
        left = int(rng.integers(0, w - keep_w + 1))
        return _jpeg(image[top:top + keep_h, left:left + keep_w], 90)
    return edit


def _pad(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """20% padding in total (10% on each side) in a flat colour, as when a photo is made
    square or framed for a feed."""
    h, w = image.shape[:2]
    colour = [(255, 255, 255), (0, 0, 0), (235, 225, 250)][int(rng.integers(3))]
    dy, dx = round(h * 0.1), round(w * 0.1)
    padded = cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_CONSTANT, value=colour)
    return _jpeg(padded, 90)


def _rotate(degrees: float) -> Edit:
    """Rotation about the centre, keeping the frame (corners filled by edge replication
    is what phone editors do when they straighten; black corners give the pad edit's
    signal instead)."""
    def edit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = image.shape[:2]
        sign = float(rng.choice([-1.0, 1.0]))
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), sign * degrees, 1.0)
        rotated = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        return _jpeg(rotated, 90)
    return edit


def _flip(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _jpeg(cv2.flip(image, 1), 90)


def _screenshot(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo as a phone screenshot: a tall screen with a status bar (time, battery),
    the photo fitted to the width, an app's caption and a navigation bar below."""
    h, w = image.shape[:2]
    screen_w = w
    screen_h = round(w * 19.5 / 9)
    dark = bool(rng.random() < 0.5)
    ground = (18, 18, 18) if dark else (250, 250, 250)
    ink = (235, 235, 235) if dark else (30, 30, 30)
    screen = np.full((screen_h, screen_w, 3), ground, np.uint8)
    bar = round(screen_h * 0.045)
    scale = screen_w / 700
    cv2.putText(screen, f"{int(rng.integers(7, 12))}:{int(rng.integers(10, 59))}",
                (round(screen_w * 0.05), round(bar * 0.7)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                ink, max(1, round(scale * 2)), cv2.LINE_AA)
    cv2.rectangle(screen, (round(screen_w * 0.85), round(bar * 0.3)),
                  (round(screen_w * 0.93), round(bar * 0.7)), ink, -1)
    top = round(screen_h * 0.2 + rng.uniform(-0.05, 0.05) * screen_h)
    fitted = cv2.resize(image, (screen_w, round(h * screen_w / w)), interpolation=cv2.INTER_AREA)
    fitted = fitted[:max(1, screen_h - top - 2 * bar)]
    screen[top:top + fitted.shape[0]] = fitted
    caption_y = min(screen_h - bar - 4, top + fitted.shape[0] + round(bar * 1.2))
    cv2.putText(screen, "Like  Comment  Share", (round(screen_w * 0.05), caption_y),
                cv2.FONT_HERSHEY_SIMPLEX, scale, ink, max(1, round(scale * 2)), cv2.LINE_AA)
    cv2.line(screen, (round(screen_w * 0.35), screen_h - bar // 2),
             (round(screen_w * 0.65), screen_h - bar // 2), ink, max(2, round(scale * 4)))
    return _jpeg(screen, 90)


EDITS: dict[str, Edit] = {
    "resize_0.5": _resize(0.5),
    "resize_0.25": _resize(0.25),
    "jpeg_95": _quality(95),
    "jpeg_75": _quality(75),
    "jpeg_50": _quality(50),
    "blur": _blur,
    "gamma": _gamma,
    "noise": _noise,
    "watermark": _watermark,
    "crop_5": _crop(0.05),
    "crop_10": _crop(0.10),
    "crop_20": _crop(0.20),
    "pad_20": _pad,
    "rotate_4": _rotate(4.0),
    "flip": _flip,
    "screenshot": _screenshot,
}
EDIT_NAMES: tuple[str, ...] = tuple(EDITS)

# The benchmark's goals are set per group of edits.
EDIT_GROUPS: dict[str, tuple[str, ...]] = {
    "resize_jpeg_colour": ("resize_0.5", "resize_0.25", "jpeg_95", "jpeg_75", "jpeg_50",
                           "gamma"),
    "crop5_pad_rotate": ("crop_5", "pad_20", "rotate_4"),
}


def apply_edit(name: str, image: np.ndarray, seed: int) -> np.ndarray:
    """`image` edited by `name` (one of EDIT_NAMES); deterministic for (name, image, seed)."""
    if name not in EDITS:
        raise ValueError(f"unknown edit {name!r}; use one of {', '.join(EDIT_NAMES)}")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("edits take a BGR uint8 image of shape (height, width, 3)")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, EDIT_NAMES.index(name)])
    return np.ascontiguousarray(EDITS[name](image, rng))
