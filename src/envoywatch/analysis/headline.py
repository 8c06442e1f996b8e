"""Headline figures of a store (what `envoywatch demo` prints): Ibis expressions, never executed here.

- who is state-affiliated, by state and category (through the registry);
- monthly posts of the diplomatic accounts, and the change between two months split exactly into
  accounts active in both months, newly active accounts and accounts gone quiet;
- top hashtags, top linked domains with their registry classification;
- the share of reposts of state accounts that come from accounts labelled as a planted network
  (ground truth that exists only in simulated data).
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import analysis
from envoywatch.analysis.accounts_view import registered_accounts

DIPLOMATIC = ("ministry", "spokesperson", "head_of_mission", "mission", "other_official")
NETWORK_LABEL = "ground-truth:amplifier-network"


def _registered(tables) -> ibis.Table:
    acc = registered_accounts(tables)
    return acc.filter(acc.actor_id.notnull())


@analysis("headline_state_accounts")
def state_accounts(tables) -> ibis.Table:
    """Registered (state-affiliated) accounts present in the store, by state and category."""
    acc = _registered(tables)
    return (acc.group_by(["state", "category"]).aggregate(accounts=acc.count())
            .order_by([ibis.desc("accounts"), "state", "category"]))


def _diplomatic_posts(tables, state: str | None) -> ibis.Table:
    acc = _registered(tables)
    acc = acc.filter(acc.category.isin(DIPLOMATIC))
    if state:
        acc = acc.filter(acc.state == state)
    posts = tables.table("posts")
    j = posts.join(acc.select("platform", "account_id"), ["platform", "account_id"])
    return j.mutate(month=j.created_at.truncate("M").date())


@analysis("headline_diplomatic_monthly")
def diplomatic_monthly(tables, state: str | None = "CN") -> ibis.Table:
    """Posts per month of the diplomatic accounts (registry categories ministry ... other_official) of a state."""
    p = _diplomatic_posts(tables, state)
    return p.group_by("month").aggregate(accounts=p.account_id.nunique(), posts=p.count()).order_by("month")


@analysis("headline_growth_decomposition")
def growth_decomposition(tables, start_month, end_month, state: str | None = "CN") -> ibis.Table:
    """Change of the diplomatic accounts' monthly posts from start_month to end_month, in three exact parts.

    both:  accounts with posts in both months, their change (end - start);
    new:   accounts with posts in the end month only (newly created, or newly active), their end posts;
    gone:  accounts with posts in the start month only (gone quiet), their start posts.
    total change = both_change + new_posts - gone_posts, exactly (every account is in one part).
    """
    p = _diplomatic_posts(tables, state)
    per = p.group_by(["platform", "account_id", "month"]).aggregate(n=p.count())
    s = per.filter(per.month == ibis.literal(start_month).cast("date")).select(sp="platform", sa="account_id", s_n="n")
    e = per.filter(per.month == ibis.literal(end_month).cast("date")).select(ep="platform", ea="account_id", e_n="n")
    j = s.outer_join(e, (s.sp == e.ep) & (s.sa == e.ea))
    sn, en = j.s_n.fill_null(0), j.e_n.fill_null(0)
    both = j.s_n.notnull() & j.e_n.notnull()
    new = j.s_n.isnull()
    gone = j.e_n.isnull()
    z = ibis.literal(0).cast("int64")
    j = j.mutate(sn=sn, en=en, both=both, new=new, gone=gone)
    return j.aggregate(
        start_posts=j.sn.sum().cast("int64"), end_posts=j.en.sum().cast("int64"),
        change=(j.en.sum() - j.sn.sum()).cast("int64"),
        both_accounts=j.both.sum().cast("int64"),
        both_change=ibis.ifelse(j.both, j.en - j.sn, z).sum().cast("int64"),
        new_accounts=j.new.sum().cast("int64"), new_posts=ibis.ifelse(j.new, j.en, z).sum().cast("int64"),
        gone_accounts=j.gone.sum().cast("int64"), gone_posts=ibis.ifelse(j.gone, j.sn, z).sum().cast("int64"),
    )


@analysis("headline_top_hashtags")
def top_hashtags(tables, limit: int = 10) -> ibis.Table:
    """Most used hashtags (case-folded), with the number of posts and accounts using them."""
    h = tables.table("post_hashtags")
    posts = tables.table("posts").select("platform", "post_id", "account_id")
    j = h.join(posts, ["platform", "post_id"])
    return (j.group_by("tag_norm").aggregate(posts=j.count(), accounts=j.account_id.nunique())
            .order_by([ibis.desc("posts"), "tag_norm"]).limit(limit))


@analysis("headline_top_domains")
def top_domains(tables, limit: int = 10) -> ibis.Table:
    """Most linked registered domains, with the registry's classification where registry_domains has it."""
    u = tables.table("post_urls")
    u = u.filter(u.domain.notnull())
    d = u.group_by("domain").aggregate(links=u.count(), posts=u.post_id.nunique())
    reg = tables.table("registry_domains")
    reg = reg.group_by(r_domain=reg.domain).aggregate(state=reg.state.min(), kind=reg.kind.min(), outlet=reg.outlet.min())
    j = d.left_join(reg, d.domain == reg.r_domain)
    return (j.select("domain", "links", "posts", "kind", "state", "outlet")
            .order_by([ibis.desc("links"), "domain"]).limit(limit))


@analysis("headline_network_repost_share")
def network_repost_share(tables, label: str = NETWORK_LABEL) -> ibis.Table:
    """Reposts of registered state accounts, and how many come from accounts carrying `label`.

    The label exists only in simulated data (envoywatch demo): it is the ground truth of the planted
    networks, not a detection. One row: reposts, from_network, share, network_accounts.
    """
    posts = tables.table("posts")
    r = posts.filter((posts.kind == "repost") & posts.ref_account_id.notnull())
    st = _registered(tables).select(s_platform="platform", s_account_id="account_id")
    r = r.join(st, (r.platform == st.s_platform) & (r.ref_account_id == st.s_account_id))
    acc = tables.table("accounts")
    acc = acc.select(a_platform="platform", a_account_id="account_id",
                     planted=acc.labels.contains(label).fill_null(False))
    j = r.left_join(acc, (r.platform == acc.a_platform) & (r.account_id == acc.a_account_id))
    planted = j.planted.fill_null(False)
    j = j.mutate(planted=planted)
    out = j.aggregate(reposts=j.count(), from_network=j.planted.sum().cast("int64"),
                      network_accounts=j.account_id.nunique(where=j.planted))
    return out.mutate(share=ibis.ifelse(out.reposts > 0, out.from_network / out.reposts, 0.0))
