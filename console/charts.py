"""Small server-side SVG charts: no script, so they pass the CSP and print well."""
from __future__ import annotations

from markupsafe import Markup, escape


def bar_chart(groups: list[tuple[str, dict[str, int]]], series: tuple[str, ...], *,
              title: str, width: int = 640, bar_height: int = 14) -> Markup:
    """Horizontal grouped bars: one group per label, one bar per series."""
    peak = max([v for _, values in groups for v in values.values()] + [1])
    label_w, pad = 110, 4
    group_h = len(series) * (bar_height + 2) + 10
    height = len(groups) * group_h + 30
    parts = [f'<svg class="bar-chart" role="img" aria-label="{escape(title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<title>{escape(title)}</title>']
    for gi, (label, values) in enumerate(groups):
        y0 = 20 + gi * group_h
        parts.append(f'<text x="0" y="{y0 + bar_height}">{escape(label)}</text>')
        for si, name in enumerate(series):
            value = int(values.get(name, 0))
            y = y0 + si * (bar_height + 2)
            w = int((width - label_w - 60) * value / peak)
            parts.append(f'<rect class="bar-{escape(name)}" x="{label_w}" y="{y}" '
                         f'width="{max(w, 1)}" height="{bar_height}"></rect>')
            parts.append(f'<text x="{label_w + max(w, 1) + pad}" y="{y + bar_height - 3}">'
                         f'{escape(name)} {value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


PALETTE = ("#2f6fb0", "#c0392b", "#27ae60", "#8a6bbf", "#d68910", "#16a085", "#7f8c8d",
           "#b03a7a")


def _svg_open(css_class: str, title: str, width: int, height: int) -> str:
    return (f'<svg class="{css_class}" role="img" aria-label="{escape(title)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<title>{escape(title)}</title>')


def line_chart(labels: list[str], series: list[tuple[str, list[int]]], *, title: str,
               width: int = 640, height: int = 220) -> Markup:
    """One line per series over the same labels (e.g. days), with a legend below."""
    left, top, bottom = 36, 10, 40
    legend_h = 16 * len(series)
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max([v for _, values in series for v in values] + [1])
    step = plot_w / max(len(labels) - 1, 1)

    def point(i: int, value: int) -> str:
        return f"{left + i * step:.1f},{top + plot_h - plot_h * value / peak:.1f}"

    parts = [_svg_open("line-chart", title, width, height + legend_h),
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
             f'y2="{top + plot_h}" stroke="#999"></line>',
             f'<text x="0" y="{top + 10}" font-size="11">{peak}</text>',
             f'<text x="0" y="{top + plot_h}" font-size="11">0</text>']
    for i, label in enumerate(labels):
        if i % 2 == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{left + i * step:.1f}" y="{top + plot_h + 16}" '
                         f'font-size="10" text-anchor="middle">{escape(label[-5:])}</text>')
    for si, (name, values) in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        points = " ".join(point(i, int(v)) for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"></polyline>')
        y = height + 14 * si + 4
        parts.append(f'<rect x="{left}" y="{y}" width="10" height="10" fill="{colour}"></rect>'
                     f'<text x="{left + 14}" y="{y + 9}" font-size="11">{escape(name)} '
                     f'({sum(int(v) for v in values)})</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bars(rows: list[tuple[str, float | None, str]], *, title: str, width: int = 640,
               bar_height: int = 16) -> Markup:
    """Horizontal 0-100% bars, one per row of (label, share or None, detail text)."""
    label_w, bar_w = 150, width - 150 - 160
    height = len(rows) * (bar_height + 8) + 10
    parts = [_svg_open("share-bars", title, width, height)]
    for i, (label, share, detail) in enumerate(rows):
        y = 5 + i * (bar_height + 8)
        filled = int(bar_w * share) if share is not None else 0
        shown = "n/a" if share is None else f"{share * 100:.1f}%"
        parts.append(f'<text x="0" y="{y + bar_height - 3}" font-size="12">'
                     f'{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_height}" '
                     f'fill="#e5e8ec"></rect>'
                     f'<rect x="{label_w}" y="{y}" width="{filled}" height="{bar_height}" '
                     f'fill="{PALETTE[0]}"></rect>'
                     f'<text x="{label_w + bar_w + 6}" y="{y + bar_height - 3}" '
                     f'font-size="12">{escape(shown)} {escape(detail)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def xy_chart(series: list[tuple[str, list[tuple[float, float]]]], *, title: str,
             x_label: str, y_label: str, x_range: tuple[float, float] | None = (0.0, 1.0),
             y_range: tuple[float, float] | None = (0.0, 1.0), diagonal: bool = False,
             markers: bool = False, width: int = 360, height: int = 300) -> Markup:
    """Lines (or dots) over numeric axes: PR and ROC curves, reliability diagrams, losses.

    A range of None fits the data; `diagonal` draws y = x (chance on a ROC curve, perfect
    calibration on a reliability diagram)."""
    left, top, right, bottom = 44, 10, 10, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for _, pts in series for x, _ in pts] or [0.0, 1.0]
    ys = [y for _, pts in series for _, y in pts] or [0.0, 1.0]
    x0, x1 = x_range or (min(xs), max(xs))
    y0, y1 = y_range or (min(0.0, min(ys)), max(ys))
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def at(x: float, y: float) -> tuple[float, float]:
        return (left + plot_w * (x - x0) / (x1 - x0), top + plot_h - plot_h * (y - y0) / (y1 - y0))

    legend_h = 14 * len(series)
    parts = [_svg_open("xy-chart", title, width, height + legend_h),
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
             f'stroke="#999"></rect>',
             f'<text x="{left}" y="{top + plot_h + 14}" font-size="10">{x0:g}</text>',
             f'<text x="{left + plot_w}" y="{top + plot_h + 14}" font-size="10" '
             f'text-anchor="end">{x1:.3g}</text>',
             f'<text x="{left + plot_w / 2}" y="{top + plot_h + 28}" font-size="11" '
             f'text-anchor="middle">{escape(x_label)}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" '
             f'text-anchor="end">{y0:g}</text>',
             f'<text x="{left - 4}" y="{top + 10}" font-size="10" text-anchor="end">'
             f'{y1:.3g}</text>',
             f'<text x="10" y="{top + plot_h / 2}" font-size="11" text-anchor="middle" '
             f'transform="rotate(-90 10 {top + plot_h / 2})">{escape(y_label)}</text>']
    if diagonal:
        (ax, ay), (bx, by) = at(x0, x0), at(x1, x1)
        parts.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
                     f'stroke="#bbb" stroke-dasharray="4 3"></line>')
    for si, (name, points) in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        coords = [at(x, y) for x, y in points]
        if markers:
            parts += [f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}"></circle>'
                      for cx, cy in coords]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{path}"></polyline>')
        y = height + 14 * si
        parts.append(f'<rect x="{left}" y="{y}" width="10" height="10" fill="{colour}"></rect>'
                     f'<text x="{left + 14}" y="{y + 9}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
