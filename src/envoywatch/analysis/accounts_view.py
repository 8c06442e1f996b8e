"""Accounts joined with the registry: who is state-affiliated, as an Ibis expression.

An account matches a registry entry on the same platform by account id, or else by handle (case-folded).
Unregistered accounts keep NULL state and category.
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import analysis


def account_actor_map(tables) -> ibis.Table:
    """(platform, account_id, actor_id, match): one row per matched account; an id match beats a handle match."""
    acc = tables.table("accounts").select("platform", "account_id", "handle")
    reg = tables.table("registry_accounts")
    by_id = reg.filter(reg.account_id.notnull()).select(
        r_platform=reg.platform, r_account_id=reg.account_id, r_actor=reg.actor_id)
    m1 = acc.join(by_id, (acc.platform == by_id.r_platform) & (acc.account_id == by_id.r_account_id))
    m1 = m1.select(platform=m1.platform, account_id=m1.account_id, actor_id=m1.r_actor, match=ibis.literal(1))
    by_h = reg.select(h_platform=reg.platform, h_handle=reg.handle.lower(), h_actor=reg.actor_id)
    m2 = acc.join(by_h, (acc.platform == by_h.h_platform) & (acc.handle.lower() == by_h.h_handle))
    m2 = m2.select(platform=m2.platform, account_id=m2.account_id, actor_id=m2.h_actor, match=ibis.literal(2))
    both = m1.union(m2)
    ranked = both.mutate(rn=ibis.row_number().over(group_by=[both.platform, both.account_id],
                                                     order_by=[both.match, both.actor_id]))
    return ranked.filter(ranked.rn == 0).drop("rn", "match")


@analysis("registered_accounts")
def registered_accounts(tables) -> ibis.Table:
    """tables: anything with .table(name) -> Ibis table (a Store, or a Spark-backed accessor)."""
    acc = tables.table("accounts")
    amap = account_actor_map(tables)
    actors = tables.table("registry_actors").select(
        a_actor_id="actor_id", actor_name="name", state="state", category="category", host_country="host_country")
    j = acc.left_join(amap, ["platform", "account_id"]).select(*acc.columns, "actor_id")
    out = j.left_join(actors, j.actor_id == actors.a_actor_id)
    return out.select(*acc.columns, "actor_id", "actor_name", "state", "category", "host_country")
