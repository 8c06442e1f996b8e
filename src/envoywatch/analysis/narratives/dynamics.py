"""Narrative dynamics as Ibis expressions over the cached assignments (post_narratives) and the posts.

- `narratives.posts`: the filtered posts with their narratives (a post and narrative once, whatever the method).
- `narratives.share`: per period and group, posts, posts with the narrative, share.
- `narratives.shifts`: when and how significantly a narrative's share in a group changes (two-proportion z-test
  of each period against the `baseline` periods before it, Bonferroni-adjusted over every tested cell).
- `narratives.leaders`: per narrative and period, which accounts post it first, and each account's lag.
- `narratives.followers`: pairs leader -> follower: how often B posts a narrative within `window_hours` after A
  first did in the same period, and the median lag.
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import analysis
from envoywatch.analysis.filters import FREQ_UNITS, Filters, check_choice, filtered_posts, group_expr
from envoywatch.analysis.narratives.assign import METHODS
from envoywatch.analysis.narratives.cache import cache_table

SHIFT_ALPHA = 0.01        # family-wise error rate after the Bonferroni adjustment
SHIFT_BASELINE = 4        # periods before the tested one that form its baseline
SHIFT_MIN_POSTS = 20      # posts needed in the tested period and in the baseline
SHIFT_MIN_CHANGE = 0.05   # the share must move by at least 5 percentage points (an effect size, not only a p-value)
_MONDAY_1970 = 4 * 86400  # 1970-01-05, the first Monday after the epoch: ISO weeks start on Mondays


def narrative_posts(tables, f: Filters = Filters(), methods=None, narratives=None) -> ibis.Table:
    """filtered_posts joined with post_narratives: one row per (post, narrative), with `score` (best) and
    `methods` ('embedding', 'pattern' or 'embedding+pattern')."""
    pn = cache_table(tables, "post_narratives")
    if methods:
        methods = (methods,) if isinstance(methods, str) else tuple(methods)
        for m in methods:
            check_choice(m, METHODS, "method")
        pn = pn.filter(pn.method.isin(list(methods)))
    if narratives:
        pn = pn.filter(pn.narrative.isin(list(narratives)))
    per = pn.group_by(["platform", "post_id", "narrative"]).aggregate(
        score=pn.score.max(), n_methods=pn.method.nunique(), first_method=pn.method.min(), last_method=pn.method.max())
    per = per.mutate(methods=ibis.ifelse(per.n_methods > 1, per.first_method + "+" + per.last_method,
                                         per.first_method)).drop("n_methods", "first_method", "last_method")
    p = filtered_posts(tables, f)
    per = per.rename(n_platform="platform", n_post_id="post_id")
    j = p.join(per, (p.platform == per.n_platform) & (p.post_id == per.n_post_id))
    return j.select(*p.columns, "narrative", "score", "methods")


analysis("narratives.posts")(narrative_posts)


def _period(t: ibis.Table, freq: str):
    unit = FREQ_UNITS[check_choice(freq, list(FREQ_UNITS), "freq")]
    return t.created_at.truncate(unit).date()


def _period_index(t: ibis.Table, freq: str):
    """An integer that grows by one per period (weeks from a Monday; months as year*12+month)."""
    if freq == "month":
        return (t.created_at.year() * 12 + t.created_at.month()).cast("int64")
    secs = t.created_at.epoch_seconds().cast("int64")
    if freq == "day":
        return (secs // 86400).cast("int64")
    return ((secs - _MONDAY_1970) // (7 * 86400)).cast("int64")


def _counts(tables, f: Filters, freq: str, by, methods, narratives) -> ibis.Table:
    """Every (period, group, narrative) with posts (all posts of the group in the period) and n (with the
    narrative), including n = 0 where the group posted but not that narrative."""
    p = filtered_posts(tables, f)
    p = p.mutate(period=_period(p, freq), idx=_period_index(p, freq), group=group_expr(p, by))
    totals = p.group_by(["period", "idx", "group"]).aggregate(posts=p.count().cast("int64"))
    np_ = narrative_posts(tables, f, methods, narratives)
    np_ = np_.mutate(period=_period(np_, freq), group=group_expr(np_, by))
    hits = np_.group_by(["period", "group", "narrative"]).aggregate(n=np_.count().cast("int64"))
    names = hits.select("narrative").distinct()
    grid = totals.cross_join(names)
    hits = hits.rename(h_period="period", h_group="group", h_narrative="narrative")
    same_group = ((grid.group == hits.h_group) | (grid.group.isnull() & hits.h_group.isnull()))
    j = grid.left_join(hits, (grid.period == hits.h_period) & same_group & (grid.narrative == hits.h_narrative))
    j = j.select("period", "idx", "group", "narrative", "posts", n=j.n.fill_null(0).cast("int64"))
    return j


@analysis("narratives.share")
def narrative_share(tables, f: Filters = Filters(), freq: str = "week", by: str | None = None, methods=None,
                    narratives=None) -> ibis.Table:
    """period, group, narrative, posts (all posts of the group in the period), n (posts with the narrative),
    share = n / posts. Zero rows are kept where the group posted in the period."""
    c = _counts(tables, f, freq, by, methods, narratives)
    return c.mutate(share=(c.n / c.posts).cast("float64")).drop("idx").order_by(["period", "group", "narrative"])


def _erfc(x):
    """erfc(x) for x >= 0 with fractional error < 1.2e-7 (Numerical Recipes' erfcc, Chebyshev fit): SQL has
    no normal distribution function, and a relative error keeps tiny p-values right for the Bonferroni test."""
    t = 1.0 / (1.0 + 0.5 * x)
    coef = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
            -0.82215223, 0.17087277]
    poly = coef[-1]
    for c in reversed(coef[:-1]):
        poly = c + t * poly
    return t * (-x * x + poly).exp()


@analysis("narratives.shifts")
def narrative_shifts(tables, f: Filters = Filters(), freq: str = "week", by: str | None = None, methods=None,
                     narratives=None, baseline: int = SHIFT_BASELINE, alpha: float = SHIFT_ALPHA,
                     min_posts: int = SHIFT_MIN_POSTS, min_change: float = SHIFT_MIN_CHANGE) -> ibis.Table:
    """Per (group, narrative, period) that can be tested: share, baseline_share (the `baseline` periods before,
    pooled), change, z, p_value (two-sided), tests (cells tested: the Bonferroni family), p_adjusted =
    min(1, p_value * tests), significant (p_adjusted < alpha and |change| >= min_change), direction
    (rise | fall), onset (significant, and the period before was not significant in the same direction)."""
    c = _counts(tables, f, freq, by, methods, narratives)
    b = c.select(b_group="group", b_narrative="narrative", b_idx="idx", b_posts="posts", b_n="n")
    same_group = (c.group == b.b_group) | (c.group.isnull() & b.b_group.isnull())
    j = c.join(b, same_group & (c.narrative == b.b_narrative) & (b.b_idx >= c.idx - int(baseline))
               & (b.b_idx < c.idx))
    base = j.group_by(["period", "idx", "group", "narrative", "posts", "n"]).aggregate(
        base_posts=j.b_posts.sum().cast("int64"), base_n=j.b_n.sum().cast("int64"))
    base = base.filter((base.posts >= int(min_posts)) & (base.base_posts >= int(min_posts)))
    p2 = base.n / base.posts
    p1 = base.base_n / base.base_posts
    pool = (base.n + base.base_n) / (base.posts + base.base_posts)
    se = (pool * (1 - pool) * (1.0 / base.posts + 1.0 / base.base_posts)).sqrt()
    z = ibis.ifelse(se > 0, (p2 - p1) / se, 0.0)
    t = base.mutate(share=p2.cast("float64"), baseline_share=p1.cast("float64"), change=(p2 - p1).cast("float64"),
                    z=z.cast("float64"))
    t = t.mutate(p_value=ibis.least(_erfc(t.z.abs() / 2 ** 0.5), 1.0).cast("float64"),
                 tests=t.count().over(ibis.window()).cast("int64"))
    t = t.mutate(p_adjusted=ibis.least(t.p_value * t.tests, 1.0).cast("float64"))
    t = t.mutate(significant=(t.p_adjusted < float(alpha)) & (t.change.abs() >= float(min_change)),
                 direction=ibis.ifelse(t.change >= 0, "rise", "fall"))
    w = ibis.window(group_by=[t.group, t.narrative], order_by=t.idx)
    prev_sig = t.significant.lag().over(w)
    prev_dir = t.direction.lag().over(w)
    prev_idx = t.idx.lag().over(w)
    continued = prev_sig.fill_null(False) & (prev_dir == t.direction) & (prev_idx == t.idx - 1)
    t = t.mutate(onset=t.significant & ~continued.fill_null(False))
    return t.drop("idx").rename(base_n_posts="base_posts").order_by(["group", "narrative", "period"])


def _first_posts(tables, f: Filters, freq: str, methods, narratives) -> ibis.Table:
    np_ = narrative_posts(tables, f, methods, narratives)
    np_ = np_.mutate(period=_period(np_, freq))
    return np_.group_by(["narrative", "period", "platform", "account_id"]).aggregate(
        handle=np_.handle.max(), first_at=np_.created_at.min(), posts=np_.count().cast("int64"))


@analysis("narratives.leaders")
def narrative_leaders(tables, f: Filters = Filters(), freq: str = "month", methods=None, narratives=None,
                      n: int | None = None) -> ibis.Table:
    """narrative, period, platform, account_id, handle, first_at (the account's first post of the narrative in the
    period), posts, lag_hours (after the period's first post of the narrative), rank (1 = the leader)."""
    fp = _first_posts(tables, f, freq, methods, narratives)
    w = ibis.window(group_by=[fp.narrative, fp.period])
    first = fp.first_at.min().over(w)
    rank = ibis.row_number().over(ibis.window(group_by=[fp.narrative, fp.period],
                                              order_by=[fp.first_at, fp.account_id])) + 1
    out = fp.mutate(lag_hours=((fp.first_at.epoch_seconds() - first.epoch_seconds()) / 3600.0).cast("float64"),
                    rank=rank.cast("int64"))
    if n:
        out = out.filter(out["rank"] <= int(n))
    return out.order_by(["narrative", "period", "rank"])


@analysis("narratives.followers")
def narrative_followers(tables, f: Filters = Filters(), freq: str = "month", window_hours: float = 72.0,
                        methods=None, narratives=None, min_times: int = 1) -> ibis.Table:
    """leader_account_id, leader_handle, follower_account_id, follower_handle, times (narrative-periods in which
    the follower's first post came within window_hours after the leader's first post), narratives (distinct),
    median_lag_hours."""
    fp = _first_posts(tables, f, freq, methods, narratives)
    a = fp.select(a_narr="narrative", a_period="period", a_platform="platform", a_id="account_id",
                  a_handle="handle", a_at="first_at")
    b = fp.select(b_narr="narrative", b_period="period", b_platform="platform", b_id="account_id",
                  b_handle="handle", b_at="first_at")
    j = a.join(b, (a.a_narr == b.b_narr) & (a.a_period == b.b_period) & (a.a_platform == b.b_platform)
               & (a.a_id != b.b_id))
    lag = (j.b_at.epoch_seconds() - j.a_at.epoch_seconds()) / 3600.0
    j = j.mutate(lag_hours=lag.cast("float64"))
    j = j.filter((j.lag_hours > 0) | ((j.lag_hours == 0) & (j.a_id < j.b_id)))
    j = j.filter(j.lag_hours <= float(window_hours))
    out = j.group_by(platform=j.a_platform, leader_account_id=j.a_id, follower_account_id=j.b_id).aggregate(
        leader_handle=j.a_handle.max(), follower_handle=j.b_handle.max(), times=j.count().cast("int64"),
        narratives=j.a_narr.nunique().cast("int64"), median_lag_hours=j.lag_hours.median().cast("float64"))
    out = out.filter(out.times >= int(min_times))
    return out.order_by([ibis.desc("times"), "leader_account_id", "follower_account_id"])
