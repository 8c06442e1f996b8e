"""What the coordination and narratives pages (and their API endpoints) show: one function per table.

Same contract as data.py: each function returns a `Result` (columns + JSON-ready rows), cached per (store
state, function, arguments) through `Data.cached`, so a page's table, its CSV/JSON download and the API
endpoint return the same rows. The analyses are the library's (envoywatch.analysis.coordination,
inauthenticity, amplification, narratives, sources, tone); nothing is computed differently here.

The store is open read-only. What that means for these analyses:
- the coordination engine and the inauthenticity score work in TEMPORARY tables and views; DuckDB allows
  those on a read-only connection (tested). Each computation here runs on its own cursor of the store (a
  second connection to the same database in this process, with its own temporary schema), so a long
  coordination run neither holds the monitoring pages' connection lock nor leaves anything behind;
- narrative assignments, shared lines and tone scores are caches that CLI commands write
  (`narratives assign`, `narratives lines`, `tone store`); when a cache table is absent, `CacheMissing`
  says which command fills it (pages show the message, the API answers 409 with it).
Post text and handles are returned raw (hostile input): the renderers escape them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import ibis
import pyarrow as pa

from envoywatch.errors import EnvoywatchError
from envoywatch.store.db import table_exists
from envoywatch.web.data import Data, Filters, Result, jsonable

MAX_EDGES = 2000      # edges drawn by the network view (the heaviest); the API says when it cut
MAX_NODES = 800       # nodes drawn (the best connected); the members table lists every member
MATRIX_BY = ("state", "category", "state_category", "host_country", "account")
LINE_BY = ("account", "host_country", "state", "category")
GROUP_BY = ("account", "actor", "state", "category", "host_country", "platform", "language")
CACHES = {   # cache table -> the command that fills it
    "post_narratives": "narratives assign",
    "narrative_lines": "narratives lines",
    "tone_scores": "tone store",
}


class CacheMissing(EnvoywatchError):
    """An analysis reads a cache table that a CLI command fills, and the store does not have it yet."""


@dataclass(frozen=True)
class CoordParams:
    """The coordination page's parameters; defaults as `envoywatch coordination groups`."""
    type: str = "co-repost"
    window: float = 60.0
    min_weight: int = 5
    min_overlap: float = 0.25
    min_size: int = 3
    method: str = "components"

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


