"""Profiles of coordination groups on the store: top domains, top content, active period, and which
registered state accounts each group amplifies (issue 4, item 2; the engine is analysis/coordination).

Input: the account -> group mapping that `coordination.groups` returns (or any such mapping).
Definitions (docs/analysis/inauthenticity.md, "Group profiles"):
* posts of a group = every post in the store whose author is a member (all kinds);
* active_from / active_to = first / last of those posts; posts = their number;
* top_domains = registered domains of the links in the members' posts, by number of posts;
* top_content = the referenced posts most often reposted / quoted / replied to by members (by number of
  member posts), with their author and text where the store holds them;
* amplified = registered state accounts that members amplify (amplification.amplifications): handle,
  number of member posts, and that number over the group's posts (share_of_group_posts).
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import analysis


def _members(membership: dict) -> ibis.Table:
    import pyarrow as pa

    return ibis.memtable(pa.table({"m_account_id": pa.array(list(membership), pa.string()),
                                   "grp": pa.array([int(v) for v in membership.values()], pa.int64())}))


def group_posts(tables, membership: dict) -> ibis.Table:
    p = tables.table("posts")
    m = _members(membership)
    j = p.join(m, p.account_id == m.m_account_id)
    return j.select("grp", "platform", "post_id", "account_id", "kind", "created_at", "ref_post_id", "ref_account_id")


def _ranked(t: ibis.Table, key: str, top: int) -> ibis.Table:
    t = t.mutate(rk=ibis.row_number().over(group_by=t.grp, order_by=[ibis.desc(t.n), t[key]]))
    return t.filter(t.rk < top)


@analysis("coordination.group_profile")
def group_profiles(tables, membership: dict[str, int], top: int = 5) -> list[dict]:
    """One dict per group: group, members, posts, active_from, active_to, top_domains, top_content, amplified."""
    from envoywatch.analysis.amplification import amplifications

    if not membership:
        return []
    gp = group_posts(tables, membership).view()
    period = gp.group_by("grp").aggregate(members=gp.account_id.nunique(), posts=gp.count(),
                                          active_from=gp.created_at.min(), active_to=gp.created_at.max())
    urls = tables.table("post_urls")
    d = gp.join(urls, (gp.platform == urls.platform) & (gp.post_id == urls.post_id))
    d = d.filter(d.domain.notnull()).group_by(["grp", "domain"]).aggregate(n=d.post_id.nunique())
    d = _ranked(d, "domain", top)
    c = gp.filter(gp.kind.isin(("repost", "quote", "reply")) & gp.ref_post_id.notnull())
    c = c.group_by(["grp", "platform", "ref_post_id"]).aggregate(n=c.count(), ref_author=c.ref_account_id.max())
    c = _ranked(c, "ref_post_id", top)
    o = tables.table("posts").view().select(o_platform="platform", o_post_id="post_id", o_text="text",
                                              o_author="account_id")
    c = c.left_join(o, (c.platform == o.o_platform) & (c.ref_post_id == o.o_post_id))
    acc = tables.table("accounts").select(a_platform="platform", a_account_id="account_id", a_handle="handle")
    c = c.mutate(author=ibis.coalesce(c.ref_author, c.o_author))
    c = c.left_join(acc, (c.platform == acc.a_platform) & (c.author == acc.a_account_id))
    a = amplifications(tables).view()
    m = _members(membership)
    a = a.join(m, a.account_id == m.m_account_id)
    a = a.group_by(["grp", "state_account_id", "state_handle"]).aggregate(n=a.count())
    a = _ranked(a, "state_account_id", top)

    out = {r["grp"]: {"group": r["grp"], "members": r["members"], "posts": r["posts"],
                      "active_from": r["active_from"], "active_to": r["active_to"],
                      "top_domains": [], "top_content": [], "amplified": []}
           for r in period.to_pyarrow().to_pylist()}
    for r in d.order_by(["grp", "rk"]).to_pyarrow().to_pylist():
        out[r["grp"]]["top_domains"].append({"domain": r["domain"], "posts": r["n"]})
    for r in c.order_by(["grp", "rk"]).to_pyarrow().to_pylist():
        out[r["grp"]]["top_content"].append({"post_id": r["ref_post_id"], "member_posts": r["n"],
                                             "author": r["a_handle"] or r["author"], "text": r["o_text"]})
    for r in a.order_by(["grp", "rk"]).to_pyarrow().to_pylist():
        g = out[r["grp"]]
        g["amplified"].append({"account_id": r["state_account_id"], "handle": r["state_handle"],
                               "member_posts": r["n"], "share_of_group_posts": round(r["n"] / g["posts"], 4)})
    return [out[k] for k in sorted(out)]


def enrich_groups(tables, summaries: list[dict], membership: dict[str, int], top: int = 5) -> list[dict]:
    """Add the profile fields to the summaries of coordination.groups (matched on `group`)."""
    prof = {p["group"]: p for p in group_profiles(tables, membership, top)}
    for s in summaries:
        p = prof.get(s["group"], {})
        s.update(posts=p.get("posts", 0), posts_from=p.get("active_from"), posts_to=p.get("active_to"),
                 top_domains=p.get("top_domains", []), top_content=p.get("top_content", []),
                 amplified=p.get("amplified", []))
    return summaries
