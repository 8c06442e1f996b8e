"""Coordination networks computed in DuckDB: who shared the same item within a time window.

Definitions (docs/analysis/coordination.md has them in full):

* An *item* depends on the network type (NETWORK_TYPES): the reposted object, a link, a normalized
  text, the replied-to post, a hashtag, a mentioned account. Reposts count only for co-repost; every
  other type leaves reposts out (their text and links are the original's), as CNT does.
* Two messages *match* when they are by different accounts, carry the same item and
  |t1 - t2| <= window (seconds, inclusive, sliding and symmetric).
* weight="messages" (CNT's): directed; weight(A -> B) = number of distinct messages of A that have at
  least one match from B. Both directions are listed. `mode="cnt"` uses this.
* weight="items" (the default): undirected; weight(A, B) = number of distinct items for which A and B
  have a matching pair of messages. Listed once, source < target (by account id).

How it scales: accounts and items become integers; items shared by a single account are dropped, and
accounts that cannot reach the minimum weight or participation are dropped before the join; the join
is an equi-join on (item, time bucket of width = window) against the three neighbouring buckets, so
only pairs of messages less than two windows apart are ever formed, and they never leave DuckDB.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from envoywatch.analysis.coordination.inputs import CoordinationError, fill_normalized_urls

NETWORK_TYPES = {
    "co-repost": "reposts of the same original (repost_id / ref_post_id)",
    "co-link": "the same link (normalized URL; the raw string with url_form='raw' or mode='cnt')",
    "co-domain": "links to the same registered domain",
    "co-post": "the same text after normalization (case, @mentions, URLs, whitespace)",
    "co-reply": "replies to the same post",
    "co-hashtag": "the same hashtag (case-folded)",
    "co-mention": "a mention of the same account (case-folded handle)",
    "co-similar-text": "texts with token-set Jaccard similarity >= `similarity` (MinHash/LSH, verified exactly)",
    "co-activity": "synchronized activity, the null model: any message (reposts included) in the same "
                   "window-aligned time slot, whatever its content",
}
WEIGHTS = ("items", "messages")
# types whose messages carry exactly one item (so a message id determines its item)
SINGLE_ITEM_TYPES = ("co-repost", "co-reply", "co-post", "co-activity")
URL_FORMS = ("normalized", "raw")

_counter = itertools.count()


@dataclass
class NetworkParams:
    type: str = "co-repost"
    window: float = 60.0
    min_weight: int = 1
    min_participation: int = 1
    weight: str = "items"
    url_form: str = "normalized"
    mode: str = "default"            # "cnt" forces CNT's definitions (see cnt())
    accounts: list[str] | None = None  # restrict to these account ids (a group of accounts)
    similarity: float = 0.8          # co-similar-text: minimum Jaccard similarity of the token sets
    since: float | None = None       # epoch seconds, inclusive
    until: float | None = None       # epoch seconds, exclusive
    extra: dict = field(default_factory=dict)

    def resolved(self) -> "NetworkParams":
        p = NetworkParams(**self.__dict__)
        if p.mode == "cnt":
            p.weight, p.url_form = "messages", "raw"
        if p.type not in NETWORK_TYPES:
            raise CoordinationError(f"unknown network type {p.type!r}", "--type",
                                    f"use one of: {', '.join(NETWORK_TYPES)}")
        if p.weight not in WEIGHTS:
            raise CoordinationError(f"unknown weight {p.weight!r}", "--weight", f"use one of: {', '.join(WEIGHTS)}")
        if p.url_form not in URL_FORMS:
            raise CoordinationError(f"unknown URL form {p.url_form!r}", "--url-form", f"use one of: {', '.join(URL_FORMS)}")
        if p.window < 0:
            raise CoordinationError("the window must be >= 0 seconds", "--window", "give a window such as 60")
        if not 0 < p.similarity <= 1:
            raise CoordinationError("the similarity must lie in (0, 1]", "--similarity", "give e.g. 0.8")
        if p.min_weight < 1 or p.min_participation < 1:
            raise CoordinationError("minimum weight and participation must be >= 1", "--min-weight",
                                    "give 1 or more")
        return p


def _item_sql(p: NetworkParams, msgs: str) -> str:
    """SELECT aid, mid, ts, item FROM the (integer-keyed) messages table, one row per (message, item)."""
    non_repost = "repost_id IS NULL"
    if p.type == "co-repost":
        return f"SELECT aid, mid, ts, repost_id AS item FROM {msgs} WHERE repost_id IS NOT NULL"
    if p.type == "co-reply":
        return f"SELECT aid, mid, ts, reply_id AS item FROM {msgs} WHERE {non_repost} AND reply_id IS NOT NULL"
    if p.type in ("co-link", "co-domain"):
        col = "urls" if (p.url_form == "raw" and p.type == "co-link") else "urls_norm"
        sub = f"SELECT aid, mid, ts, unnest(list_distinct({col})) AS item FROM {msgs} WHERE {non_repost}"
        if p.type == "co-domain":
            # the (Python) domain function runs once per distinct URL, not per message
            return (f"WITH s AS ({sub}), d AS (SELECT u, ew_domain(u) AS dom FROM (SELECT DISTINCT item AS u FROM s "
                    "WHERE item <> '')) SELECT s.aid, s.mid, s.ts, d.dom AS item FROM s JOIN d ON d.u = s.item")
        return f"SELECT * FROM ({sub}) WHERE item <> ''"
    if p.type == "co-post":
        if p.mode == "cnt":
            # CNT's message_preprocessor: drop '@...' up to whitespace, lower case, collapse whitespace
            norm = "lower(text)"
            norm = f"regexp_replace({norm}, '@\\S*', '', 'g')"
        else:
            norm = "regexp_replace(regexp_replace(lower(text), 'https?://\\S*', '', 'g'), '@\\S*', '', 'g')"
        norm = f"trim(regexp_replace({norm}, '\\s+', ' ', 'g'))"
        return f"SELECT aid, mid, ts, {norm} AS item FROM {msgs} WHERE {non_repost}"
    if p.type == "co-hashtag":
        return f"SELECT aid, mid, ts, unnest(hashtags) AS item FROM {msgs} WHERE {non_repost}"
    if p.type == "co-mention":
        return f"SELECT aid, mid, ts, unnest(mentions) AS item FROM {msgs} WHERE {non_repost}"
    if p.type == "co-activity":
        # the item is the time slot [k*W, (k+1)*W): two messages in one slot are < W apart, so they match
        w = float(p.window) if p.window > 0 else 1.0
        return (f"SELECT aid, mid, ts, strftime(to_timestamp(floor(ts / {w!r}) * {w!r}), '%Y-%m-%dT%H:%M:%SZ') "
                f"AS item FROM {msgs}")
    raise AssertionError(p.type)


def _register_domain_fn(con) -> None:
    from envoywatch.util.urls import registered_domain

    try:
        con.create_function("ew_domain", lambda u: registered_domain(u), ["VARCHAR"], "VARCHAR",
                            side_effects=False)
    except Exception:  # already registered on this connection
        pass


def compute_network(con, messages: str, params: NetworkParams, keep: bool = False):
    """Compute one network on `messages` (a table made by inputs.py); returns a Network (edges relation).

    Columns: source, target, source_handle, target_handle, weight, shared_items (messages weight: the
    distinct items behind the matches), first_time, last_time (epoch seconds of the matched messages),
    example_items (up to two of the shared items). With weight="messages" the edges are directed.
    source_items / target_items: distinct items of this type of each account (for overlap thresholds).
    The relation reads temporary tables named ew_c<N>_*; Network.drop() removes them.
    """
    p = params.resolved()
    n = next(_counter)
    T = f"ew_c{n}"
    W = float(p.window)
    width = W if W > 0 else 1.0
    if p.type in ("co-link", "co-domain") and p.url_form == "normalized" or p.type == "co-domain":
        cols = {r[0] for r in con.execute(f"DESCRIBE {messages}").fetchall()}
        if "urls_norm" in cols and con.execute(f"SELECT count(*) FROM {messages} WHERE urls_norm IS NULL").fetchall()[0][0]:
            fill_normalized_urls(con, messages)
    if p.type == "co-domain":
        _register_domain_fn(con)

    where = ["TRUE"]  # literal numbers (float() of the parameters): a view cannot take parameters
    if p.since is not None:
        where.append(f"ts >= {float(p.since)!r}")
    if p.until is not None:
        where.append(f"ts < {float(p.until)!r}")
    if p.accounts:
        import pyarrow as pa

        con.register(f"{T}_acc_in", pa.table({"account_id": pa.array(list(p.accounts), pa.string())}))
        where.append(f"account_id IN (SELECT account_id FROM {T}_acc_in)")
    # integer ids: accounts numbered in account_id order (so a < b by id), messages by row number
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_acc AS
        SELECT account_id, handle, row_number() OVER (ORDER BY account_id)::INTEGER AS aid
        FROM (SELECT account_id, any_value(handle) AS handle FROM {messages} WHERE {' AND '.join(where)}
              GROUP BY account_id)""")
    # a view: evaluated once, by the items query below (no copy of the texts)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {T}_msg AS
        SELECT a.aid, row_number() OVER ()::BIGINT AS mid, m.ts, m.repost_id, m.reply_id, m.text, m.urls,
               m.urls_norm, m.hashtags, m.mentions
        FROM {messages} m JOIN {T}_acc a USING (account_id) WHERE {' AND '.join(where)}""")
    if p.type == "co-similar-text":
        from envoywatch.analysis.coordination.similar import compute_similar

        compute_similar(con, T, p, W, width, int(p.min_weight), p.similarity)
        con.execute(f"DROP VIEW {T}_msg")
        return Network(con, T, _edges_relation(con, T), p)
    # items of this type; drop items that only one account has, and accounts below participation
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_raw AS SELECT DISTINCT aid, mid, ts, item
                    FROM ({_item_sql(p, f'{T}_msg')}) WHERE item IS NOT NULL""")
    # per account: messages and distinct items of this type (participation; upper bounds of the weights)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_part AS
        SELECT aid, count(DISTINCT mid) AS n_msg, count(DISTINCT item) AS n_items FROM {T}_raw GROUP BY aid
        HAVING count(DISTINCT mid) >= {int(p.min_participation)}""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_items AS
        SELECT item, row_number() OVER ()::INTEGER AS iid FROM {T}_raw GROUP BY item HAVING count(DISTINCT aid) >= 2""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_x AS
        SELECT r.aid, r.mid, r.ts, i.iid, floor(r.ts / {width})::BIGINT AS b
        FROM {T}_raw r JOIN {T}_items i USING (item)""")
    con.execute(f"DROP TABLE {T}_raw")
    con.execute(f"DROP VIEW {T}_msg")
    k = int(p.min_weight)
    if p.weight == "messages":
        # weight(A->B) <= A's messages: a source with fewer than k messages cannot reach k
        src_ok = f"SELECT aid FROM {T}_part WHERE n_msg >= {k}"
        dst_ok = f"SELECT aid FROM {T}_part"
        pair_cond = "a.aid <> b.aid"
        agg = "count(DISTINCT a.mid) AS weight, count(DISTINCT a.iid) AS shared_items"
    else:
        # both accounts need k distinct items; the weight is symmetric, so form each pair once
        src_ok = dst_ok = f"SELECT aid FROM {T}_part WHERE n_items >= {k}"
        pair_cond = "a.aid < b.aid"
    a_rows = f"""(SELECT x.*, x.b + d.d AS jb FROM {T}_x x, (VALUES (-1), (0), (1)) d(d)
                  WHERE x.aid IN ({src_ok}))"""
    b_rows = f"(SELECT * FROM {T}_x WHERE aid IN ({dst_ok}))"
    match = f"a.iid = b.iid AND a.jb = b.b AND {pair_cond} AND abs(a.ts - b.ts) <= {W}"
    if p.weight == "messages" and p.type in SINGLE_ITEM_TYPES:
        # one item per message: three cheap groupings instead of two DISTINCT aggregates (2/3 of the CPU time):
        # distinct (pair, message) -> per (pair, item) its matched messages -> per pair
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_edges AS
            SELECT src, dst, sum(n)::BIGINT AS weight, count(*) AS shared_items, min(t0) AS first_ts,
                   max(t1) AS last_ts, min(iid) AS ex1, max(iid) AS ex2
            FROM (SELECT src, dst, iid, count(*) AS n, min(t0) AS t0, max(t1) AS t1
                  FROM (SELECT a.aid AS src, b.aid AS dst, a.mid, a.iid, min(least(a.ts, b.ts)) AS t0,
                               max(greatest(a.ts, b.ts)) AS t1
                        FROM {a_rows} a JOIN {b_rows} b ON {match} GROUP BY a.aid, b.aid, a.mid, a.iid)
                  GROUP BY src, dst, iid)
            GROUP BY src, dst HAVING sum(n) >= {k}""")
    elif p.weight == "messages":
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_edges AS
            SELECT a.aid AS src, b.aid AS dst, {agg},
                   min(least(a.ts, b.ts)) AS first_ts, max(greatest(a.ts, b.ts)) AS last_ts,
                   min(a.iid) AS ex1, max(a.iid) AS ex2
            FROM {a_rows} a JOIN {b_rows} b ON {match}
            GROUP BY a.aid, b.aid HAVING weight >= {k}""")
    else:
        # two phases (distinct (pair, item) first, then count) are faster than count(DISTINCT ...)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_edges AS
            SELECT src, dst, count(*) AS weight, count(*) AS shared_items, min(t0) AS first_ts,
                   max(t1) AS last_ts, min(iid) AS ex1, max(iid) AS ex2
            FROM (SELECT a.aid AS src, b.aid AS dst, a.iid, min(least(a.ts, b.ts)) AS t0,
                         max(greatest(a.ts, b.ts)) AS t1
                  FROM {a_rows} a JOIN {b_rows} b ON {match} GROUP BY a.aid, b.aid, a.iid)
            GROUP BY src, dst HAVING count(*) >= {k}""")
    if not keep:
        con.execute(f"DROP TABLE {T}_x")
    return Network(con, T, _edges_relation(con, T), p)


