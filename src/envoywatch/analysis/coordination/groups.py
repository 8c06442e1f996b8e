"""Groups of coordinated accounts: connected components or Leiden communities of the thresholded network.

Thresholds (defaults chosen on generated data with planted groups; docs/analysis/coordination.md):
* min_weight: an edge needs at least this weight (distinct shared items by default);
* min_overlap: weight / min(items of A, items of B), i.e. the share of the less active account's items
  that the pair shared within the window. Organic heavy sharers meet by chance on a few viral items,
  but those few items are a small share of what they share; planted members share most of theirs.
* min_size: groups smaller than this are not reported.

Directed (messages-weight) edges are made undirected with the larger of the two directions.
igraph and leidenalg are optional: `pip install 'envoywatch[coordination]'`.
"""

from __future__ import annotations

from dataclasses import dataclass

from envoywatch.errors import OptionalDependencyMissing

METHODS = ("components", "leiden")


@dataclass
class GroupParams:
    min_weight: int = 5
    min_overlap: float = 0.25
    min_size: int = 3
    method: str = "components"
    resolution: float = 1.0
    seed: int = 42


def _igraph():
    try:
        import igraph
    except ImportError:
        raise OptionalDependencyMissing("igraph", "coordination", "finding coordinated groups") from None
    return igraph


def threshold_edges(edges, gp: GroupParams) -> list[tuple[str, str, float, dict]]:
    """Undirected edges (a < b) that pass the group thresholds, from an edges Arrow table."""
    best: dict[tuple[str, str], tuple[float, dict]] = {}
    for r in edges.to_pylist():
        if r["weight"] < gp.min_weight:
            continue
        denom = min(r.get("source_items") or 0, r.get("target_items") or 0)
        overlap = r["weight"] / denom if denom else 1.0
        if overlap < gp.min_overlap:
            continue
        key = tuple(sorted((r["source"], r["target"])))
        if key not in best or r["weight"] > best[key][0]:
            best[key] = (r["weight"], r)
    return [(a, b, w, r) for (a, b), (w, r) in best.items()]


def find_groups(edges, gp: GroupParams | None = None) -> tuple[list[dict], dict[str, int]]:
    """Groups from an edges Arrow table: (list of group summaries, account -> group number).

    Each summary: group, size, members (sorted), edges, density, total_weight, mean_weight,
    first_time, last_time (of the matched messages on the group's edges), example_items. Groups are numbered from 1 by decreasing size.
    """
    gp = gp or GroupParams()
    if gp.method not in METHODS:
        from envoywatch.analysis.coordination.inputs import CoordinationError

        raise CoordinationError(f"unknown group method {gp.method!r}", "--method", f"use one of: {', '.join(METHODS)}")
    ig = _igraph()
    kept = threshold_edges(edges, gp)
    names = sorted({a for a, _, _, _ in kept} | {b for _, b, _, _ in kept})
    index = {n: i for i, n in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(index[a], index[b]) for a, b, _, _ in kept], directed=False)
    g.vs["name"] = names
    g.es["weight"] = [float(w) for _, _, w, _ in kept]
    if gp.method == "components":
        clusters = [list(c) for c in g.connected_components()]
    else:
        try:
            import leidenalg
        except ImportError:
            raise OptionalDependencyMissing("leidenalg", "coordination", "Leiden communities") from None
        part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                        resolution_parameter=gp.resolution, seed=gp.seed)
        clusters = [list(c) for c in part]
    clusters = [c for c in clusters if len(c) >= gp.min_size]
    clusters.sort(key=lambda c: (-len(c), min(names[i] for i in c)))
    membership: dict[str, int] = {}
    summaries = []
    for gi, members in enumerate(clusters, start=1):
        mem = {names[i] for i in members}
        for m in mem:
            membership[m] = gi
        inner = [(a, b, w, r) for a, b, w, r in kept if a in mem and b in mem]
        n = len(mem)
        examples: list[str] = []
        for _, _, _, r in sorted(inner, key=lambda x: -x[2]):
            for item in r.get("example_items") or []:
                if item not in examples and len(examples) < 5:
                    examples.append(item)
        summaries.append({
            "group": gi, "size": n, "members": sorted(mem), "edges": len(inner),
            "density": round(2 * len(inner) / (n * (n - 1)), 4) if n > 1 else 0.0,
            "total_weight": sum(w for _, _, w, _ in inner),
            "mean_weight": round(sum(w for _, _, w, _ in inner) / len(inner), 3) if inner else 0.0,
                        "first_time": min((r["first_time"] for _, _, _, r in inner), default=None),
            "last_time": max((r["last_time"] for _, _, _, r in inner), default=None),
            "example_items": examples,
        })
    return summaries, membership


def thresholded_edges(net, gp: GroupParams):
    """The network's edges that pass the group thresholds, filtered in DuckDB (an Arrow table)."""
    return net.edges.filter(
        f"weight >= {int(gp.min_weight)} AND "
        f"weight >= {float(gp.min_overlap)} * greatest(1, least(source_items, target_items))").to_arrow_table()


def describe_groups(net, summaries: list[dict], membership: dict[str, int], top: int = 5) -> list[dict]:
    """Add what the members shared, computed in DuckDB on the network's item rows (needs keep=True):
    items (items that at least two members shared, at any time in the period), active_from / active_to
    (first and last message of a member on such an item), top_items (by number of members)."""
    import pyarrow as pa

    if not membership:
        return summaries
    T, con = net.prefix, net.con
    con.register(f"{T}_mem", pa.table({"account_id": pa.array(list(membership), pa.string()),
                                       "grp": pa.array(list(membership.values()), pa.int64())}))
    try:
        rows = con.execute(f"""
            WITH x AS (SELECT m.grp, x.aid, x.iid, x.ts FROM {T}_x x JOIN {T}_acc a USING (aid)
                       JOIN {T}_mem m USING (account_id)),
                 per_item AS (SELECT grp, iid, count(DISTINCT aid) AS members, min(ts) AS t0, max(ts) AS t1
                              FROM x GROUP BY grp, iid HAVING count(DISTINCT aid) >= 2),
                 ranked AS (SELECT *, row_number() OVER (PARTITION BY grp ORDER BY members DESC, iid) AS rk
                            FROM per_item)
            SELECT grp, count(*) AS items, min(t0), max(t1),
                   list(i.item ORDER BY rk) FILTER (WHERE rk <= {int(top)}) AS top_items
            FROM ranked r JOIN {T}_items i USING (iid) GROUP BY grp""").fetchall()
    finally:
        con.unregister(f"{T}_mem")
    by = {r[0]: r[1:] for r in rows}
    for s in summaries:
        items, t0, t1, top_items = by.get(s["group"], (0, None, None, []))
        s.update(items=items, active_from=t0, active_to=t1, top_items=top_items or [])
    return summaries


def groups_from_network(net, gp: GroupParams | None = None) -> tuple[list[dict], dict[str, int]]:
    """Threshold, group and describe (the network must have been computed with keep=True)."""
    gp = gp or GroupParams()
    summaries, membership = find_groups(thresholded_edges(net, gp), gp)
    return describe_groups(net, summaries, membership), membership
