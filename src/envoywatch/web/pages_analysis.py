"""Dashboard pages of the analyses: /coordination (groups, members, amplification share, an interactive network
view) and /narratives (narratives over time, shifts, uniform line vs tailored content, the cross-state
amplification matrix, top sources, tone over time).

Server-rendered like pages.py (Jinja2 autoescape, inline SVG charts, CSV/JSON download links to the API
endpoint serving the same rows). The one piece of JavaScript in the dashboard is the network view of
/coordination (static/network.js, same origin, no library); that page alone is served with
`script-src 'self'`, every other page keeps `script-src 'none'`. Without JavaScript the page still shows
every table.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from envoywatch.errors import EnvoywatchError
from envoywatch.outputs import charts
from envoywatch.web.api_analysis import get_coord_params
from envoywatch.web.app import CSP, get_filters
from envoywatch.web.data import Filters
from envoywatch.web.data_analysis import GROUP_BY, MATRIX_BY, CoordParams, analysis_data
from envoywatch.web.pages import render
from envoywatch.web.render import dumps_safe

router = APIRouter(include_in_schema=False)

# the coordination page runs /static/network.js: scripts from this origin only (no inline script, no eval)
CSP_WITH_SCRIPT = CSP.replace("script-src 'none'", "script-src 'self'")
CHART_SERIES = 8       # narratives drawn in the chart (the most frequent); the table and download have all
MATRIX_PAIRS = 6       # (from, to) pairs drawn over time
TABLE_ROWS = 200       # rows shown in a long table; the download has all


def attempt(fn):
    """(result, None) or (None, the error's one-line message): a section with a missing cache or a bad
    parameter shows the message and the page still renders."""
    try:
        return fn(), None
    except EnvoywatchError as exc:
        return None, exc.one_line()


def heat(share) -> str:
    """CSS class of a matrix cell by its share (heat-0 = no amplification ... heat-5 = more than half)."""
    s = float(share or 0)
    for i, bound in enumerate((0.0, 0.05, 0.15, 0.3, 0.5)):
        if s <= bound:
            return f"heat-{i}"
    return "heat-5"


def _pct(v):
    return None if v is None else round(100 * float(v), 2)


# --- /coordination ---------------------------------------------------------------------------------------------

@router.get("/coordination", response_class=HTMLResponse)
def coordination(request: Request, f: Filters = Depends(get_filters), cp: CoordParams = Depends(get_coord_params)):
    a = analysis_data(request.app)
    keep = [(k, str(v)) for k, v in cp.as_json().items() if v != getattr(CoordParams, k)]
    groups, err = attempt(lambda: a.groups(f, cp))
    members = net = amp = None
    if err is None:
        members = a.members(f, cp)
        net = a.network(f, cp)
        amp, amp_err = attempt(lambda: a.amplification(f, cp))
        err = amp_err
    net_json = Markup(dumps_safe({"nodes": net["nodes"], "edges": net["edges"]})) if net else None
    html = render(request, "coordination.html", keep=keep, cp=cp, error=err, groups=groups, members=members, net=net,
                  net_json=net_json, amp=amp, network_types=_network_types(), rows_max=TABLE_ROWS)
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP_WITH_SCRIPT})


def _network_types():
    from envoywatch.analysis.coordination.network import NETWORK_TYPES

    return NETWORK_TYPES


# --- /narratives -------------------------------------------------------------------------------------------------

def _share_chart(res, freq: str):
    """Share of posts per narrative over time (all groups pooled), the CHART_SERIES most frequent narratives."""
    totals: dict[str, int] = {}
    cell: dict[tuple, list[int]] = {}
    posts: dict[str, dict] = {}
    for r in res.rows:
        totals[r["narrative"]] = totals.get(r["narrative"], 0) + (r["n"] or 0)
        c = cell.setdefault((r["period"], r["narrative"]), [0, 0])
        c[0] += r["n"] or 0
        c[1] += r["posts"] or 0
        posts.setdefault(r["period"], {})
    names = [n for n, _ in sorted(totals.items(), key=lambda x: (-x[1], x[0]))][:CHART_SERIES]
    periods = sorted(posts)
    series = [(n, [_pct(cell[(p, n)][0] / cell[(p, n)][1]) if cell.get((p, n)) and cell[(p, n)][1] else None
                   for p in periods]) for n in names]
    pivot = [{"period": p, "cells": [series[i][1][k] for i in range(len(names))]} for k, p in enumerate(periods)]
    return charts.line_chart(periods, series, f"Share of posts per {freq} with the narrative (%)"), names, pivot


def _matrix_table(res):
    """Pivot of the matrix (whole period): rows from_group, columns (to_state, to_kind), cells items/share."""
    cols, rows = [], {}
    for r in res.rows:
        c = (r["to_state"] or "?", r["to_kind"])
        if c not in cols:
            cols.append(c)
        rows.setdefault(r["from_group"] or "(unregistered)", {})[c] = r
    cols.sort(key=lambda c: (c[1] != "state_media", c[0], c[1]))
    return cols, sorted(rows.items(), key=lambda kv: (-sum(x["items"] for x in kv[1].values()), kv[0]))


def _matrix_chart(res, freq: str):
    pairs: dict[tuple, int] = {}
    for r in res.rows:
        k = (r["from_group"] or "(unregistered)", r["to_state"] or "?", r["to_kind"])
        pairs[k] = pairs.get(k, 0) + r["items"]
    top = [k for k, _ in sorted(pairs.items(), key=lambda x: (-x[1], x[0]))][:MATRIX_PAIRS]
    periods = sorted({r["period"] for r in res.rows if r["period"]})
    val = {((r["from_group"] or "(unregistered)", r["to_state"] or "?", r["to_kind"]), r["period"]): r["share"] for r in res.rows}
    series = [(f"{a} → {b} {c.replace('_', ' ')}", [_pct(val.get((k, p), 0.0)) for p in periods]) for k in top
              for a, b, c in [k]]
    return charts.line_chart(periods, series, f"Share of the group's amplified items per {freq} (%)")


def _tone_chart(res, freq: str):
    rows = [r for r in res.rows if r["group"] is None] or res.rows
    agg: dict[str, list[float]] = {}
    for r in rows:
        a = agg.setdefault(r["period"], [0, 0, 0.0])
        a[0] += r["propaganda_posts"] or 0
        a[1] += r["posts_scored"] or 0
        a[2] += (r["mean_score"] or 0) * (r["posts_scored"] or 0)
    periods = sorted(agg)
    return charts.line_chart(periods, [
        ("propaganda posts (%)", [_pct(agg[p][0] / agg[p][1]) if agg[p][1] else None for p in periods]),
        ("mean score (x100)", [_pct(agg[p][2] / agg[p][1]) if agg[p][1] else None for p in periods])],
        f"Propagandistic / confrontational tone per {freq}")


@router.get("/narratives", response_class=HTMLResponse)
def narratives(request: Request, f: Filters = Depends(get_filters),
               freq: str = Query("month", pattern="^(day|week|month)$"),
               by: str | None = Query(None, pattern="^(" + "|".join(GROUP_BY) + ")$"),
               matrix_by: str = Query("state", pattern="^(" + "|".join(MATRIX_BY) + ")$")):
    a = analysis_data(request.app)
    keep = [("freq", freq if freq != "month" else ""), ("by", by or ""),
            ("matrix_by", matrix_by if matrix_by != "state" else "")]
    ctx: dict = {"freq": freq, "by": by, "matrix_by": matrix_by, "group_by": GROUP_BY, "matrix_bys": MATRIX_BY,
                 "rows_max": TABLE_ROWS, "heat": heat}
    # compute the sections side by side (each on its own cursor); then they answer from the cache
    a.d.prefetch(*[(lambda fn=fn: attempt(fn)) for fn in (
        lambda: a.narrative_share(f, freq, by), lambda: a.narrative_shifts(f, "week", by),
        lambda: a.line_share(f, "account"), lambda: a.shared_lines(f, 50), lambda: a.matrix(f, None, matrix_by),
        lambda: a.matrix(f, freq, matrix_by), lambda: a.top_sources(f, None, 5), lambda: a.tone_share(f, freq, by))])
    share, ctx["share_error"] = attempt(lambda: a.narrative_share(f, freq, by))
    ctx["share"] = share
    if share is not None:
        ctx["share_chart"], ctx["share_names"], ctx["share_pivot"] = _share_chart(share, freq)
    ctx["shifts"], ctx["shifts_error"] = attempt(lambda: a.narrative_shifts(f, "week", by))
    ctx["lines"], ctx["lines_error"] = attempt(lambda: a.line_share(f, "account"))
    if ctx["lines"] is not None:
        top = ctx["lines"].rows[:25]
        ctx["lines_chart"] = charts.hbar_chart([r["handle"] or r["account_id"] for r in top],
                                               [round(100 * (r["line_share"] or 0), 1) for r in top],
                                               "Share of own posts that are a shared line (%)")
        ctx["shared"], _ = attempt(lambda: a.shared_lines(f, 50))
    ctx["matrix_all"], ctx["matrix_error"] = attempt(lambda: a.matrix(f, None, matrix_by))
    if ctx["matrix_all"] is not None:
        ctx["matrix_cols"], ctx["matrix_rows"] = _matrix_table(ctx["matrix_all"])
        ctx["matrix_time"] = a.matrix(f, freq, matrix_by)
        ctx["matrix_chart"] = _matrix_chart(ctx["matrix_time"], freq)
        ctx["top_sources"], _ = attempt(lambda: a.top_sources(f, None, 5))
    ctx["tone"], ctx["tone_error"] = attempt(lambda: a.tone_share(f, freq, by))
    if ctx["tone"] is not None:
        ctx["tone_chart"] = _tone_chart(ctx["tone"], freq)
    return HTMLResponse(render(request, "narratives.html", keep=keep, show_more_filters=True, **ctx))
