"""The dashboard application: FastAPI app over a read-only store, pages under /, the REST API under /api.

    from envoywatch.web.app import create_app
    app = create_app("store.duckdb")          # uvicorn.run(app, host="127.0.0.1", port=8000)

Works offline: every asset (CSS, icon) is served by the app itself, charts are inline SVG rendered on the
server, and no page needs JavaScript. Swagger UI / ReDoc are off (they load from a CDN); /openapi.json is
the API document and /api lists the endpoints as a page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from envoywatch import __version__
from envoywatch.web.data import Data, Filters

HERE = Path(__file__).parent

CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

FILTER_KEYS = ("state", "category", "platform", "account", "host_country", "kind", "lang", "start", "end", "registered")


def _values(vals: list[str]) -> tuple[str, ...]:
    """Repeated parameters and comma-separated values alike; empty values (a select's 'any') are ignored."""
    out: list[str] = []
    for v in vals or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return tuple(dict.fromkeys(out))


def parse_date(name: str, v: str | None) -> dt.datetime | None:
    if not v:
        return None
    try:
        return dt.datetime.fromisoformat(v.strip().replace("Z", ""))
    except ValueError:
        raise HTTPException(400, f"{name}={v!r} is not a date: use YYYY-MM-DD (UTC)") from None


def get_filters(
    state: list[str] = Query([], description="state (ISO alpha-2) of the registry actor; repeat or comma-separate"),
    category: list[str] = Query([], description="registry category (ministry, mission, head_of_mission, ...)"),
    platform: list[str] = Query([], description="platform slug (x, bluesky, ...)"),
    account: list[str] = Query([], description="account_id"),
    host_country: list[str] = Query([], description="host country (ISO alpha-2) of missions"),
    kind: list[str] = Query([], description="post | repost | quote | reply"),
    lang: list[str] = Query([], description="post language"),
    start: str | None = Query(None, description="period start, inclusive (YYYY-MM-DD, UTC)"),
    end: str | None = Query(None, description="period end, exclusive (YYYY-MM-DD, UTC)"),
    registered: bool = Query(False, description="only accounts in the registry"),
) -> Filters:
    f = Filters(states=_values(state), categories=_values(category), platforms=_values(platform),
                accounts=_values(account), host_countries=_values(host_country), kinds=_values(kind),
                languages=_values(lang), start=parse_date("start", start), end=parse_date("end", end),
                registered_only=registered)
    if f.start and f.end and f.end <= f.start:
        raise HTTPException(400, "end must be after start (end is exclusive)")
    return f


def filter_params(request: Request) -> list[tuple[str, str]]:
    """The filter parameters of the request, as given (non-empty), to carry over into links."""
    return [(k, v) for k, v in request.query_params.multi_items() if k in FILTER_KEYS and v.strip()]


def warm_up(data: Data) -> None:
    """Precompute what most visits open first: the unfiltered overview and one overview per state; then the
    overview of the last month, the current month and the last 30 days (unfiltered and for one state) and the
    busiest account's page, which also compiles the SQL of those page shapes for every other window and account.

    Results land in the per-request cache (keyed by the store file's state), so these pages answer from it.
    Runs in a background thread; each query takes the connection lock on its own, so requests interleave.
    """
    import logging

    try:
        views = [Filters()] + [Filters(states=(s,)) for s in data.choices()["state"]]
        for f in views:
            _overview(data, f)
        # then the SQL of other windows and of the account pages: each table is compiled once per filter shape
        # and kind of window (web/sql_templates.py), so the first visit of a window of each kind does not pay it
        last = data.figures(Filters()).rows[0]["last_post"]
        if last:
            end = dt.datetime.fromisoformat(last).replace(hour=0, minute=0, second=0, microsecond=0)
            month = end.replace(day=1)
            windows = [(month - dt.timedelta(days=1)).replace(day=1), month], [month, end + dt.timedelta(days=1)], \
                [end - dt.timedelta(days=29), end + dt.timedelta(days=1)]
            for start, stop in windows:
                for f in views[:2]:
                    _overview(data, dataclasses.replace(f, start=start, end=stop))
        top = data.top_accounts(Filters(), 1).rows
        if top:
            from envoywatch.web.pages import account_tables

            fa = Filters(accounts=(top[0]["account_id"],), platforms=(top[0]["platform"],))
            data.account(top[0]["platform"], top[0]["account_id"])
            data.prefetch(*account_tables(data, fa, "month"))
    except Exception:  # a warm-up failure must never stop the server; the pages compute on demand
        logging.getLogger("envoywatch.web").exception("warm-up failed")


def _overview(data: Data, f: Filters) -> None:
    """The tables of the overview page for f (into the result cache), computed as the page does: in the pool's
    threads, which so open their cursors of the store now rather than on the first visit."""
    from envoywatch.web.pages import overview_tables

    data.prefetch(*overview_tables(data, f, "month"), lambda: data.growth(f))


def create_app(db_path: str | Path, store=None, warm: bool = False) -> FastAPI:
    """The app over the store at db_path (opened read-only), or over an open `store` (tests).

    warm=True precomputes the overview pages in a background thread (envoywatch serve does)."""
    if store is None:
        from envoywatch.store import Store

        store = Store(db_path, read_only=True)
    app = FastAPI(title="envoywatch API", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Monitoring of state-affiliated accounts: the same data as the dashboard pages. "
                              "Every table endpoint takes the filter parameters and `format=json|csv`.")
    app.state.data = Data(store)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith("/api") or request.url.path == "/openapi.json":
            from envoywatch.web.render import SafeJSONResponse

            return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        from envoywatch.web.pages import render

        return HTMLResponse(render(request, "error.html", status=exc.status_code, detail=str(exc.detail)),
                            status_code=exc.status_code)

    from envoywatch.web import api, api_analysis, pages, pages_analysis

    app.include_router(api.router)
    app.include_router(api_analysis.router)
    app.include_router(pages.router)
    app.include_router(pages_analysis.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if warm:
        import threading

        threading.Thread(target=warm_up, args=(app.state.data,), name="envoywatch-warm-up", daemon=True).start()
    return app
