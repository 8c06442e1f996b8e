"""What they share, at a glance: top hashtags, mentions, reposted / quoted accounts, URLs and domains,
with the change against the previous period.

Entities (one row per occurrence):
- hashtag: post_hashtags.tag_norm (case-folded; one row per distinct tag per post)
- mention: post_mentions.handle_norm (lower-cased handle; one row per distinct handle per post)
- reposted_account / quoted_account: the author of what a post of kind repost / quote refers to
  (posts.ref_account_id), shown as that account's handle where the store knows it, else its id
- url: post_urls.normalized_url; domain: post_urls.domain (registered domain), one row per link
`count` counts occurrences, `posts` distinct posts, `accounts` distinct authors.
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import aggregates, analysis
from envoywatch.analysis.filters import Filters, check_choice, filtered_posts, previous_window, window

ENTITIES = ("hashtag", "mention", "reposted_account", "quoted_account", "url", "domain")
_CHILD = {"hashtag": ("post_hashtags", "tag_norm"), "mention": ("post_mentions", "handle_norm"),
          "url": ("post_urls", "normalized_url"), "domain": ("post_urls", "domain")}


def entity_rows(tables, f: Filters, entity: str) -> ibis.Table:
    """One row per occurrence: platform, post_id, account_id, entity."""
    check_choice(entity, ENTITIES, "entity")
    p = filtered_posts(tables, f).select("platform", "post_id", "account_id", "kind", "ref_account_id")
    if entity in _CHILD:
        src, col = _CHILD[entity]
        c = tables.table(src)
        c = c.filter(c[col].notnull()).select(c_platform="platform", c_post_id="post_id", entity=c[col])
        j = p.join(c, (p.platform == c.c_platform) & (p.post_id == c.c_post_id))
        return j.select("platform", "post_id", "account_id", "entity")
    kind = {"reposted_account": "repost", "quoted_account": "quote"}[entity]
    r = p.filter((p.kind == kind) & p.ref_account_id.notnull())
    acc = tables.table("accounts").select(a_platform="platform", a_account_id="account_id", a_handle="handle")
    j = r.left_join(acc, (r.platform == acc.a_platform) & (r.ref_account_id == acc.a_account_id))
    return j.select("platform", "post_id", "account_id", entity=ibis.coalesce(j.a_handle, j.ref_account_id))


def _counts(rows: ibis.Table) -> ibis.Table:
    return rows.group_by("entity").aggregate(
        count=rows.count().cast("int64"),
        posts=(rows.platform + ":" + rows.post_id).nunique().cast("int64"),
        accounts=(rows.platform + ":" + rows.account_id).nunique().cast("int64"))


@analysis("top_entities")
def top_entities(tables, f: Filters, entity: str, n: int = 20,
                 previous: tuple | None = None) -> ibis.Table:
    """The n most frequent entities in the filtered posts (count desc, then entity), with prev_count in the
    previous window, change = count - prev_count and trend: new (prev_count 0), rising (change > 0),
    falling (change < 0), steady (0). previous=None takes the window of the same length just before
    [f.start, f.end); without both ends there is no previous window and prev_count/change/trend are NULL."""
    check_choice(entity, ENTITIES, "entity")
    prev_win = tuple(previous) if previous is not None else previous_window(f)
    # the per-account-day aggregates answer when they are current and the filters allow (same figures)
    fast = entity in aggregates.ENTITY_TYPES and aggregates.usable(tables, f) and (
        prev_win is None or aggregates.usable(tables, window(f, prev_win[0], prev_win[1])))
    if fast:
        rows = aggregates.entity_days(tables, f, entity)
        # per (entity, author number) first, then per entity: no DISTINCT aggregate, for which DuckDB would
        # materialize every row next to the sums (70 % of the query at 10M posts)
        per = rows.group_by(["entity", "acc"]).aggregate(n=rows.n.sum(), posts=rows.posts.sum())
        counts = per.group_by("entity").aggregate(
            count=per.n.sum().cast("int64"), posts=per.posts.sum().cast("int64"), accounts=per.count().cast("int64"))
    else:
        counts = _counts(entity_rows(tables, f, entity))
    top = counts.order_by([ibis.desc("count"), "entity"]).limit(int(n))
    if prev_win is None:
        return top.mutate(prev_count=ibis.null().cast("int64"), change=ibis.null().cast("int64"),
                          trend=ibis.null().cast("string")).order_by([ibis.desc("count"), "entity"])
    if fast:
        prev = aggregates.entity_days(tables, window(f, prev_win[0], prev_win[1]), entity)
        prev = prev.group_by(p_entity=prev.entity).aggregate(prev_count=prev.n.sum().cast("int64"))
    else:
        prev = entity_rows(tables, window(f, prev_win[0], prev_win[1]), entity)
        prev = prev.group_by(p_entity=prev.entity).aggregate(prev_count=prev.count().cast("int64"))
    out = top.left_join(prev, top.entity == prev.p_entity).select(*top.columns, "prev_count")
    out = out.mutate(prev_count=out.prev_count.fill_null(0).cast("int64"))
    change = (out["count"] - out.prev_count).cast("int64")
    trend = ibis.cases((out.prev_count == 0, "new"), (change > 0, "rising"), (change < 0, "falling"),
                       else_="steady")
    return out.mutate(change=change, trend=trend).order_by([ibis.desc("count"), "entity"])
