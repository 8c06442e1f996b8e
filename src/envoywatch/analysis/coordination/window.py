"""CooRnet's automatic coordination interval, computed in DuckDB.

CooRnet (`estimate_coord_interval(q = 0.1, p = 0.5)`) ranks the shares of every item shared more than
once by time; for each item it takes the time from the item's first share to the first share past
the share `p` of its total shares; the interval is the `q` quantile of those times over all items (the
time in which the quickest q of items reach p of their shares). Re-implemented here from CooRnet's
description and code (v1.5); ties in time are ranked by message order, as R's ties.method = "first".
"""

from __future__ import annotations

from envoywatch.analysis.coordination.network import NetworkParams, _item_sql, _register_domain_fn


def estimate_window(con, messages: str, ntype: str = "co-link", q: float = 0.1, p: float = 0.5,
                    url_form: str = "normalized") -> dict:
    """{'window': seconds (float, None without repeated items), 'items': items used, 'q': q, 'p': p}."""
    from envoywatch.analysis.coordination.inputs import CoordinationError, fill_normalized_urls

    if not (0 < q < 1 and 0 < p < 1):
        raise CoordinationError("q and p must lie between 0 and 1", "estimate_window", "use e.g. q=0.1, p=0.5")
    params = NetworkParams(type=ntype, url_form=url_form).resolved()
    if ntype in ("co-link", "co-domain"):
        fill_normalized_urls(con, messages)
    if ntype == "co-domain":
        _register_domain_fn(con)
    # _item_sql reads aid/mid; give it a view with those names (no integer mapping needed here)
    con.execute(f"CREATE OR REPLACE TEMP VIEW ew_win_msg AS SELECT account_id AS aid, "
                f"row_number() OVER () AS mid, * EXCLUDE (account_id) FROM {messages}")
    row = con.execute(f"""
        WITH s AS (SELECT item, ts, row_number() OVER (PARTITION BY item ORDER BY ts, mid) AS rk,
                          count(*) OVER (PARTITION BY item) AS n, min(ts) OVER (PARTITION BY item) AS t0
                   FROM ({_item_sql(params, 'ew_win_msg')}) WHERE item IS NOT NULL),
             per_item AS (SELECT item, min(ts - t0) AS secs FROM s WHERE n > 1 AND rk / n > {float(p)} GROUP BY item)
        SELECT quantile_cont(secs, {float(q)}), count(*) FROM per_item""").fetchall()[0]
    con.execute("DROP VIEW ew_win_msg")
    return {"window": row[0], "items": row[1], "q": q, "p": p}
