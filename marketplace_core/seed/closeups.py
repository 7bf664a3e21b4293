"""Close-up views an authenticator asks for: logo, stitching, label/serial, hardware, box.

Each close-up fills most of the frame with the item's surface, magnified, and leaves one
edge of the item visible against the background, as a phone held close to the item does.
"""
from __future__ import annotations

import numpy as np

from . import drawing as d
from .canvas import ItemCanvas
from .counterfeit import machine_made

ZOOM = 3.4            # magnification of close-ups relative to the front view
_LEATHER_FAMILIES = ("bag", "heel", "sneaker")


def _surface(ic: ItemCanvas, colour=None, *, printed: bool = True, salt: int = 81):
    """The magnified material with the item's edge near the bottom of the frame."""
    lk = ic.look
    w, h = ic.w, ic.h
    xs = np.linspace(-0.05 * w, 1.05 * w, 12)
    edge_y = h * 0.86 + np.sin(xs / w * 2.4 + 0.6) * h * 0.025
    pts = np.vstack([[[-0.05 * w, -0.05 * h], [1.05 * w, -0.05 * h]],
                     np.stack([xs[::-1], edge_y[::-1]], 1)])
    pts = ic.edge(pts, ic.u * 0.5, salt)
    colour = lk.body if colour is None else colour
    cell = ic.u * 0.1 * ZOOM * (0.6 if lk.family in ("saree", "garment", "lehenga") else 1)
    tile = ic.tile(cell, base=colour) if printed else None
    d.fill_printed(ic.img, pts, colour, tile, ic.pattern_origin((w / 2 - cell / 2, h * 0.1), cell))
    d.polyline(ic.img, pts[2:], d.shade(colour, 0.45), max(2, ic.u * 0.012))
    ic.shade_ramp(0, 0, w, h, 1.05, 0.92)
    return pts


def _pitch(ic) -> float:
    return ic.look.stitch_pitch * ic.u * 0.62 / 100 * ZOOM


# ====================================================================== detail_logo


def draw_detail_logo(ic: ItemCanvas) -> None:
    lk = ic.look
    w, h = ic.w, ic.h
    if lk.family == "watch":
        _dial_closeup(ic)
        return
    if lk.family in _LEATHER_FAMILIES:
        ground = lk.body if lk.family != "heel" else d.mix(lk.accent, (220, 200, 180), 0.5)
        _surface(ic, ground, printed=lk.family == "bag" and lk.pattern != "monogram")
        panel = d.rounded_polygon(d.rect_points(w * 0.1, h * 0.2, w * 0.9, h * 0.7), ic.u * 0.04)
        carrier = lk.accent if lk.family == "bag" else ground
        d.fill(ic.img, panel, carrier)
        d.polyline(ic.img, panel, d.shade(carrier, 0.5), max(1, ic.u * 0.004), True)
        d.draw_stitches(ic.img, d.inset(panel, ic.u * 0.03), _pitch(ic), lk, lk.stitch_colour,
                        _pitch(ic) * 0.26, ic.rng(82), closed=True, slant=18)
        d.draw_motif(ic.img, lk.motif, (w / 2, h * 0.34), ic.u * 0.055,
                     d.contrast_ink(lk.ink, carrier))
        cap = d.wordmark_cap(lk, w * 0.66, h * 0.1)
        d.draw_wordmark(ic.img, lk, (w / 2, h * 0.52), cap, d.contrast_ink(lk.ink, carrier),
                        emboss=ic.u * 0.004)
        return
    _surface(ic)
    _woven_label(ic, w / 2, h * 0.45, w * 0.74, h * 0.3)


