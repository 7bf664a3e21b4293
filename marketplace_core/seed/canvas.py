"""The item canvas: a 4-channel drawing surface plus a low-resolution shading field.

Renderers paint flat colours (fast cv2 calls) and describe form separately as shading
(cylinders, folds, domes) on a quarter-resolution gain field; the photo compositor multiplies
it in together with the room lighting, so shading costs almost nothing per pixel.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from . import drawing as d
from .counterfeit import ItemLook

GAIN_DOWNSCALE = 4
# Families whose panels are cut from printed cloth: where the print falls on a panel is
# wherever the cutter laid it on the bolt, so it differs from one item to the next.
CUT_FROM_THE_BOLT = ("garment", "saree", "lehenga")
# How far a full view's item lies away from its drawn shape, as a share of the canvas:
# cloth drapes and creases, a soft bag slouches, a shoe's upper and laces sit their own
# way, a watch's strap curls. Fixed per item, so a re-shoot of one item shows the same lie.
LIE_AMPLITUDE = {"garment": 0.016, "saree": 0.016, "lehenga": 0.016, "bag": 0.012,
                 "sneaker": 0.012, "heel": 0.012, "watch": 0.01}
_LIE_CELLS = 4          # control points across the canvas: the lie is smooth, not a wobble
_PRINT_PHASE_SALT = 7
_LIE_SALT = 8


class ItemCanvas:
    def __init__(self, width: int, height: int, look: ItemLook):
        self.w, self.h = width, height
        self.u = float(min(width, height))
        self.look = look
        self.img = np.zeros((height, width, 4), np.uint8)
        self.gain = np.ones((-(-height // GAIN_DOWNSCALE), -(-width // GAIN_DOWNSCALE)),
                            np.float32)

    # Item-level randomness: seeded by the item and a salt per seam/part, never by the photo,
    # so every photo of the item shows the same irregularities.
    def rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.look.seed, salt])

    def tile(self, cell: float, *, kind: str | None = None, base=None, ink=None):
        lk = self.look
        return d.pattern_tile(kind or lk.pattern, tuple(base or lk.body),
                              tuple(ink or lk.pattern_colour), int(round(cell)), lk.monogram,
                              lk.true_font if kind is None else lk.font, lk.motif)

    def pattern_origin(self, anchor, cell: float) -> tuple[float, float]:
        """Where the print's tile starts. A brand that places its print (a bag's monogram
        canvas) centres it on the panel's anchor on every genuine item; printed cloth
        falls where the item's panels were cut from the bolt. A misaligned fake is off by
        its flaw's shift either way."""
        sx, sy = self.look.pattern_shift
        px, py = self.print_phase(cell)
        return anchor[0] + px + sx * cell * 2, anchor[1] + py + sy * cell * 2

    def print_phase(self, cell: float) -> tuple[float, float]:
        """This item's offset of the print, within one repeat (two cells: the longest
        tile); zero for prints the brand places."""
        if self.look.family not in CUT_FROM_THE_BOLT:
            return 0.0, 0.0
        px, py = self.rng(_PRINT_PHASE_SALT).uniform(0.0, 2.0 * cell, 2)
        return float(px), float(py)

    def set_down(self, salt: int, reach: float) -> tuple[float, float]:
        """Where the seller put one shoe of a pair down, against where the drawing puts
        it: up to `reach` (pixels) each way, fixed by the item."""
        dx, dy = self.rng(salt).uniform(-reach, reach, 2)
        return float(dx), float(dy)

    def lie(self, view: str) -> None:
        """Displace the drawn item (colour, coverage and shading together) by a smooth
        field fixed by the item and the side shown: how this item lies when laid out."""
        amplitude = LIE_AMPLITUDE.get(self.look.family, 0.0) * self.u
        if amplitude <= 0:
            return
        rng = self.rng(_LIE_SALT + (1 if view == "back" else 0))
        grid = rng.standard_normal((2, _LIE_CELLS, _LIE_CELLS)).astype(np.float32)
        dx, dy = (_smooth_field(g, self.w, self.h) * amplitude for g in grid)
        self._displace_item(dx, dy, int(np.ceil(4 * amplitude)) + 2)
        gh, gw = self.gain.shape
        low_x, low_y = (cv2.resize(f, (gw, gh), interpolation=cv2.INTER_AREA) / GAIN_DOWNSCALE
                        for f in (dx, dy))
        base_x, base_y = _pixel_grid(gh, gw)
        self.gain = cv2.remap(self.gain, base_x + low_x, base_y + low_y, cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def _displace_item(self, dx: np.ndarray, dy: np.ndarray, reach: int) -> None:
        """Remap the item's box (grown by the field's reach) only: the rest is empty."""
        x, y, bw, bh = cv2.boundingRect(self.img[..., 3])
        if bw == 0 or bh == 0:
            return
        x0, y0 = max(0, x - reach), max(0, y - reach)
        x1, y1 = min(self.w, x + bw + reach), min(self.h, y + bh + reach)
        base_x, base_y = _pixel_grid(self.h, self.w)
        box = (slice(y0, y1), slice(x0, x1))
        maps = cv2.convertMaps(base_x[box] + dx[box], base_y[box] + dy[box], cv2.CV_16SC2)
        moved = cv2.remap(self.img, *maps, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
        self.img = np.zeros_like(self.img)
        self.img[box] = moved

    def edge(self, points, scale: float, salt: int) -> np.ndarray:
        """Silhouette of a panel: exact for genuine items, wobbly for sloppy fakes."""
        amplitude = self.look.edge_wobble * scale / 100
        return d.wobble(points, amplitude, self.rng(salt)) if amplitude > 0 else np.asarray(
            points, np.float64)

    def erase(self, points) -> None:
        """Cut a hole (side slits, the gap under a heel): zero colour and coverage."""
        cv2.fillPoly(self.img, [d.fixed(points)], (0, 0, 0, 0), cv2.LINE_AA, 4)

    def sheer(self, points, colour, alpha: float) -> None:
        """A translucent layer (dupatta, organza) over what is drawn."""
        pts = np.asarray(points, np.float64)
        x0, y0 = np.floor(pts.min(0)).astype(int).clip(0, [self.w, self.h])
        x1, y1 = np.ceil(pts.max(0) + 1).astype(int).clip(0, [self.w, self.h])
        if x1 <= x0 or y1 <= y0:
            return
        sub = self.img[y0:y1, x0:x1]
        layer = sub.copy()
        cv2.fillPoly(layer, [d.fixed(pts - [x0, y0])], d.col(layer, colour), cv2.LINE_AA, 4)
        cv2.addWeighted(layer, alpha, sub, 1 - alpha, 0, dst=sub)
        coverage = np.zeros(sub.shape[:2], np.uint8)
        cv2.fillPoly(coverage, [d.fixed(pts - [x0, y0])], 255, cv2.LINE_AA, 4)
        np.maximum(sub[..., 3], coverage, out=sub[..., 3])

    # ------------------------------------------------------------ shading on the gain field
    def _box(self, x0, y0, x1, y1):
        s = GAIN_DOWNSCALE
        gh, gw = self.gain.shape
        bx0, by0 = int(max(0, x0 // s)), int(max(0, y0 // s))
        bx1, by1 = int(min(gw, -(-x1 // s) + 1)), int(min(gh, -(-y1 // s) + 1))
        return bx0, by0, bx1, by1

    def shade_cylinder(self, x0, y0, x1, y1, depth: float, power: float = 2.0) -> None:
        """Darken toward the left and right edges, like a bag's sides or a sleeve."""
        bx0, by0, bx1, by1 = self._box(x0, y0, x1, y1)
        if bx1 <= bx0 or by1 <= by0:
            return
        xs = (np.arange(bx0, bx1) + 0.5) * GAIN_DOWNSCALE
        t = np.clip(np.abs((xs - (x0 + x1) / 2) / ((x1 - x0) / 2 + 1e-6)), 0, 1)
        self.gain[by0:by1, bx0:bx1] *= (1 - depth * t ** power)[None, :]

    def shade_ramp(self, x0, y0, x1, y1, top: float, bottom: float) -> None:
        bx0, by0, bx1, by1 = self._box(x0, y0, x1, y1)
        if bx1 <= bx0 or by1 <= by0:
            return
        ys = (np.arange(by0, by1) + 0.5) * GAIN_DOWNSCALE
        t = np.clip((ys - y0) / (y1 - y0 + 1e-6), 0, 1)
        self.gain[by0:by1, bx0:bx1] *= (top + (bottom - top) * t)[:, None]

    def shade_folds(self, x0, y0, x1, y1, folds: int, depth: float, salt: int) -> None:
        """Soft vertical drape folds in fabric; their positions are fixed per item."""
        bx0, by0, bx1, by1 = self._box(x0, y0, x1, y1)
        if bx1 <= bx0 or by1 <= by0:
            return
        rng = self.rng(salt)
        xs = (np.arange(bx0, bx1) + 0.5) * GAIN_DOWNSCALE
        ys = (np.arange(by0, by1) + 0.5) * GAIN_DOWNSCALE
        phase = rng.uniform(0, 2 * np.pi, 2)
        k = folds * np.pi * 2 / max(x1 - x0, 1)
        field = np.sin(k * xs[None, :] + phase[0] + 0.8 * np.sin(ys[:, None] * k * 0.35
                                                                   + phase[1]))
        self.gain[by0:by1, bx0:bx1] *= (1 + depth * field).astype(np.float32)

    def shade_dome(self, cx, cy, r, depth: float) -> None:
        bx0, by0, bx1, by1 = self._box(cx - r, cy - r, cx + r, cy + r)
        if bx1 <= bx0 or by1 <= by0:
            return
        xs = (np.arange(bx0, bx1) + 0.5) * GAIN_DOWNSCALE - cx + r * 0.3
        ys = (np.arange(by0, by1) + 0.5) * GAIN_DOWNSCALE - cy + r * 0.3
        dist = np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2) / r
        self.gain[by0:by1, bx0:bx1] *= (1 + depth * (0.5 - np.clip(dist, 0, 1.3)))

    # ------------------------------------------------------------ wear
    def scuffs(self, points, base, count_scale: float, salt: int) -> None:
        """Light rubbing along edges, more for worn conditions; fixed per item."""
        n = int(round(self.look.wear * count_scale))
        if n <= 0:
            return
        rng = self.rng(salt)
        pts = d.densify(points, 4.0)
        light = d.mix(base, (235, 235, 230), 0.22)
        for i in rng.integers(0, len(pts), n):
            r = rng.uniform(0.004, 0.012) * self.u
            d.ellipse(self.img, tuple(pts[i]), (r, r * rng.uniform(0.3, 0.7)),
                      float(rng.uniform(0, 180)), 0, 360, light)


@lru_cache(maxsize=8)
def _pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's own x and y (float32), the identity map that remap displaces."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs, ys


def _smooth_field(grid: np.ndarray, w: int, h: int) -> np.ndarray:
    """A few random values spread smoothly over w x h: cubic to an eighth of the size,
    then linear (the field is smooth, so the second step loses nothing visible)."""
    small = cv2.resize(grid, (max(2, w // 8), max(2, h // 8)), interpolation=cv2.INTER_CUBIC)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
