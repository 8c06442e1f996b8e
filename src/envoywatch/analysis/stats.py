"""Store overview: counts by platform, state, category and month (envoywatch stats)."""

from __future__ import annotations

import ibis

from envoywatch.analysis import analysis
from envoywatch.analysis.accounts_view import registered_accounts


@analysis("stats_by_platform")
def by_platform(tables) -> ibis.Table:
    posts = tables.table("posts")
    acc = tables.table("accounts")
    p = posts.group_by("platform").aggregate(posts=posts.count(), first_post=posts.created_at.min(),
                                             last_post=posts.created_at.max())
    a = acc.group_by("platform").aggregate(accounts=acc.count())
    return p.outer_join(a, "platform").select(
        platform=ibis.coalesce(p.platform, a.platform), accounts=a.accounts.fill_null(0),
        posts=p.posts.fill_null(0), first_post=p.first_post, last_post=p.last_post).order_by("platform")


@analysis("stats_by_state_category")
def by_state_category(tables) -> ibis.Table:
    posts = tables.table("posts")
    acc = registered_accounts(tables)
    j = posts.join(acc, ["platform", "account_id"])
    return (j.group_by([j.state.fill_null("(unregistered)").name("state"),
                        j.category.fill_null("(unregistered)").name("category")])
            .aggregate(accounts=j.account_id.nunique(), posts=j.count())
            .order_by([ibis.desc("posts"), "state", "category"]))


@analysis("stats_by_month")
def by_month(tables) -> ibis.Table:
    posts = tables.table("posts")
    m = posts.created_at.truncate("M").date().name("month")
    return (posts.group_by([posts.platform, m])
            .aggregate(posts=posts.count(), accounts=posts.account_id.nunique())
            .order_by(["platform", "month"]))
