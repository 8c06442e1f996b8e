"""Amplification share: for each registered state account, the share of the reposts / quotes / replies
of its posts that come from flagged (inauthenticity score >= threshold) or coordinated accounts, per period.

Definitions (docs/analysis/inauthenticity.md, "Amplification share"):
* an amplification of state account S is a post by another account A (A != S) of kind repost, quote or
  reply whose referenced post (ref_post_id) is by S: ref_account_id, or else the author of ref_post_id
  where the store holds that post;
* it counts in the period (day / week / month) of the amplifying post;
* from_flagged: A is flagged by `inauthenticity.score`; from_coordinated: A is a member of a coordination
  group (colleague's `coordination.groups`, or any account -> group mapping the caller passes);
  from_either: either of the two. Shares are these counts over `amplifications`.
Rows: one per (period, platform, state account, kind) with kind in repost | quote | reply | all.
"""

from __future__ import annotations

import ibis

from envoywatch.analysis import analysis
from envoywatch.analysis.filters import FREQ_UNITS, check_choice
from envoywatch.analysis.inauthenticity import DEFAULT_THRESHOLD, SignalParams, flagged_accounts

AMPLIFYING_KINDS = ("repost", "quote", "reply")


def coordinated_accounts(store, params=None, group_params=None, platform: str | None = None) -> dict[str, int]:
    """account_id -> group number from the coordination engine (co-repost, window 60 s, its default group
    thresholds). Needs the optional extra `envoywatch[coordination]` (igraph)."""
    from envoywatch.analysis.coordination import NetworkParams, groups_from_store
    from envoywatch.analysis.coordination.groups import GroupParams

    gp = group_params or GroupParams()
    np_ = params or NetworkParams(type="co-repost", window=60, min_weight=gp.min_weight)
    _, membership = groups_from_store(store, np_, gp, platform=platform)
    return membership


def _membership_table(coordinated) -> ibis.Table:
    import pyarrow as pa

    ids = list(coordinated or [])
    groups = [int(coordinated[i]) if isinstance(coordinated, dict) else 0 for i in ids]
    return ibis.memtable(pa.table({"c_account_id": pa.array(ids, pa.string()),
                                   "c_group": pa.array(groups, pa.int64())}))


def amplifications(tables) -> ibis.Table:
    """One row per amplifying post: platform, post_id, account_id (amplifier), kind, created_at,
    state_account_id, state_handle (registered accounts only)."""
    from envoywatch.analysis.accounts_view import registered_accounts

    p = tables.table("posts")
    refs = p.filter(p.kind.isin(AMPLIFYING_KINDS) & p.ref_post_id.notnull())
    orig = tables.table("posts").view().select(o_platform="platform", o_post_id="post_id", o_author="account_id")
    j = refs.left_join(orig, (refs.platform == orig.o_platform) & (refs.ref_post_id == orig.o_post_id))
    j = j.select("platform", "post_id", "account_id", "kind", "created_at",
                 target=ibis.coalesce(j.ref_account_id, j.o_author)).view()
    reg = registered_accounts(tables)
    reg = reg.filter(reg.actor_id.notnull()).select(r_platform="platform", r_account_id="account_id",
                                                     state_handle="handle", state="state", category="category").view()
    k = j.join(reg, (j.platform == reg.r_platform) & (j.target == reg.r_account_id))
    k = k.filter(k.account_id != k.target)
    return k.select("platform", "post_id", "account_id", "kind", "created_at", state_account_id=k.target,
                    state_handle=k.state_handle, state=k.state, category=k.category)


@analysis("amplification.share")
def amplification_share(tables, freq: str = "month", threshold: float = DEFAULT_THRESHOLD,
                        coordinated: dict | list | None = None, account: str | None = None,
                        params: SignalParams = SignalParams(), flagged: list | None = None) -> ibis.Table:
    """Per (period, platform, state_account_id, kind): amplifications, from_flagged, from_coordinated,
    from_either and their shares. `coordinated`: account ids (or account_id -> group); None = none known
    (from_coordinated is then 0: pass coordinated_accounts(store) for the engine's groups).
    `account`: only this state account (handle, case-insensitive, or account id).
    `flagged`: account ids to treat as flagged instead of the score (e.g. a takedown list)."""
    unit = FREQ_UNITS[check_choice(freq, list(FREQ_UNITS), "freq")]
    a = amplifications(tables).view()
    if account:
        a = a.filter((a.state_handle.lower() == account.lower().lstrip("@")) | (a.state_account_id == account))
    if flagged is not None:
        import pyarrow as pa

        fl = ibis.memtable(pa.table({"f_account_id": pa.array(list(dict.fromkeys(flagged)), pa.string())}))
        a = a.left_join(fl, a.account_id == fl.f_account_id)
    else:
        fl = flagged_accounts(tables, threshold, params).select(f_platform="platform", f_account_id="account_id")
        a = a.left_join(fl, (a.platform == fl.f_platform) & (a.account_id == fl.f_account_id))
    mem = _membership_table(coordinated)
    a = a.left_join(mem, a.account_id == mem.c_account_id)
    a = a.mutate(period=a.created_at.truncate(unit).date(), is_flagged=a.f_account_id.notnull(),
                 is_coord=a.c_account_id.notnull())
    one, zero = ibis.literal(1).cast("int64"), ibis.literal(0).cast("int64")

    def agg(t):
        return dict(amplifications=t.count().cast("int64"),
                    from_flagged=ibis.ifelse(t.is_flagged, one, zero).sum().cast("int64"),
                    from_coordinated=ibis.ifelse(t.is_coord, one, zero).sum().cast("int64"),
                    from_either=ibis.ifelse(t.is_flagged | t.is_coord, one, zero).sum().cast("int64"),
                    amplifiers=t.account_id.nunique().cast("int64"))

    keys = ["period", "platform", "state_account_id", "state_handle"]
    by_kind = a.group_by([*keys, "kind"]).aggregate(**agg(a))
    total = a.group_by(keys).aggregate(**agg(a)).mutate(kind=ibis.literal("all"))
    out = by_kind.union(total.select(*by_kind.columns))
    out = out.mutate(share_flagged=out.from_flagged / out.amplifications,
                     share_coordinated=out.from_coordinated / out.amplifications,
                     share_either=out.from_either / out.amplifications)
    return out.order_by(["state_handle", "period", "kind"])
