"""The edits sellers really make before re-posting a photo, written for the duplicate benchmark.

`make_copy(name, image, seed, others)` returns the bytes a seller would upload: a JPEG of
the edited photo (the edit's own quality for the recompression edits, 92 otherwise). The
same arguments always give the same bytes; randomness comes only from a numpy Generator
seeded by (seed, name). `others` are other photos of the set, used only by the collages
(the source is one tile; the others fill the rest). These edits are independent of
vision/edits.py on purpose: a benchmark written by the engine's authors alone would test
what they thought of.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from marketplace_core.media._opencv import cv2

UPLOAD_QUALITY = 92
Edit = Callable[[np.ndarray, np.random.Generator, list[np.ndarray]], "np.ndarray | bytes"]


class EditNotPossible(ValueError):
    """The edit cannot be made on this photo (a collage with no other photos to tile)."""


def jpeg_bytes(image: np.ndarray, quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a decodable image")
    return image


# --- recompression and resizing -----------------------------------------------------------

def _resize(factor: float) -> Edit:
    def edit(image, rng, others):
        return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return edit


def _jpeg(quality: int) -> Edit:
    def edit(image, rng, others):
        return jpeg_bytes(image, quality)
    return edit


def _double_recompression(image, rng, others):
    """Saved by one app, downscaled and saved again by a messenger: what a photo taken
    from another listing through WhatsApp looks like."""
    once = decode(jpeg_bytes(image, 70))
    smaller = cv2.resize(once, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
    return jpeg_bytes(smaller, 55)


# --- colour, blur, noise ------------------------------------------------------------------

def _blur(image, rng, others):
    return cv2.GaussianBlur(image, (0, 0), 0.005 * max(image.shape[:2]) + 0.5)


def _gamma(value: float) -> Edit:
    def edit(image, rng, others):
        table = np.clip(255.0 * (np.arange(256) / 255.0) ** value, 0, 255).astype(np.uint8)
        return cv2.LUT(image, table)
    return edit


def _noise(image, rng, others):
    noisy = image.astype(np.float32) + rng.normal(0, 10.0, image.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


# --- overlays -----------------------------------------------------------------------------

def _font_scale(image: np.ndarray, share_of_width: float, text: str, thickness: int) -> float:
    (width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, 1.0, thickness)
    return share_of_width * image.shape[1] / max(1, width)


def _watermark(image, rng, others):
    """A shop's handle, half transparent, across the lower middle of the photo."""
    out = image.copy()
    h, w = out.shape[:2]
    text = f"@thrift.{int(rng.integers(10, 99))}store"
    thickness = max(1, w // 250)
    scale = _font_scale(out, 0.6, text, thickness)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, thickness)
    x = int(rng.uniform(0.05, 0.95 - tw / w) * w)
    y = int(rng.uniform(0.45, 0.85) * h)
    overlay = out.copy()
    cv2.putText(overlay, text, (x, y + th // 2), cv2.FONT_HERSHEY_DUPLEX, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)
    return cv2.addWeighted(overlay, 0.55, out, 0.45, 0)


_BANNER_COLOURS = ((40, 40, 200), (30, 140, 240), (150, 60, 20), (60, 160, 40))


def _price_banner(image, rng, others):
    """"Rs 2,499" in a solid coloured band across the bottom (about 14% of the height),
    as resale apps' listing templates add."""
    out = image.copy()
    h, w = out.shape[:2]
    band = int(0.14 * h)
    colour = _BANNER_COLOURS[int(rng.integers(len(_BANNER_COLOURS)))]
    cv2.rectangle(out, (0, h - band), (w, h), colour, -1)
    rupees = int(rng.integers(3, 60)) * 100 - 1
    text = f"Rs {rupees:,}"
    thickness = max(1, w // 160)
    scale = min(_font_scale(out, 0.5, text, thickness), band / 40)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, thickness)
    cv2.putText(out, text, ((w - tw) // 2, h - (band - th) // 2), cv2.FONT_HERSHEY_DUPLEX,
                scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def _sticker(image, rng, others):
    """A round "SOLD" or "NEW" sticker (a quarter of the short side) in a top corner."""
    out = image.copy()
    h, w = out.shape[:2]
    radius = min(h, w) // 8
    cx = radius + w // 30 if rng.random() < 0.5 else w - radius - w // 30
    cy = radius + h // 30
    text = "SOLD" if rng.random() < 0.5 else "NEW"
    cv2.circle(out, (cx, cy), radius, (20, 20, 220) if text == "SOLD" else (30, 170, 30), -1,
               cv2.LINE_AA)
    cv2.circle(out, (cx, cy), radius, (255, 255, 255), max(2, radius // 12), cv2.LINE_AA)
    thickness = max(1, radius // 14)
    (unit, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, 1.0, thickness)
    scale = 1.3 * radius / unit
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, thickness)
    cv2.putText(out, text, (cx - tw // 2, cy + th // 2), cv2.FONT_HERSHEY_DUPLEX, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)
    return out


# --- geometry -----------------------------------------------------------------------------

def _crop(fraction: float) -> Edit:
    """Drop `fraction` of the width and of the height, at a random offset (an app's crop
    handle: `crop 10%` keeps 90% of each side)."""
    def edit(image, rng, others):
        h, w = image.shape[:2]
        keep_h, keep_w = round(h * (1 - fraction)), round(w * (1 - fraction))
        top = int(rng.integers(0, h - keep_h + 1))
        left = int(rng.integers(0, w - keep_w + 1))
        return image[top:top + keep_h, left:left + keep_w].copy()
    return edit


def _pad(fraction: float) -> Edit:
    """White borders adding `fraction` of each side in all, to square up a listing photo."""
    def edit(image, rng, others):
        h, w = image.shape[:2]
        dy, dx = round(h * fraction / 2), round(w * fraction / 2)
        return cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_CONSTANT,
                                  value=(255, 255, 255))
    return edit


def _rotate(degrees: float) -> Edit:
    """Straightened in an editor: rotated and cropped to the largest upright rectangle."""
    def edit(image, rng, others):
        h, w = image.shape[:2]
        angle = degrees if rng.random() < 0.5 else -degrees
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rotated = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT)
        radians = np.radians(abs(angle))
        shrink = np.cos(radians) + np.sin(radians) * max(w, h) / min(w, h)
        keep_w, keep_h = int(w / shrink), int(h / shrink)
        top, left = (h - keep_h) // 2, (w - keep_w) // 2
        return rotated[top:top + keep_h, left:left + keep_w].copy()
    return edit


def _mirror(image, rng, others):
    return cv2.flip(image, 1)


def _screenshot(image, rng, others):
    """The photo as a dark-mode app shows it on a 9:19.5 phone screen, with a status bar
    and buttons: what a seller who screenshots someone else's listing uploads."""
    h, w = image.shape[:2]
    screen_w = int(w * 1.08)
    screen_h = max(int(screen_w * 19.5 / 9), h + int(0.3 * screen_w))
    screen = np.full((screen_h, screen_w, 3), (18, 18, 18), np.uint8)
    top = int(0.2 * (screen_h - h))
    left = (screen_w - w) // 2
    screen[top:top + h, left:left + w] = image
    bar = int(0.035 * screen_h)
    cv2.putText(screen, "9:41", (int(0.06 * screen_w), int(0.7 * bar)),
                cv2.FONT_HERSHEY_SIMPLEX, bar / 40, (235, 235, 235), max(1, bar // 20),
                cv2.LINE_AA)
    button_top = top + h + int(0.05 * screen_h)
    cv2.rectangle(screen, (int(0.08 * screen_w), button_top),
                  (int(0.92 * screen_w), button_top + int(0.06 * screen_h)),
                  (60, 130, 250), -1)
    return screen


def _cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scaled to cover a width x height cell and centre-cropped, as collage apps fill one."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(image, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top = (resized.shape[0] - height) // 2
    left = (resized.shape[1] - width) // 2
    return resized[top:top + height, left:left + width]


def _collage(columns: int, rows: int) -> Edit:
    """The source as one tile (at a random position) of a columns x rows grid; the other
    tiles are other photos of the set, each cell the source's own size, with white gutters
    of 2% of the width. The whole source is kept: only the other photos are cropped."""
    def edit(image, rng, others):
        needed = columns * rows - 1
        if len(others) < needed:
            raise EditNotPossible(f"a {columns}x{rows} collage needs {needed} other photos")
        h, w = image.shape[:2]
        gutter = max(2, round(0.02 * w))
        canvas = np.full((rows * h + (rows + 1) * gutter, columns * w + (columns + 1) * gutter,
                          3), 255, np.uint8)
        slot = int(rng.integers(columns * rows))
        tiles = list(others[:needed])
        tiles.insert(slot, None)
        for position, tile in enumerate(tiles):
            row, column = divmod(position, columns)
            y, x = gutter + row * (h + gutter), gutter + column * (w + gutter)
            canvas[y:y + h, x:x + w] = image if tile is None else _cover(tile, w, h)
        return canvas
    return edit


# Name -> edit; the order is the report's.
EDITS: dict[str, Edit] = {
    "resize_0.5": _resize(0.5),
    "resize_0.25": _resize(0.25),
    "jpeg_95": _jpeg(95),
    "jpeg_75": _jpeg(75),
    "jpeg_50": _jpeg(50),
    "jpeg_30": _jpeg(30),
    "jpeg_twice": _double_recompression,
    "blur": _blur,
    "gamma_0.6": _gamma(0.6),
    "noise": _noise,
    "watermark": _watermark,
    "price_banner": _price_banner,
    "sticker": _sticker,
    "crop_5": _crop(0.05),
    "crop_10": _crop(0.10),
    "crop_20": _crop(0.20),
    "pad_20": _pad(0.20),
    "rotate_4": _rotate(4.0),
    "mirror": _mirror,
    "screenshot": _screenshot,
    "collage_2x1": _collage(2, 1),
    "collage_2x2": _collage(2, 2),
}
EDIT_NAMES = tuple(EDITS)
COLLAGE_TILES = {"collage_2x1": 2, "collage_2x2": 4}


def make_copy(name: str, image: np.ndarray, seed: int,
              others: list[np.ndarray] | None = None) -> bytes:
    """The JPEG a seller uploads after edit `name` of `image` (BGR uint8). Raises
    EditNotPossible when the edit cannot be made on it."""
    if name not in EDITS:
        raise KeyError(f"unknown edit {name!r}; use one of {', '.join(EDIT_NAMES)}")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])
    edited = EDITS[name](image, rng, list(others or []))
    if isinstance(edited, bytes):
        return edited
    return jpeg_bytes(edited, UPLOAD_QUALITY)
