"""Small server-side SVG charts for the report: inline, no script, every label escaped.

Each function returns markupsafe.Markup holding one <svg> element (safe to embed as is, because every piece
of text that goes into it passes through escape()). Sizes are in SVG user units; the CSS scales the svg to
the page width.
"""

from __future__ import annotations

from markupsafe import Markup, escape

FG, MUTED, ACCENT, PREV, GOOD, BAD = "#222", "#777", "#2b6cb0", "#b8c4d6", "#2f855a", "#c53030"


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:,.2f}"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, s, anchor: str = "start", size: int = 11, fill: str = FG, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{extra}>'
            f"{escape(str(s))}</text>")


def _ticks(vmax: float, n: int = 4) -> list[float]:
    if vmax <= 0:
        return [0.0]
    raw = vmax / n
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    out, v = [], 0.0
    while v <= vmax * 1.0001:
        out.append(v)
        v += step
    return out


def bar_chart(labels: list[str], values: list[float], title: str, colors: list[str] | None = None,
              width: int = 760, height: int = 220, legend: list[tuple[str, str]] | None = None) -> Markup:
    """Vertical bars, one per label (e.g. posts per day); colors per bar; at most ~12 x labels are printed."""
    left, right, top, bottom = 56, 34, 22 if legend else 10, 34
    pw, ph = width - left - right, height - top - bottom
    n = max(len(values), 1)
    vmax = max([float(v) for v in values] + [0.0]) or 1.0
    ticks = _ticks(vmax)
    vmax = max(vmax, ticks[-1])
    body = []
    for t in ticks:
        y = top + ph - ph * t / vmax
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e2e2"/>')
        body.append(_text(left - 6, y + 4, _num(t), "end", 10, MUTED))
    bw = pw / n
    label_w = 6.2 * max([len(str(lab)) for lab in labels] + [1]) + 8   # about 6 px per character at size 10
    every = max(1, -(-int(label_w) // max(int(bw), 1)))
    for i, (lab, v) in enumerate(zip(labels, values)):
        h = ph * float(v) / vmax
        x = left + i * bw
        fill = (colors[i] if colors else ACCENT)
        body.append(f'<rect x="{x + bw * 0.1:.1f}" y="{top + ph - h:.1f}" width="{max(bw * 0.8, 0.8):.1f}" '
                    f'height="{h:.1f}" fill="{fill}"><title>{escape(str(lab))}: {escape(_num(float(v)))}</title></rect>')
        if i % every == 0:
            body.append(_text(x + bw / 2, top + ph + 14, lab, "middle", 10, MUTED))
    body.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="{MUTED}"/>')
    body += _legend(legend or [], left, 12)
    return _svg(width, height, title, body)


def _legend(items: list[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for name, color in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        out.append(_text(x + 14, y, name, "start", 11))
        x += 24 + 7 * len(str(name))
    return out


def diverging_bars(labels: list[str], values: list[float], title: str, width: int = 760, bar_h: int = 26) -> Markup:
    """Signed horizontal bars around a zero line (the parts of a change: green up, red down, last one blue)."""
    label_x, left, right = 180, 260, 90      # labels end at label_x; values of negative bars sit in between
    height = 10 + bar_h * max(len(values), 1)
    pw = width - left - right
    vmax = max([abs(float(v)) for v in values] + [0.0]) or 1.0
    lo, hi = min(min(values + [0]), 0), max(max(values + [0]), 0)
    span = (hi - lo) or 1.0
    zero = left + pw * (0 - lo) / span
    body = [f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="2" y2="{height - 2}" stroke="{MUTED}"/>']
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 5 + i * bar_h
        w = pw * abs(float(v)) / span if vmax else 0
        x = zero if v >= 0 else zero - w
        color = ACCENT if i == len(values) - 1 else (GOOD if v >= 0 else BAD)
        body.append(_text(label_x, y + bar_h * 0.62, lab, "end", 11))
        body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 1):.1f}" height="{bar_h - 8}" fill="{color}">'
                    f"<title>{escape(str(lab))}: {escape(_signed(v))}</title></rect>")
        tx, anchor = (x + w + 4, "start") if v >= 0 else (x - 4, "end")
        body.append(_text(tx, y + bar_h * 0.62, _signed(v), anchor, 11, FG))
    return _svg(width, height, title, body)


def _signed(v: float) -> str:
    return "0" if v == 0 else f"{v:+,.0f}".replace("-", "\u2212")


def _line_chart(x_labels: list[str], series: list[tuple[str, list[float | None]]], title: str,
               width: int = 760, height: int = 220) -> Markup:
    """Lines over a shared x axis; series: (name, values with None for gaps)."""
    left, right, top, bottom = 70, 34, 22, 34
    pw, ph = width - left - right, height - top - bottom
    vals = [float(v) for _, vs in series for v in vs if v is not None]
    vmax = max(vals + [0.0]) or 1.0
    ticks = _ticks(vmax)
    vmax = max(vmax, ticks[-1])
    n = max(len(x_labels), 2)
    body = []
    for t in ticks:
        y = top + ph - ph * t / vmax
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e2e2"/>')
        body.append(_text(left - 6, y + 4, _num(t), "end", 10, MUTED))
    every = max(1, -(-len(x_labels) // 10))
    for i, lab in enumerate(x_labels):
        if i % every == 0:
            body.append(_text(left + pw * i / (n - 1), top + ph + 14, lab, "middle", 10, MUTED))
    for (_name, vs), color in zip(series, (ACCENT, GOOD, BAD, MUTED) * 4):
        pts = [f"{left + pw * i / (n - 1):.1f},{top + ph - ph * float(v) / vmax:.1f}"
               for i, v in enumerate(vs) if v is not None]
        if pts:
            body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(pts)}"/>')
    body.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="{MUTED}"/>')
    body += _legend([(name, c) for (name, _), c in zip(series, (ACCENT, GOOD, BAD, MUTED) * 4)], left, 12)
    return _svg(width, height, title, body)


def _hbar_chart(labels: list[str], values: list[float], title: str, width: int = 760, total: float | None = None,
                bar_h: int = 18) -> Markup:
    """Horizontal bars (shares, top lists); labels are escaped and cut to 28 characters."""
    left, right = 190, 70
    height = 8 + bar_h * max(len(values), 1)
    vmax = max([float(v) for v in values] + [0.0]) or 1.0
    body = []
    for i, (lab, v) in enumerate(zip(labels, values)):
        yy = 4 + i * bar_h
        w = (width - left - right) * float(v) / vmax
        s = str(lab)
        s = s if len(s) <= 28 else s[:27] + "\u2026"
        body.append(_text(left - 6, yy + bar_h * 0.7, s, "end", 11))
        body.append(f'<rect x="{left}" y="{yy + 2}" width="{max(w, 0.8):.1f}" height="{bar_h - 4}" fill="{ACCENT}"/>')
        body.append(_text(left + w + 4, yy + bar_h * 0.7, _num(float(v)) + (f" ({float(v) / total:.1%})" if total else ""), "start", 10, MUTED))
    return _svg(width, height, title, body)


try:  # the chart module shared with the web pages, where present; the stand-ins above have its signatures
    from envoywatch.outputs.charts import hbar_chart, line_chart
except ImportError:  # pragma: no cover
    line_chart, hbar_chart = _line_chart, _hbar_chart
