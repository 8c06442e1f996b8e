"""Coordination networks among accounts (co-repost, co-link, co-post, ...), computed in DuckDB, and groups.

Library entry points (the CLI, report and web call these):

    from envoywatch.analysis.coordination import network_from_csv, network_from_store, NetworkParams
    edges = network_from_csv("tweets.csv", NetworkParams(type="co-repost", window=60, mode="cnt"))  # Arrow table

Definitions: docs/analysis/coordination.md and network.py's docstring.
"""

from __future__ import annotations

from envoywatch.analysis import analysis
from envoywatch.analysis.coordination.inputs import CoordinationError, from_csv, from_store
from envoywatch.analysis.coordination.network import NETWORK_TYPES, WEIGHTS, NetworkParams, compute_network

__all__ = ["NETWORK_TYPES", "WEIGHTS", "NetworkParams", "CoordinationError", "compute_network", "from_csv",
           "from_store", "network_from_csv", "network_from_store", "open_csv_source"]


def open_csv_source(path, layout: str = "cnt", con=None):
    """An in-memory DuckDB connection holding the CSV's messages as table `ew_messages`."""
    import duckdb

    con = con or duckdb.connect()
    from_csv(con, path, "ew_messages", layout=layout)
    return con, "ew_messages"


def network_from_csv(path, params: NetworkParams, layout: str = "cnt"):
    """Edges (pyarrow Table) of one network computed on a CNT- or CooRTweet-layout CSV."""
    con, table = open_csv_source(path, layout)
    try:
        return compute_network(con, table, params).to_arrow()
    finally:
        con.close()


@analysis("coordination.network")
def network_from_store(store, params: NetworkParams, platform: str | None = None):
    """Edges (pyarrow Table) of one network computed on the store's posts (temporary tables only)."""
    from_store(store, "ew_messages", platform=platform)
    net = compute_network(store.con, "ew_messages", params)
    try:
        return net.to_arrow()
    finally:
        net.drop()


@analysis("coordination.groups")
def groups_from_store(store, params: NetworkParams, group_params=None, platform: str | None = None):
    """(group summaries, account -> group) of the store's coordination network (see groups.py)."""
    from envoywatch.analysis.coordination.groups import GroupParams, groups_from_network

    gp = group_params or GroupParams()
    from_store(store, "ew_messages", platform=platform)
    net = compute_network(store.con, "ew_messages", params, keep=True)
    try:
        return groups_from_network(net, gp)
    finally:
        net.drop()
