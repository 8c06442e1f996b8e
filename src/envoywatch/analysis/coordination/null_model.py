"""The synchronized-activity null model: how much of a content edge is explained by being active at the same times.

Two accounts that post a lot in the same hours meet on popular items by chance. The `co-activity` network
(network.py) links accounts that post anything in the same window-aligned time slot; its weight is the
number of slots in which both were active. `with_activity_null` annotates the edges of a content network
(co-repost, co-link, ...) with, per pair of accounts:

* `activity_weight`: the number of time slots of width = window in which both accounts posted anything
  (reposts included), within the same period and account selection;
* `content_ratio`: weight / activity_weight. With the default `items` weight it is the share of the pair's
  co-active slots that carried the same item: coordinated accounts share content in most slots where
  both are active (ratio near or above 1: several items per slot), synchronized but independent accounts
  share little of it (ratio near 0). NULL where the pair never posted in the same slot (possible with the
  sliding window: two messages less than `window` apart can fall in neighbouring slots).
"""

from __future__ import annotations

from envoywatch.analysis.coordination.network import Network, NetworkParams, compute_network, edges_sql


def with_activity_null(con, messages: str, net: Network) -> Network:
    """`net` with its edges relation replaced by one carrying activity_weight and content_ratio."""
    p = net.params.resolved()
    T = net.prefix
    ids = [r[0] for r in con.execute(f"""SELECT DISTINCT a.account_id FROM {T}_edges e
        JOIN {T}_acc a ON a.aid = e.src OR a.aid = e.dst""").fetchall()]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {T}_null (a VARCHAR, b VARCHAR, activity_weight BIGINT)")
    if ids:
        act = compute_network(con, messages, NetworkParams(type="co-activity", window=p.window, weight="items",
                                                           accounts=ids, since=p.since, until=p.until))
        try:
            con.execute(f"""INSERT INTO {T}_null SELECT least(source, target), greatest(source, target), weight
                            FROM ({edges_sql(act.prefix)})""")
        finally:
            act.drop()
    net.edges = con.sql(f"""SELECT e.*, n.activity_weight, round(e.weight / n.activity_weight, 4) AS content_ratio
        FROM ({edges_sql(T)}) e LEFT JOIN {T}_null n
          ON n.a = least(e.source, e.target) AND n.b = greatest(e.source, e.target)
        ORDER BY e.weight DESC, e.source, e.target""")
    return net
