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
