"""Small bar charts as inline SVG, made on the server (no JavaScript, no CDN): each chart has a
title and a text alternative (the table beside it), and each bar a <title> with its value."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2f6fb3", "#e0892b", "#c0392b", "#3c9a5f", "#7d5ba6", "#8c8c8c")


def bars(title: str, labels: Sequence[str], values: Sequence[int], *, width: int = 640,
         height: int = 220, color: str = PALETTE[0], label_every: int = 1) -> Markup:
    """Vertical bars, one per label."""
    n = max(len(values), 1)
    top = max(max(values, default=0), 1)
    pad_l, pad_b, pad_t = 36, 34, 24
    w = (width - pad_l - 8) / n
    plot_h = height - pad_b - pad_t
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<text x="{pad_l}" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 8}" y2="{pad_t + plot_h}" '
             'stroke="#888"/>',
             f'<text x="{pad_l - 4}" y="{pad_t + 4}" font-size="10" text-anchor="end">{top}</text>',
             f'<text x="{pad_l - 4}" y="{pad_t + plot_h}" font-size="10" text-anchor="end">0'
             '</text>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bh = plot_h * value / top
        x = pad_l + i * w
        parts.append(f'<rect x="{x + w * 0.1:.1f}" y="{pad_t + plot_h - bh:.1f}" '
                     f'width="{w * 0.8:.1f}" height="{bh:.1f}" fill="{color}">'
                     f'<title>{escape(label)}: {value}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + w / 2:.1f}" y="{pad_t + plot_h + 14}" font-size="10" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(title: str, labels: Sequence[str], values: Sequence[int], *, width: int = 640,
          color: str = PALETTE[1]) -> Markup:
    """Horizontal bars (long labels: reasons, departments, people)."""
    row = 22
    pad_l, pad_t = 220, 24
    height = pad_t + row * max(len(values), 1) + 8
    top = max(max(values, default=0), 1)
    plot_w = width - pad_l - 50
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = pad_t + i * row
        bw = plot_w * value / top
        parts.append(f'<text x="{pad_l - 6}" y="{y + 15}" font-size="11" text-anchor="end">'
                     f'{escape(label[:32])}</text>')
        parts.append(f'<rect x="{pad_l}" y="{y + 3}" width="{bw:.1f}" height="{row - 6}" '
                     f'fill="{color}"><title>{escape(label)}: {value}</title></rect>')
        parts.append(f'<text x="{pad_l + bw + 4:.1f}" y="{y + 15}" font-size="11">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *,
            width: int = 640, height: int = 240) -> Markup:
    """Stacked vertical bars with a legend (verdicts per hospital)."""
    n = max(len(labels), 1)
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    top = max(max(totals, default=0), 1)
    pad_l, pad_b, pad_t = 36, 34, 40
    w = (width - pad_l - 8) / n
    plot_h = height - pad_b - pad_t
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<text x="{pad_l}" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<text x="{pad_l - 4}" y="{pad_t + 4}" font-size="10" text-anchor="end">{top}</text>']
    for k, (name, _) in enumerate(series):
        x = pad_l + k * 110
        parts.append(f'<rect x="{x}" y="22" width="10" height="10" '
                     f'fill="{PALETTE[k % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="31" font-size="11">{escape(name)}</text>')
    for i, label in enumerate(labels):
        x = pad_l + i * w
        y = pad_t + plot_h
        for k, (name, values) in enumerate(series):
            bh = plot_h * values[i] / top
            y -= bh
            parts.append(f'<rect x="{x + w * 0.15:.1f}" y="{y:.1f}" width="{w * 0.7:.1f}" '
                         f'height="{bh:.1f}" fill="{PALETTE[k % len(PALETTE)]}">'
                         f'<title>{escape(label)} {escape(name)}: {values[i]}</title></rect>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{pad_t + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