def _iso(ts):
    """Epoch seconds (the coordination engine's times) as ISO UTC text."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(float(ts), dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


class CursorTables:
    """The store seen through a cursor of its DuckDB connection: `con`, `ibis()`, `table(name)`, `path`,
    `read_only`, as the analyses expect of a store. Closed after one computation (its temporary tables go)."""

    def __init__(self, store, lock):
        with lock:                       # creating the cursor touches the shared connection
            self.con = store.con.cursor()
        self.con.execute("SET enable_progress_bar = false")
        self.path = store.path
        self.read_only = True
        self._ibis = None

    def ibis(self):
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table(self, name: str):
        return self.ibis().table(name)

    def close(self) -> None:
        self.con.close()


class AnalysisData:
    """The analysis tables of the dashboard, over the monitoring pages' `Data` (its store, lock and cache)."""

    def __init__(self, data: Data):
        self.d = data

    @property
    def store(self):
        return self.d.store

    # --- plumbing ------------------------------------------------------------------------------------------
    def cursor(self) -> CursorTables:
        return CursorTables(self.store, self.d.lock)

    def run(self, build) -> tuple[list[str], list[dict]]:
        """Build (build(tables)) and execute an expression on a cursor of its own: these analyses run queries
        while building (temporary views, registry lookups, cache checks) and use in-memory tables, which Ibis
        registers on the connection when it executes."""
        t = self.cursor()
        try:
            out = build(t).to_pyarrow()
        finally:
            t.close()
        return list(out.column_names), [jsonable(r) for r in out.to_pylist()]

    def result(self, name: str, key: tuple, build, meta: dict | None = None, post=None) -> Result:
        def compute():
            cols, rows = self.run(build)
            if post is not None:
                rows = post(rows)
            return Result(name, cols, rows, dict(meta or {}))
        return self.d.cached(("analysis", name, *key), compute)

    def has_table(self, name: str) -> bool:
        with self.d.lock:
            return table_exists(self.store.con, name)

    def need(self, table: str) -> None:
        if not self.has_table(table):
            raise CacheMissing(f"the store has no {table} table yet", str(self.store.path),
                               f"run `envoywatch --db {self.store.path} {CACHES[table]}` (the dashboard opens the "
                               "store read-only and does not fill caches), then reload")

    # --- coordination ----------------------------------------------------------------------------------------
    def coordination(self, f: Filters, cp: CoordParams) -> dict:
        """Groups, members, thresholded network of one coordination run (cached). Filters that apply: platform
        (one), account, start/end (the period of the posts compared)."""
        key = (f.platforms, f.accounts, f.start, f.end, cp)
        return self.d.cached(("analysis", "coordination", *key), lambda: self._coordination(f, cp))

    def _coordination(self, f: Filters, cp: CoordParams) -> dict:
        from envoywatch.analysis.coordination import NetworkParams, compute_network, from_store
        from envoywatch.analysis.coordination.groups import GroupParams, groups_from_network, thresholded_edges
        from envoywatch.analysis.group_profile import enrich_groups

        platform = f.platforms[0] if len(f.platforms) == 1 else None
        gp = GroupParams(min_weight=cp.min_weight, min_overlap=cp.min_overlap, min_size=cp.min_size, method=cp.method)
        np_ = NetworkParams(type=cp.type, window=cp.window, min_weight=cp.min_weight,
                            accounts=list(f.accounts) or None)
        tables = self.cursor()
        con = tables.con
        try:
            table = "ew_web_messages"
            n_msgs = from_store(tables, table, platform=platform, since=f.start, until=f.end)
            net = compute_network(con, table, np_, keep=True)
            groups, membership = groups_from_network(net, gp)
            thr = thresholded_edges(net, gp).to_pylist()
            multi = not platform and con.execute("SELECT count(DISTINCT platform) FROM posts").fetchall()[0][0] > 1
            if groups:
                enrich_groups(tables, groups, membership)
            members = self._members(tables, membership, multi, platform)
        finally:
            tables.close()            # its temporary tables go with it
        return {"groups": groups, "membership": membership, "members": members, "edges": thr,
                "messages": n_msgs, "multi_platform": multi}

    def _members(self, tables, membership: dict[str, int], multi: bool, platform: str | None) -> list[dict]:
        """One row per group member: group, platform, account_id, handle, display_name, state, category,
        score, flagged, signals_fired (inauthenticity.score), posts observed, created_at."""
        from envoywatch.analysis.accounts_view import registered_accounts
        from envoywatch.analysis.inauthenticity import account_score

        if not membership:
            return []
        keys = list(membership)
        plat = [k.split(":", 1)[0] if multi else None for k in keys]
        ids = [k.split(":", 1)[1] if multi else k for k in keys]
        mem = ibis.memtable(pa.table({"m_key": pa.array(keys, pa.string()), "m_platform": pa.array(plat, pa.string()),
                                      "m_account_id": pa.array(ids, pa.string()),
                                      "m_group": pa.array([int(membership[k]) for k in keys], pa.int64())}))
        sc = account_score(tables).select(s_platform="platform", s_account_id="account_id", score="score",
                                              flagged="flagged", signals_fired="signals_fired", posts="n_posts")
        reg = registered_accounts(tables).select(r_platform="platform", r_account_id="account_id",
                                                     handle="handle", display_name="display_name", state="state",
                                                     category="category", created_at="created_at")

        cond = mem.m_account_id == reg.r_account_id
        if multi:
            cond = cond & (mem.m_platform == reg.r_platform)
        elif platform:
            cond = cond & (reg.r_platform == platform)
        j = mem.left_join(reg, cond)
        j = j.left_join(sc, (j.r_platform == sc.s_platform) & (j.m_account_id == sc.s_account_id))
        j = j.select(group=j.m_group, key=j.m_key, platform=ibis.coalesce(j.r_platform, j.m_platform),
                     account_id=j.m_account_id, handle=j.handle, display_name=j.display_name, state=j.state,
                     category=j.category, score=j.score.cast("float64"), flagged=j.flagged,
                     signals_fired=j.signals_fired, posts=j.posts, created_at=j.created_at)
        j = j.order_by([j.group, ibis.desc(j.score), j.account_id])
        t = j.to_pyarrow()
        rows = [jsonable(r) for r in t.to_pylist()]
        seen, out = set(), []
        for r in rows:                      # an account matched by two registry rows: keep one
            if r["key"] not in seen:
                seen.add(r["key"])
                r["signals_fired"] = " ".join(r["signals_fired"] or [])
                out.append(r)
        return out

    def groups(self, f: Filters, cp: CoordParams) -> Result:
        c = self.coordination(f, cp)
        handles = {m["key"]: (m["handle"] or m["account_id"]) for m in c["members"]}
        rows = []
        for g in c["groups"]:
            rows.append({
                "group": g["group"], "size": g["size"], "edges": g["edges"], "density": g["density"],
                "mean_weight": g["mean_weight"], "items": g.get("items"),
                "active_from": _iso(g.get("active_from")), "active_to": _iso(g.get("active_to")),
                "posts": g.get("posts"), "members": " ".join(handles.get(m, m) for m in g["members"]),
                "top_items": " ".join(str(i) for i in g.get("top_items") or []),
                "top_domains": " ".join(f"{d['domain']}:{d['posts']}" for d in g.get("top_domains") or []),
                "amplified": " ".join(f"{a['handle'] or a['account_id']}:{a['member_posts']}"
                                      for a in g.get("amplified") or []),
            })
        cols = ["group", "size", "edges", "density", "mean_weight", "items", "active_from", "active_to", "posts",
                "members", "top_items", "top_domains", "amplified"]
        return Result("coordination_groups", cols, rows, {"params": cp.as_json(), "messages": c["messages"]})

    def members(self, f: Filters, cp: CoordParams) -> Result:
        c = self.coordination(f, cp)
        cols = ["group", "platform", "account_id", "handle", "display_name", "state", "category", "score", "flagged",
                "signals_fired", "posts", "created_at"]
        return Result("coordination_members", cols, [{k: m[k] for k in cols} for m in c["members"]],
                      {"params": cp.as_json()})

    def network(self, f: Filters, cp: CoordParams) -> dict:
        """The thresholded edges inside the groups (heaviest MAX_EDGES) and their nodes (best connected
        MAX_NODES), with node attributes: handle, group, score, flagged, signals, registry category/state."""
        c = self.coordination(f, cp)
        member = {m["key"]: m for m in c["members"]}
        inside = [e for e in c["edges"] if e["source"] in member and e["target"] in member
                  and member[e["source"]]["group"] == member[e["target"]]["group"]]
        degree: dict[str, int] = {}
        for e in inside:
            degree[e["source"]] = degree.get(e["source"], 0) + 1
            degree[e["target"]] = degree.get(e["target"], 0) + 1
        keep = set(sorted(member, key=lambda k: (-degree.get(k, 0), k))[:MAX_NODES])
        edges = [e for e in sorted(inside, key=lambda e: (-e["weight"], e["source"], e["target"]))
                 if e["source"] in keep and e["target"] in keep][:MAX_EDGES]
        nodes = [{"id": k, "platform": m["platform"], "account_id": m["account_id"], "handle": m["handle"],
                  "group": m["group"], "score": m["score"], "flagged": m["flagged"], "signals": m["signals_fired"],
                  "state": m["state"], "category": m["category"], "degree": degree.get(k, 0)}
                 for k, m in member.items() if k in keep]
        edge_rows = [{"source": e["source"], "target": e["target"], "weight": e["weight"],
                      "first_time": _iso(e.get("first_time")), "last_time": _iso(e.get("last_time"))} for e in edges]
        return {"table": "coordination_network", "params": cp.as_json(), "nodes": nodes, "edges": edge_rows,
                "total_nodes": len(member), "total_edges": len(inside),
                "truncated": len(nodes) < len(member) or len(edge_rows) < len(inside),
                "columns": ["source", "target", "weight", "first_time", "last_time"], "rows": edge_rows}

    def amplification(self, f: Filters, cp: CoordParams, freq: str = "month", kind: str = "all") -> Result:
        """amplification.share per registered state account, with the coordinated accounts of this run.
        Filters that apply: platform, account (the state account), start/end (the period)."""
        from envoywatch.analysis.amplification import amplification_share

        membership = self.coordination(f, cp)["membership"]

        def build(tables):
            t = amplification_share(tables, freq=freq, coordinated=membership)
            t = t.filter(t.kind == kind)
            if f.platforms:
                t = t.filter(t.platform.isin(list(f.platforms)))
            if f.accounts:
                t = t.filter(t.state_account_id.isin(list(f.accounts)))
            if f.start:
                t = t.filter(t.period >= f.start.date())
            if f.end:
                t = t.filter(t.period < f.end.date())
            return t
        key = (f.platforms, f.accounts, f.start, f.end, cp, freq, kind)
        return self.result("coordination_amplification", key, build,
                           {"params": cp.as_json(), "freq": freq, "kind": kind})

    # --- narratives, lines, sources, tone ---------------------------------------------------------------------
    def narrative_share(self, f: Filters, freq: str = "month", by: str | None = None) -> Result:
        from envoywatch.analysis.narratives import narrative_share

        self.need("post_narratives")
        return self.result("narratives_share", (f, freq, by), lambda t: narrative_share(t, f, freq=freq, by=by),
                           {"freq": freq, "by": by})

    def narrative_shifts(self, f: Filters, freq: str = "week", by: str | None = None, all_cells: bool = False) -> Result:
        from envoywatch.analysis.narratives import narrative_shifts

        self.need("post_narratives")

        def build(tables):
            t = narrative_shifts(tables, f, freq=freq, by=by)
            return t if all_cells else t.filter(t.onset)
        return self.result("narratives_shifts", (f, freq, by, all_cells), build,
                           {"freq": freq, "by": by, "all": all_cells})

    def line_share(self, f: Filters, by: str = "account") -> Result:
        """Uniform line vs local content: registered accounts only (the line is the officials' line)."""
        from envoywatch.analysis.narratives import line_share

        self.need("narrative_lines")
        fr = dataclasses.replace(f, registered_only=True)
        return self.result("narratives_lines", (fr, by), lambda t: line_share(t, fr, by=by), {"by": by})

    def shared_lines(self, f: Filters, n: int = 50) -> Result:
        from envoywatch.analysis.narratives import shared_lines

        self.need("narrative_lines")
        return self.result("narratives_shared_lines", (f, n), lambda t: shared_lines(t, f).limit(n), {"n": n})

    def matrix(self, f: Filters, freq: str | None = "month", by: str = "state", source_type: str | None = None) -> Result:
        from envoywatch.analysis.sources import amplification_matrix

        return self.result("sources_matrix", (f, freq, by, source_type),
                           lambda t: amplification_matrix(t, f, freq=freq, by=by, source_type=source_type),
                           {"freq": freq or "all", "by": by, "source_type": source_type})

    def top_sources(self, f: Filters, freq: str | None = None, n: int = 5, source_type: str | None = None,
                    classified_only: bool = False) -> Result:
        from envoywatch.analysis.sources import top_sources

        return self.result("sources_top", (f, freq, n, source_type, classified_only),
                           lambda t: top_sources(t, f, freq=freq, n=n, source_type=source_type,
                                               registered_only=classified_only),
                           {"freq": freq or "all", "n": n, "source_type": source_type,
                            "classified_only": classified_only})

    def tone_share(self, f: Filters, freq: str = "month", by: str | None = None) -> Result:
        from envoywatch.analysis.tone.scores import tone_share

        self.need("tone_scores")
        return self.result("tone_share", (f, freq, by), lambda t: tone_share(t, f, freq=freq, by=by),
                           {"freq": freq, "by": by})


def analysis_data(app) -> AnalysisData:
    """The app's AnalysisData (made on first use, over app.state.data)."""
    a = getattr(app.state, "analysis_data", None)
    if a is None or a.d is not app.state.data:
        a = app.state.analysis_data = AnalysisData(app.state.data)
    return a
