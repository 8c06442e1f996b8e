"""Activity: posts over time by group, growth between two periods split exactly, onboarding.

Definitions (docs/analysis/monitoring.md):
- a post counts for its author (posts.account_id), whatever way it reached the store (its own timeline
  or embedded in another post);
- originals are kind 'post'; reposts, quotes and replies are the other kinds (a repost wins over a
  quote, a quote over a reply, as the importers decide);
- growth compares two half-open windows [a_start, a_end) and [b_start, b_end) per account
  (platform, account_id): every account with posts in either window is in exactly one of
  both / new / gone, so change == both_change + new_posts - gone_posts holds by construction.
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import aggregates, analysis
from envoywatch.analysis.filters import (FREQ_UNITS, Filters, as_datetime, check_choice, filtered_posts,
                                         group_accounts, group_expr, window)

_ZERO = ibis.literal(0).cast("int64")
_ONE = ibis.literal(1).cast("int64")


def kind_counts(p: ibis.Table) -> dict:
    """posts, originals, reposts, quotes, replies, accounts (distinct platform + account id)."""
    def n(kind):
        return ibis.ifelse(p.kind == kind, _ONE, _ZERO).sum().cast("int64")

    return dict(posts=p.count().cast("int64"), originals=n("post"), reposts=n("repost"), quotes=n("quote"),
                replies=n("reply"), accounts=(p.platform + ":" + p.account_id).nunique().cast("int64"))


def summed_kind_counts(a: ibis.Table) -> dict:
    """kind_counts over aggregate rows (analysis/aggregates.py: a `posts` count per account, day and kind)."""
    def n(kind):
        return ibis.ifelse(a.kind == kind, a.posts, _ZERO).sum().cast("int64")

    return dict(posts=a.posts.sum().cast("int64"), originals=n("post"), reposts=n("repost"), quotes=n("quote"),
                replies=n("reply"), accounts=a.acc.nunique().cast("int64"))   # acc: one number per author


@analysis("activity_over_time")
def activity_over_time(tables, f: Filters = Filters(), freq: str = "month", by: str | None = None) -> ibis.Table:
    """Posts per period (start of day / ISO week (Monday) / month) and group, split by kind."""
    unit = FREQ_UNITS[check_choice(freq, list(FREQ_UNITS), "freq")]
    if by != "language" and aggregates.usable(tables, f):
        a = aggregates.account_days(tables, f, months=freq == "month")
        a = a.mutate(period=a.day.cast("timestamp").truncate(unit).date(), group=group_expr(a, by))
        return a.group_by(["period", "group"]).aggregate(**summed_kind_counts(a)).order_by(["period", "group"])
    p = filtered_posts(tables, f)
    p = p.mutate(period=p.created_at.truncate(unit).date(), group=group_expr(p, by))
    return p.group_by(["period", "group"]).aggregate(**kind_counts(p)).order_by(["period", "group"])


@analysis("activity_figures")
def activity_figures(tables, f: Filters = Filters()) -> ibis.Table:
    """One row: posts, accounts, registered_accounts, states, originals, reposts, quotes, replies, first_post,
    last_post of the filtered posts (the kind sums are NULL when nothing is selected)."""
    if aggregates.usable(tables, f):
        a = aggregates.account_days(tables, f)
        k = summed_kind_counts(a)
        return a.aggregate(
            posts=k["posts"].fill_null(0), accounts=a.account_id.nunique(),
            registered_accounts=a.account_id.nunique(where=a.actor_id.notnull()), states=a.state.nunique(),
            originals=k["originals"], reposts=k["reposts"], quotes=k["quotes"], replies=k["replies"],
            first_post=a.first_at.min(), last_post=a.last_at.max())
    p = filtered_posts(tables, f)
    k = kind_counts(p)
    return p.aggregate(
        posts=k["posts"], accounts=p.account_id.nunique(),
        registered_accounts=p.account_id.nunique(where=p.actor_id.notnull()), states=p.state.nunique(),
        originals=k["originals"], reposts=k["reposts"], quotes=k["quotes"], replies=k["replies"],
        first_post=p.created_at.min(), last_post=p.created_at.max())


@analysis("top_accounts")
def top_accounts(tables, f: Filters = Filters(), n: int = 20, offset: int = 0) -> ibis.Table:
    """The n most active accounts (posts desc, then platform, account_id) from `offset`: handle, display_name,
    state, category, posts, originals, reposts, quotes, replies, first_post, last_post."""
    if aggregates.usable(tables, f):
        a = aggregates.account_days(tables, f)
        k = summed_kind_counts(a)
        g = a.group_by(["platform", "account_id"]).aggregate(
            handle=a.handle.max(), display_name=a.display_name.max(), state=a.state.max(),
            category=a.category.max(), posts=k["posts"], originals=k["originals"], reposts=k["reposts"],
            quotes=k["quotes"], replies=k["replies"], first_post=a.first_at.min(), last_post=a.last_at.max())
    else:
        p = filtered_posts(tables, f)
        k = kind_counts(p)
        g = p.group_by(["platform", "account_id"]).aggregate(
            handle=p.handle.max(), display_name=p.display_name.max(), state=p.state.max(),
            category=p.category.max(), posts=k["posts"], originals=k["originals"], reposts=k["reposts"],
            quotes=k["quotes"], replies=k["replies"], first_post=p.created_at.min(), last_post=p.created_at.max())
    return g.order_by([ibis.desc("posts"), "platform", "account_id"]).limit(int(n), offset=int(offset))


def _window_counts(tables, f: Filters, lo, hi, name: str) -> ibis.Table:
    a = aggregates.account_days(tables, window(f, lo, hi))
    return a.group_by(["platform", "account_id"]).aggregate(handle=a.handle.max(),
                                                          **{name: a.posts.sum().cast("int64")})


def _per_account_ab(tables, f: Filters, a_start, a_end, b_start, b_end) -> ibis.Table:
    a_start, a_end = as_datetime(a_start, "a_start"), as_datetime(a_end, "a_end")
    b_start, b_end = as_datetime(b_start, "b_start"), as_datetime(b_end, "b_end")
    if all(aggregates.usable(tables, window(f, lo, hi)) for lo, hi in ((a_start, a_end), (b_start, b_end))):
        # each window summed on its own (a month row may straddle the two windows' common edge)
        wa = _window_counts(tables, f, a_start, a_end, "posts_a")
        wb = _window_counts(tables, f, b_start, b_end, "posts_b").rename(b_platform="platform",
                                                                          b_account_id="account_id",
                                                                          b_handle="handle")
        j = wa.outer_join(wb, (wa.platform == wb.b_platform) & (wa.account_id == wb.b_account_id))
        per = j.select(platform=ibis.coalesce(j.platform, j.b_platform),
                       account_id=ibis.coalesce(j.account_id, j.b_account_id),
                       handle=ibis.coalesce(j.handle, j.b_handle), posts_a=j.posts_a.fill_null(0).cast("int64"),
                       posts_b=j.posts_b.fill_null(0).cast("int64"))
        return per.filter((per.posts_a > 0) | (per.posts_b > 0))
    p = filtered_posts(tables, window(f, min(a_start, b_start), max(a_end, b_end)))
    in_a = (p.created_at >= a_start) & (p.created_at < a_end)
    in_b = (p.created_at >= b_start) & (p.created_at < b_end)
    per = p.group_by(["platform", "account_id"]).aggregate(
        handle=p.handle.max(), posts_a=ibis.ifelse(in_a, _ONE, _ZERO).sum().cast("int64"),
        posts_b=ibis.ifelse(in_b, _ONE, _ZERO).sum().cast("int64"))
    return per.filter((per.posts_a > 0) | (per.posts_b > 0))


@analysis("growth_by_account")
def growth_by_account(tables, f: Filters, a_start, a_end, b_start, b_end) -> ibis.Table:
    """Per account: posts in window a and in window b, and status both | new (b only) | gone (a only).
    The windows replace the time filter of f."""
    per = _per_account_ab(tables, f, a_start, a_end, b_start, b_end)
    status = ibis.cases(((per.posts_a > 0) & (per.posts_b > 0), "both"), (per.posts_a > 0, "gone"), else_="new")
    return (per.mutate(status=status)
            .select("account_id", "handle", "posts_a", "posts_b", "status", "platform")
            .order_by([ibis.desc("posts_b"), ibis.desc("posts_a"), "platform", "account_id"]))


@analysis("growth_decomposition")
def growth_decomposition(tables, f: Filters, a_start, a_end, b_start, b_end) -> ibis.Table:
    """One row: change of posts from window a to window b = both_change + new_posts - gone_posts, exactly."""
    per = _per_account_ab(tables, f, a_start, a_end, b_start, b_end)
    both = (per.posts_a > 0) & (per.posts_b > 0)
    new = per.posts_a == 0
    gone = per.posts_b == 0

    def s(expr):
        return expr.sum().fill_null(0).cast("int64")

    return per.aggregate(
        posts_a=s(per.posts_a), posts_b=s(per.posts_b), change=s(per.posts_b - per.posts_a),
        both_change=s(ibis.ifelse(both, per.posts_b - per.posts_a, _ZERO)),
        new_posts=s(ibis.ifelse(new, per.posts_b, _ZERO)),
        gone_posts=s(ibis.ifelse(gone, per.posts_a, _ZERO)),
        accounts_both=s(ibis.ifelse(both, _ONE, _ZERO)),
        accounts_new=s(ibis.ifelse(new, _ONE, _ZERO)),
        accounts_gone=s(ibis.ifelse(gone, _ONE, _ZERO)))


@analysis("onboarding")
def onboarding(tables, f: Filters = Filters()) -> ibis.Table:
    """Per month: accounts created (accounts.created_at) and accounts whose first post in the store falls in
    that month, among the accounts the account-level filters select. The first post is taken over all the
    account's posts (kind and language filters do not move it); the time window selects the months."""
    acc = group_accounts(tables, f).select("platform", "account_id", "created_at")
    created = acc.filter(acc.created_at.notnull())
    created = created.group_by(c_month=created.created_at.truncate("M").date()).aggregate(
        accounts_created=created.count().cast("int64"))
    p = tables.table("posts")
    first = p.group_by(["platform", "account_id"]).aggregate(first_at=p.created_at.min())
    g = acc.select(g_platform="platform", g_account_id="account_id")
    first = first.join(g, (first.platform == g.g_platform) & (first.account_id == g.g_account_id))
    first = first.group_by(f_month=first.first_at.truncate("M").date()).aggregate(
        first_posts=first.count().cast("int64"))
    j = created.outer_join(first, created.c_month == first.f_month)
    out = j.select(month=ibis.coalesce(j.c_month, j.f_month),
                   accounts_created=j.accounts_created.fill_null(0).cast("int64"),
                   first_posts=j.first_posts.fill_null(0).cast("int64"))
    if f.start is not None:
        s0 = as_datetime(f.start, "start")
        out = out.filter(out.month >= s0.date().replace(day=1))
    if f.end is not None:
        out = out.filter(out.month < as_datetime(f.end, "end").date())
    return out.order_by("month")