def _woven_label(ic, cx, cy, lw, lh):
    lk = ic.look
    ground = (236, 230, 218) if d.luma(lk.ink) < 140 else (36, 30, 32)
    label = ic.edge(d.rect_points(cx - lw / 2, cy - lh / 2, cx + lw / 2, cy + lh / 2),
                    ic.u * 0.6, 83)
    d.fill(ic.img, label + [ic.u * 0.008, ic.u * 0.01], d.shade(ic.look.body, 0.55))
    d.fill(ic.img, label, ground)
    d.fill_printed(ic.img, label, ground, ic.tile(4, kind="denim", base=ground), (0, 0))
    ink = d.contrast_ink(lk.ink, ground)
    d.draw_motif(ic.img, lk.motif, (cx, cy - lh * 0.22), lh * 0.13, ink)
    cap = d.wordmark_cap(lk, lw * 0.86, lh * 0.22)
    d.draw_wordmark(ic.img, lk, (cx, cy + lh * 0.12), cap, ink)
    for x in (cx - lw / 2 + lw * 0.04, cx + lw / 2 - lw * 0.04):
        d.draw_stitches(ic.img, [(x, cy - lh / 2), (x, cy + lh / 2)], _pitch(ic) * 0.6, lk,
                        d.shade(ground, 0.6), max(1, ic.u * 0.005), ic.rng(84 + int(x) % 7))


def _dial_closeup(ic):
    lk = ic.look
    w, h = ic.w, ic.h
    r = ic.u * 0.95
    cx, cy = w / 2, h * 0.5 + r * 0.45
    d.circle(ic.img, (cx, cy), r * 1.12, d.shade(lk.hardware, 0.55))
    d.circle(ic.img, (cx, cy), r * 1.08, lk.hardware)
    d.circle(ic.img, (cx, cy), r, lk.body)
    marker = d.contrast_ink(lk.hardware, lk.body)
    for k in (-1, 0, 1):
        a = k / 12 * 2 * np.pi - np.pi / 2
        d.line(ic.img, (cx + np.cos(a) * r * 0.8, cy + np.sin(a) * r * 0.8),
               (cx + np.cos(a) * r * 0.95, cy + np.sin(a) * r * 0.95), marker, ic.u * 0.03)
    ink = d.contrast_ink(lk.ink, lk.body)
    d.draw_motif(ic.img, lk.motif, (w / 2, h * 0.3), ic.u * 0.06, ink)
    cap = d.wordmark_cap(lk, w * 0.66, h * 0.1)
    d.draw_wordmark(ic.img, lk, (w / 2, h * 0.48), cap, ink)
    hand = d.contrast_ink(d.shade(lk.hardware, 0.8), lk.body)
    d.line(ic.img, (cx, cy), (cx + r * 0.1, cy - r * 0.95), hand, ic.u * 0.025)
    ic.shade_dome(cx, cy - r * 0.5, r, 0.15)


# ====================================================================== detail_stitching


def draw_detail_stitching(ic: ItemCanvas) -> None:
    lk = ic.look
    w, h = ic.w, ic.h
    fabric = lk.family in ("saree", "garment", "lehenga")
    steel_watch = lk.family == "watch" and lk.material == "steel"
    top_colour = lk.body if lk.family != "watch" else (lk.accent if not steel_watch
                                                        else lk.hardware)
    _surface(ic, top_colour, printed=lk.family != "watch")
    xs = np.linspace(-0.05 * w, 1.05 * w, 14)
    seam_y = h * 0.56 + np.sin(xs / w * 3 + 1.0) * h * 0.03
    seam = np.stack([xs, seam_y], 1)
    lower = np.vstack([seam, [[1.05 * w, h * 0.85], [-0.05 * w, h * 0.85]]])
    lower_colour = d.shade(lk.accent if fabric else top_colour, 0.85)
    if steel_watch:
        _bracelet_links(ic, seam_y.mean())
        return
    d.fill(ic.img, ic.edge(lower, ic.u * 0.5, 85), lower_colour)
    d.polyline(ic.img, ic.edge(seam, ic.u * 0.5, 86), d.shade(top_colour, 0.4), ic.u * 0.012)
    pitch = _pitch(ic)
    rows = (-0.09, -0.16) if fabric else (-0.09,)
    for i, dy in enumerate(rows):
        d.draw_stitches(ic.img, seam + [0, h * dy], pitch, lk, lk.stitch_colour, pitch * 0.26,
                        ic.rng(87 + i), slant=0 if fabric else 18)
    d.draw_stitches(ic.img, seam + [0, h * 0.12], pitch, lk, lk.stitch_colour, pitch * 0.26,
                    ic.rng(89), slant=0 if fabric else 18)


