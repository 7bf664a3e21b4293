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
