"""Front and back views of apparel: folded sarees, flat-lay garments and lehengas."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import drawing as d
from .canvas import ItemCanvas
from .counterfeit import machine_made

# ====================================================================== sarees


def draw_saree(ic: ItemCanvas, view: str) -> None:
    """A folded saree as sellers shoot it: body, woven border along two edges, pallu."""
    lk = ic.look
    w = 0.74 * ic.u * lk.proportions[0]
    h = w * lk.proportions[1]
    x0, y0 = ic.w / 2 - w / 2, ic.h / 2 - h / 2 - ic.u * 0.02
    x1, y1 = x0 + w, y0 + h
    back = view == "back"
    body = lk.body if not back else d.mix(lk.body, (200, 200, 200), 0.12)
    # The folds underneath: a second layer peeking out gives the stack its thickness.
    under = ic.edge(d.rounded_polygon(d.rect_points(x0 + w * 0.015, y0 + h * 0.03,
                                                    x1 + w * 0.012, y1 + h * 0.035), 3), w, 51)
    d.fill(ic.img, under, d.shade(body, 0.72))
    d.fill(ic.img, d.rect_points(x0 + w * 0.02, y1, x1, y1 + h * 0.028), lk.accent)
    top = ic.edge(d.rounded_polygon(d.rect_points(x0, y0, x1, y1), 3), w, 52)
    cell = w * 0.075
    d.fill_printed(ic.img, top, body, ic.tile(cell) if not back else None,
                   ic.pattern_origin((x0 + w / 2 - cell / 2, y0), cell))
    pallu_x = x0 + w * 0.64
    _pallu(ic, pallu_x, y0, x1, y1, body, back)
    border_h = h * 0.16
    _woven_border(ic, x0, y1 - border_h, x1, y1, back, salt=53)
    _woven_border(ic, x0, y0, x1, y0 + border_h * 0.45, back, salt=54, motifs=False)
    for k in (1 / 3, 2 / 3):
        y = y0 + h * k
        d.line(ic.img, (x0 + 2, y), (pallu_x - 2, y), d.shade(body, 0.8), max(1, ic.u * 0.003))
    if not back:
        _woven_label(ic, x0 + w * 0.17, y0 + h * 0.3, w * 0.22, h * 0.1)
    ic.shade_folds(x0, y0, x1, y1, 3, 0.05, salt=55)
    ic.shade_ramp(0, y0, ic.w, y1, 1.04, 0.95)
    ic.scuffs(top, body, 6, salt=56)


def _pallu(ic, x0, y0, x1, y1, body, back):
    lk = ic.look
    zari = lk.accent if lk.accent != body else lk.pattern_colour
    d.fill(ic.img, d.rect_points(x0, y0, x1, y1), d.shade(body, 0.95))
    width = x1 - x0
    for k, frac in enumerate((0.0, 0.1, 0.16, 0.5, 0.56)):
        band = width * (0.06 if k % 2 == 0 else 0.025)
        x = x0 + width * frac
        colour = zari if not back else d.mix(zari, body, 0.5)
        d.fill(ic.img, d.rect_points(x, y0, x + band, y1), colour)
    cell = width * 0.18
    tile = ic.tile(cell, kind="paisley" if lk.pattern != "paisley" else "buti", ink=zari)
    if not back:
        d.fill_printed(ic.img, d.rect_points(x0 + width * 0.62, y0, x1, y1), body, tile,
                       ic.pattern_origin((x0 + width * 0.62, y0), cell))


_FOLD_SALT = 200


def _woven_border(ic, x0, y0, x1, y1, back, salt, motifs=True):
    """Zari border: solid band, two thin lines and a row of the brand's motif.

    Genuine looms space the motifs exactly, and where the fold falls along the row is the
    item's own; a misaligned-print fake shifts the row and sloppy edges make the band's
    edge wander."""
    lk = ic.look
    zari = lk.accent if not back else d.mix(lk.accent, lk.body, 0.45)
    band = ic.edge(d.rect_points(x0, y0, x1, y1), x1 - x0, salt)
    d.fill(ic.img, band, d.mix(lk.body, (20, 20, 20), 0.25))
    h = y1 - y0
    d.fill(ic.img, d.rect_points(x0, y0 + h * 0.18, x1, y1 - h * 0.18), zari)
    for y in (y0 + h * 0.08, y1 - h * 0.08):
        d.line(ic.img, (x0, y), (x1, y), zari, max(1, h * 0.05))
    if motifs and not back:
        step = h * 0.85
        offset = (lk.pattern_shift[0] + ic.rng(salt + _FOLD_SALT).uniform(0.0, 1.0)) * step
        ink = d.contrast_ink(lk.body, zari)
        for x in np.arange(x0 + step / 2 + offset, x1 - step / 3, step):
            d.draw_motif(ic.img, lk.motif, (x, (y0 + y1) / 2), h * 0.24, ink)


def _woven_label(ic, cx, cy, w, h):
    """The brand's woven label, sewn to the saree's end piece."""
    lk = ic.look
    ground = (238, 232, 220) if d.luma(lk.ink) < 140 else (40, 30, 30)
    label = ic.edge(d.rect_points(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), w * 3, 57)
    d.fill(ic.img, label, ground)
    cap = d.wordmark_cap(lk, w * 0.86, h * 0.42)
    d.draw_wordmark(ic.img, lk, (cx, cy), cap, d.contrast_ink(lk.ink, ground))
    pitch = lk.stitch_pitch * w * 3 / 100
    for x in (cx - w / 2 + 3, cx + w / 2 - 3):
        d.draw_stitches(ic.img, [(x, cy - h / 2), (x, cy + h / 2)], pitch, lk,
                        d.shade(ground, 0.7), 1, ic.rng(int(x) % 97 + 58))


# ====================================================================== garments

_HEM_BAND_SALT = 76


@dataclass(frozen=True)
class Cut:
    """Flat-lay geometry in units of the shoulder width."""

    length: float
    waist: float          # half width at the waist
    waist_at: float       # fraction of the length
    hem: float            # half width at the hem
    sleeve: float         # sleeve length (0: sleeveless with straps)
    sleeve_angle: float   # degrees below horizontal
    cuff: float           # half width of the cuff
    neck: str             # round, v, mandarin, collar, stand, strap
    buttons: int          # buttons down the placket (metal on sherwanis and jackets)
    hem_band: bool
    slits: bool = False
    zip: bool = False
    pockets: bool = False


_CUTS = {
    ("kurtas", 0): Cut(2.1, 0.5, 0.4, 0.56, 0.85, 62, 0.13, "round", 3, True, slits=True),
    ("kurtas", 1): Cut(2.2, 0.4, 0.3, 1.05, 1.0, 64, 0.12, "round", 0, True),
    ("kurtas", 2): Cut(1.5, 0.5, 0.45, 0.58, 0.55, 56, 0.15, "v", 0, True, slits=True),
    ("sherwanis", 0): Cut(2.2, 0.5, 0.4, 0.6, 1.25, 70, 0.12, "mandarin", 7, False),
    ("sherwanis", 1): Cut(1.55, 0.48, 0.45, 0.54, 1.2, 70, 0.12, "mandarin", 6, False,
                          pockets=True),
    ("dresses", 0): Cut(2.0, 0.36, 0.34, 0.78, 0.0, 0, 0, "strap", 0, False),
    ("dresses", 1): Cut(1.85, 0.38, 0.33, 0.86, 0.35, 38, 0.2, "v", 0, False),
    ("dresses", 2): Cut(1.9, 0.6, 0.4, 0.68, 0.62, 22, 0.34, "v", 0, True),
    ("jackets", 0): Cut(1.25, 0.52, 0.5, 0.52, 1.25, 72, 0.13, "stand", 0, False, zip=True,
                        pockets=True),
    ("jackets", 1): Cut(1.12, 0.54, 0.5, 0.48, 1.22, 72, 0.11, "stand", 0, True, zip=True),
    ("jackets", 2): Cut(1.12, 0.52, 0.5, 0.52, 1.22, 72, 0.12, "collar", 5, True, pockets=True),
}


def draw_garment(ic: ItemCanvas, view: str) -> None:
    lk = ic.look
    cut = _CUTS[(lk.category, lk.variant)]
    span = 1 + 2 * cut.sleeve * np.cos(np.radians(cut.sleeve_angle))
    s = min(0.86 * ic.w / max(span, 2 * cut.hem, 1.2), 0.84 * ic.h / (cut.length + 0.25))
    cx = ic.w / 2
    top = ic.h / 2 - s * cut.length / 2 + s * 0.06
    front = view == "front"

    def at(x, y):
        return cx + x * s, top + y * s

    body_pts = _body_outline(cut, at)
    body_pts = ic.edge(body_pts, s * 2, salt=61)
    cell = s * 0.16
    tile = ic.tile(cell)
    origin = ic.pattern_origin(at(-0.08, 0.1), cell)
    for side in (-1, 1):
        if cut.sleeve > 0:
            sleeve = ic.edge(_sleeve(cut, side, at), s * 2, salt=62 + side)
            d.fill_printed(ic.img, sleeve, lk.body, tile, origin)
            d.polyline(ic.img, sleeve, d.shade(lk.body, 0.6), max(1, ic.u * 0.003), True)
            _cuff(ic, cut, side, at, s)
    d.fill_printed(ic.img, body_pts, lk.body, tile, origin)
    if tile is not None and lk.pattern_shift != (0.0, 0.0):
        # The two fronts are cut separately: on a misaligned fake the right half's print
        # doesn't line up with the left at the centre seam.
        shifted = (origin[0] + lk.pattern_shift[0] * cell * 1.5,
                   origin[1] - lk.pattern_shift[1] * cell * 1.5)
        d.fill_printed(ic.img, _right_half(body_pts, cx), lk.body, tile, shifted)
    d.polyline(ic.img, body_pts, d.shade(lk.body, 0.55), max(1, ic.u * 0.003), True)
    if cut.neck == "strap":
        for side in (-1, 1):
            d.line(ic.img, at(side * 0.2, 0.14), at(side * 0.22, -0.16), lk.body, s * 0.025)
    if cut.hem_band:
        _hem_band(ic, cut, at, s)
    if cut.slits:
        for side in (-1, 1):
            hx, hy = at(side * cut.hem, cut.length)
            ic.erase([(hx, hy + 2), (hx - side * s * 0.03, hy - s * 0.28), (hx - side * s * 0.06,
                                                                            hy + 2)])
    _neckline(ic, cut, at, s, front)
    if front:
        _closure(ic, cut, at, s)
    else:
        yoke = [at(-0.47, 0.3), at(0.47, 0.3)]
        d.line(ic.img, *yoke, d.shade(lk.body, 0.7), max(1, ic.u * 0.003))
        pitch = lk.stitch_pitch * s * 2 / 100
        d.draw_stitches(ic.img, [(yoke[0][0], yoke[0][1] + 4), (yoke[1][0], yoke[1][1] + 4)],
                        pitch, lk, lk.stitch_colour, max(1, pitch * 0.3), ic.rng(63))
    if cut.pockets and front:
        _pockets(ic, cut, at, s)
    hem_row = [at(-cut.hem * 0.96, cut.length - 0.05), at(cut.hem * 0.96, cut.length - 0.05)]
    pitch = lk.stitch_pitch * s * 2 / 100
    d.draw_stitches(ic.img, hem_row, pitch, lk, lk.stitch_colour, max(1, pitch * 0.3),
                    ic.rng(64))
    x0, y0 = at(-max(cut.hem, 0.5), 0)
    x1, y1 = at(max(cut.hem, 0.5), cut.length)
    ic.shade_folds(x0, y0, x1, y1, 4, 0.06, salt=65)
    ic.shade_ramp(0, y0, ic.w, y1, 1.03, 0.96)


def _body_outline(cut: Cut, at):
    if cut.neck == "strap":
        right = [(0.12, 0.2), (0.34, 0.12), (0.4, 0.3)]
    else:
        right = [(0.17, 0.0), (0.5, 0.06), (0.49, 0.45)]
    right += [(cut.waist, cut.length * cut.waist_at), (cut.hem, cut.length)]
    hem_mid = (0.0, cut.length + 0.04 * max(cut.hem - 0.5, 0) * 2)
    left = [(-x, y) for x, y in reversed(right)]
    pts = [at(x, y) for x, y in right + [hem_mid] + left]
    return d.rounded_polygon(pts, [0, 4, 4, 8, 8, 0, 8, 8, 4, 4, 0][: len(pts)])


def _right_half(points, cx):
    p = np.asarray(points, np.float64)
    p = p.copy()
    p[:, 0] = np.maximum(p[:, 0], cx)
    return p


def _sleeve(cut: Cut, side: int, at):
    a = np.radians(cut.sleeve_angle)
    direction = np.array([np.cos(a) * side, np.sin(a)])
    shoulder = np.array(at(side * 0.5, 0.06))
    armpit = np.array(at(side * 0.47, 0.45))
    unit = np.array(at(1, 0)) - np.array(at(0, 0))
    length = cut.sleeve * unit[0]
    outer = shoulder + direction * length
    normal = np.array([-direction[1], direction[0]]) * side
    cuff_in = outer + normal * cut.cuff * unit[0] * 2
    return np.array([shoulder, outer, cuff_in, armpit + direction * length * 0.12, armpit])


def _cuff(ic, cut, side, at, s):
    lk = ic.look
    sleeve = _sleeve(cut, side, at)
    outer, cuff_in = sleeve[1], sleeve[2]
    back = (sleeve[0] - sleeve[1]) / (np.linalg.norm(sleeve[0] - sleeve[1]) + 1e-9)
    band = np.array([outer, cuff_in, cuff_in + back * s * 0.08, outer + back * s * 0.08])
    colour = lk.accent if lk.category in ("kurtas", "sherwanis") else d.shade(lk.body, 0.85)
    d.fill(ic.img, band, colour)
    pitch = lk.stitch_pitch * s * 2 / 100
    d.draw_stitches(ic.img, [band[3] - back * 2, band[2] - back * 2], pitch, lk,
                    lk.stitch_colour, max(1, pitch * 0.3), ic.rng(66 + side))


def _hem_band(ic, cut, at, s):
    lk = ic.look
    h = 0.16 if lk.category == "kurtas" else 0.1
    y1 = cut.length
    y0 = y1 - h
    taper = (cut.hem - cut.waist) / max(cut.length * (1 - cut.waist_at), 1e-6)
    half0 = cut.hem - taper * h
    band = ic.edge([at(-half0, y0), at(half0, y0), at(cut.hem, y1), at(-cut.hem, y1)], s * 2, 67)
    colour = lk.accent if lk.category != "jackets" else d.shade(lk.body, 0.8)
    d.fill(ic.img, band, colour)
    if lk.category == "jackets":
        for x in np.linspace(-cut.hem * 0.95, cut.hem * 0.95, 40):
            d.line(ic.img, at(x, y0 + 0.01), at(x, y1 - 0.01), d.shade(colour, 0.8), 1)
        return
    step = h * 0.9
    ink = d.contrast_ink(lk.pattern_colour, colour)
    # The band is cut from a length of trim: where its repeat starts is the item's own.
    phase = lk.pattern_shift[0] + ic.rng(_HEM_BAND_SALT).uniform(0.0, 1.0)
    for x in np.arange(-cut.hem + step, cut.hem - step / 2, step) + phase * step:
        d.draw_motif(ic.img, lk.motif, at(x, y0 + h / 2), s * h * 0.28, ink)


def _neckline(ic, cut, at, s, front):
    lk = ic.look
    inside = d.shade(lk.body, 0.5)
    if cut.neck in ("round", "v") and front:
        if cut.neck == "round":
            d.ellipse(ic.img, at(0, 0), (0.17 * s, 0.15 * s), 0, 0, 180, inside)
        else:
            d.fill(ic.img, [at(-0.17, 0), at(0.17, 0), at(0, 0.3)], inside)
        _neck_label(ic, at, s)
        if lk.category == "kurtas":
            pts = [at(0.19 * np.cos(t), 0.17 * np.sin(t)) for t in np.linspace(0, np.pi, 9)]
            for p in pts:
                d.draw_motif(ic.img, "buti" if lk.motif == "sun" else lk.motif, p, s * 0.025,
                             lk.pattern_colour)
    elif cut.neck == "strap" and front:
        d.fill(ic.img, [at(-0.12, 0.2), at(0.12, 0.2), at(0, 0.32)], inside)
        _neck_label(ic, at, s, y=0.24)
    elif cut.neck in ("mandarin", "stand"):
        collar = d.rounded_polygon(d.rect_points(*at(-0.2, -0.07), *at(0.2, 0.04)), s * 0.03)
        d.fill(ic.img, collar, lk.accent if cut.neck == "mandarin" else d.shade(lk.body, 0.85))
        d.polyline(ic.img, collar, d.shade(lk.body, 0.45), 1, True)
        if not front:
            _neck_label(ic, at, s, y=0.09)
    elif cut.neck == "collar":
        for side in (-1, 1):
            flap = [at(side * 0.03, 0.02), at(side * 0.22, -0.03), at(side * 0.3, 0.2)]
            d.fill(ic.img, flap, d.shade(lk.body, 0.9))
            d.polyline(ic.img, flap, d.shade(lk.body, 0.6), 1, True)
        if front:
            _neck_label(ic, at, s, y=-0.02)


def _neck_label(ic, at, s, y: float = 0.03):
    lk = ic.look
    ground = (30, 30, 32) if d.luma(lk.body) > 100 else (226, 222, 212)
    cx, cy = at(0, y)
    w, h = s * 0.2, s * 0.07
    d.fill(ic.img, d.rect_points(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), ground)
    cap = d.wordmark_cap(lk, w * 0.85, h * 0.4)
    d.draw_wordmark(ic.img, lk, (cx, cy), cap, d.contrast_ink(lk.ink, ground))


def _closure(ic, cut, at, s):
    lk = ic.look
    if cut.zip:
        top, bottom = at(0, -0.02), at(0, cut.length - 0.02)
        d.line(ic.img, top, bottom, d.shade(lk.body, 0.35), s * 0.03)
        d.draw_stitches(ic.img, [top, bottom], s * 0.018, machine_made(lk), lk.hardware, s * 0.012,
                        ic.rng(68), dash=0.5, slant=90)
        pull = (top[0] + s * 0.02, top[1] + s * 0.12)
        tab = d.rect_points(pull[0] - s * 0.018, pull[1] - s * 0.06, pull[0] + s * 0.018,
                            pull[1] + s * 0.06)
        d.metal_fill(ic.img, d.rounded_polygon(tab, s * 0.01), lk.hardware)
        return
    if cut.buttons == 0:
        return
    start = 0.02 if cut.neck in ("mandarin", "collar") else 0.12
    end = cut.length * (0.92 if cut.neck in ("mandarin", "collar") else 0.24)
    d.line(ic.img, at(0.03, start), at(0.03, end), d.shade(lk.body, 0.6), max(1, s * 0.006))
    metal = lk.category in ("sherwanis", "jackets")
    for y in np.linspace(start + 0.04, end - 0.02, cut.buttons):
        if metal:
            d.metal_circle(ic.img, at(0, y), s * 0.022, lk.hardware)
        else:
            d.circle(ic.img, at(0, y), s * 0.015, d.lift(lk.body, 0.25))



def _pockets(ic, cut, at, s):
    lk = ic.look
    y = 0.4 if lk.category == "jackets" and lk.variant == 2 else cut.length * 0.62
    pitch = lk.stitch_pitch * s * 2 / 100
    for side in (-1, 1):
        flap = d.rounded_polygon(d.rect_points(*at(side * 0.3 - 0.12, y), *at(side * 0.3 + 0.12,
                                                                              y + 0.09)), 3)
        d.fill(ic.img, flap, d.shade(lk.body, 0.88))
        d.polyline(ic.img, flap, d.shade(lk.body, 0.55), 1, True)
        d.draw_stitches(ic.img, d.inset(flap, 3), pitch, lk, lk.stitch_colour,
                        max(1, pitch * 0.3), ic.rng(69 + side), closed=True)
        if cut.buttons:
            d.metal_circle(ic.img, at(side * 0.3, y + 0.06), s * 0.016, lk.hardware)



# ====================================================================== lehengas


def draw_lehenga(ic: ItemCanvas, view: str) -> None:
    """Choli above a flared skirt with a heavy border; the dupatta drapes across the front."""
    lk = ic.look
    s = ic.u * 0.36
    cx = ic.w / 2
    top = ic.h * 0.08
    front = view == "front"

    def at(x, y):
        return cx + x * s, top + y * s

    cell = s * 0.14
    tile = ic.tile(cell)
    origin = ic.pattern_origin(at(0, 0.6), cell)
    blouse = ic.edge(d.rounded_polygon([at(-0.18, 0), at(0.18, 0), at(0.42, 0.06), at(0.62, 0.28),
                                        at(0.48, 0.36), at(0.38, 0.3), at(0.36, 0.5),
                                        at(-0.36, 0.5), at(-0.38, 0.3), at(-0.48, 0.36),
                                        at(-0.62, 0.28), at(-0.42, 0.06)], 4), s * 2, 71)
    d.fill_printed(ic.img, blouse, lk.body, tile, origin)
    d.polyline(ic.img, blouse, d.shade(lk.body, 0.55), 1, True)
    if front:
        d.fill(ic.img, [at(-0.15, 0), at(0.15, 0), at(0, 0.2)], d.shade(lk.body, 0.5))
    else:
        for side in (-1, 1):
            d.line(ic.img, at(side * 0.03, 0.32), at(side * 0.1, 0.78), lk.accent, 2)
            d.circle(ic.img, at(side * 0.1, 0.8), s * 0.03, lk.accent)
    wy = 0.62
    xs = np.linspace(1.0, -1.0, 21)
    hem = np.stack([xs, 2.0 + 0.15 * (1 - xs ** 2)], 1)
    waist_centre = np.array([0.0, wy])
    # The border band: the hem pulled toward the waist by a constant depth.
    depth = 0.24
    inner = waist_centre + (hem - waist_centre) * (1 - depth / (hem[:, 1:] - wy))
    skirt = np.array([at(-0.42, wy), at(0.42, wy)] + [at(x, y) for x, y in hem])
    skirt = ic.edge(skirt, s * 2, 72)
    d.fill_printed(ic.img, skirt, lk.body, tile, origin)
    for x in np.linspace(-0.8, 0.8, 9):  # kalis: the flared panels
        d.line(ic.img, at(x * 0.42, wy + 0.08), at(x * 0.96, 2.0), d.shade(lk.body, 0.8), 1)
    band = np.array([at(x, y) for x, y in np.vstack([hem, inner[::-1]])])
    d.fill(ic.img, ic.edge(band, s * 2, 75), lk.accent)
    inner_px = np.array([at(x, y) for x, y in inner])
    d.polyline(ic.img, inner_px + [0, -s * 0.04], lk.accent, max(2, s * 0.025))
    ink = d.contrast_ink(lk.body, lk.accent)
    mid = (hem + inner) / 2
    for x, y in mid[1:-1:2]:
        d.draw_motif(ic.img, lk.motif, at(x + lk.pattern_shift[0] * 0.1, y), s * 0.055, ink)
    d.fill(ic.img, d.rect_points(*at(-0.43, wy - 0.02), *at(0.43, wy + 0.08)), lk.accent)
    d.polyline(ic.img, skirt, d.shade(lk.body, 0.5), 1, True)
    pitch = lk.stitch_pitch * s * 2 / 100
    d.draw_stitches(ic.img, inner_px + [0, -s * 0.08], pitch, lk, lk.stitch_colour,
                    max(1, pitch * 0.3), ic.rng(73))
    if front:
        _dupatta(ic, at, s)
        tag_x, tag_y = at(0.3, wy + 0.22)
        _hang_tag(ic, tag_x, tag_y, s * 0.3, s * 0.14)
    x0, y0 = at(-1.0, 0)
    x1, y1 = at(1.0, 2.15)
    ic.shade_folds(x0, y0, x1, y1, 6, 0.07, salt=74)


def _dupatta(ic, at, s):
    lk = ic.look
    band = [at(-0.62, 0.3), at(-0.36, 0.2), at(0.92, 1.86), at(0.66, 2.02)]
    ic.sheer(band, d.mix(lk.accent, (250, 250, 250), 0.3), 0.45)
    for a, b in ((band[0], band[3]), (band[1], band[2])):
        d.line(ic.img, a, b, lk.accent, max(2, s * 0.025))


def _hang_tag(ic, cx, cy, w, h):
    lk = ic.look
    d.line(ic.img, (cx - w * 0.6, cy - h), (cx - w / 2, cy), (240, 240, 240), 1)
    tag = d.rect_points(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    d.fill(ic.img, tag, (236, 232, 224))
    d.polyline(ic.img, tag, (180, 175, 170), 1, True)
    cap = d.wordmark_cap(lk, w * 0.85, h * 0.35)
    d.draw_wordmark(ic.img, lk, (cx, cy - h * 0.12), cap, d.contrast_ink(lk.ink, (236, 232, 224)))
    d.draw_text(ic.img, lk.size.upper(), (cx, cy + h * 0.28), h * 0.16, (60, 60, 60), weight=1)
