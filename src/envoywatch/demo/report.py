"""The headline figures of a store, executed: what `envoywatch demo` prints (also usable from a notebook).

The analyses themselves are Ibis expressions in envoywatch.analysis.headline; this runs them on the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from envoywatch.analysis import headline as H


@dataclass
class Headline:
    state_accounts: pa.Table
    monthly: pa.Table             # month, accounts, posts of the diplomatic accounts of `state`
    growth: dict | None           # one row of growth_decomposition, with start_month / end_month added
    hashtags: pa.Table
    domains: pa.Table
    network: dict                 # reposts, from_network, network_accounts, share (ground truth labels)
    simulated_batches: int


def headline(store, state: str = "CN", top: int = 10) -> Headline:
    monthly = H.diplomatic_monthly(store, state).to_pyarrow()
    growth = None
    if monthly.num_rows >= 2:
        months = monthly.column("month").to_pylist()
        start, end = months[0], months[-1]
        growth = H.growth_decomposition(store, start, end, state).to_pyarrow().to_pylist()[0]
        growth.update(start_month=start, end_month=end)
    network = H.network_repost_share(store).to_pyarrow().to_pylist()[0]
    sim = store.con.execute("SELECT count(*) FROM import_batches WHERE simulated").fetchall()[0][0]
    return Headline(H.state_accounts(store).to_pyarrow(), monthly, growth, H.top_hashtags(store, top).to_pyarrow(),
                    H.top_domains(store, top).to_pyarrow(), network, sim)