def _bracelet_links(ic, y_mid):
    """Steel bracelets have no thread: link spacing plays the part of stitch pitch."""
    lk = ic.look
    pitch = _pitch(ic) * 2.2
    rng = ic.rng(90)
    x = -pitch / 2
    while x < ic.w + pitch:
        step = pitch * (1 + lk.stitch_jitter * rng.standard_normal())
        link = d.rect_points(x + 2, ic.h * 0.15, x + step - 2, ic.h * 0.8)
        d.metal_fill(ic.img, link, lk.hardware)
        x += step


# ====================================================================== label / serial


def draw_label(ic: ItemCanvas) -> None:
    lk = ic.look
    w, h = ic.w, ic.h
    fam = lk.family
    if fam == "watch":
        _surface(ic, lk.accent, printed=False)
        cx, cy, r = w / 2, h * 0.45, ic.u * 0.4
        d.metal_circle(ic.img, (cx, cy), r, lk.hardware)
        engraving = d.shade(lk.hardware, 0.45)
        d.circle(ic.img, (cx, cy), r * 0.8, engraving, 2)
        lines = [("WORDMARK", 0.1), (lk.serial, 0.075), (f"MADE IN {lk.made_in.upper()}", 0.05),
                 ("WATER RESISTANT 5 ATM", 0.045)]
        _text_block(ic, lines, cx, cy - r * 0.5, r * 1.3, r * 1.0, engraving)
        return
    if fam == "bag":
        lining = d.mix(lk.accent, (210, 200, 185), 0.55)
        _surface(ic, lining, printed=False)
        ground = d.shade(lk.body if lk.pattern in ("plain", "quilted") else lk.accent, 1.0)
        ink = d.contrast_ink(lk.ink, ground)
    elif fam in ("sneaker", "heel"):
        _surface(ic, d.mix(lk.accent, (220, 210, 195), 0.5), printed=False)
        ground, ink = (242, 242, 240), (40, 40, 40)
    else:
        _surface(ic)
        ground, ink = (246, 245, 242), (45, 45, 50)
    tag = d.rounded_polygon(d.rect_points(w * 0.17, h * 0.12, w * 0.83, h * 0.8), ic.u * 0.02)
    tag = ic.edge(tag, ic.u * 0.6, 91)
    d.fill(ic.img, tag + [ic.u * 0.01, ic.u * 0.012], d.shade(lk.body, 0.5))
    d.fill(ic.img, tag, ground)
    if fam == "bag":
        d.draw_stitches(ic.img, d.inset(tag, ic.u * 0.03), _pitch(ic), lk, lk.stitch_colour,
                        _pitch(ic) * 0.24, ic.rng(92), closed=True, slant=18)
    lines = [("WORDMARK", 0.075)]
    if fam in ("garment", "lehenga", "saree"):
        lines += [(f"SIZE {lk.size.upper()}", 0.045), (f"100% {lk.material.upper()}", 0.04)]
    elif fam in ("sneaker", "heel"):
        lines += [(_shoe_sizes(lk.size), 0.042)]
    lines += [(f"MADE IN {lk.made_in.upper()}", 0.04), (lk.serial, 0.055)]
    _text_block(ic, lines, w / 2, h * 0.2, w * 0.6, h * 0.58, ink)
    if fam in ("garment", "lehenga", "saree"):
        _care_symbols(ic, w / 2, h * 0.72, ink)


def _text_block(ic, lines, cx, y0, width, height, ink):
    """Centred lines of label text; sizes are fractions of the frame, shrunk to fit."""
    lk = ic.look
    needed = sum(cap * 2.1 for _, cap in lines) * ic.u
    fit = min(1.0, height / needed)
    y = y0
    for text, cap_frac in lines:
        cap = ic.u * cap_frac * fit
        if text == "WORDMARK":
            cap = d.wordmark_cap(lk, width * 0.95, cap)
            d.draw_wordmark(ic.img, lk, (cx, y + cap / 2), cap, ink)
        else:
            d.draw_text(ic.img, text, (cx, y + cap / 2), cap, ink, weight=1.5, max_width=width)
        y += cap * 2.1


