"""What the dashboard and the API show: one function per table, over the monitoring analyses.

Pages and API endpoints call the same functions here, so a page's table, its CSV/JSON download and the
API return the same rows. Each function takes the store and a Filters value and returns a `Result`
(columns + rows of JSON-ready values). Post text is returned raw (hostile input): renderers escape it.

Results are cached per (store state, function, arguments): the store is opened read-only, and the key
includes the store file's size and modification time, so a changed store never serves stale figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import threading
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path
from typing import Any

from envoywatch.analysis import aggregates
from envoywatch.analysis.accounts_view import registered_accounts
from envoywatch.analysis.activity import activity_figures, activity_over_time, growth_decomposition, top_accounts
from envoywatch.analysis.filters import Filters, as_datetime  # noqa: F401 - Filters re-exported for the pages, API
from envoywatch.analysis.reach import followers_over_time
from envoywatch.analysis.reach import top_post_keys
from envoywatch.analysis.reach import top_posts as top_posts_expr
from envoywatch.analysis.search import search_posts
from envoywatch.analysis.shares import top_entities as top_entities_expr
from envoywatch.web import sql_templates

ENTITIES = ("hashtag", "mention", "reposted_account", "quoted_account", "url", "domain")
FREQS = ("day", "week", "month")
BY = ("account", "actor", "state", "category", "host_country", "platform", "language")
METRICS = ("reposts", "likes", "replies", "quotes")


@dataclasses.dataclass
class Result:
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict:
        return {"table": self.name, **self.meta, "columns": self.columns, "rows": self.rows}


def jsonable(v):
    if isinstance(v, dt.datetime):
        return v.isoformat(timespec="seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v


def filters_json(f) -> dict:
    out = {}
    for fld in dataclasses.fields(f):
        v = getattr(f, fld.name)
        if v not in ((), None, False):
            out[fld.name] = jsonable(list(v) if isinstance(v, tuple) else v)
    return out


class Tables:
    """The store's table accessors, memoized: Ibis looks a table's schema up in DuckDB on every .table() call,
    and the analyses call it several times per expression (a third of the time to build one, measured). The
    store is read-only while served, so a table's schema cannot change; everything else goes to the store."""

    def __init__(self, store, lock, memo: bool = True):
        self._store = store
        self._lock = lock
        self._memo = memo          # only a read-only store's schemas are sure not to change
        self.query_lock = lock     # analyses that run a check query (aggregates.is_current) take it
        self._tables: dict = {}

    def table(self, name: str):
        if not self._memo:
            with self._lock:
                return self._store.table(name)
        t = self._tables.get(name)
        if t is None:
            with self._lock:
                t = self._tables[name] = self._store.table(name)
        return t

    def __getattr__(self, name):
        return getattr(self._store, name)


