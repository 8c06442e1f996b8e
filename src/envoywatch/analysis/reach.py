"""Reach and engagement: followers over time (account snapshots), engagement per post (post metrics).

Counts are snapshots (docs/schema.md): a post's engagement is its latest `post_metrics` row, an account's
reach its latest `account_snapshots` row (before the end of the window where one is given).
Reposts are left out of engagement unless the filters ask for kind 'repost': on X a repost carries the
counts of the original it reposts (or none), not its own, so it would blur the medians.
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import aggregates, analysis
from envoywatch.analysis.filters import Filters, as_datetime, check_choice, filtered_posts, group_accounts, group_expr

METRICS = ("likes", "reposts", "replies", "quotes", "views")


def latest_metrics(tables, posts: ibis.Table | None = None) -> ibis.Table:
    """The latest post_metrics snapshot per post: m_platform, m_post_id, likes, reposts, replies, quotes, views.
    `posts` (a table with platform, post_id): only those posts' snapshots, narrowed before the ranking, so an
    account page ranks its own posts' snapshots rather than every snapshot in the store."""
    m = tables.table("post_metrics")
    if posts is not None:
        k = posts.select(k_platform="platform", k_post_id="post_id")
        m = m.semi_join(k, (m.platform == k.k_platform) & (m.post_id == k.k_post_id))
    m = m.mutate(rn=ibis.row_number().over(group_by=[m.platform, m.post_id], order_by=ibis.desc(m.captured_at)))
    return m.filter(m.rn == 0).select(m_platform="platform", m_post_id="post_id", likes="likes", reposts="reposts",
                                      replies="replies", quotes="quotes", views="views")


def latest_followers(tables, end=None) -> ibis.Table:
    """The latest followers count per account (captured before `end` where given): s_platform, s_account_id, followers."""
    s = tables.table("account_snapshots")
    s = s.filter(s.followers.notnull())
    if end is not None:
        s = s.filter(s.captured_at < as_datetime(end, "end"))
    s = s.mutate(rn=ibis.row_number().over(group_by=[s.platform, s.account_id], order_by=ibis.desc(s.captured_at)))
    return s.filter(s.rn == 0).select(s_platform="platform", s_account_id="account_id", followers="followers")


def top_post_keys(tables, f: Filters, n: int = 20, metric: str = "reposts") -> ibis.Table | None:
    """top_posts without text and url, plus prow (the post's rowid: see aggregates.agg_post_metrics), from the
    derived table; None when it is not current. The dashboard fetches the n texts by rowid (milliseconds)
    where joining them by key would scan the posts' keys."""
    if not aggregates.is_current(tables):
        return None
    return _ranked(tables, f, n, metric, "prow")


def _ranked(tables, f: Filters, n: int, metric: str, *extra: str) -> ibis.Table:
    """The n filtered posts with the highest latest `metric` (then newest, then post_id): their key, author,
    time, kind, counts and the `extra` columns."""
    check_choice(metric, METRICS, "metric")
    j = _engagement_posts(tables, f)
    return (j.filter(j[metric].notnull())
            .select("platform", "post_id", "account_id", "handle", "created_at", "kind", "likes", "reposts",
                    "replies", "quotes", "views", *extra)
            .order_by(_order(metric)).limit(int(n)))


def _order(metric: str) -> list:
    return [ibis.desc(metric), ibis.desc("created_at"), "post_id"]


def _engagement_posts(tables, f: Filters) -> ibis.Table:
    """The filtered posts with their latest metrics (posts without a snapshot left out). From the derived
    agg_post_metrics when it is current (no text / url columns then), else from the posts and snapshots."""
    if aggregates.is_current(tables):
        j = aggregates.latest_metrics_posts(tables, f)
        return j if "repost" in f.kinds else j.filter(j.kind != "repost")
    p = filtered_posts(tables, f)
    if "repost" not in f.kinds:
        p = p.filter(p.kind != "repost")
    m = latest_metrics(tables, p)
    return p.join(m, (p.platform == m.m_platform) & (p.post_id == m.m_post_id))


@analysis("followers_over_time")
def followers_over_time(tables, f: Filters = Filters()) -> ibis.Table:
    """Every followers/following snapshot of the accounts the account-level filters select, in [start, end)."""
    s = tables.table("account_snapshots")
    acc = group_accounts(tables, f).select(a_platform="platform", a_account_id="account_id", handle="handle")
    j = s.join(acc, (s.platform == acc.a_platform) & (s.account_id == acc.a_account_id))
    if f.start is not None:
        j = j.filter(j.captured_at >= as_datetime(f.start, "start"))
    if f.end is not None:
        j = j.filter(j.captured_at < as_datetime(f.end, "end"))
    return (j.select("platform", "account_id", "handle", "captured_at", "followers", "following")
            .order_by(["platform", "account_id", "captured_at"]))


@analysis("engagement")
def engagement(tables, f: Filters = Filters(), by: str | None = "account") -> ibis.Table:
    """Per group: posts with a metrics snapshot, the medians of their latest likes / reposts / replies / quotes,
    and likes_per_follower = the group's total likes / the summed latest followers of the accounts that wrote
    those posts (NULL where no follower count is known)."""
    j = _engagement_posts(tables, f)
    j = j.mutate(group=group_expr(j, by))
    g = j.group_by("group").aggregate(
        posts=j.count().cast("int64"), median_likes=j.likes.median().cast("float64"),
        median_reposts=j.reposts.median().cast("float64"), median_replies=j.replies.median().cast("float64"),
        median_quotes=j.quotes.median().cast("float64"), total_likes=j.likes.sum().cast("float64"))
    # followers: once per account of the group that has posts here
    accts = j.select("group", "platform", "account_id").distinct()
    fol = latest_followers(tables, f.end)
    af = accts.join(fol, (accts.platform == fol.s_platform) & (accts.account_id == fol.s_account_id))
    af = af.group_by(f_group="group").aggregate(followers=af.followers.sum().cast("float64"))
    out = g.left_join(af, g.group.identical_to(af.f_group))
    lpf = ibis.ifelse(out.followers > 0, out.total_likes / out.followers, ibis.null().cast("float64"))
    return (out.select("group", "posts", "median_likes", "median_reposts", "median_replies", "median_quotes",
                       likes_per_follower=lpf)
            .order_by([ibis.desc("posts"), "group"]))


@analysis("top_posts")
def top_posts(tables, f: Filters = Filters(), n: int = 20, metric: str = "reposts") -> ibis.Table:
    """The n posts with the highest latest `metric` (likes, reposts, replies, quotes, views); text is raw."""
    if aggregates.is_current(tables):   # ranked in agg_post_metrics: the n top rows get text and url from the posts
        top = _ranked(tables, f, n, metric)
        p = tables.table("posts").select(t_platform="platform", t_post_id="post_id", text="text", url="url")
        j = top.join(p, (top.platform == p.t_platform) & (top.post_id == p.t_post_id))
    else:
        j = _ranked(tables, f, n, metric, "text", "url")
    return (j.select("platform", "post_id", "account_id", "handle", "created_at", "kind", "text", "likes", "reposts",
                     "replies", "quotes", "views", "url")
            .order_by(_order(metric)).limit(int(n)))