def _shoe_sizes(size: str) -> str:
    uk = int(size.split()[-1]) if size.split()[-1].isdigit() else 7
    return f"UK {uk}  EU {uk + 33 + (uk > 5)}  US {uk + 1}"


def _care_symbols(ic, cx, cy, ink):
    s = ic.u * 0.035
    xs = cx + np.array([-2.4, -0.8, 0.8, 2.4]) * s
    d.polyline(ic.img, [(xs[0] - s * 0.6, cy - s * 0.4), (xs[0] - s * 0.45, cy + s * 0.4),
                        (xs[0] + s * 0.45, cy + s * 0.4), (xs[0] + s * 0.6, cy - s * 0.4)],
               ink, 2)
    d.polyline(ic.img, [(xs[1] - s * 0.55, cy + s * 0.4), (xs[1], cy - s * 0.45),
                        (xs[1] + s * 0.55, cy + s * 0.4)], ink, 2, closed=True)
    d.polyline(ic.img, [(xs[2] - s * 0.6, cy + s * 0.35), (xs[2] - s * 0.3, cy - s * 0.35),
                        (xs[2] + s * 0.5, cy - s * 0.35), (xs[2] + s * 0.6, cy + s * 0.35)],
               ink, 2, closed=True)
    d.circle(ic.img, (xs[3], cy), s * 0.45, ink, 2)


# ====================================================================== hardware


def draw_hardware(ic: ItemCanvas) -> None:
    lk = ic.look
    w, h = ic.w, ic.h
    fam = lk.family
    if fam == "watch":
        _surface(ic, lk.accent, printed=False)
        r = ic.u * 0.68
        cx, cy = w * 0.02, h * 0.45
        d.metal_circle(ic.img, (cx, cy), r, lk.hardware)
        d.circle(ic.img, (cx, cy), r * 0.8, lk.body)
        crown = d.rounded_polygon(d.rect_points(cx + r * 0.98, cy - r * 0.2, cx + r * 1.45,
                                                cy + r * 0.2), r * 0.06)
        d.metal_fill(ic.img, crown, lk.hardware)
        for k in np.linspace(-0.16, 0.16, 9):
            d.line(ic.img, (cx + r * 1.1, cy + r * k), (cx + r * 1.43, cy + r * k),
                   d.shade(lk.hardware, 0.6), 1)
        d.draw_text(ic.img, lk.monogram, (cx + r * 1.5, cy), r * 0.12,
                    d.shade(lk.hardware, 0.4), font=lk.font)
        return
    _surface(ic, printed=fam == "bag")
    if fam == "sneaker":
        for i in range(4):
            centre = (w * (0.2 + 0.2 * i), h * (0.35 + 0.05 * i))
            d.metal_circle(ic.img, centre, ic.u * 0.06, lk.hardware)
            d.circle(ic.img, centre, ic.u * 0.03, (25, 25, 25))
        for i in range(3):
            d.line(ic.img, (w * (0.2 + 0.2 * i), h * (0.35 + 0.05 * i)),
                   (w * (0.4 + 0.2 * i), h * (0.2 + 0.05 * i)), (235, 235, 232), ic.u * 0.05)
        return
    # Bags, heels, jackets: an engraved plate or buckle and a zip pull.
    plate = d.rounded_polygon(d.rect_points(w * 0.18, h * 0.2, w * 0.82, h * 0.5), ic.u * 0.05)
    d.metal_fill(ic.img, plate, lk.hardware)
    for x in (w * 0.23, w * 0.77):
        d.metal_circle(ic.img, (x, h * 0.35), ic.u * 0.025, d.shade(lk.hardware, 0.9))
    cap = d.wordmark_cap(lk, w * 0.46, h * 0.08)
    d.draw_wordmark(ic.img, lk, (w / 2, h * 0.35), cap, d.shade(lk.hardware, 0.45))
    teeth = np.stack([np.linspace(-0.05 * w, 1.05 * w, 2), [h * 0.66, h * 0.66]], 1)
    d.line(ic.img, tuple(teeth[0]), tuple(teeth[1]), d.shade(lk.body, 0.35), ic.u * 0.05)
    d.draw_stitches(ic.img, teeth, ic.u * 0.025, machine_made(lk), lk.hardware, ic.u * 0.018,
                    ic.rng(93), dash=0.5, slant=90)
    pull = d.rounded_polygon(d.rect_points(w * 0.55, h * 0.62, w * 0.63, h * 0.82), ic.u * 0.03)
    d.metal_fill(ic.img, pull, lk.hardware)
    d.draw_text(ic.img, lk.monogram, (w * 0.59, h * 0.74), ic.u * 0.025,
                d.shade(lk.hardware, 0.45), font=lk.font)



