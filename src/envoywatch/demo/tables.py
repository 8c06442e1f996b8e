"""Arrays -> Arrow tables with the store's schemas (posts, links, tags, mentions, metrics, snapshots, accounts)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from envoywatch.demo import content as C
from envoywatch.demo.accounts import Acct
from envoywatch.demo.activity import KINDS, MONTH_BOUNDS, QUOTE, REPLY, REPOST, Activity, _secs
from envoywatch.schema import TABLES
from envoywatch.store.db import arrow_schema, rows_to_arrow
from envoywatch.util.urls import url_row

TWITTER_EPOCH_MS = 1288834974657


def _ts(secs: np.ndarray) -> pa.Array:
    return pa.array(secs.astype("datetime64[s]").astype("datetime64[us]"), type=pa.timestamp("us"))


def _table(name: str, cols: dict) -> pa.Table:
    schema = arrow_schema(TABLES[name])
    n = len(next(iter(cols.values())))
    arrays = [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays([a if isinstance(a, (pa.Array, pa.ChunkedArray)) and a.type == f.type else pa.array(a, type=f.type)
                                 for a, f in zip(arrays, schema)], schema=schema)


def post_ids(act: Activity) -> np.ndarray:
    """Snowflake-style ids from the posting time: ordered like the posts, unique (sequence bits)."""
    ms = act.t * 1000 - TWITTER_EPOCH_MS
    return (ms << 22) | (np.arange(len(act.t), dtype=np.int64) & 0x3FFFFF)


def build(accs: list[Acct], act: Activity, batch_id: int, rng: np.random.Generator) -> dict[str, pa.Table]:
    n = len(act.t)
    ids = pa.array(post_ids(act).astype(str))
    acc_ids = pa.array([a.account_id for a in accs])
    handles = pa.array([a.handle for a in accs])
    author = pa.array(act.acc)
    ref = act.ref
    has_ref = ref >= 0
    ref_safe = np.maximum(ref, 0)
    texts = pa.array(act.texts.texts)
    langs = pa.array(act.texts.langs)

    # links: t.co per original post, reposts reuse the original's
    link_owner = np.where(act.kind == REPOST, ref_safe, np.arange(n))
    tco = pa.array(np.char.add("https://t.co/sim", np.char.mod("%x", link_owner)).astype(object)) if n else pa.array([], pa.string())
    base_text = pc.take(texts, pa.array(act.tmpl))
    with_link = act.link >= 0
    base_text = pc.if_else(pa.array(with_link), pc.binary_join_element_wise(base_text, tco, " "), base_text)
    ref_handle = pc.take(handles, pa.array(act.acc[ref_safe]))
    rt_text = pc.binary_join_element_wise(pa.scalar("RT @"), ref_handle, pa.scalar(": "), base_text, "")
    reply_text = pc.binary_join_element_wise(pa.scalar("@"), ref_handle, pa.scalar(" "), base_text, "")
    is_rp, is_rep, is_q = act.kind == REPOST, act.kind == REPLY, act.kind == QUOTE
    text = pc.if_else(pa.array(is_rp), rt_text, pc.if_else(pa.array(is_rep), reply_text, base_text))
    ref_id = pc.if_else(pa.array(has_ref), pc.take(ids, pa.array(ref_safe)), pa.scalar(None, pa.string()))
    ref_acc = pc.if_else(pa.array(has_ref), pc.take(acc_ids, pa.array(act.acc[ref_safe])), pa.scalar(None, pa.string()))
    null_s = pa.scalar(None, pa.string())
    role = np.array([a.role for a in accs])
    client_of = {"diplomat": "Twitter Web App", "state_media": "TweetDeck", "organic": "Twitter for iPhone",
                 "amplifier": "Twitter for Android"}
    client = pc.take(pa.array([client_of[r] for r in role]), author)
    posts = _table("posts", {
        "platform": pa.array(["x"] * n), "post_id": ids, "account_id": pc.take(acc_ids, author), "created_at": _ts(act.t),
        "text": text, "lang": pc.take(langs, pa.array(act.tmpl)), "kind": pc.take(pa.array(list(KINDS)), pa.array(act.kind.astype(np.int64))),
        "ref_post_id": ref_id, "ref_account_id": ref_acc,
        "reply_to_post_id": pc.if_else(pa.array(is_rep), ref_id, null_s),
        "reply_to_account_id": pc.if_else(pa.array(is_rep), ref_acc, null_s),
        "quoted_post_id": pc.if_else(pa.array(is_q), ref_id, null_s),
        "conversation_id": pc.if_else(pa.array(is_rep), ref_id, ids),
        "client": client,
        "url": pc.binary_join_element_wise(pa.scalar("https://x.com/"), pc.take(handles, author), pa.scalar("/status/"), ids, ""),
        "observed": pa.array(["primary"] * n), "batch_id": pa.array(np.full(n, batch_id, dtype=np.int64)),
    })

    # post_urls: one link per post that has one; normalisation computed once per pool URL
    pool_rows = [url_row("x", "", 0, "", u) for u in act.url_pool]
    li = np.flatnonzero(with_link)
    pool = pa.array(act.link[li])
    post_urls = _table("post_urls", {
        "platform": pa.array(["x"] * len(li)), "post_id": pc.take(ids, pa.array(li)),
        "position": pa.array(np.zeros(len(li), dtype=np.int32)), "url": pc.take(tco, pa.array(li)),
        "expanded_url": pc.take(pa.array(act.url_pool), pool),
        "normalized_url": pc.take(pa.array([r["normalized_url"] for r in pool_rows]), pool),
        "domain": pc.take(pa.array([r["domain"] for r in pool_rows]), pool),
        "host": pc.take(pa.array([r["host"] for r in pool_rows]), pool),
    })

    # post_hashtags: the template's tags (reposts: the original's)
    ntags = np.array([len(t) for t in act.texts.tags])
    tag_start = np.concatenate([[0], np.cumsum(ntags)[:-1]])
    flat_tags = [t for ts in act.texts.tags for t in ts]
    cnt = ntags[act.tmpl]
    rows = np.repeat(np.arange(n), cnt)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    tag_ix = pa.array(tag_start[act.tmpl][rows] + within)
    tags = pc.take(pa.array(flat_tags, pa.string()), tag_ix)
    post_hashtags = _table("post_hashtags", {
        "platform": pa.array(["x"] * len(rows)), "post_id": pc.take(ids, pa.array(rows)), "tag": tags,
        "tag_norm": pc.utf8_lower(tags)})

    # post_mentions: reposts and replies name the referenced author
    mi = np.flatnonzero(is_rp | is_rep)
    mh = pc.take(ref_handle, pa.array(mi))
    post_mentions = _table("post_mentions", {
        "platform": pa.array(["x"] * len(mi)), "post_id": pc.take(ids, pa.array(mi)), "handle": mh,
        "handle_norm": pc.utf8_lower(mh), "account_id": pc.take(ref_acc, pa.array(mi))})

    # post_metrics: one capture a week after posting for the state accounts' own posts
    state = np.isin(role[act.acc], ["diplomat", "state_media"]) & ~is_rp
    si = np.flatnonzero(state)
    in_store = {k: np.bincount(ref[(act.kind == k) & has_ref], minlength=n) for k in (REPOST, REPLY, QUOTE)}
    fol = np.array([a.followers0 for a in accs], dtype=np.float64)
    lam = np.sqrt(fol[act.acc[si]]) * 0.8
    post_metrics = _table("post_metrics", {
        "platform": pa.array(["x"] * len(si)), "post_id": pc.take(ids, pa.array(si)),
        "captured_at": _ts(np.minimum(act.t[si] + 7 * 86400, _secs(C.END))),
        "likes": pa.array(rng.poisson(lam).astype(np.int64)),
        "reposts": pa.array((in_store[REPOST][si] + rng.poisson(lam / 4)).astype(np.int64)),
        "replies": pa.array((in_store[REPLY][si] + rng.poisson(lam / 10)).astype(np.int64)),
        "quotes": pa.array((in_store[QUOTE][si] + rng.poisson(lam / 30)).astype(np.int64)),
        "batch_id": pa.array(np.full(len(si), batch_id, dtype=np.int64))})

    # account_snapshots: the first of each month, from the month after creation
    snaps = {"account_id": [], "captured_at": [], "followers": [], "following": [], "posts_count": [], "listed_count": []}
    caps = MONTH_BOUNDS[1:]
    per_month = np.zeros((len(accs), C.MONTHS), dtype=np.int64)
    m_of_post = np.clip(np.searchsorted(MONTH_BOUNDS, act.t, side="right") - 1, 0, C.MONTHS - 1)
    np.add.at(per_month, (act.acc, m_of_post), 1)
    cum = np.cumsum(per_month, axis=1)
    for i, a in enumerate(accs):
        created = _secs(a.created_at)
        ok = caps > created
        if not ok.any():
            continue
        k = np.flatnonzero(ok)
        monthly = 1.05 if a.role in ("diplomat", "state_media") else (1.0 if a.role == "amplifier" else 1.01)
        prior = int(a.followers0 * 0.02) if a.role in ("diplomat", "state_media") else 0
        snaps["account_id"] += [a.account_id] * len(k)
        snaps["captured_at"].append(caps[k])
        snaps["followers"].append((a.followers0 * monthly ** (k + 1)).astype(np.int64) + (k if a.role == "amplifier" else 0))
        snaps["following"].append(np.full(len(k), a.following, dtype=np.int64))
        snaps["posts_count"].append(cum[i, k] + prior)
        snaps["listed_count"].append((np.full(len(k), a.followers0 // 200)).astype(np.int64))
    ns = len(snaps["account_id"])
    account_snapshots = _table("account_snapshots", {
        "platform": pa.array(["x"] * ns), "account_id": pa.array(snaps["account_id"], pa.string()),
        "captured_at": _ts(np.concatenate(snaps["captured_at"])),
        **{c: pa.array(np.concatenate(snaps[c])) for c in ("followers", "following", "posts_count", "listed_count")},
        "batch_id": pa.array(np.full(ns, batch_id, dtype=np.int64))})

    accounts = rows_to_arrow(TABLES["accounts"], [{
        "platform": "x", "account_id": a.account_id, "handle": a.handle, "display_name": a.display_name,
        "description": a.description, "created_at": a.created_at.replace(microsecond=0), "location": a.location,
        "url": None, "lang": a.lang, "verified": a.starter, "protected": False, "labels": a.labels,
        "profile_image_url": a.avatar, "first_batch_id": batch_id} for a in accs])
    return {"accounts": accounts, "posts": posts, "post_urls": post_urls, "post_hashtags": post_hashtags,
            "post_mentions": post_mentions, "post_metrics": post_metrics, "account_snapshots": account_snapshots}

