"""Drawing primitives shared by the item and close-up renderers.

Items are drawn on a 4-channel canvas (BGR + coverage): every cv2 call that paints colour
also paints coverage, so the item's silhouette comes for free and warps with it in one call.
Points are float; lines use cv2's `shift` for sub-pixel placement so small parts stay smooth.
"""
from __future__ import annotations

import zlib
from functools import lru_cache

import cv2
import numpy as np

from .brands import BGR

AA = cv2.LINE_AA
_SHIFT = 4
_ONE = 1 << _SHIFT


def col(img: np.ndarray, colour) -> tuple:
    """Colour for img: opaque coverage on the 4-channel item canvas."""
    colour = tuple(int(c) for c in colour[:3])
    return colour + (255,) if img.shape[2] == 4 else colour


def shade(colour: BGR, factor: float) -> BGR:
    return tuple(min(255, max(0, int(c * factor))) for c in colour[:3])


def mix(a: BGR, b: BGR, t: float) -> BGR:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a[:3], b[:3], strict=True))


def luma(colour: BGR) -> float:
    b, g, r = colour[:3]
    return 0.114 * b + 0.587 * g + 0.299 * r


def lift(colour: BGR, amount: float) -> BGR:
    """Lighter for dark colours and darker for light ones: for seams and embossing."""
    return mix(colour, (255, 255, 255), amount) if luma(colour) < 110 else shade(colour,
                                                                                  1 - amount)


def contrast_ink(ink: BGR, ground: BGR) -> BGR:
    """Brand rule for printing on a ground of similar tone: switch to black or white."""
    if abs(luma(ink) - luma(ground)) >= 55:
        return ink
    return (28, 28, 30) if luma(ground) > 120 else (236, 236, 232)


def fixed(points) -> np.ndarray:
    """Float points -> int32 fixed-point for cv2 calls made with shift=_SHIFT."""
    return np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32)


def fpt(x: float, y: float) -> tuple[int, int]:
    return int(round(x * _ONE)), int(round(y * _ONE))


# ---------------------------------------------------------------- shapes

def line(img, p0, p1, colour, thickness: float) -> None:
    cv2.line(img, fpt(*p0), fpt(*p1), col(img, colour), max(1, int(round(thickness))), AA,
             _SHIFT)


def polyline(img, points, colour, thickness: float, closed: bool = False) -> None:
    cv2.polylines(img, [fixed(points)], closed, col(img, colour), max(1, int(round(thickness))),
                  AA, _SHIFT)


def fill(img, points, colour) -> None:
    cv2.fillPoly(img, [fixed(points)], col(img, colour), AA, _SHIFT)


def circle(img, centre, radius: float, colour, thickness: float = -1) -> None:
    t = -1 if thickness < 0 else max(1, int(round(thickness)))
    cv2.circle(img, fpt(*centre), int(round(radius * _ONE)), col(img, colour), t, AA, _SHIFT)


def ellipse(img, centre, axes, angle, start, end, colour, thickness: float = -1) -> None:
    t = -1 if thickness < 0 else max(1, int(round(thickness)))
    cv2.ellipse(img, fpt(*centre), fpt(*axes), angle, start, end, col(img, colour), t, AA,
                _SHIFT)


def rect_points(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def rounded_polygon(corners, radius: float | list[float], steps: int = 6) -> np.ndarray:
    """Replace each corner by a quadratic curve, like cut leather or a folded hem."""
    corners = np.asarray(corners, np.float64)
    n = len(corners)
    radii = [radius] * n if np.isscalar(radius) else radius
    t = np.linspace(0, 1, steps)[:, None]
    out = []
    for i in range(n):
        prev, here, nxt = corners[i - 1], corners[i], corners[(i + 1) % n]
        r = radii[i]
        if r <= 0:
            out.append(here[None])
            continue
        a = here + (prev - here) * min(0.5, r / (np.linalg.norm(prev - here) + 1e-9))
        b = here + (nxt - here) * min(0.5, r / (np.linalg.norm(nxt - here) + 1e-9))
        out.append((1 - t) ** 2 * a + 2 * (1 - t) * t * here + t ** 2 * b)
    return np.vstack(out)


def smooth_closed(points, samples: int = 8) -> np.ndarray:
    """Closed Catmull-Rom spline through control points: organic shoe and garment shapes."""
    p = np.asarray(points, np.float64)
    p0, p1, p2, p3 = np.roll(p, 1, 0), p, np.roll(p, -1, 0), np.roll(p, -2, 0)
    t = np.linspace(0, 1, samples, endpoint=False)[:, None, None]
    curve = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                   + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3)
    return curve.transpose(1, 0, 2).reshape(-1, 2)


