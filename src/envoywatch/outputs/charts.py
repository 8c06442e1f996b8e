"""Server-side SVG charts from plain lists: line, vertical bar and horizontal bar charts.

Every function returns markupsafe.Markup holding one inline <svg> element, with no script and no external
reference, so a page or a self-contained report embeds it as is. Every piece of text placed in the SVG
(title, labels, series names, tooltips) passes through escape(): labels may come from hostile data (hashtags,
handles), and they show as text. Sizes are SVG user units; CSS scales the svg to its container.

    from envoywatch.outputs.charts import line_chart, bar_chart, hbar_chart
    line_chart(["2021-01", "2021-02"], [("posts", [10, 12]), ("reposts", [3, 5])], "Posts per month")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

from markupsafe import Markup, escape

PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#b7791f", "#4a5568")
FG, MUTED, GRID = "#1a202c", "#718096", "#e2e8f0"


def label_text(v) -> str:
    """A label for an x value: dates as YYYY-MM-DD, everything else as str."""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, date):
        return v.isoformat()
    return "" if v is None else str(v)


def fmt_number(v) -> str:
    if v is None:
        return ""
    v = float(v)
    if v.is_integer() or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def nice_ticks(vmax: float, n: int = 4) -> list[float]:
    """0, step, 2*step ... covering vmax, with a step of 1, 2, 2.5 or 5 times a power of ten."""
    if vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    out, v = [], 0.0
    while v < vmax + step * 1e-9:
        out.append(v)
        v += step
    if out[-1] < vmax:
        out.append(v)
    return out


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    t = escape(title)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="{t}"><title>{t}</title>')
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, s, anchor: str = "start", size: int = 11, fill: str = FG) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
            f"{escape(label_text(s))}</text>")


def _empty(width: int, height: int, title: str) -> Markup:
    return _svg(width, height, title, [_text(width / 2, height / 2, "no data", "middle", 13, MUTED)])


def _y_axis(body: list[str], vmax: float, left: int, top: int, pw: float, ph: float) -> float:
    ticks = nice_ticks(vmax)
    top_v = ticks[-1] or 1.0
    for t in ticks:
        y = top + ph - ph * t / top_v
        body.append(f'<line x1="{left}" x2="{left + pw:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, fmt_number(t), "end", 10, MUTED))
    return top_v


def _legend(body: list[str], names: Sequence[str], x: float, y: float) -> None:
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        body.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        body.append(_text(x + 14, y, name, "start", 11))
        x += 30 + 7 * len(str(name))


def line_chart(x_labels: Sequence, series: Sequence[tuple[str, Sequence[float | None]]], title: str,
               width: int = 760, height: int = 240) -> Markup:
    """One line per (name, values) series over shared x labels (dates or strings); None values are gaps."""
    n = len(x_labels)
    values = [float(v) for _, vs in series for v in vs if v is not None]
    if n == 0 or not values:
        return _empty(width, height, title)
    left, right, top, bottom = 62, 14, 26 if len(series) > 1 else 12, 30
    pw, ph = width - left - right, height - top - bottom
    body: list[str] = []
    vmax = _y_axis(body, max(values), left, top, pw, ph)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (pw * i / (n - 1) if n > 1 else pw / 2)
        return x, top + ph - ph * v / vmax

    for si, (name, vs) in enumerate(series):
        color = PALETTE[si % len(PALETTE)]
        segs, cur = [], []
        for i, v in enumerate(vs):
            if v is None:
                if cur:
                    segs.append(cur)
                cur = []
            else:
                cur.append(xy(i, float(v)))
        if cur:
            segs.append(cur)
        for seg in segs:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)
            body.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        if n <= 60:  # points with a tooltip where they can still be told apart
            for i, v in enumerate(vs):
                if v is not None:
                    x, y = xy(i, float(v))
                    body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"><title>'
                                f'{escape(str(name))} {escape(label_text(x_labels[i]))}: {escape(fmt_number(v))}'
                                "</title></circle>")
    every = max(1, -(-n // 10))
    for i in range(0, n, every):
        x, _ = xy(i, 0)
        # the first and last labels are anchored inwards so that they are not cut at the edges
        anchor = "start" if x - left < 30 else "end" if left + pw - x < 30 else "middle"
        body.append(_text(x, top + ph + 16, x_labels[i], anchor, 10, MUTED))
    body.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="{MUTED}"/>')
    if len(series) > 1:
        _legend(body, [s[0] for s in series], left, 14)
    return _svg(width, height, title, body)


def bar_chart(labels: Sequence, values: Sequence[float], title: str, width: int = 760, height: int = 220,
              color: str = PALETTE[0]) -> Markup:
    """Vertical bars, one per label (e.g. posts per month); at most about 12 x labels are printed."""
    n = len(values)
    if n == 0:
        return _empty(width, height, title)
    left, right, top, bottom = 62, 10, 12, 30
    pw, ph = width - left - right, height - top - bottom
    body: list[str] = []
    vmax = _y_axis(body, max([float(v or 0) for v in values] + [0.0]), left, top, pw, ph)
    bw = pw / n
    every = max(1, -(-n // 12))
    for i, (lab, v) in enumerate(zip(labels, values)):
        h = ph * float(v or 0) / vmax
        x = left + i * bw
        body.append(f'<rect x="{x + bw * 0.1:.1f}" y="{top + ph - h:.1f}" width="{max(bw * 0.8, 0.8):.1f}" '
                    f'height="{h:.1f}" fill="{color}"><title>{escape(label_text(lab))}: {escape(fmt_number(v))}'
                    "</title></rect>")
        if i % every == 0:
            body.append(_text(x + bw / 2, top + ph + 16, lab, "middle", 10, MUTED))
    body.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="{MUTED}"/>')
    return _svg(width, height, title, body)


def hbar_chart(labels: Sequence, values: Sequence[float], title: str, width: int = 420,
               bar_height: int = 20, label_width: int = 150, total: float | None = None) -> Markup:
    """Horizontal bars with the label on the left and the value (and share of `total`) on the right."""
    n = len(values)
    if n == 0:
        return _empty(width, 60, title)
    height = n * (bar_height + 6) + 8
    right = 90
    pw = width - label_width - right
    vmax = max([float(v or 0) for v in values] + [0.0]) or 1.0
    body: list[str] = []
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 4 + i * (bar_height + 6)
        w = pw * float(v or 0) / vmax
        name = label_text(lab)
        short = name if len(name) <= 22 else name[:21] + "\u2026"
        body.append(_text(label_width - 6, y + bar_height * 0.72, short, "end", 11))
        color = PALETTE[i % len(PALETTE)]
        body.append(f'<rect x="{label_width}" y="{y}" width="{max(w, 1):.1f}" height="{bar_height}" fill="{color}">'
                    f"<title>{escape(name)}: {escape(fmt_number(v))}</title></rect>")
        val = fmt_number(v)
        if total:
            val += f" ({100 * float(v or 0) / total:.1f}%)"
        body.append(_text(label_width + w + 6, y + bar_height * 0.72, val, "start", 11, MUTED))
    return _svg(width, height, title, body)