def _edges_relation(con, T: str):
    return con.sql(edges_sql(T))


def edges_sql(T: str) -> str:
    """The SELECT of a computed network's edges (temporary tables prefixed T)."""
    return f"""
        SELECT s.account_id AS source, t.account_id AS target, e.weight, e.shared_items,
               e.first_ts AS first_time, e.last_ts AS last_time,
               list_distinct([i1.item, i2.item]) AS example_items,
               s.handle AS source_handle, t.handle AS target_handle,
               ps.n_items AS source_items, pt.n_items AS target_items
        FROM {T}_edges e JOIN {T}_acc s ON s.aid = e.src JOIN {T}_acc t ON t.aid = e.dst
        JOIN {T}_part ps ON ps.aid = e.src JOIN {T}_part pt ON pt.aid = e.dst
        LEFT JOIN {T}_items i1 ON i1.iid = e.ex1 LEFT JOIN {T}_items i2 ON i2.iid = e.ex2
        ORDER BY e.weight DESC, source, target"""


@dataclass
class Network:
    """A computed network: `edges` is a DuckDB relation; `prefix` names its temporary tables
    (<prefix>_acc: account_id -> aid; <prefix>_items: item -> iid; <prefix>_x: (aid, mid, ts, iid) rows
    when computed with keep=True)."""

    con: object
    prefix: str
    edges: object
    params: NetworkParams

    def count(self) -> int:
        return self.edges.aggregate("count(*)").fetchall()[0][0]

    def to_arrow(self):
        return self.edges.to_arrow_table()

    def drop(self) -> None:
        for suffix in ("acc", "items", "part", "edges", "x", "raw", "null"):
            self.con.execute(f"DROP TABLE IF EXISTS {self.prefix}_{suffix}")
