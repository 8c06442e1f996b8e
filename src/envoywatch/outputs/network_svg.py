"""A static drawing of a coordination network as one inline <svg>: no script, every label escaped.

Layout: igraph's Fruchterman-Reingold from seeded random start positions with igraph's random number
generator seeded too, so the same network gives the same picture. Nodes are coloured by group (the palette
of envoywatch.outputs.charts); a node's tooltip (<title>) names the account and its group; edges are grey,
thicker and darker with weight. Used by the report's coordination section (and usable by any page).
"""

from __future__ import annotations

import random

from markupsafe import Markup, escape

from envoywatch.outputs.charts import FG, MUTED, PALETTE, _svg, _text

SEED = 42


def group_color(i: int) -> str:
    """Colour of group number i (1-based) in the drawing and its legend."""
    return PALETTE[(int(i) - 1) % len(PALETTE)]


def layout(nodes: list[str], edges: list[tuple[str, str, float]], seed: int = SEED) -> dict[str, tuple[float, float]]:
    """Positions in [0, 1] x [0, 1] per node (Fruchterman-Reingold, weighted, deterministic for a seed)."""
    import igraph as ig

    index = {n: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[a], index[b]) for a, b, _ in edges], directed=False)
    rng = random.Random(seed)
    start = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in nodes]
    ig.set_random_number_generator(random.Random(seed))
    try:
        lay = g.layout_fruchterman_reingold(weights=[float(w) for _, _, w in edges] or None, seed=start, niter=500) \
            if len(nodes) > 1 else ig.Layout([(0.0, 0.0)] * len(nodes))
    finally:
        ig.set_random_number_generator(random)
    xs = [c[0] for c in lay.coords] or [0.0]
    ys = [c[1] for c in lay.coords] or [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx, sy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    return {n: ((lay.coords[i][0] - x0) / sx if x1 > x0 else 0.5, (lay.coords[i][1] - y0) / sy if y1 > y0 else 0.5)
            for i, n in enumerate(nodes)}


def network_svg(nodes: dict[str, dict], edges: list[tuple[str, str, float]], title: str, width: int = 760,
                height: int | None = None, seed: int = SEED, layout_edges: list[tuple[str, str, float]] | None = None
                ) -> Markup:
    """nodes: id -> {"label": handle, "group": int, "flagged": bool}; edges: (a, b, weight) to draw;
    layout_edges: the edges the layout uses (default: `edges`; pass all of them when only some are drawn).
    Each group is laid out on its own and placed in a grid cell (groups are separate components: one layout of
    all of them would push them to the edges). Flagged accounts get a dark outline."""
    ids = sorted(nodes)
    if not ids:
        return _svg(width, 60, title, [_text(width / 2, 30, "no coordinated group", "middle", 13, MUTED)])
    groups = sorted({int(v.get("group") or 0) for v in nodes.values()})
    cols = max(1, min(len(groups), int(len(groups) ** 0.5 + 0.999)))
    rows = -(-len(groups) // cols)
    legend_h, pad = 22, 16
    cell_w = (width - pad) / cols
    cell_h = cell_w * 0.8
    height = height or int(legend_h + rows * cell_h + pad)
    cell_h = (height - legend_h - pad) / rows
    lay_edges = layout_edges if layout_edges is not None else edges
    pos: dict[str, tuple[float, float]] = {}
    for gi, g in enumerate(groups):
        members = [n for n in ids if int(nodes[n].get("group") or 0) == g]
        mset = set(members)
        sub = [e for e in lay_edges if e[0] in mset and e[1] in mset]
        rel = layout(members, sub, seed)
        cx, cy = pad + (gi % cols) * cell_w, legend_h + pad / 2 + (gi // cols) * cell_h
        for n, (x, y) in rel.items():
            pos[n] = (cx + 12 + x * (cell_w - 24 - pad / 2), cy + 14 + y * (cell_h - 30))
    body: list[str] = []
    for gi, g in enumerate(groups):
        cx, cy = pad + (gi % cols) * cell_w, legend_h + pad / 2 + (gi // cols) * cell_h
        body.append(f'<rect x="{cx:.1f}" y="{cy:.1f}" width="{cell_w - pad / 2:.1f}" height="{cell_h - 6:.1f}" '
                    f'fill="none" stroke="#e2e8f0"/>')
        body.append(_text(cx + 4, cy + 11, f"group {g}", "start", 10, MUTED))
    wmax = max([w for _, _, w in edges] + [1.0])
    for a, b, w in sorted(edges, key=lambda e: e[2]):
        if a not in pos or b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        f = float(w) / wmax
        body.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{MUTED}" '
                    f'stroke-opacity="{0.12 + 0.45 * f:.2f}" stroke-width="{0.5 + 1.5 * f:.1f}"/>')
    for n in ids:
        v = nodes[n]
        x, y = pos[n]
        outline = f' stroke="{FG}" stroke-width="1.5"' if v.get("flagged") else ' stroke="#fff" stroke-width="0.8"'
        tip = f"{v.get('label') or n} (group {v.get('group')})" + (", flagged" if v.get("flagged") else "")
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{group_color(v.get("group") or 1)}"{outline}>'
                    f"<title>{escape(tip)}</title></circle>")
    x = pad
    for g in groups[:12]:
        body.append(f'<rect x="{x:.1f}" y="6" width="10" height="10" fill="{group_color(g)}"/>')
        body.append(_text(x + 14, 15, f"group {g}", "start", 11))
        x += 74
    return _svg(width, height, title, body)