def smooth_open(points, samples: int = 8) -> np.ndarray:
    p = np.asarray(points, np.float64)
    padded = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    segs = []
    t = np.linspace(0, 1, samples, endpoint=False)[:, None]
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        segs.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                           + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    segs.append(p[-1][None])
    return np.vstack(segs)


def inset(points, amount: float, centre=None) -> np.ndarray:
    """Shrink a convex-ish outline by about `amount` pixels: where a stitch row runs."""
    p = np.asarray(points, np.float64)
    c = (p.min(0) + p.max(0)) / 2 if centre is None else np.asarray(centre, np.float64)
    half = np.maximum(np.abs(p - c).max(0), 1)
    return c + (p - c) * np.maximum(half - amount, 0) / half


def densify(points, step: float, closed: bool = True) -> np.ndarray:
    p = np.asarray(points, np.float64)
    if closed:
        p = np.vstack([p, p[:1]])
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(int(cum[-1] / step), 4)
    s = np.linspace(0, cum[-1], n, endpoint=not closed)
    return np.stack([np.interp(s, cum, p[:, 0]), np.interp(s, cum, p[:, 1])], axis=1)


def wobble(points, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Sloppy cutting: push the outline in and out along its normals, low and high frequency."""
    if amplitude <= 0:
        return np.asarray(points, np.float64)
    p = densify(points, 5.0)
    n = len(p)
    tangent = np.roll(p, -1, 0) - np.roll(p, 1, 0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-9
    k = np.arange(n) / n * 2 * np.pi
    waves = sum(np.sin(k * f + rng.uniform(0, 6.3)) / f ** 0.5 for f in (3, 7, 17, 41))
    offset = amplitude * (0.6 * waves / 2 + 0.5 * rng.standard_normal(n).clip(-2, 2))
    return p + normal * offset[:, None]


# ---------------------------------------------------------------- text

@lru_cache(maxsize=64)
def _cap_height(font: int) -> float:
    return float(cv2.getTextSize("H", font, 1.0, 1)[0][1])


@lru_cache(maxsize=4096)
def _glyph_width_caps(ch: str, font: int) -> float:
    """Advance of one glyph in cap heights (scale 1.0, thin stroke)."""
    return cv2.getTextSize(ch, font, 1.0, 1)[0][0] / _cap_height(font)


def text_width_caps(text: str, font: int, scale: float, gaps) -> float:
    glyphs = sum(_glyph_width_caps(ch, font) for ch in text) * scale
    return glyphs + float(np.sum(gaps[: max(len(text) - 1, 0)]))


def wordmark_cap(look, max_width: float, max_cap: float) -> float:
    """Reference cap height that fits the brand's genuine wordmark in max_width.

    Fitted to the genuine mark, so a fake with the wrong scale or spacing comes out the
    wrong size instead of being normalised back to the right one."""
    gaps = [look.true_gap] * len(look.true_wordmark)
    width = text_width_caps(look.true_wordmark, look.true_font, look.true_scale, gaps)
    return min(max_cap, max_width / max(width, 1e-6))


def draw_wordmark(img, look, centre, cap: float, colour: BGR, *, emboss: float = 0.0) -> None:
    """The brand's wordmark, letter by letter so spacing, tilt and offset follow the look."""
    text, font = look.wordmark, look.font
    gaps = list(look.letter_gaps) + [look.letter_gaps[-1]] * len(text)
    glyph_cap = cap * look.font_scale
    scale = glyph_cap / _cap_height(font)
    thickness = max(1, int(round(look.thickness * glyph_cap / 24)))
    width = text_width_caps(text, font, look.font_scale, gaps) * cap
    cx = centre[0] + look.logo_shift[0] * cap
    cy = centre[1] + look.logo_shift[1] * cap
    x = cx - width / 2
    for i, ch in enumerate(text):
        advance = _glyph_width_caps(ch, font) * glyph_cap
        y = cy + glyph_cap / 2 + look.logo_tilt * (x + advance / 2 - cx)
        if ch != " ":
            _put(img, ch, x, y, font, scale, thickness, colour, emboss)
        x += advance + gaps[min(i, len(gaps) - 1)] * cap


def _put(img, text, x, y, font, scale, thickness, colour, emboss: float) -> None:
    org = (int(round(x)), int(round(y)))
    if emboss:
        # Stamped into leather: a light lip below-right and a dark edge above-left.
        e = max(1, int(round(emboss)))
        cv2.putText(img, text, (org[0] + e, org[1] + e), font, scale,
                    col(img, lift(colour, 0.35)), thickness, AA)
        cv2.putText(img, text, (org[0] - e // 2, org[1] - e // 2), font, scale,
                    col(img, shade(colour, 0.6)), thickness, AA)
    cv2.putText(img, text, org, font, scale, col(img, colour), thickness, AA)


def draw_text(img, text: str, centre, cap: float, colour: BGR, *,
              font: int = cv2.FONT_HERSHEY_SIMPLEX, weight: float = 1.4,
              align: str = "centre", max_width: float | None = None) -> float:
    """Plain label text (not the brand mark), shrunk to max_width. Returns its width."""
    scale = cap / _cap_height(font)
    thickness = max(1, int(round(weight * cap / 24)))
    width = cv2.getTextSize(text, font, scale, thickness)[0][0]
    if max_width and width > max_width:
        cap *= max_width / width
        scale *= max_width / width
        width = cv2.getTextSize(text, font, scale, thickness)[0][0]
    x = centre[0] - width / 2 if align == "centre" else centre[0]
    cv2.putText(img, text, (int(round(x)), int(round(centre[1] + cap / 2))), font, scale,
                col(img, colour), thickness, AA)
    return float(width)


# ---------------------------------------------------------------- motifs

def draw_motif(img, kind: str, centre, r: float, colour: BGR, thickness: float = 0.0) -> None:
    """A brand emblem of radius r; thickness 0 means a weight proportional to r."""
    cx, cy = centre
    t = thickness or max(1.0, r * 0.16)
    if kind == "diamond":
        pts = [(cx, cy - r), (cx + r * 0.7, cy), (cx, cy + r), (cx - r * 0.7, cy)]
        polyline(img, pts, colour, t, closed=True)
        fill(img, [(cx, cy - r * 0.4), (cx + r * 0.28, cy), (cx, cy + r * 0.4),
                   (cx - r * 0.28, cy)], colour)
    elif kind == "double_ring":
        circle(img, (cx - r * 0.38, cy), r * 0.6, colour, t)
        circle(img, (cx + r * 0.38, cy), r * 0.6, colour, t)
    elif kind == "crescent":
        ellipse(img, (cx, cy), (r * 0.8, r * 0.8), 0, 60, 300, colour, r * 0.34)
        circle(img, (cx + r * 0.45, cy - r * 0.05), r * 0.12, colour)
    elif kind == "chevron":
        for dy in (-0.35, 0.35):
            polyline(img, [(cx - r, cy + dy * r - r * 0.35), (cx, cy + dy * r + r * 0.3),
                           (cx + r, cy + dy * r - r * 0.35)], colour, t * 1.4)
    elif kind == "wave":
        xs = np.linspace(-r, r, 24)
        for dy in (-0.3, 0.3):
            polyline(img, np.stack([cx + xs, cy + dy * r + 0.3 * r * np.sin(xs / r * 3.2)], 1),
                     colour, t * 1.3)
    elif kind == "star":
        a = np.linspace(-np.pi / 2, 1.5 * np.pi, 11)[:-1]
        rad = np.where(np.arange(10) % 2 == 0, r, r * 0.42)
        fill(img, np.stack([cx + rad * np.cos(a), cy + rad * np.sin(a)], 1), colour)
    elif kind == "lotus":
        for ang in (-60, -30, 0, 30, 60):
            ellipse(img, (cx + np.sin(np.radians(ang)) * r * 0.35,
                          cy - np.cos(np.radians(ang)) * r * 0.35),
                    (r * 0.22, r * 0.55), ang, 0, 360, colour, t)
        line(img, (cx - r * 0.8, cy + r * 0.45), (cx + r * 0.8, cy + r * 0.45), colour, t)
    elif kind == "paisley":
        a = np.linspace(0, 2 * np.pi, 40)
        rad = r * (0.55 + 0.35 * np.cos(a))
        pts = np.stack([cx + rad * np.cos(a) * 0.8, cy + rad * np.sin(a)], 1)
        pts[:, 0] += np.clip(-np.cos(a), 0, 1) ** 3 * r * 0.5 * np.sin(a)
        polyline(img, pts, colour, t, closed=True)
        circle(img, (cx + r * 0.15, cy), r * 0.2, colour)
    elif kind == "temple":
        for i, w in enumerate((1.0, 0.72, 0.46, 0.22)):
            y0 = cy + r * (0.7 - 0.42 * i)
            fill(img, rect_points(cx - r * w, y0 - r * 0.3, cx + r * w, y0), colour)
        circle(img, (cx, cy - r * 0.98), r * 0.14, colour)
    elif kind == "fish":
        ellipse(img, (cx - r * 0.15, cy), (r * 0.65, r * 0.35), 0, 0, 360, colour)
        fill(img, [(cx + r * 0.4, cy), (cx + r, cy - r * 0.4), (cx + r, cy + r * 0.4)], colour)
    elif kind == "sun":
        circle(img, (cx, cy), r * 0.42, colour)
        for a in np.linspace(0, 2 * np.pi, 12, endpoint=False):
            line(img, (cx + np.cos(a) * r * 0.6, cy + np.sin(a) * r * 0.6),
                 (cx + np.cos(a) * r, cy + np.sin(a) * r), colour, t)
    elif kind == "peacock":
        ellipse(img, (cx, cy - r * 0.2), (r * 0.5, r * 0.75), 0, 0, 360, colour, t)
        ellipse(img, (cx, cy - r * 0.15), (r * 0.22, r * 0.35), 0, 0, 360, colour)
        line(img, (cx, cy + r * 0.55), (cx, cy + r), colour, t)
    elif kind == "leaf":
        ellipse(img, (cx, cy), (r * 0.9, r * 0.42), -35, 0, 360, colour, t)
        line(img, (cx - r * 0.7, cy + r * 0.5), (cx + r * 0.7, cy - r * 0.5), colour, t)
    elif kind == "hexagon":
        a = np.linspace(0, 2 * np.pi, 7)[:-1] + np.pi / 6
        polyline(img, np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1), colour, t, True)
        circle(img, (cx, cy), r * 0.3, colour)
    else:  # a plain dot keeps unknown motifs visible rather than failing a whole seed run
        circle(img, (cx, cy), r * 0.5, colour)


# ---------------------------------------------------------------- stitching

def draw_stitches(img, points, pitch: float, look, colour: BGR, thickness: float,
                  rng: np.random.Generator, *, dash: float = 0.58, slant: float = 0.0,
                  closed: bool = False) -> None:
    """A row of stitches along a polyline.

    Genuine rows keep the brand's pitch with hair-line variation; a fake's jitter, wobble
    and skipped stitches come from the look, and rng is seeded per item and seam so a
    re-shoot shows the same irregular row. Where along the seam the first stitch falls
    is the item's own too: two items of a model share the pitch, not the holes."""
    p = np.asarray(points, np.float64)
    if closed:
        p = np.vstack([p, p[:1]])
    seg = np.diff(p, axis=0)
    seg_len = np.linalg.norm(seg, axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    total = cum[-1]
    if total < pitch:
        return
    count = int(total / pitch) + 2
    steps = pitch * np.clip(1 + look.stitch_jitter * rng.standard_normal(count), 0.35, 2.0)
    pos = np.cumsum(steps) - steps[0] * rng.uniform(0.0, 1.0)
    pos = pos[pos < total - pitch * 0.3]
    idx = np.clip(np.searchsorted(cum, pos, side="right") - 1, 0, len(seg) - 1)
    direction = seg[idx] / (seg_len[idx, None] + 1e-9)
    normal = np.stack([-direction[:, 1], direction[:, 0]], 1)
    centre = np.stack([np.interp(pos, cum, p[:, 0]), np.interp(pos, cum, p[:, 1])], 1)
    centre += normal * (look.stitch_wobble * pitch * rng.standard_normal(len(pos)))[:, None]
    angle = np.radians(slant) + look.stitch_jitter * 0.5 * rng.standard_normal(len(pos))
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    rotated = np.concatenate([direction[:, :1] * cos - direction[:, 1:] * sin,
                              direction[:, :1] * sin + direction[:, 1:] * cos], 1)
    half = rotated * (pitch * dash / 2)
    keep = rng.random(len(pos)) >= look.stitch_skip
    colour = visible_thread(colour, _ground_under(img, centre[0]))
    segments = np.stack([fixed(centre - half), fixed(centre + half)], 1)[keep]
    if not len(segments):
        return
    t = max(1, int(round(thickness)))
    strokes = list(segments)
    if t >= 3:  # thread holes read as a slightly darker, longer stroke under the thread
        cv2.polylines(img, strokes, False, col(img, shade(colour, 0.45)), t + 1, AA, _SHIFT)
    cv2.polylines(img, strokes, False, col(img, colour), t, AA, _SHIFT)


def _ground_under(img, point) -> BGR:
    h, w = img.shape[:2]
    x = min(max(int(point[0]), 0), w - 1)
    y = min(max(int(point[1]), 0), h - 1)
    return tuple(int(c) for c in img[y, x, :3])


def visible_thread(thread: BGR, ground: BGR) -> BGR:
    """Tone-on-tone thread where the brand's thread colour would vanish into the material."""
    if abs(luma(thread) - luma(ground)) >= 40:
        return thread
    return shade(ground, 0.55) if luma(ground) > 100 else mix(ground, (255, 255, 255), 0.45)


# ---------------------------------------------------------------- prints

def _motif_tile(size: int, base: BGR) -> np.ndarray:
    tile = np.empty((size, size, 3), np.uint8)
    tile[:] = base
    return tile


@lru_cache(maxsize=512)
def pattern_tile(kind: str, base: BGR, ink: BGR, cell: int, monogram: str, font: int,
                 motif: str) -> np.ndarray | None:
    """A seamless 4-channel tile of the print, or None for plain material. Cached: drawing
    hundreds of repeats per photo would dominate render time."""
    tile = _draw_tile(kind, base, ink, cell, monogram, font, motif)
    return None if tile is None else cv2.cvtColor(tile, cv2.COLOR_BGR2BGRA)


def _draw_tile(kind, base, ink, cell, monogram, font, motif) -> np.ndarray | None:
    c = max(6, int(cell))
    if kind == "monogram":
        tile = _motif_tile(2 * c, base)
        for x, y in ((0.5, 0.5), (1.5, 1.5)):
            draw_text(tile, monogram, (x * c, y * c), c * 0.3, ink, font=font, weight=2.2)
        for x, y in ((1.5, 0.5), (0.5, 1.5)):
            draw_motif(tile, motif if motif != "double_ring" else "diamond", (x * c, y * c),
                       c * 0.18, ink)
        return tile
    if kind == "quilted":
        tile = _motif_tile(c, base)
        dark, light = shade(base, 0.62), lift(base, 0.18)
        w = max(1.0, c * 0.05)
        for (x0, y0), (x1, y1) in (((0, 0), (c, c)), ((c, 0), (0, c))):
            line(tile, (x0, y0), (x1, y1), dark, w * 1.6)
            line(tile, (x0 + w * 1.6, y0), (x1 + w * 1.6, y1), light, w * 0.8)
        circle(tile, (c / 2, c / 2), c * 0.32, mix(base, light, 0.35))
        return tile
    if kind == "check":
        tile = _motif_tile(c, base)
        band = mix(base, ink, 0.45)
        tile[: int(c * 0.2), :] = band
        tile[:, : int(c * 0.2)] = band
        tile[: int(c * 0.2), : int(c * 0.2)] = mix(base, ink, 0.75)
        line(tile, (0, c * 0.62), (c, c * 0.62), ink, max(1.0, c * 0.03))
        line(tile, (c * 0.62, 0), (c * 0.62, c), ink, max(1.0, c * 0.03))
        return tile
    if kind == "stripe":
        tile = _motif_tile(c, base)
        tile[:, : int(c * 0.18)] = ink
        line(tile, (c * 0.45, 0), (c * 0.45, c), mix(base, ink, 0.6), max(1.0, c * 0.04))
        return tile
    if kind in ("buti", "paisley", "zari"):
        tile = _motif_tile(2 * c, base)
        for x, y in ((0.5, 0.5), (1.5, 1.5)):
            if kind == "buti":
                for a in np.linspace(0, 2 * np.pi, 5, endpoint=False):
                    circle(tile, (x * c + np.cos(a) * c * 0.12, y * c + np.sin(a) * c * 0.12),
                           c * 0.08, ink)
                circle(tile, (x * c, y * c), c * 0.06, shade(ink, 0.7))
            elif kind == "paisley":
                draw_motif(tile, "paisley", (x * c, y * c), c * 0.3, ink)
            else:
                draw_motif(tile, "diamond", (x * c, y * c), c * 0.2, ink)
        if kind == "zari":
            for x, y in ((1.5, 0.5), (0.5, 1.5)):
                circle(tile, (x * c, y * c), c * 0.06, ink)
        return tile
    if kind == "ikat":
        tile = _motif_tile(2 * c, base)
        for y in (0.5, 1.5):
            pts = [(0, y * c), (c * 0.5, (y - 0.35) * c), (c, y * c), (c * 1.5, (y + 0.35) * c),
                   (2 * c, y * c)]
            polyline(tile, pts, ink, c * 0.16)
        return cv2.GaussianBlur(tile, (0, 0), sigmaX=max(0.8, c * 0.06), sigmaY=0.3,
                                borderType=cv2.BORDER_WRAP)
    if kind == "block_print":
        tile = _motif_tile(c, base)
        draw_motif(tile, motif, (c / 2, c / 2), c * 0.26, ink)
        for x, y in ((0, 0), (c, 0), (0, c), (c, c)):
            circle(tile, (x, y), c * 0.05, ink)
        return tile
    if kind == "denim":
        size = max(6, c // 4)
        tile = _motif_tile(size, base)
        for k in range(-size, size, 3):
            line(tile, (k, size), (k + size, 0), lift(base, 0.12), 1)
        return tile
    return None


def tiled(tile: np.ndarray, x0: int, y0: int, x1: int, y1: int, origin) -> np.ndarray:
    """The tiled print over the box, with a tile corner at canvas point `origin`."""
    th, tw = tile.shape[:2]
    sy = (y0 - int(round(origin[1]))) % th
    sx = (x0 - int(round(origin[0]))) % tw
    reps = (-(-(y1 - y0 + sy) // th), -(-(x1 - x0 + sx) // tw), 1)
    return np.tile(tile, reps)[sy:sy + y1 - y0, sx:sx + x1 - x0]


def fill_printed(img, points, colour: BGR, tile: np.ndarray | None, origin) -> None:
    """Fill a panel with its material colour and, if any, its print."""
    fill(img, points, colour)
    if tile is None:
        return
    h, w = img.shape[:2]
    pts = np.asarray(points, np.float64)
    x0, y0 = np.floor(pts.min(0)).astype(int).clip(0, [w, h])
    x1, y1 = np.ceil(pts.max(0) + 1).astype(int).clip(0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return
    region = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(region, [fixed(pts - [x0, y0])], 255, cv2.LINE_8, _SHIFT)
    # The anti-aliased rim from fill() stays; the print goes inside it (in place on the ROI).
    cv2.copyTo(np.ascontiguousarray(tiled(tile, x0, y0, x1, y1, origin)), region,
               img[y0:y1, x0:x1])


# ---------------------------------------------------------------- metal

def metal_fill(img, points, colour: BGR) -> None:
    """Polished hardware: dark rim, body, and a soft specular band toward the light."""
    pts = np.asarray(points, np.float64)
    centre = pts.mean(0)
    fill(img, pts, shade(colour, 0.55))
    fill(img, centre + (pts - centre) * 0.88 - [0.6, 0.6], colour)
    span = pts.max(0) - pts.min(0)
    band = centre + (pts - centre) * [0.55, 0.18] - [span[0] * 0.05, span[1] * 0.22]
    fill(img, band, mix(colour, (255, 255, 255), 0.45))


def metal_circle(img, centre, radius: float, colour: BGR) -> None:
    circle(img, centre, radius, shade(colour, 0.55))
    circle(img, centre, radius * 0.86, colour)
    ellipse(img, (centre[0] - radius * 0.3, centre[1] - radius * 0.45),
            (radius * 0.35, radius * 0.12), -30, 0, 360, mix(colour, (255, 255, 255), 0.3))


# ---------------------------------------------------------------- surface texture

_TEXTURE_STRENGTH = {"leather": 4, "canvas": 6, "cotton": 6, "silk": 3, "georgette": 4,
                     "denim": 7, "mesh": 10, "velvet": 8, "nylon": 3, "satin": 3, "wool": 7,
                     "steel": 2}


# The material's texture is drawn once, this much wider and taller than the canvas, and
# each item takes its own window of it: every item gets its own weave or grain, at the
# cost of one slice.
_TEXTURE_MARGIN = 256


@lru_cache(maxsize=24)
def material_texture(material: str, h: int, w: int) -> np.ndarray:
    """Signed texture (int8 grey levels) of a material, _TEXTURE_MARGIN larger than h x w
    each way. Generated once per material and size from a fixed seed (determinism)."""
    h, w = h + _TEXTURE_MARGIN, w + _TEXTURE_MARGIN
    rng = np.random.default_rng(abs(hash_str(material)) % (2 ** 32))
    amp = _TEXTURE_STRENGTH.get(material, 5)
    noise = rng.standard_normal((h, w)).astype(np.float32)
    if material in ("leather", "velvet", "wool"):
        field = cv2.GaussianBlur(noise, (0, 0), 1.6 if material == "leather" else 2.5)
        field /= field.std() + 1e-6
    elif material in ("canvas", "cotton", "denim", "georgette"):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        period = 3.0 if material != "canvas" else 4.0
        field = np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period)
        field = field + 0.5 * cv2.GaussianBlur(noise, (0, 0), 0.8)
    elif material == "mesh":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        holes = (np.sin(xx * 2 * np.pi / 6) > 0.6) & (np.sin(yy * 2 * np.pi / 6) > 0.6)
        field = -1.5 * holes.astype(np.float32) + 0.2 * noise
    else:
        field = cv2.GaussianBlur(noise, (0, 0), 0.7)
    return np.clip(np.round(field * amp), -40, 40).astype(np.int8)


def item_texture(material: str, h: int, w: int, item_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One item's window of its material's texture, as (add, subtract) uint8 layers with
    zero coverage channel: the window's place and its flip are fixed by the item."""
    rng = np.random.default_rng([item_seed, 0x7E87])
    top, left = (int(v) for v in rng.integers(0, _TEXTURE_MARGIN + 1, 2))
    flip_y, flip_x = (1 if f else -1 for f in rng.random(2) < 0.5)
    window = material_texture(material, h, w)[top:top + h, left:left + w][::flip_y, ::flip_x]
    signed = window.astype(np.int16)
    zero = np.zeros((h, w), np.uint8)
    add = np.clip(signed, 0, None).astype(np.uint8)
    sub = np.clip(-signed, 0, None).astype(np.uint8)
    return cv2.merge([add, add, add, zero]), cv2.merge([sub, sub, sub, zero])


def hash_str(text: str) -> int:
    """Stable across processes (unlike hash())."""
    return zlib.crc32(text.encode())


def apply_texture(canvas: np.ndarray, material: str, item_seed: int) -> None:
    """The material's weave or grain over the drawn item, this item's own."""
    h, w = canvas.shape[:2]
    add, sub = item_texture(material, h, w, item_seed)
    cv2.add(canvas, add, dst=canvas)
    cv2.subtract(canvas, sub, dst=canvas)