class Data:
    """The store (read-only), a lock on its one DuckDB connection, a result cache and a small thread pool.

    Building and compiling an Ibis expression is Python work that costs as much as running the query on a
    million posts; only running it needs the connection. So the lock is held for execution only, and a page
    computes its tables in a few threads (prefetch): one table compiles while another runs in DuckDB.
    """

    def __init__(self, store, cache_size: int = 512, workers: int = 3):
        from concurrent.futures import ThreadPoolExecutor

        self.lock = threading.RLock()            # the DuckDB connection: one statement at a time
        store.ibis()   # now, before any thread: creating the Ibis backend runs statements on the connection
        self._cache_lock = threading.Lock()
        self._inflight: dict = {}
        self.store = Tables(store, self.lock, memo=bool(getattr(store, "read_only", False)))
        self.cache: OrderedDict = OrderedDict()
        self._templates: dict = {}
        self.cache_size = cache_size
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="envoywatch-query")
        self._local = threading.local()
        self.direct_compiles = 0     # requests whose SQL no template could express (compiled as they came)

    # --- plumbing ----------------------------------------------------------------------------------
    def store_key(self) -> tuple:
        p = Path(self.store.path)
        out = []
        for q in (p, p.with_name(p.name + ".wal")):
            try:
                st = q.stat()
                out.append((st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return tuple(out)

    def cached(self, key: tuple, compute):
        """compute() once per (store state, key); concurrent callers of the same key wait for the first one."""
        full = (self.store_key(), *key)
        while True:
            with self._cache_lock:
                if full in self.cache:
                    self.cache.move_to_end(full)
                    return self.cache[full]
                ev = self._inflight.get(full)
                if ev is None:
                    self._inflight[full] = threading.Event()
                    break
            ev.wait()          # then the result is in the cache (or the first caller failed: try ourselves)
        try:
            value = compute()
            with self._cache_lock:
                self.cache[full] = value
                while len(self.cache) > self.cache_size:
                    self.cache.popitem(last=False)
            return value
        finally:
            with self._cache_lock:
                self._inflight.pop(full).set()

    def prefetch(self, *calls) -> None:
        """Run the calls (each fills the cache) in the pool and wait; the first error is raised."""
        for fut in [self.pool.submit(c) for c in calls]:
            fut.result()

    def _cursor(self):
        """This thread's cursor of the store (a read-only store: its own DuckDB connection, so the tables of a
        page run side by side on the cores instead of one after another under the lock), with the registry view
        the compiled SQL names; None for a writable store (its one connection, under the lock)."""
        if not getattr(self.store, "read_only", False):
            return None
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            from envoywatch.analysis.filters import VIEW, accounts_registry

            accounts_registry(self.store)     # the view exists on the store's connection
            with self.lock:
                view = self.store.con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ? AND temporary",
                                              [VIEW]).fetchall()
                cur = self.store.con.cursor()
            cur.execute("SET enable_progress_bar = false")
            if view:
                cur.execute(view[0][0])
            self._local.cursor = cur
        return cur

    def rows(self, expr, sql: str | None = None, schema=None) -> tuple[list[str], list[dict]]:
        if sql is None:
            sql = str(self.store.ibis().compile(expr))
        cur = self._cursor()
        if cur is not None:
            t = cur.sql(sql).to_arrow_table()
        else:
            with self.lock:
                t = self.store.con.sql(sql).to_arrow_table()
        try:   # the expression's types (DuckDB's SUM is a 128-bit integer, Ibis says int64)
            t = t.cast(schema if schema is not None else expr.schema().to_pyarrow())
        except Exception:   # noqa: BLE001 - a type Arrow cannot cast: keep DuckDB's, jsonable() copes
            pass
        return list(t.column_names), [jsonable(r) for r in t.to_pylist()]

    def compiled(self, name: str, f, rest: tuple, make, extra: tuple = ()) -> tuple[str, object]:
        """(SQL, Arrow schema) of make(f, *extra). Building and compiling an Ibis expression costs tens of
        milliseconds of Python, more than running it on the aggregates; so the SQL is compiled once per filter
        *shape*: the filter values that only ever reach the SQL as literals (states, categories, platforms,
        accounts, host countries) are compiled as placeholders and filled in as quoted literals, and the times
        (f.start, f.end and the `extra` times) as sentinel times of the same kind, replaced by the request's
        (web/sql_templates.py). Values that steer what the analyses build (kinds, languages, registered_only,
        `rest`) stay part of the key. Whatever a template cannot express is compiled as is."""
        fields = ("states", "categories", "platforms", "accounts", "host_countries")
        shape = {k: tuple(f"ewph{k[:2]}{i}x" for i in range(len(getattr(f, k)))) for k in fields}
        times = [as_datetime(v) for v in (f.start, f.end, *extra)]

        def direct():
            self.direct_compiles += 1
            expr = make(f, *extra)
            return str(self.store.ibis().compile(expr)), expr.schema().to_pyarrow()

        if not sql_templates.in_order(times[2:]):
            return direct()
        fs, extra_s, classes = sql_templates.with_sentinels(dataclasses.replace(f, **shape), tuple(times[2:]))
        key = ("sql", name, fs, rest, classes)
        with self._cache_lock:
            hit = self._templates.get(key)
        if hit is None:
            expr = make(fs, *extra_s)
            hit = (str(self.store.ibis().compile(expr)), expr.schema().to_pyarrow())
            with self._cache_lock:
                self._templates[key] = hit
                if len(self._templates) > 1024:
                    self._templates.pop(next(iter(self._templates)))
        sql, schema = hit
        mapping = sql_templates.replacement([fs.start, fs.end, *extra_s], times)
        sql = sql_templates.fill(sql, mapping) if mapping is not None else None
        if sql is None:        # a time used in a way the template cannot express
            return direct()
        for k in fields:
            for ph, v in zip(shape[k], getattr(f, k)):
                lit = "'" + str(v).replace("'", "''") + "'"
                if f"'{ph}'" not in sql:    # a placeholder that did not reach the SQL as a literal: compile as is
                    return direct()
                sql = sql.replace(f"'{ph}'", lit)
        return sql, schema

    def sql(self, sql: str, params: list | None = None) -> list[dict]:
        with self.lock:
            t = self.store.query(sql, params)
        return [jsonable(r) for r in t.to_pylist()]

    def result(self, name: str, key: tuple, make, meta: dict | None = None, extra: tuple = ()) -> Result:
        """key = (filters, other arguments...); make(filters, *extra) -> the Ibis expression; `extra`: times that
        make() takes besides the filters' (they are in the key already)."""
        def compute():
            sql, schema = self.compiled(name, key[0], key[1 + len(extra):] if extra else key[1:], make, extra)
            cols, rows = self.rows(None, sql, schema)
            return Result(name, cols, rows, meta or {})
        return self.cached((name, *key), compute)

    # --- filter choices ------------------------------------------------------------------------------
    def choices(self) -> dict[str, list[str]]:
        def compute():
            q = self.sql
            return {
                "state": [r["v"] for r in q("SELECT DISTINCT state AS v FROM registry_actors WHERE state IS NOT NULL ORDER BY 1")],
                "category": [r["v"] for r in q("SELECT DISTINCT category AS v FROM registry_actors WHERE category IS NOT NULL ORDER BY 1")],
                "platform": [r["v"] for r in q("SELECT DISTINCT platform AS v FROM accounts ORDER BY 1")],
                "kind": ["post", "repost", "quote", "reply"],
                "lang": [r["v"] for r in q("SELECT lang AS v FROM (SELECT lang, count(*) AS n FROM posts WHERE lang IS NOT NULL "
                                             "GROUP BY lang ORDER BY n DESC LIMIT 40) ORDER BY 1")],
            }
        return self.cached(("choices",), compute)

    # --- overview --------------------------------------------------------------------------------------
    def figures(self, f) -> Result:
        r = self.result("figures", (f,), lambda f: activity_figures(self.store, f))
        for row in r.rows:   # SUM over no rows is NULL: the figures of an empty selection are 0
            for k in ("originals", "reposts", "quotes", "replies"):
                row[k] = row[k] or 0
        return r

    def kinds(self, f) -> Result:
        fig = self.figures(f).rows[0]
        total = fig["posts"] or 0
        rows = [{"kind": k, "posts": fig[col], "share": (fig[col] / total) if total else 0.0}
                for k, col in (("post", "originals"), ("repost", "reposts"), ("quote", "quotes"), ("reply", "replies"))]
        return Result("kinds", ["kind", "posts", "share"], rows)

    def activity(self, f, freq: str = "month", by: str | None = None) -> Result:
        return self.result("activity", (f, freq, by), lambda f: activity_over_time(self.store, f, freq=freq, by=by),
                           {"freq": freq, "by": by})

    def top_accounts(self, f, n: int = 20, offset: int = 0) -> Result:
        return self.result("accounts", (f, n, offset), lambda f: top_accounts(self.store, f, n, offset),
                           {"n": n, "offset": offset})

    def account_count(self, f) -> int:
        return self.figures(f).rows[0]["accounts"] or 0

    def top(self, f, entity: str, n: int = 20) -> Result:
        previous = None
        if f.start is not None and f.end is not None:   # change against the window of the same length before
            previous = (f.start - (f.end - f.start), f.start)
        meta = {"entity": entity, "n": n,
                "previous": [jsonable(previous[0]), jsonable(previous[1])] if previous else None}
        # the previous window is the default one (derived from f's times inside the analysis, so one compiled
        # template serves every window)
        return self.result(f"top_{entity}", (f, n), lambda f: top_entities_expr(self.store, f, entity, n=n), meta)

    def growth(self, f, a: tuple[dt.datetime, dt.datetime] | None = None,
               b: tuple[dt.datetime, dt.datetime] | None = None) -> Result:
        if a is None or b is None:   # default: the last month with posts against the month before it
            last = self.figures(f).rows[0]["last_post"]
            if last is None:
                return Result("growth", [], [], {})
            last = dt.datetime.fromisoformat(last)
            b_start = dt.datetime(last.year, last.month, 1)
            a_start = dt.datetime(b_start.year - (b_start.month == 1), (b_start.month - 2) % 12 + 1, 1)
            b_end = dt.datetime(b_start.year + (b_start.month == 12), b_start.month % 12 + 1, 1)
            a, b = (a_start, b_start), (b_start, b_end)
        meta = {"a_start": jsonable(a[0]), "a_end": jsonable(a[1]), "b_start": jsonable(b[0]), "b_end": jsonable(b[1])}
        return self.result("growth", (f, *a, *b), lambda f, *t: growth_decomposition(self.store, f, *t), meta,
                           extra=(*a, *b))

    # --- accounts ----------------------------------------------------------------------------------------
    def account(self, platform: str, account_id: str) -> dict | None:
        def compute():
            q = self.sql
            prof = q("SELECT * FROM accounts WHERE platform = ? AND account_id = ?", [platform, account_id])
            if not prof:
                return None
            fa = Filters(platforms=(platform,), accounts=(account_id,))
            _, rr = self.rows(None, *self.compiled("account_registry", fa, (), lambda f: _registry_entry(self.store, f)))
            actor = rr[0] if rr and rr[0]["actor_id"] else None
            actor_row = q("SELECT * FROM registry_actors WHERE actor_id = ?", [actor["actor_id"]]) if actor else []
            handle = prof[0].get("handle") or ""
            entries = q("SELECT * FROM registry_accounts WHERE platform = ? AND (account_id = ? OR lower(handle) = lower(?)) "
                        "ORDER BY handle", [platform, account_id, handle])
            history = q("SELECT * FROM registry_history WHERE platform = ? AND lower(handle) = lower(?) ORDER BY changed_at",
                        [platform, handle])
            snap = q("SELECT * FROM account_snapshots WHERE platform = ? AND account_id = ? ORDER BY captured_at DESC LIMIT 1",
                     [platform, account_id])
            if aggregates.is_current(self.store):   # the month aggregate: a few dozen rows per account
                sql = ("SELECT coalesce(sum(posts), 0)::BIGINT AS posts, min(first_at) AS first_post, "
                       "max(last_at) AS last_post FROM agg_account_month WHERE platform = ? AND account_id = ?")
            else:
                sql = ("SELECT count(*) AS posts, min(created_at) AS first_post, max(created_at) AS last_post "
                       "FROM posts WHERE platform = ? AND account_id = ?")
            counts = q(sql, [platform, account_id])
            return {"profile": prof[0], "registry": actor, "actor": actor_row[0] if actor_row else None,
                    "registry_accounts": entries, "registry_history": history,
                    "latest_snapshot": snap[0] if snap else None, "posts": counts[0]}
        return self.cached(("account", platform, account_id), compute)

    def followers(self, f) -> Result:
        return self.result("followers", (f,), lambda f: followers_over_time(self.store, f))

    def top_posts(self, f, n: int = 20, metric: str = "reposts") -> Result:
        """The analysis `top_posts`; where the derived latest-metrics table is current, its n rows are ranked
        there and their texts fetched by rowid (analysis.reach.top_post_keys): the same rows, without joining
        the page's posts by key (a scan of every post key on large stores)."""
        meta = {"n": n, "metric": metric}
        if not aggregates.is_current(self.store):
            return self.result("top_posts", (f, n, metric), lambda f: top_posts_expr(self.store, f, n=n, metric=metric),
                               meta)

        def compute():
            sql, schema = self.compiled("top_post_keys", f, (n, metric),
                                        lambda f: top_post_keys(self.store, f, n=n, metric=metric))
            _, rows = self.rows(None, sql, schema)
            texts = self._post_texts(rows)
            out = [{c: texts.get((r["platform"], r["post_id"]), {}).get(c) if c in ("text", "url") else r[c]
                    for c in TOP_POST_COLUMNS} for r in rows]
            return Result("top_posts", list(TOP_POST_COLUMNS), out, meta)
        return self.cached(("top_posts", f, n, metric), compute)

    def _post_texts(self, rows: list[dict]) -> dict:
        """{(platform, post_id): {"text", "url"}} for rows with platform, post_id and prow: by rowid (one
        point read each), checked against the key; rows whose rowid moved are looked up by key."""
        out: dict = {}
        prows = sorted({int(r["prow"]) for r in rows if r.get("prow") is not None})
        if prows:
            sql = " UNION ALL ".join(f"SELECT platform, post_id, text, url FROM posts WHERE rowid = {p}" for p in prows)
            for r in self.sql(sql):
                out[(r["platform"], r["post_id"])] = r
        missing = sorted({r["post_id"] for r in rows if (r["platform"], r["post_id"]) not in out})
        if missing:
            for r in self.sql("SELECT platform, post_id, text, url FROM posts WHERE post_id IN (SELECT unnest(?))",
                              [missing]):
                out.setdefault((r["platform"], r["post_id"]), r)
        return out

    # --- search ---------------------------------------------------------------------------------------------
    def search(self, f, q: str, page: int = 1, per_page: int = 20) -> dict:
        def compute():
            from fastapi import HTTPException

            from envoywatch.analysis.search import SearchIndexMissing

            try:
                with self.lock:
                    out = search_posts(self.store, q, f, page=page, per_page=per_page)
            except SearchIndexMissing as exc:   # the server never builds a big index: say how to
                raise HTTPException(503, str(exc)) from None
            out = dict(out)
            out["rows"] = [normalize_hit(jsonable(dict(r))) for r in out.get("rows", [])]
            return out
        return self.cached(("search", f, q, page, per_page), compute)


def _registry_entry(tables, f: Filters):
    """The registry columns of the accounts f names (one account: its platform and id)."""
    reg = registered_accounts(tables)
    reg = reg.filter(reg.platform.isin(list(f.platforms)) & reg.account_id.isin(list(f.accounts)))
    return reg.select("actor_id", "actor_name", "state", "category", "host_country")


TOP_POST_COLUMNS = ("platform", "post_id", "account_id", "handle", "created_at", "kind", "text", "likes", "reposts",
                    "replies", "quotes", "views", "url")
SEARCH_COLUMNS = ["platform", "post_id", "account_id", "handle", "created_at", "kind", "lang", "score", "text",
                  "snippet", "matches"]


def normalize_hit(r: dict) -> dict:
    """Search rows as the API gives them: `snippet` plain text, `matches` [[start, end], ...] into it."""
    sn = r.get("snippet")
    matches = r.get("matches") or r.get("offsets") or []
    if isinstance(sn, dict):
        matches = sn.get("matches") or sn.get("offsets") or matches
        sn = sn.get("text", "")
    elif isinstance(sn, (list, tuple)) and len(sn) == 2 and isinstance(sn[0], str):
        sn, matches = sn[0], sn[1]
    if sn is None:
        sn = r.get("text") or ""
    r["snippet"] = sn
    r["matches"] = [[int(s), int(e)] for s, e in (matches or []) if 0 <= int(s) < int(e) <= len(sn)]
    r.pop("offsets", None)
    return r
