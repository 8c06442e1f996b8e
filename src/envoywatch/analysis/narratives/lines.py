"""Uniform line vs tailoring: messages that several official accounts post near-identically, or translated, within
days (a coordinated line), and per account the share of its own content that is such a line.

`find_shared_lines(store, ...)` links two original posts (kind post or quote) of different accounts within
`days` of each other when
- 'text': their normalized texts are identical (case, links, @mentions, '#', punctuation and spacing folded), or
- 'embedding': their multilingual embeddings have cosine >= `threshold` (default 0.7: translations of one
  message score about 0.55-0.75, paraphrases of one message about 0.7-0.9; envoywatch[narratives]);
linked posts form a line (connected components); a line counts when at least `min_accounts` accounts posted it.
The result replaces the `narrative_lines` cache table (see cache.py). The analyses `narratives.lines` and
`narratives.line_share` read it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import ibis
import numpy as np

from envoywatch.analysis import analysis
from envoywatch.analysis.filters import Filters, filtered_posts
from envoywatch.analysis.narratives.cache import cache_table, ensure_tables
from envoywatch.analysis.narratives.definitions import NarrativeError

LINE_METHODS = ("text", "embedding", "both")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_RT = re.compile(r"^RT @\w+:\s*")
_PUNCT = re.compile(r"[\W_]+", re.U)


def normalize_text(text: str | None) -> str:
    t = unicodedata.normalize("NFKC", text or "")
    t = _RT.sub("", t)
    t = _URL.sub(" ", t)
    t = _MENTION.sub(" ", t)
    return " ".join(_PUNCT.sub(" ", t.casefold()).split())


class _Union:
    def __init__(self, n):
        self.p = list(range(n))

    def find(self, a):
        while self.p[a] != a:
            self.p[a] = self.p[self.p[a]]
            a = self.p[a]
        return a

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[max(ra, rb)] = min(ra, rb)


def find_shared_lines(store, f: Filters | None = None, days: float = 3.0, method: str = "text",
                      threshold: float = 0.7, min_accounts: int = 3, min_chars: int = 20) -> dict:
    """Compute shared lines over the filtered original posts (default: registered accounts only) and store them
    in narrative_lines (replacing what was there). Returns counts."""
    if method not in LINE_METHODS:
        raise NarrativeError(f"unknown method '{method}'", "--method", f"use one of: {', '.join(LINE_METHODS)}")
    f = f or Filters(registered_only=True)
    p = filtered_posts(store, f)
    p = p.filter(p.kind.isin(["post", "quote"]) & p.text.notnull())
    rows = p.select("platform", "post_id", "account_id", "created_at", "text").order_by(
        ["created_at", "platform", "post_id"]).to_pyarrow().to_pylist()
    norm = [normalize_text(r["text"]) for r in rows]
    keep = [i for i, t in enumerate(norm) if len(t) >= min_chars]
    rows = [rows[i] for i in keep]
    norm = [norm[i] for i in keep]
    n = len(rows)
    uf = _Union(n)
    acct = [(r["platform"], r["account_id"]) for r in rows]
    secs = np.array([r["created_at"].timestamp() for r in rows], dtype=np.float64) if n else np.zeros(0)
    window = days * 86400.0
    if method in ("text", "both"):
        first: dict[str, list[int]] = {}
        for i, t in enumerate(norm):
            first.setdefault(t, []).append(i)
        for idx in first.values():
            anchor = idx[0]                     # an episode: posts within `days` of its first post
            for b in idx[1:]:
                if secs[b] - secs[anchor] <= window:
                    uf.union(anchor, b)
                else:
                    anchor = b
    if method in ("embedding", "both") and n:
        from envoywatch.analysis.narratives.embed import embed

        vec = embed([r["text"] for r in rows])
        block = 2000
        for s in range(0, n, block):
            e = min(n, s + block)
            hi = int(np.searchsorted(secs, secs[e - 1] + window, side="right"))
            sims = vec[s:e] @ vec[s:hi].T
            ii, jj = np.nonzero(sims >= threshold)
            for a, b in zip(ii + s, jj + s):
                if b > a and acct[a] != acct[b] and abs(secs[b] - secs[a]) <= window:
                    uf.union(int(a), int(b))
    comps: dict[int, list[int]] = {}
    for i in range(n):
        comps.setdefault(uf.find(i), []).append(i)
    out = []
    for members in comps.values():
        accounts = {acct[i] for i in members}
        if len(members) < 2 or len(accounts) < min_accounts:
            continue
        head = min((rows[i]["platform"], rows[i]["post_id"]) for i in members)
        line_id = "L" + hashlib.sha1(f"{head[0]}:{head[1]}".encode()).hexdigest()[:12]
        for i in members:
            out.append((rows[i]["platform"], rows[i]["post_id"], line_id, method, len(accounts)))
    ensure_tables(store.con)
    with store.transaction():
        store.con.execute("DELETE FROM narrative_lines")
        if out:
            # one Arrow insert: executemany costs a statement per row (tens of seconds for 200k rows)
            import pyarrow as pa

            cols = list(zip(*out))
            store.con.register("_ew_lines", pa.table({
                "platform": pa.array(cols[0], pa.string()), "post_id": pa.array(cols[1], pa.string()),
                "line_id": pa.array(cols[2], pa.string()), "method": pa.array(cols[3], pa.string()),
                "accounts": pa.array(cols[4], pa.int32())}))
            try:
                store.con.execute("INSERT INTO narrative_lines SELECT * FROM _ew_lines")
            finally:
                store.con.unregister("_ew_lines")
    return {"posts_compared": n, "lines": len({r[2] for r in out}), "posts_in_lines": len(out)}


@analysis("narratives.lines")
def shared_lines(tables, f: Filters = Filters()) -> ibis.Table:
    """One row per shared line: line_id, posts, accounts, languages (distinct platform languages, comma
    separated), first_at, last_at, span_hours, text (the earliest post's text)."""
    nl = cache_table(tables, "narrative_lines")
    p = filtered_posts(tables, f)
    nl = nl.select(l_platform="platform", l_post_id="post_id", line_id="line_id")
    j = p.join(nl, (p.platform == nl.l_platform) & (p.post_id == nl.l_post_id))
    first = j.mutate(rn=ibis.row_number().over(ibis.window(group_by=j.line_id, order_by=[j.created_at, j.post_id])))
    first = first.filter(first.rn == 0).select(f_line="line_id", text="text")
    agg = j.group_by("line_id").aggregate(
        posts=j.count().cast("int64"), accounts=(j.platform + ":" + j.account_id).nunique().cast("int64"),
        languages=j.lang.fill_null("?").collect(distinct=True).sort().join(","),
        first_at=j.created_at.min(), last_at=j.created_at.max())
    agg = agg.mutate(span_hours=((agg.last_at.epoch_seconds() - agg.first_at.epoch_seconds()) / 3600.0).cast("float64"))
    out = agg.join(first, agg.line_id == first.f_line).drop("f_line")
    return out.order_by([ibis.desc("accounts"), ibis.desc("posts"), "line_id"])


@analysis("narratives.line_share")
def line_share(tables, f: Filters = Filters(registered_only=True), by: str = "account") -> ibis.Table:
    """Per account (or host_country / state / category): originals (own posts: kind post or quote), line_posts
    (of them in a shared line), local_posts, line_share, local_share."""
    cols = {"account": ["platform", "account_id"], "host_country": ["host_country"], "state": ["state"],
            "category": ["category"]}
    if by not in cols:
        raise NarrativeError(f"unknown by '{by}'", "--by", f"use one of: {', '.join(cols)}")
    nl = cache_table(tables, "narrative_lines").select(l_platform="platform", l_post_id="post_id", line_id="line_id")
    p = filtered_posts(tables, f)
    p = p.filter(p.kind.isin(["post", "quote"]))
    j = p.left_join(nl, (p.platform == nl.l_platform) & (p.post_id == nl.l_post_id))
    in_line = ibis.ifelse(j.line_id.notnull(), 1, 0)
    extra = {"handle": j.handle.max(), "host_country_": j.host_country.max()} if by == "account" else {}
    agg = j.group_by(cols[by]).aggregate(originals=j.count().cast("int64"), line_posts=in_line.sum().cast("int64"),
                                         **extra)
    if by == "account":
        agg = agg.rename(host_country="host_country_")
    agg = agg.mutate(local_posts=(agg.originals - agg.line_posts).cast("int64"),
                     line_share=(agg.line_posts / agg.originals).cast("float64"))
    agg = agg.mutate(local_share=(1.0 - agg.line_share).cast("float64"))
    return agg.order_by([ibis.desc("line_share"), *cols[by]])
