"""Stand-ins for the monitoring analyses (docs/analysis/monitoring-contract.md), same signatures and columns.

The web layer calls the contract functions (envoywatch.analysis.filters / activity / reach / shares /
search); `contract()` falls back to these only when a contract module is not importable (a partial
checkout). They are deliberately plain; once every contract module is present this file can go.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from datetime import datetime

import ibis

from envoywatch.analysis.accounts_view import registered_accounts

STAND_INS: list[str] = []     # contract functions replaced by a stand-in, shown on /about and in the API


def contract(module: str, name: str, fallback):
    try:
        return getattr(importlib.import_module(f"envoywatch.analysis.{module}"), name)
    except (ImportError, AttributeError):
        STAND_INS.append(f"{module}.{name}")
        return fallback


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    host_countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    registered_only: bool = False


_POST_FILTERS = (("state", "states"), ("category", "categories"), ("platform", "platforms"),
                 ("account_id", "accounts"), ("host_country", "host_countries"), ("kind", "kinds"),
                 ("lang", "languages"))


def filtered_posts(tables, f) -> ibis.Table:
    p = tables.table("posts")
    acc = registered_accounts(tables).select(
        r_platform="platform", r_account_id="account_id", handle="handle", display_name="display_name",
        actor_id="actor_id", actor_name="actor_name", state="state", category="category", host_country="host_country")
    j = p.left_join(acc, (p.platform == acc.r_platform) & (p.account_id == acc.r_account_id))
    j = j.select(*p.columns, "handle", "display_name", "actor_id", "actor_name", "state", "category", "host_country")
    for col, attr in _POST_FILTERS:
        values = getattr(f, attr)
        if values:
            j = j.filter(j[col].isin(list(values)))
    if f.start is not None:
        j = j.filter(j.created_at >= f.start)
    if f.end is not None:
        j = j.filter(j.created_at < f.end)
    if f.registered_only:
        j = j.filter(j.actor_id.notnull())
    return j


_BY = {"account": "account_id", "actor": "actor_id", "state": "state", "category": "category",
       "host_country": "host_country", "platform": "platform", "language": "lang"}


def _kind_counts(p):
    one, z = ibis.literal(1).cast("int64"), ibis.literal(0).cast("int64")
    return dict(posts=p.count(), originals=ibis.ifelse(p.kind == "post", one, z).sum(),
                reposts=ibis.ifelse(p.kind == "repost", one, z).sum(), quotes=ibis.ifelse(p.kind == "quote", one, z).sum(),
                replies=ibis.ifelse(p.kind == "reply", one, z).sum(), accounts=p.account_id.nunique())


def activity_over_time(tables, f, freq="month", by=None) -> ibis.Table:
    p = filtered_posts(tables, f)
    unit = {"day": "D", "week": "W", "month": "M"}[freq]
    group = p[_BY[by]].cast("string") if by else ibis.null().cast("string")
    p = p.mutate(period=p.created_at.truncate(unit).date(), group=group)
    return p.group_by(["period", "group"]).aggregate(**_kind_counts(p)).order_by(["period", "group"])


def growth_decomposition(tables, f, a_start, a_end, b_start, b_end) -> ibis.Table:
    lo, hi = min(a_start, b_start), max(a_end, b_end)
    p = filtered_posts(tables, dataclasses.replace(f, start=lo, end=hi))
    one, z = ibis.literal(1).cast("int64"), ibis.literal(0).cast("int64")
    in_a = (p.created_at >= a_start) & (p.created_at < a_end)
    in_b = (p.created_at >= b_start) & (p.created_at < b_end)
    per = p.group_by(["platform", "account_id"]).aggregate(
        posts_a=ibis.ifelse(in_a, one, z).sum(), posts_b=ibis.ifelse(in_b, one, z).sum())
    per = per.filter((per.posts_a > 0) | (per.posts_b > 0))
    both, new, gone = (per.posts_a > 0) & (per.posts_b > 0), per.posts_a == 0, per.posts_b == 0
    return per.aggregate(
        posts_a=per.posts_a.sum().cast("int64"), posts_b=per.posts_b.sum().cast("int64"),
        change=(per.posts_b.sum() - per.posts_a.sum()).cast("int64"),
        both_change=ibis.ifelse(both, per.posts_b - per.posts_a, z).sum().cast("int64"),
        new_posts=ibis.ifelse(new, per.posts_b, z).sum().cast("int64"),
        gone_posts=ibis.ifelse(gone, per.posts_a, z).sum().cast("int64"),
        accounts_both=ibis.ifelse(both, one, z).sum().cast("int64"),
        accounts_new=ibis.ifelse(new, one, z).sum().cast("int64"),
        accounts_gone=ibis.ifelse(gone, one, z).sum().cast("int64"))


def followers_over_time(tables, f) -> ibis.Table:
    s = tables.table("account_snapshots")
    acc = registered_accounts(tables)
    for col, attr in _POST_FILTERS[:5]:
        values = getattr(f, attr)
        if values:
            acc = acc.filter(acc[col].isin(list(values)))
    if f.registered_only:
        acc = acc.filter(acc.actor_id.notnull())
    acc = acc.select(a_platform="platform", a_account_id="account_id", handle="handle")
    j = s.join(acc, (s.platform == acc.a_platform) & (s.account_id == acc.a_account_id))
    if f.start is not None:
        j = j.filter(j.captured_at >= f.start)
    if f.end is not None:
        j = j.filter(j.captured_at < f.end)
    return j.select("platform", "account_id", "handle", "captured_at", "followers", "following").order_by(
        ["platform", "account_id", "captured_at"])


def _latest_metrics(tables):
    m = tables.table("post_metrics")
    m = m.mutate(rn=ibis.row_number().over(group_by=[m.platform, m.post_id], order_by=ibis.desc(m.captured_at)))
    return m.filter(m.rn == 0).select(m_platform="platform", m_post_id="post_id", likes="likes", reposts="reposts",
                                      replies="replies", quotes="quotes")


def top_posts(tables, f, n=20, metric="reposts") -> ibis.Table:
    p = filtered_posts(tables, f)
    m = _latest_metrics(tables)
    j = p.join(m, (p.platform == m.m_platform) & (p.post_id == m.m_post_id))
    j = j.select("platform", "post_id", "account_id", "handle", "created_at", "kind", "text", "likes", "reposts",
                 "replies", "quotes", "url")
    return j.order_by([ibis.desc(metric), "created_at"]).limit(n)


def _entity_rows(tables, f, entity):
    p = filtered_posts(tables, f).select("platform", "post_id", "account_id", "kind", "ref_account_id")
    if entity in ("hashtag", "mention", "url", "domain"):
        src, col = {"hashtag": ("post_hashtags", "tag_norm"), "mention": ("post_mentions", "handle_norm"),
                    "url": ("post_urls", "normalized_url"), "domain": ("post_urls", "domain")}[entity]
        c = tables.table(src)
        c = c.select(c_platform="platform", c_post_id="post_id", entity=c[col])
        j = p.join(c, (p.platform == c.c_platform) & (p.post_id == c.c_post_id))
        return j.filter(j.entity.notnull()).select("platform", "post_id", "account_id", "entity")
    kind = {"reposted_account": "repost", "quoted_account": "quote"}[entity]
    r = p.filter((p.kind == kind) & p.ref_account_id.notnull())
    acc = tables.table("accounts").select(a_platform="platform", a_account_id="account_id", a_handle="handle")
    j = r.left_join(acc, (r.platform == acc.a_platform) & (r.ref_account_id == acc.a_account_id))
    return j.select("platform", "post_id", "account_id", entity=ibis.coalesce(j.a_handle, j.ref_account_id))


def top_entities(tables, f, entity, n=20, previous=None) -> ibis.Table:
    cur = _entity_rows(tables, f, entity)
    top = (cur.group_by("entity").aggregate(count=cur.count(), posts=cur.post_id.nunique(),
                                             accounts=cur.account_id.nunique())
           .order_by([ibis.desc("count"), "entity"]).limit(n))
    if previous is None:
        out = top.mutate(prev_count=ibis.null().cast("int64"))
    else:
        prev = _entity_rows(tables, dataclasses.replace(f, start=previous[0], end=previous[1]), entity)
        prev = prev.group_by(p_entity=prev.entity).aggregate(prev_count=prev.count())
        out = top.left_join(prev, top.entity == prev.p_entity).select(*top.columns, "prev_count")
        out = out.mutate(prev_count=out.prev_count.fill_null(0))
    change = (out["count"] - out.prev_count).cast("int64")
    trend = ibis.cases((out.prev_count.isnull(), ibis.null().cast("string")), (out.prev_count == 0, "new"),
                       (change > 0, "rising"), (change < 0, "falling"), else_="steady")
    return out.mutate(change=change, trend=trend).order_by([ibis.desc("count"), "entity"])


def search_posts(store, query, f, page=1, per_page=20) -> dict:
    """Every term must occur (case-insensitive substring); score = occurrences of the terms; newest first on ties."""
    terms = [t for t in dict.fromkeys(query.lower().split()) if t][:8]
    empty = {"total": 0, "page": page, "per_page": per_page, "rows": []}
    if not terms:
        return empty
    p = filtered_posts(store, f)
    low = p.text.lower().fill_null("")
    for t in terms:
        p = p.filter(low.contains(t))
    score = sum(((low.length() - low.replace(t, "").length()) / len(t)) for t in terms)
    p = p.mutate(score=score.cast("float64"))
    total = int(p.count().execute())
    rows = (p.order_by([ibis.desc("score"), ibis.desc("created_at"), "post_id"])
            .limit(per_page, offset=(page - 1) * per_page)
            .select("platform", "post_id", "account_id", "handle", "created_at", "kind", "lang", "text", "score")
            .to_pyarrow().to_pylist())
    for r in rows:
        r["snippet"] = snippet(r["text"] or "", terms)
    return {"total": total, "page": page, "per_page": per_page, "rows": rows}


def snippet(text: str, terms: list[str], width: int = 240) -> dict:
    """A plain-text window of `text` around the first match, with the offsets of every match in it."""
    low = text.lower()
    first = min([i for i in (low.find(t) for t in terms) if i >= 0], default=0)
    start = max(0, first - width // 3) if len(text) > width else 0
    piece = text[start:start + width]
    lp = piece.lower()
    spans = []
    for t in terms:
        i = lp.find(t)
        while i >= 0:
            spans.append((i, i + len(t)))
            i = lp.find(t, i + len(t))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return {"text": piece, "matches": merged, "truncated_start": start > 0,
            "truncated_end": start + width < len(text)}
