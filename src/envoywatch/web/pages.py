"""Dashboard pages, rendered on the server with Jinja2 (autoescape on): overview, accounts, account, search.

Every page takes the filter parameters (GET), shows each table with CSV and JSON download links to the
API endpoint that serves the same rows, and draws its charts as inline SVG (envoywatch.outputs.charts).
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from envoywatch import __version__
from envoywatch.outputs import charts
from envoywatch.web.app import filter_params, get_filters
from envoywatch.web.data import Filters
from envoywatch.web.render import account_path, highlight, query_string, safe_url, split_urls

router = APIRouter(include_in_schema=False)

env = Environment(loader=PackageLoader("envoywatch.web", "templates"),
                  autoescape=select_autoescape(["html"], default=True), trim_blocks=True, lstrip_blocks=True)
env.globals.update(account_path=account_path, highlight=highlight, safe_url=safe_url, split_urls=split_urls,
                   num=charts.fmt_number, version=__version__)
env.filters["num"] = charts.fmt_number
env.filters["pct"] = lambda v: "" if v is None else f"{100 * float(v):.1f}%"
env.filters["day"] = lambda v: (v or "")[:10]

KIND_LABELS = {"post": "originals", "repost": "reposts", "quote": "quotes", "reply": "replies"}
AMPLIFIES = (("reposted_account", "Reposted accounts"), ("quoted_account", "Quoted accounts"),
             ("domain", "Linked domains"), ("hashtag", "Hashtags"))
TOPS = (("hashtag", "Top hashtags"), ("domain", "Top linked domains"),
        ("reposted_account", "Most amplified (reposted) accounts"))


def overview_tables(d, f: Filters, freq: str) -> list:
    """The overview's tables (but growth, which needs the figures' last post), as calls for Data.prefetch;
    the start-up warm-up computes the same ones."""
    return [lambda: d.figures(f), lambda: d.activity(f, freq), lambda: d.top_accounts(f, 15),
            *[(lambda e=e: d.top(f, e, 10)) for e, _ in TOPS]]


def account_tables(d, fa: Filters, freq: str) -> list:
    """An account page's tables (fa: the filters with that account), as calls for Data.prefetch."""
    return [lambda: d.followers(fa), lambda: d.activity(fa, freq), lambda: d.figures(fa), lambda: d.top_posts(fa, 10),
            *[(lambda e=e: d.top(fa, e, 10)) for e, _ in AMPLIFIES]]


def render(request: Request, template: str, keep: list[tuple[str, str]] | None = None, **ctx) -> str:
    """`keep`: page parameters (search words) that links and the filter form carry besides the filters."""
    d = request.app.state.data
    filters = filter_params(request)
    params = filters + [(k, v) for k, v in keep or [] if v]
    ctx.setdefault("choices", d.choices())
    ctx.update(request=request, params=filters, hidden=[(k, v) for k, v in keep or [] if v], path=request.url.path,
               selected={k: [v for kk, v in params if kk == k] for k in ("state", "category", "platform", "kind", "lang")},
               first={k: v for k, v in reversed(filters)},
               qs=lambda **o: query_string(params, **o),
               api=lambda path, fmt="csv", **o: f"/api/{path}?" + query_string(params, format=fmt,
                                                                               download=1 if fmt == "json" else None, **o))
    return env.get_template(template).render(**ctx)


def page(request: Request, template: str, **ctx) -> HTMLResponse:
    return HTMLResponse(render(request, template, **ctx))


def _activity_chart(res, title: str):
    rows = res.rows
    labels = [r["period"] for r in rows]
    series = [("posts", [r["posts"] for r in rows]), ("originals", [r["originals"] for r in rows]),
              ("reposts", [r["reposts"] for r in rows])]
    return charts.line_chart(labels, series, title)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, f: Filters = Depends(get_filters),
             freq: str = Query("month", pattern="^(day|week|month)$")):
    d = request.app.state.data
    d.prefetch(*overview_tables(d, f, freq))
    fig = d.figures(f).rows[0]
    act = d.activity(f, freq)
    kinds = d.kinds(f).rows
    kchart = charts.hbar_chart([KIND_LABELS[k["kind"]] for k in kinds], [k["posts"] for k in kinds],
                               "Posts by kind", total=fig["posts"] or None)
    return page(request, "overview.html", fig=fig, freq=freq, activity=act,
                chart=_activity_chart(act, f"Posts per {freq}"), kinds=kinds, kinds_chart=kchart,
                growth=d.growth(f), accounts=d.top_accounts(f, 15),
                tops=[(e, t, d.top(f, e, 10)) for e, t in TOPS])


@router.get("/accounts", response_class=HTMLResponse)
def accounts(request: Request, f: Filters = Depends(get_filters), page_no: int = Query(1, alias="page", ge=1)):
    d = request.app.state.data
    per = 50
    res = d.top_accounts(f, per, (page_no - 1) * per)
    total = d.account_count(f)
    return page(request, "accounts.html", accounts=res, total=total, page_no=page_no,
                pages=max(1, -(-total // per)), per=per)


@router.get("/accounts/{acc_platform}/{acc_id:path}", response_class=HTMLResponse)
def account(request: Request, acc_platform: str, acc_id: str, f: Filters = Depends(get_filters),
            freq: str = Query("month", pattern="^(day|week|month)$")):
    d = request.app.state.data
    platform, account_id = acc_platform, acc_id   # the path names differ from the filter parameters
    detail = d.account(platform, account_id)
    if detail is None:
        raise HTTPException(404, f"no account {account_id!r} on {platform!r} in the store")
    fa = dataclasses.replace(f, accounts=(account_id,), platforms=(platform,))
    d.prefetch(*account_tables(d, fa, freq))
    fol = d.followers(fa)
    fchart = charts.line_chart([r["captured_at"][:10] for r in fol.rows],
                               [("followers", [r["followers"] for r in fol.rows])], "Followers over time")
    act = d.activity(fa, freq)
    extra = [("account", account_id), ("platform", platform)]
    return page(request, "account.html", show_more_filters=True, a=detail, acc_params=extra, freq=freq,
                followers=fol, followers_chart=fchart, activity=act,
                chart=_activity_chart(act, f"Posts per {freq}"), fig=d.figures(fa).rows[0],
                top_posts=d.top_posts(fa, 10), amplifies=[(e, t, d.top(fa, e, 10)) for e, t in AMPLIFIES])


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = Query("", max_length=500), f: Filters = Depends(get_filters),
           page_no: int = Query(1, alias="page", ge=1, le=10000)):
    d = request.app.state.data
    per = 20
    res = d.search(f, q, page_no, per) if q.strip() else {"total": 0, "rows": [], "page": 1, "per_page": per}
    return page(request, "search.html", keep=[("q", q)], show_more_filters=True, q=q, res=res, page_no=page_no, per=per,
                pages=max(1, -(-res["total"] // per)))


@router.get("/api", response_class=HTMLResponse)
def api_index(request: Request):
    spec = request.app.openapi()
    eps = [(p, m.upper(), op.get("summary", "")) for p, ops in spec["paths"].items() for m, op in ops.items()
           if p.startswith("/api")]
    return page(request, "api.html", endpoints=eps)


# in Python rather than static/: the package data of pyproject ships html/css/js, not svg
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
           'fill="#1e3a5f"/><path d="M3 11 L6 7 L9 9 L13 4" stroke="#fff" stroke-width="1.8" fill="none"/></svg>')


@router.get("/favicon.svg")
def favicon():
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})
