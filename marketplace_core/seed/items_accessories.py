"""Front and back views of leather goods: handbags, sneakers, heels and watches."""
from __future__ import annotations

import numpy as np

from . import drawing as d
from .canvas import ItemCanvas
from .counterfeit import machine_made

# ====================================================================== handbags


def draw_bag(ic: ItemCanvas, view: str) -> None:
    lk = ic.look
    width_scale, ratio = lk.proportions
    bw = 0.62 * ic.u * width_scale
    bh = bw * ratio
    cx = ic.w / 2
    bottom = ic.h * 0.5 + bh * 0.62
    top = bottom - bh
    v = lk.variant
    dark_edge = d.shade(lk.accent if v == 0 else lk.body, 0.45)

    _bag_handles(ic, v, cx, top, bw, bh)
    half_top = bw / 2 * (1 - (0.12, 0.03, 0.06)[v])
    corners = [(cx - half_top, top), (cx + half_top, top), (cx + bw / 2, bottom),
               (cx - bw / 2, bottom)]
    radii = {0: [ic.u * 0.01] * 2 + [bw * 0.08] * 2,
             1: [bw * 0.05] * 2 + [bw * 0.06] * 2,
             2: [bw * 0.42] * 2 + [bw * 0.09] * 2}[v]
    body = ic.edge(d.rounded_polygon(corners, radii), bw, salt=11)
    cell = bw * (0.15 if lk.pattern == "monogram" else 0.13)
    tile = ic.tile(cell)
    d.fill_printed(ic.img, body, lk.body, tile, ic.pattern_origin((cx - cell / 2, top), cell))
    d.polyline(ic.img, body, dark_edge, max(1.5, ic.u * 0.006), closed=True)

    inset = d.inset(body, bw * 0.035, (cx, (top + bottom) / 2))
    pitch = lk.stitch_pitch * bw / 100
    d.draw_stitches(ic.img, inset, pitch, lk, lk.stitch_colour, max(1, pitch * 0.3),
                    ic.rng(12), closed=True, slant=18)
    if v == 0:
        _tote_trim(ic, view, cx, top, bw, bh, half_top)
    elif v == 1:
        _flap(ic, view, cx, top, bw, bh)
    else:
        _satchel_trim(ic, view, cx, top, bw, bh)
    ic.shade_cylinder(cx - bw / 2, top - bh * 0.8, cx + bw / 2, bottom, 0.3, 2.5)
    ic.shade_ramp(0, top, ic.w, bottom, 1.06, 0.9)
    ic.scuffs(body[len(body) // 2:], lk.body, 14, salt=13)


def _bag_handles(ic, v, cx, top, bw, bh):
    lk = ic.look
    strap = lk.accent if v != 1 else lk.body
    if v == 0:
        for side in (-1, 1):
            centre = (cx + side * bw * 0.2, top + bh * 0.05)
            d.ellipse(ic.img, centre, (bw * 0.13, bh * 0.55), 0, 180, 360,
                      d.shade(strap, 0.5), ic.u * 0.03)
            d.ellipse(ic.img, centre, (bw * 0.13, bh * 0.55), 0, 182, 358, strap, ic.u * 0.021)
    elif v == 1:
        a = np.linspace(0, 1, 34)
        xs = cx - bw * 0.44 + a * bw * 0.88
        ys = top + bh * 0.05 - np.sin(a * np.pi) * bh * 0.95
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            tangent = np.degrees(np.arctan2(np.cos(a[i] * np.pi) * -bh * 0.95 * np.pi,
                                            bw * 0.88))
            along = i % 2 == 0
            axes = (ic.u * 0.016, ic.u * 0.009) if along else (ic.u * 0.012, ic.u * 0.006)
            d.ellipse(ic.img, (x, y), axes, tangent, 0, 360, d.shade(lk.hardware, 0.55),
                      ic.u * 0.007)
            d.ellipse(ic.img, (x, y), axes, tangent, 200, 300, lk.hardware, ic.u * 0.004)
    else:
        centre = (cx, top + bh * 0.02)
        d.ellipse(ic.img, centre, (bw * 0.2, bh * 0.42), 0, 180, 360, d.shade(strap, 0.5),
                  ic.u * 0.034)
        d.ellipse(ic.img, centre, (bw * 0.2, bh * 0.42), 0, 182, 358, strap, ic.u * 0.025)


def _tote_trim(ic, view, cx, top, bw, bh, half_top):
    lk = ic.look
    band_h = bh * 0.09
    band = d.rect_points(cx - half_top, top, cx + half_top, top + band_h)
    d.fill(ic.img, band, lk.accent)
    d.polyline(ic.img, band, d.shade(lk.accent, 0.5), max(1, ic.u * 0.004), closed=True)
    pitch = lk.stitch_pitch * bw / 100
    d.draw_stitches(ic.img, [(cx - half_top + 4, top + band_h - 4), (cx + half_top - 4,
                                                                     top + band_h - 4)],
                    pitch, lk, d.shade(lk.stitch_colour, 0.9), max(1, pitch * 0.3), ic.rng(14))
    for side in (-1, 1):
        x = cx + side * bw * 0.2
        for sx in (-1, 1):
            tab_x = x + sx * bw * 0.13
            d.fill(ic.img, d.rect_points(tab_x - bw * 0.025, top - bh * 0.02, tab_x + bw * 0.025,
                                         top + band_h + bh * 0.05), lk.accent)
            d.metal_circle(ic.img, (tab_x, top + band_h * 0.9), ic.u * 0.009, lk.hardware)
    if view == "front":
        _logo_patch(ic, cx, top + bh * 0.3, bw * 0.44, bh * 0.14)


def _logo_patch(ic, cx, cy, pw, ph):
    """A stitched leather patch carrying the heat-stamped wordmark."""
    lk = ic.look
    patch = d.rounded_polygon(d.rect_points(cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2),
                              ph * 0.2)
    d.fill(ic.img, patch, lk.accent)
    d.polyline(ic.img, patch, d.shade(lk.accent, 0.55), max(1, ic.u * 0.003), closed=True)
    pitch = lk.stitch_pitch * pw / 60
    d.draw_stitches(ic.img, d.inset(patch, ph * 0.14, (cx, cy)), pitch, lk, lk.stitch_colour,
                    max(1, pitch * 0.25), ic.rng(15), closed=True)
    cap = d.wordmark_cap(lk, pw * 0.8, ph * 0.36)
    d.draw_wordmark(ic.img, lk, (cx, cy), cap, d.contrast_ink(lk.ink, lk.accent), emboss=1)


def _flap(ic, view, cx, top, bw, bh):
    lk = ic.look
    if view == "back":
        pocket = [(cx - bw * 0.38, top + bh * 0.3), (cx + bw * 0.38, top + bh * 0.3)]
        d.line(ic.img, *pocket, d.shade(lk.body, 0.55), ic.u * 0.004)
        return
    flap_bottom = top + bh * 0.58
    flap = ic.edge(d.rounded_polygon(
        [(cx - bw * 0.485, top - bh * 0.02), (cx + bw * 0.485, top - bh * 0.02),
         (cx + bw * 0.485, flap_bottom), (cx - bw * 0.485, flap_bottom)],
        [bw * 0.05, bw * 0.05, bw * 0.14, bw * 0.14]), bw, salt=16)
    d.fill(ic.img, flap + [0, bh * 0.025], d.shade(lk.body, 0.45))  # shadow under the flap
    cell = bw * 0.13
    d.fill_printed(ic.img, flap, lk.body, ic.tile(cell),
                   ic.pattern_origin((cx - cell / 2, top), cell))
    d.polyline(ic.img, flap, d.shade(lk.body, 0.4), max(1.5, ic.u * 0.005), closed=True)
    pitch = lk.stitch_pitch * bw / 100
    d.draw_stitches(ic.img, d.inset(flap, bw * 0.03, (cx, (top + flap_bottom) / 2)), pitch, lk,
                    lk.stitch_colour, max(1, pitch * 0.3), ic.rng(17), closed=True, slant=18)
    plate_w, plate_h = bw * 0.2, bh * 0.13
    py = flap_bottom - plate_h * 0.2
    plate = d.rounded_polygon(d.rect_points(cx - plate_w / 2, py - plate_h / 2, cx + plate_w / 2,
                                            py + plate_h / 2), plate_h * 0.3)
    d.metal_fill(ic.img, plate, lk.hardware)
    cap = d.wordmark_cap(lk, bw * 0.5, bh * 0.05)
    d.draw_wordmark(ic.img, lk, (cx, top + bh * 0.2), cap, d.contrast_ink(lk.ink, lk.body))
    d.draw_text(ic.img, lk.monogram, (cx, py), plate_h * 0.42, d.shade(lk.hardware, 0.5),
                font=lk.font, weight=2.4)


def _satchel_trim(ic, view, cx, top, bw, bh):
    lk = ic.look
    zip_y = top + bh * 0.1
    xs = np.linspace(cx - bw * 0.36, cx + bw * 0.36, 40)
    ys = zip_y + (np.abs(xs - cx) / (bw * 0.4)) ** 2 * bh * 0.12
    d.polyline(ic.img, np.stack([xs, ys], 1), d.shade(lk.body, 0.35), ic.u * 0.012)
    d.draw_stitches(ic.img, np.stack([xs, ys], 1), ic.u * 0.008,
                    machine_made(lk), lk.hardware, ic.u * 0.006, ic.rng(18), dash=0.5, slant=90)
    pull = (xs[-4], ys[-4] + bh * 0.07)
    d.metal_fill(ic.img, d.rounded_polygon(d.rect_points(pull[0] - bw * 0.018, pull[1] - bh * 0.06,
                                                         pull[0] + bw * 0.018, pull[1] + bh * 0.06),
                                           bw * 0.015), lk.hardware)
    if view == "front":
        pw, ph = bw * 0.48, bh * 0.11
        py = top + bh * 0.45
        plate = d.rounded_polygon(d.rect_points(cx - pw / 2, py - ph / 2, cx + pw / 2,
                                                py + ph / 2), ph * 0.25)
        d.metal_fill(ic.img, plate, lk.hardware)
        cap = d.wordmark_cap(lk, pw * 0.84, ph * 0.4)
        d.draw_wordmark(ic.img, lk, (cx, py), cap, d.shade(lk.hardware, 0.4))



# ====================================================================== sneakers

_SHOE_UPPERS = {
    0: [(0.02, 0), (0.0, 0.12), (0.02, 0.3), (0.06, 0.4), (0.18, 0.41), (0.25, 0.36),
        (0.3, 0.44), (0.35, 0.41), (0.46, 0.28), (0.62, 0.17), (0.82, 0.11), (0.95, 0.07),
        (1.0, 0.03), (0.97, -0.005), (0.6, -0.01), (0.3, -0.01)],
    1: [(0.02, 0), (0.0, 0.1), (0.03, 0.19), (0.1, 0.2), (0.2, 0.16), (0.27, 0.17),
        (0.32, 0.26), (0.37, 0.22), (0.47, 0.18), (0.63, 0.14), (0.82, 0.1), (0.95, 0.065),
        (1.0, 0.03), (0.97, -0.005), (0.6, -0.01), (0.3, -0.01)],
    2: [(0.02, 0), (0.0, 0.1), (0.03, 0.21), (0.09, 0.23), (0.2, 0.17), (0.29, 0.18),
        (0.32, 0.28), (0.37, 0.24), (0.48, 0.19), (0.64, 0.14), (0.83, 0.09), (0.96, 0.05),
        (1.0, 0.02), (0.97, -0.005), (0.6, -0.01), (0.3, -0.01)],
}
_LACE_LINES = {0: ((0.29, 0.36), (0.6, 0.17)), 1: ((0.33, 0.21), (0.6, 0.145)),
               2: ((0.33, 0.23), (0.61, 0.145))}


# A pair is set down by hand: the shoe behind sits up to this share of a shoe's length
# away from where the drawing puts it, differently for each pair.
_PAIR_REACH = 0.05
_PAIR_SALT = 140


def draw_sneakers(ic: ItemCanvas, view: str) -> None:
    length = 0.74 * ic.u
    ground = ic.h * 0.66
    x0 = ic.w / 2 - length / 2
    mirror = view == "back"
    dx, dy = ic.set_down(_PAIR_SALT, length * _PAIR_REACH)
    _sneaker(ic, x0 - length * 0.05 + dx, ground - length * 0.07 + dy, length * 0.95, mirror,
             0.8, False)
    _sneaker(ic, x0, ground, length, mirror, 1.0, view == "front")
    ic.shade_ramp(0, ground - length * 0.5, ic.w, ground, 1.05, 0.92)


def _sneaker(ic, x0, ground, length, mirror, tone, with_logo):
    lk = ic.look
    sole_h = (0.085, 0.08, 0.11)[lk.variant]

    tall, long = lk.last

    def place(points, lift=sole_h):
        p = np.asarray(points, np.float64)
        x = p[:, 0] if not mirror else 1 - p[:, 0]
        return np.stack([x0 + x * length * long, ground - (p[:, 1] + lift) * length * tall], 1)

    def tint(colour):
        return d.shade(colour, tone)

    body, accent = tint(lk.body), tint(lk.accent)
    upper = ic.edge(d.smooth_closed(place(_SHOE_UPPERS[lk.variant]), 6), length, salt=21)
    d.fill(ic.img, upper, body)
    if lk.material == "mesh":
        d.fill_printed(ic.img, upper, body, ic.tile(length * 0.02, kind="denim"), (0, 0))
    toe = place([(0.76, -0.005), (0.77, 0.055), (0.84, 0.095), (0.95, 0.062), (1.0, 0.028),
                 (0.97, -0.005)])
    heel = place([(0.02, -0.005), (0.0, 0.1), (0.03, 0.17), (0.14, 0.15), (0.2, 0.06),
                  (0.21, -0.005)])
    for panel, colour, salt in ((toe, d.mix(body, accent, 0.25), 22), (heel, accent, 23)):
        panel = d.smooth_closed(panel, 5)
        d.fill(ic.img, panel, colour)
        pitch = lk.stitch_pitch * length / 100
        d.draw_stitches(ic.img, d.inset(panel, length * 0.012, panel.mean(0)), pitch, lk,
                        tint(lk.stitch_colour), max(1, pitch * 0.3), ic.rng(salt), closed=True)
    _sneaker_laces(ic, place, lk, tint, length)
    motif_centre = place([(0.47, 0.08)])[0]
    d.draw_motif(ic.img, lk.motif, tuple(motif_centre), length * 0.085,
                 d.contrast_ink(accent, body))
    if with_logo:
        hx, hy = place([(0.1, 0.075)])[0]
        cap = d.wordmark_cap(lk, length * 0.15, length * 0.03)
        d.draw_wordmark(ic.img, lk, (hx, hy), cap, d.contrast_ink(lk.ink, accent))
    _sneaker_sole(ic, place, lk, tint, length, sole_h)
    d.polyline(ic.img, upper, d.shade(body, 0.55), max(1, ic.u * 0.003), closed=True)


def _sneaker_laces(ic, place, lk, tint, length):
    (ax, ay), (bx, by) = _LACE_LINES[lk.variant]
    n = 6
    ts = np.linspace(0, 1, n)
    eyelets = place(np.stack([ax + (bx - ax) * ts, ay + (by - ay) * ts - 0.025], 1))
    tops = place(np.stack([ax + (bx - ax) * ts + 0.02, ay + (by - ay) * ts + 0.015], 1))
    stay = np.vstack([place([(ax - 0.02, ay + 0.005)]), eyelets, place([(bx + 0.03, by - 0.04)])])
    d.polyline(ic.img, stay, d.shade(tint(lk.body), 0.6), length * 0.012)
    lace = tint(lk.accent if lk.variant == 2 else (240, 240, 238))
    for i in range(n - 1):
        d.line(ic.img, tuple(eyelets[i]), tuple(tops[i + 1]), d.shade(lace, 0.6), length * 0.014)
        d.line(ic.img, tuple(eyelets[i]), tuple(tops[i + 1]), lace, length * 0.009)
    for e in eyelets:
        d.circle(ic.img, tuple(e), length * 0.007, tint(lk.hardware))
        d.circle(ic.img, tuple(e), length * 0.003, (30, 30, 30))


def _sneaker_sole(ic, place, lk, tint, length, sole_h):
    sole = d.smooth_closed(place([(0.01, sole_h), (0.5, sole_h), (0.99, sole_h + 0.012),
                                  (1.02, sole_h * 0.5), (0.97, 0.0), (0.5, -0.002), (0.08, 0.0),
                                  (-0.005, sole_h * 0.35)], lift=0), 6)
    mid = tint((236, 236, 232) if lk.variant != 2 else d.mix(lk.accent, (240, 240, 240), 0.6))
    d.fill(ic.img, sole, tint((70, 80, 95)) if lk.variant != 2 else tint((40, 40, 42)))
    midsole = sole.copy()
    bottom = midsole[:, 1].max()
    midsole[:, 1] = np.minimum(midsole[:, 1], bottom - sole_h * length * 0.3)
    d.fill(ic.img, midsole, mid)
    d.polyline(ic.img, sole, d.shade(mid, 0.6), max(1, ic.u * 0.003), closed=True)
    if lk.variant != 2:
        row = place([(0.04, sole_h * 0.62), (0.96, sole_h * 0.62)], lift=0)
        pitch = lk.stitch_pitch * length / 100
        d.draw_stitches(ic.img, row, pitch, lk, d.shade(mid, 0.7), max(1, pitch * 0.25),
                        ic.rng(24))
    else:
        xs = np.linspace(0.05, 0.95, 30)
        wave = place(np.stack([xs, sole_h * (0.55 + 0.18 * np.sin(xs * 9))], 1), lift=0)
        d.polyline(ic.img, wave, tint(lk.accent), length * 0.008)


# ====================================================================== heels


def draw_heels(ic: ItemCanvas, view: str) -> None:
    if ic.look.variant == 2:
        _draw_flats(ic, view)
        return
    length = 0.66 * ic.u
    ground = ic.h * 0.7
    x0 = ic.w / 2 - length / 2
    mirror = view == "back"
    dx, dy = ic.set_down(_PAIR_SALT, length * _PAIR_REACH)
    _heel(ic, x0 - length * 0.08 + dx, ground - length * 0.06 + dy, length * 0.96, mirror, 0.8,
          False)
    _heel(ic, x0, ground, length, mirror, 1.0, view == "front")
    ic.shade_ramp(0, ground - length * 0.5, ic.w, ground, 1.05, 0.92)


def _heel(ic, x0, ground, length, mirror, tone, with_logo):
    """Side profile, toe to the right: heel, footbed, then the upper (pump) or straps."""
    lk = ic.look

    tall, long = lk.last

    def place(points):
        p = np.asarray(points, np.float64)
        x = p[:, 0] if not mirror else 1 - p[:, 0]
        return np.stack([x0 + x * length * long, ground - p[:, 1] * length * tall], 1)

    body, accent = d.shade(lk.body, tone), d.shade(lk.accent, tone)
    lining = d.shade(d.mix(lk.accent, (220, 200, 180), 0.5), tone)
    stiletto = lk.variant == 0
    hh = 0.3 if stiletto else 0.24
    sole_line = [(0.03, hh), (0.25, hh * 0.9), (0.5, hh * 0.32), (0.66, 0.02), (0.9, 0.0),
                 (1.0, 0.025)]
    if stiletto:
        heel = place([(0.0, hh), (0.11, hh * 0.96), (0.085, 0.0), (0.062, 0.0)])
        tip = place([(0.058, 0.0), (0.089, 0.0), (0.089, 0.012), (0.058, 0.012)])
    else:
        heel = place([(0.0, hh), (0.16, hh * 0.96), (0.14, 0.0), (0.02, 0.0)])
        tip = place([(0.02, 0.0), (0.14, 0.0), (0.14, 0.015), (0.02, 0.015)])
    d.fill(ic.img, heel, body if stiletto else accent)
    d.fill(ic.img, tip, (25, 25, 25))
    sole = d.smooth_open(place(sole_line), 6)
    footbed = np.vstack([sole, sole[::-1] + [0, -length * 0.03]])
    d.fill(ic.img, footbed, lining)
    d.polyline(ic.img, sole, d.shade(accent, 0.5), length * 0.012)
    pitch = lk.stitch_pitch * length / 100
    if stiletto:
        upper = d.smooth_closed(place([(0.0, hh), (0.0, hh + 0.15), (0.12, hh + 0.12),
                                       (0.4, 0.26), (0.62, 0.16), (0.8, 0.13), (0.95, 0.085),
                                       (1.01, 0.035), (0.92, 0.005), (0.66, 0.025),
                                       (0.5, hh * 0.34), (0.25, hh * 0.92)]), 6)
        upper = ic.edge(upper, length, salt=31)
        d.fill(ic.img, upper, body)
        opening = d.smooth_open(place([(0.01, hh + 0.14), (0.12, hh + 0.11), (0.4, 0.25),
                                       (0.62, 0.155)]), 6)
        d.polyline(ic.img, opening, lining, length * 0.014)
        d.polyline(ic.img, upper, d.shade(body, 0.5), max(1, ic.u * 0.003), closed=True)
    else:
        # Block-heel sandal: a heel cup, an ankle strap with a buckle, a wide toe strap.
        cup = d.smooth_closed(place([(0.0, hh - 0.01), (-0.01, hh + 0.1), (0.1, hh + 0.12),
                                     (0.2, hh * 0.95)]), 5)
        d.fill(ic.img, ic.edge(cup, length, 30), body)
        centre = tuple(place([(0.1, hh + 0.2)])[0])
        d.ellipse(ic.img, centre, (length * 0.13, length * 0.035), -8, 0, 360, body,
                  length * 0.022)
        d.line(ic.img, tuple(place([(0.06, hh + 0.11)])[0]), centre, body, length * 0.02)
        bx, by = place([(0.2, hh + 0.21)])[0]
        d.metal_fill(ic.img, d.rect_points(bx - length * 0.018, by - length * 0.02,
                                           bx + length * 0.018, by + length * 0.02), lk.hardware)
        toe = d.smooth_closed(place([(0.66, 0.025), (0.72, 0.15), (0.82, 0.16), (0.93, 0.1),
                                     (0.99, 0.03)]), 5)
        toe = ic.edge(toe, length, salt=31)
        d.fill(ic.img, toe, body)
        d.polyline(ic.img, toe, d.shade(body, 0.5), max(1, ic.u * 0.003), closed=True)
        d.draw_stitches(ic.img, d.inset(toe, length * 0.015), pitch, lk, lk.stitch_colour,
                        max(1, pitch * 0.3), ic.rng(32), closed=True)
    if with_logo:
        lx, ly = place([(0.2, hh * 0.93)])[0]
        cap = d.wordmark_cap(lk, length * 0.16, length * 0.02)
        d.draw_wordmark(ic.img, lk, (lx, ly - length * 0.035), cap, d.contrast_ink(lk.ink, body))


def _flat_outline(length: float, width: float, pointed: bool) -> np.ndarray:
    """Top view of a flat's sole, toe up: pointed for juttis, rounded for kolhapuris."""
    toe = [(0.0, -0.04)] if pointed else [(-0.18, 0.0), (0.12, -0.01)]
    pts = toe + [(0.42, 0.16), (0.5, 0.32), (0.4, 0.6), (0.38, 0.82), (0.25, 0.98),
                 (-0.05, 1.0), (-0.3, 0.95), (-0.38, 0.8), (-0.35, 0.6), (-0.48, 0.33),
                 (-0.4, 0.14)]
    p = np.asarray(pts, np.float64)
    return d.smooth_closed(p * [width, length], 6)


def _draw_flats(ic: ItemCanvas, view: str) -> None:
    """Juttis and kolhapuris are shot from above as a pair, toes pointing up."""
    lk = ic.look
    length = 0.74 * ic.u
    width = length * 0.36
    top = ic.h / 2 - length / 2
    pointed = lk.pattern != "plain"
    lining = d.mix(lk.accent, (215, 195, 170), 0.55)
    for side in (-1, 1):
        dx, dy = ic.set_down(_PAIR_SALT + side, length * _PAIR_REACH)
        cx, shoe_top = ic.w / 2 + side * width * 0.68 + dx, top + dy
        outline = _flat_outline(length, width, pointed) * [-side, 1] + [cx, shoe_top]
        outline = ic.edge(outline, length, 33 + side)
        if view == "back":  # the soles: leather with a stitched rand
            d.fill(ic.img, outline, (58, 88, 128))
            pitch = lk.stitch_pitch * length / 100
            d.draw_stitches(ic.img, d.inset(outline, width * 0.07), pitch, lk, (170, 190, 210),
                            max(1, pitch * 0.3), ic.rng(35 + side), closed=True)
            continue
        d.fill(ic.img, outline + [0, length * 0.012], (50, 70, 100))
        d.fill(ic.img, outline, lining)
        if pointed:
            _jutti_vamp(ic, outline, cx, shoe_top, length, width, side)
        else:
            _kolhapuri_straps(ic, cx, shoe_top, length, width, side)
        if side == 1:
            cap = d.wordmark_cap(lk, width * 0.6, length * 0.03)
            d.draw_wordmark(ic.img, lk, (cx, shoe_top + length * 0.82), cap,
                            d.contrast_ink(lk.ink, lining), emboss=1)
        d.polyline(ic.img, outline, d.shade(lining, 0.6), max(1, ic.u * 0.004), closed=True)
    ic.shade_ramp(0, top, ic.w, top + length, 1.04, 0.94)


def _jutti_vamp(ic, outline, cx, top, length, width, side):
    lk = ic.look
    vamp = outline[outline[:, 1] < top + length * 0.55]
    vamp = np.vstack([vamp, [[cx + side * width * 0.3, top + length * 0.55],
                             [cx, top + length * 0.5],
                             [cx - side * width * 0.3, top + length * 0.55]]])
    cell = length * 0.06
    d.fill_printed(ic.img, vamp, lk.body, ic.tile(cell),
                   ic.pattern_origin((cx - cell / 2, top + length * 0.1), cell))
    d.polyline(ic.img, vamp, lk.pattern_colour, max(2, length * 0.012), closed=True)
    d.draw_motif(ic.img, lk.motif, (cx, top + length * 0.3), width * 0.16, lk.pattern_colour)
    heel_rim = outline[outline[:, 1] > top + length * 0.72]
    d.polyline(ic.img, heel_rim, lk.body, max(2, length * 0.03))


def _kolhapuri_straps(ic, cx, top, length, width, side):
    lk = ic.look
    band = d.rounded_polygon(d.rect_points(cx - width * 0.46, top + length * 0.3,
                                           cx + width * 0.46, top + length * 0.42), width * 0.08)
    band = ic.edge(band, length, 36 + side)
    d.fill(ic.img, band, lk.body)
    for k in np.linspace(0.32, 0.4, 3):  # the braided centre line
        d.line(ic.img, (cx - width * 0.4, top + length * k), (cx + width * 0.4, top + length * k),
               d.shade(lk.body, 0.7), 1)
    toe = (cx - side * width * 0.18, top + length * 0.12)
    d.circle(ic.img, toe, width * 0.09, lk.body, max(2, width * 0.05))
    d.line(ic.img, toe, (cx - side * width * 0.05, top + length * 0.3), lk.body, width * 0.07)
    pitch = lk.stitch_pitch * length / 100
    d.draw_stitches(ic.img, d.inset(band, width * 0.04), pitch, lk, lk.stitch_colour,
                    max(1, pitch * 0.3), ic.rng(37 + side), closed=True)


# ====================================================================== watches


def draw_watch(ic: ItemCanvas, view: str) -> None:
    lk = ic.look
    cx, cy = ic.w / 2, ic.h / 2
    r = 0.19 * ic.u
    strap_w = r * 1.0
    steel = lk.material == "steel"
    strap_colour = lk.hardware if steel else lk.accent
    if view == "back":
        strap_colour = d.mix(strap_colour, (200, 190, 175), 0.35) if not steel else strap_colour
    _watch_strap(ic, cx, cy, r, strap_w, strap_colour, steel, view)
    for sx in (-1, 1):
        for sy in (-1, 1):
            lug = d.rect_points(cx + sx * strap_w * 0.52 - r * 0.09, cy + sy * r * 0.72,
                                cx + sx * strap_w * 0.52 + r * 0.09, cy + sy * r * 1.02)
            d.metal_fill(ic.img, lug, lk.hardware)
    square = lk.variant == 1
    case = (d.rounded_polygon(d.rect_points(cx - r, cy - r, cx + r, cy + r), r * 0.3) if square
            else None)
    crown = d.rounded_polygon(d.rect_points(cx + r * 0.95, cy - r * 0.14, cx + r * 1.18,
                                            cy + r * 0.14), r * 0.05)
    d.metal_fill(ic.img, crown, lk.hardware)
    if case is not None:
        d.metal_fill(ic.img, case, lk.hardware)
    else:
        d.metal_circle(ic.img, (cx, cy), r, lk.hardware)
    if view == "back":
        _caseback(ic, cx, cy, r)
    else:
        _dial(ic, cx, cy, r, square)
    ic.shade_dome(cx, cy, r, 0.25)


def _watch_strap(ic, cx, cy, r, strap_w, colour, steel, view):
    lk = ic.look
    for sign in (-1, 1):
        y_near, y_far = cy + sign * r * 0.8, cy + sign * r * 2.55
        pts = [(cx - strap_w / 2, y_near), (cx + strap_w / 2, y_near),
               (cx + strap_w * 0.43, y_far), (cx - strap_w * 0.43, y_far)]
        strap = d.rounded_polygon(pts, [0, 0, strap_w * 0.3, strap_w * 0.3])
        strap = ic.edge(strap, r * 2, salt=41 + sign)
        if steel:
            d.fill(ic.img, strap, d.shade(colour, 0.6))
            for k in np.arange(0, 1, 0.085):
                y = y_near + (y_far - y_near) * k
                link = d.rect_points(cx - strap_w * 0.47, y + sign * 2, cx + strap_w * 0.47,
                                     y + sign * (y_far - y_near) * 0.07 * sign)
                d.metal_fill(ic.img, link, colour)
        else:
            d.fill(ic.img, strap, colour)
            d.polyline(ic.img, strap, d.shade(colour, 0.5), max(1, ic.u * 0.003), closed=True)
            pitch = lk.stitch_pitch * r * 2 / 100
            d.draw_stitches(ic.img, d.inset(strap, strap_w * 0.08, (cx, (y_near + y_far) / 2)),
                            pitch, lk, lk.stitch_colour, max(1, pitch * 0.3),
                            ic.rng(43 + sign), closed=True)
            if sign == 1 and view == "front":
                for k in range(4):
                    d.circle(ic.img, (cx, y_near + (y_far - y_near) * (0.45 + 0.12 * k)),
                             strap_w * 0.05, d.shade(colour, 0.35))
    ic.shade_cylinder(cx - strap_w / 2, cy - r * 2.6, cx + strap_w / 2, cy + r * 2.6, 0.25)


def _dial(ic, cx, cy, r, square):
    lk = ic.look
    dial_r = r * 0.84
    if lk.variant == 2:  # diver: rotating bezel with minute marks
        d.circle(ic.img, (cx, cy), r * 0.93, d.shade(lk.body, 0.7))
        for k in range(60):
            a = k / 60 * 2 * np.pi - np.pi / 2
            inner = r * (0.86 if k % 5 else 0.82)
            d.line(ic.img, (cx + np.cos(a) * inner, cy + np.sin(a) * inner),
                   (cx + np.cos(a) * r * 0.91, cy + np.sin(a) * r * 0.91), (220, 220, 220), 1)
        dial_r = r * 0.78
    if square:
        dial = d.rounded_polygon(d.rect_points(cx - dial_r, cy - dial_r, cx + dial_r,
                                               cy + dial_r), dial_r * 0.2)
        d.fill(ic.img, dial, lk.body)
    else:
        d.circle(ic.img, (cx, cy), dial_r, lk.body)
    marker = d.contrast_ink(lk.hardware, lk.body)
    for k in range(12):
        a = k / 12 * 2 * np.pi - np.pi / 2
        inner = dial_r * (0.74 if k % 3 else 0.66)
        d.line(ic.img, (cx + np.cos(a) * inner, cy + np.sin(a) * inner),
               (cx + np.cos(a) * dial_r * 0.88, cy + np.sin(a) * dial_r * 0.88), marker,
               max(1.5, r * (0.035 if k % 3 else 0.05)))
    ink = d.contrast_ink(lk.ink, lk.body)
    d.draw_motif(ic.img, lk.motif, (cx, cy - dial_r * 0.52), dial_r * 0.09, ink)
    cap = d.wordmark_cap(lk, dial_r * 0.62, dial_r * 0.1)
    d.draw_wordmark(ic.img, lk, (cx, cy - dial_r * 0.33), cap, ink)
    d.draw_text(ic.img, "AUTOMATIC" if lk.variant != 1 else "QUARTZ", (cx, cy + dial_r * 0.42),
                dial_r * 0.06, ink, weight=1.0)
    hand = d.contrast_ink(d.shade(lk.hardware, 0.8), lk.body)
    for angle, length, width in ((-60, 0.5, 0.05), (60, 0.78, 0.035)):  # 10:10, as shot
        a = np.radians(angle - 90)
        d.line(ic.img, (cx, cy), (cx + np.cos(a) * dial_r * length,
                                  cy + np.sin(a) * dial_r * length), hand, r * width)
    a = np.radians(160)
    d.line(ic.img, (cx - np.cos(a) * dial_r * 0.15, cy - np.sin(a) * dial_r * 0.15),
           (cx + np.cos(a) * dial_r * 0.85, cy + np.sin(a) * dial_r * 0.85),
           d.mix(lk.accent, (40, 40, 200), 0.5), max(1, r * 0.012))
    d.circle(ic.img, (cx, cy), r * 0.05, hand)
    ic.shade_dome(cx, cy, dial_r, 0.12)


def _caseback(ic, cx, cy, r):
    lk = ic.look
    engraving = d.shade(lk.hardware, 0.5)
    for k in (0.8, 0.62):
        d.circle(ic.img, (cx, cy), r * k, engraving, max(1, r * 0.02))
    cap = d.wordmark_cap(lk, r * 0.9, r * 0.11)
    d.draw_wordmark(ic.img, lk, (cx, cy - r * 0.25), cap, engraving)
    d.draw_text(ic.img, lk.serial, (cx, cy + r * 0.05), r * 0.08, engraving, weight=1.2)
    d.draw_text(ic.img, "STAINLESS STEEL", (cx, cy + r * 0.3), r * 0.06, engraving, weight=1.0)
    d.draw_text(ic.img, "WATER RESISTANT 5 ATM", (cx, cy + r * 0.45), r * 0.05, engraving,
                weight=1.0)