# ====================================================================== packaging


def draw_packaging(ic: ItemCanvas) -> None:
    """The brand box (and for bags the dust bag) as a seller lays it out."""
    lk = ic.look
    w, h = ic.w, ic.h
    box_w = ic.u * (0.62 if lk.family not in ("watch",) else 0.5)
    box_h = box_w * (0.62 if lk.family in ("sneaker", "heel", "saree", "garment", "lehenga")
                     else 0.8)
    cx, cy = w / 2, h * 0.52
    if lk.family == "bag":
        cx = w * 0.58
        _dust_bag(ic, w * 0.3, h * 0.5, ic.u * 0.36)
    depth = box_h * 0.14
    front = d.rect_points(cx - box_w / 2, cy - box_h / 2 + depth, cx + box_w / 2,
                          cy + box_h / 2 + depth)
    lid = d.rect_points(cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2)
    d.fill(ic.img, front, d.shade(lk.packaging, 0.7))
    d.fill(ic.img, lid, lk.packaging)
    d.polyline(ic.img, lid, d.shade(lk.packaging, 0.6), max(1, ic.u * 0.004), True)
    if lk.family in ("bag", "watch", "saree", "lehenga"):
        ribbon = d.mix(lk.packaging, lk.pattern_colour, 0.6)
        d.fill(ic.img, d.rect_points(cx - box_w * 0.04, cy - box_h / 2, cx + box_w * 0.04,
                                     cy + box_h / 2 + depth), ribbon)
    ink = d.contrast_ink(lk.ink, lk.packaging)
    label_y = cy - box_h * 0.18
    d.draw_motif(ic.img, lk.motif, (cx - box_w * 0.0, label_y - box_h * 0.12), box_w * 0.05, ink)
    cap = d.wordmark_cap(lk, box_w * 0.7, box_h * 0.09)
    d.draw_wordmark(ic.img, lk, (cx, label_y + box_h * 0.05), cap, ink)
    ic.shade_ramp(cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2 + depth,
                  1.05, 0.9)


def _dust_bag(ic, cx, cy, size):
    lk = ic.look
    colour = d.mix(lk.packaging, (230, 225, 215), 0.55)
    pts = d.smooth_closed([(cx - size * 0.5, cy - size * 0.6), (cx, cy - size * 0.55),
                           (cx + size * 0.5, cy - size * 0.6), (cx + size * 0.55, cy + size * 0.2),
                           (cx + size * 0.45, cy + size * 0.7), (cx - size * 0.45, cy + size * 0.7),
                           (cx - size * 0.55, cy + size * 0.2)], 6)
    d.fill(ic.img, pts, colour)
    d.line(ic.img, (cx - size * 0.5, cy - size * 0.45), (cx + size * 0.5, cy - size * 0.45),
           d.shade(colour, 0.7), max(2, size * 0.02))
    cap = d.wordmark_cap(lk, size * 0.8, size * 0.08)
    d.draw_wordmark(ic.img, lk, (cx, cy + size * 0.1), cap, d.contrast_ink(lk.ink, colour))
    ic.shade_folds(cx - size * 0.55, cy - size * 0.6, cx + size * 0.55, cy + size * 0.7, 3, 0.08,
                   salt=94)
