"""The REST API under /api: the same data as the pages, JSON by default, CSV with format=csv.

Every table endpoint answers {"table", ..., "filters", "columns", "rows"} in JSON, and the same columns and
rows in CSV (the pages' download links point here). Filters are query parameters (see app.get_filters).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from envoywatch.web.app import get_filters, parse_date
from envoywatch.web.data import BY, ENTITIES, METRICS, SEARCH_COLUMNS, Filters, Result, filters_json
from envoywatch.web.render import csv_response, json_response

router = APIRouter(prefix="/api", tags=["api"])

Fmt = Literal["json", "csv"]
FORMAT = Query("json", description="json (default) or csv")
DOWNLOAD = Query(False, description="send as a file (Content-Disposition: attachment)")


def data(request: Request):
    return request.app.state.data


def respond(r: Result, f, fmt: str, download: bool, extra: dict | None = None):
    name = r.name
    if fmt == "csv":
        return csv_response(name, r.columns, r.rows)
    body = r.as_json()
    body = {"table": body.pop("table"), **body, **(extra or {}), "filters": filters_json(f)}
    body["columns"], body["rows"] = body.pop("columns"), body.pop("rows")
    return json_response(body, name if download else None)


@router.get("/overview", summary="Headline figures and the split by kind")
def overview(request: Request, f: Filters = Depends(get_filters), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    d = data(request)
    fig = d.figures(f)
    if format == "csv":
        return csv_response("overview", fig.columns, fig.rows)
    body = {"table": "overview", "filters": filters_json(f), "figures": fig.rows[0], "kinds": d.kinds(f).rows,
"columns": fig.columns, "rows": fig.rows}
    return json_response(body, "overview" if download else None)


@router.get("/kinds", summary="Posts by kind (original, repost, quote, reply) with shares")
def kinds(request: Request, f: Filters = Depends(get_filters), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(data(request).kinds(f), f, format, download)


@router.get("/activity", summary="Posts over time (per day, week or month), optionally per group")
def activity(request: Request, f: Filters = Depends(get_filters),
             freq: Literal["day", "week", "month"] = Query("month"),
             by: Literal[BY] | None = Query(None, description="group: " + ", ".join(BY)),  # type: ignore[valid-type]
             format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(data(request).activity(f, freq, by), f, format, download)


@router.get("/growth", summary="Change between two periods, split into accounts active in both, new and gone quiet")
def growth(request: Request, f: Filters = Depends(get_filters),
           a_start: str | None = Query(None, description="first period start (default: the month before the last)"),
           a_end: str | None = Query(None), b_start: str | None = Query(None, description="second period start"),
           b_end: str | None = Query(None), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    given = [a_start, a_end, b_start, b_end]
    if any(given) and not all(given):
        raise HTTPException(400, "give all four of a_start, a_end, b_start, b_end, or none (last month against the one before)")
    a = (parse_date("a_start", a_start), parse_date("a_end", a_end)) if a_start else None
    b = (parse_date("b_start", b_start), parse_date("b_end", b_end)) if b_start else None
    return respond(data(request).growth(f, a, b), f, format, download)


@router.get("/top/{entity}", summary="Top hashtags, mentions, amplified (reposted/quoted) accounts, URLs or domains")
def top(request: Request, entity: Literal[ENTITIES] = Path(..., description=", ".join(ENTITIES)),  # type: ignore[valid-type]
        f: Filters = Depends(get_filters), n: int = Query(20, ge=1, le=500),
        format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(data(request).top(f, entity, n), f, format, download)


@router.get("/accounts", summary="Accounts ranked by posts under the filters")
def accounts(request: Request, f: Filters = Depends(get_filters), n: int = Query(50, ge=1, le=5000),
             offset: int = Query(0, ge=0), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    d = data(request)
    return respond(d.top_accounts(f, n, offset), f, format, download, {"total": d.account_count(f)})


@router.get("/accounts/{platform}/{account_id:path}", summary="One account: profile, registry entry and citation")
def account(request: Request, platform: str, account_id: str, format: Fmt = FORMAT, download: bool = DOWNLOAD):
    detail = data(request).account(platform, account_id)
    if detail is None:
        raise HTTPException(404, f"no account {account_id!r} on {platform!r} in the store")
    prof = detail["profile"]
    if format == "csv":    # the profile row; the JSON also has the registry entry, history and figures
        return csv_response("account", list(prof), [prof])
    return json_response({"table": "account", **detail, "columns": list(prof), "rows": [prof]},
                         "account" if download else None)


@router.get("/followers", summary="Followers over time from the account snapshots (use account= for one account)")
def followers(request: Request, f: Filters = Depends(get_filters), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(data(request).followers(f), f, format, download)


@router.get("/top-posts", summary="Most reposted (or liked, replied, quoted) posts, latest metrics snapshot")
def top_posts(request: Request, f: Filters = Depends(get_filters), n: int = Query(20, ge=1, le=500),
              metric: Literal[METRICS] = Query("reposts"),  # type: ignore[valid-type]
              format: Fmt = FORMAT, download: bool = DOWNLOAD):
    return respond(data(request).top_posts(f, n, metric), f, format, download)


@router.get("/search", summary="Full-text search over posts, ranked and paginated, with match offsets")
def search(request: Request, q: str = Query("", max_length=500, description="words; every word must occur"),
           f: Filters = Depends(get_filters), page: int = Query(1, ge=1, le=10000),
           per_page: int = Query(20, ge=1, le=200), format: Fmt = FORMAT, download: bool = DOWNLOAD):
    res = data(request).search(f, q, page, per_page)
    if format == "csv":
        return csv_response("search", SEARCH_COLUMNS, res["rows"])
    body = {"table": "search", "q": q, "total": res["total"], "page": res["page"], "per_page": res["per_page"],
            "filters": filters_json(f), "columns": SEARCH_COLUMNS, "rows": res["rows"]}
    return json_response(body, "search" if download else None)
