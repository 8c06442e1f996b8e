"""envoywatch coordination network / groups: coordination networks on the store or on a CNT/CooRTweet CSV."""

from __future__ import annotations

from pathlib import Path

import click

from envoywatch.cli.common import open_store, print_table

_TYPES = ["co-repost", "co-link", "co-domain", "co-post", "co-reply", "co-hashtag", "co-mention", "co-similar-text",
          "co-activity"]
_WINDOW_TYPES = _TYPES[:-2]
_EDGE_SUFFIXES = (".csv", ".parquet", ".gexf", ".graphml")


def _input_options(fn):
    opts = [
        click.option("--type", "ntype", type=click.Choice(_TYPES), default="co-repost", show_default=True,
                     help="what counts as the same item"),
        click.option("--window", type=float, default=60.0, show_default=True,
                     help="seconds: two shares match when |t1 - t2| <= window"),
        click.option("--min-participation", type=int, default=1, show_default=True,
                     help="an account needs at least this many messages of the type"),
        click.option("--weight", type=click.Choice(["items", "messages"]), default=None,
                     help="items: distinct shared items, undirected (default); messages: CNT's directed weight"),
        click.option("--similarity", type=float, default=0.8, show_default=True,
                     help="co-similar-text: minimum Jaccard similarity of the token sets"),
        click.option("--url-form", type=click.Choice(["normalized", "raw"]), default="normalized", show_default=True,
                     help="co-link: compare normalized URLs or the strings as given"),
        click.option("--cnt-compatible", is_flag=True,
                     help="reproduce coordination-network-toolkit exactly (messages weight, raw URLs, directed)"),
        click.option("--from-csv", "csv_path", type=click.Path(dir_okay=False),
                     help="read this CSV directly instead of the store"),
        click.option("--layout", type=click.Choice(["cnt", "coortweet"]), default="cnt", show_default=True,
                     help="CSV layout: CNT (message_id,user_id,username,repost_id,reply_id,message,timestamp,urls) "
                          "or CooRTweet (object_id,account_id,content_id,timestamp_share)"),
        click.option("--platform", help="store: only this platform"),
        click.option("--since", help="only messages at or after this time (ISO 8601 or epoch seconds)"),
        click.option("--until", help="only messages before this time"),
        click.option("--accounts", "accounts_file", type=click.Path(dir_okay=False),
                     help="only these accounts: a file with one account id per line"),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _params(ntype, window, min_weight, min_participation, weight, url_form, cnt, since, until, accounts_file,
            similarity=0.8):
    from envoywatch.analysis.coordination import NetworkParams
    from envoywatch.analysis.coordination.inputs import CoordinationError
    from envoywatch.util.timeparse import parse_time

    def epoch(v, name):
        if not v:
            return None
        from datetime import timezone

        return parse_time(v, name).replace(tzinfo=timezone.utc).timestamp()

    accounts = None
    if accounts_file:
        try:
            accounts = [ln.strip() for ln in Path(accounts_file).read_text(encoding="utf-8").splitlines() if ln.strip()]
        except OSError as exc:
            raise CoordinationError(f"cannot read the accounts file ({exc})", accounts_file,
                                    "give a text file with one account id per line") from None
    return NetworkParams(type=ntype, window=window, min_weight=min_weight, min_participation=min_participation,
                         weight=weight or ("messages" if cnt else "items"), url_form=url_form,
                         mode="cnt" if cnt else "default", accounts=accounts, similarity=similarity,
                         since=epoch(since, "--since"), until=epoch(until, "--until"))


class _Source:
    """The DuckDB connection and messages table for either input (CSV or store); closes what it opened."""

    def __init__(self, ctx, csv_path, layout, platform):
        self.store = None
        if csv_path:
            from envoywatch.analysis.coordination import open_csv_source

            self.con, self.table = open_csv_source(csv_path, layout)
        else:
            from envoywatch.analysis.coordination import from_store
            from envoywatch.analysis.coordination.inputs import CoordinationError

            self.store = open_store(ctx, read_only=True)
            self.con, self.table = self.store.con, "ew_messages"
            if not from_store(self.store, self.table, platform=platform):
                raise CoordinationError("no posts in the store" + (f" for platform {platform}" if platform else ""),
                                        str(self.store.path), "import posts first, or use --from-csv FILE")

    def node_attributes(self, ids) -> dict[str, dict]:
        """handle (and registry category/state where the store knows the account) per account id."""
        import pyarrow as pa

        ids = list(ids)
        nodes = {i: {} for i in ids}
        self.con.register("ew_node_ids", pa.table({"account_id": pa.array(ids, pa.string())}))
        try:
            for aid, handle in self.con.execute(f"""SELECT n.account_id, any_value(m.handle) FROM ew_node_ids n
                    JOIN {self.table} m USING (account_id) GROUP BY ALL""").fetchall():
                nodes[aid]["handle"] = handle
            if self.store is not None:
                rows = self.con.execute("""
                    SELECT n.account_id, any_value(act.category), any_value(act.state) FROM ew_node_ids n
                    JOIN registry_accounts ra ON ra.account_id = n.account_id
                    JOIN registry_actors act USING (actor_id) GROUP BY ALL""").fetchall()
                for aid, category, state in rows:
                    nodes[aid].update(category=category, state=state)
        except Exception:  # an older store without registry tables: handles only
            pass
        finally:
            self.con.unregister("ew_node_ids")
        if self.store is not None:  # inauthenticity score and the signals that fired
            from envoywatch.analysis.inauthenticity import node_attributes

            for aid, attrs in node_attributes(self.store, ids).items():
                if aid in nodes:
                    nodes[aid].update(attrs)
        return nodes

    def close(self):
        if self.store is not None:
            self.store.close()
        else:
            self.con.close()


def _write_edges(net, out: str, src: _Source, membership: dict | None = None) -> int:
    from envoywatch.analysis.coordination.inputs import CoordinationError

    suffix = Path(out).suffix.lower()
    if suffix not in _EDGE_SUFFIXES:
        raise CoordinationError(f"unknown output format {suffix or '(none)'}", out,
                                "name the file .csv, .parquet, .gexf or .graphml")
    if suffix == ".csv":
        net.edges.select("* REPLACE (array_to_string(example_items, ' ') AS example_items)").write_csv(out)
        return net.count()
    if suffix == ".parquet":
        net.edges.write_parquet(out)
        return net.count()
    from envoywatch.outputs.graphs import write_graph

    edges = net.edges.select("source, target, weight, shared_items, first_time, last_time").to_arrow_table().to_pylist()
    nodes = src.node_attributes({e["source"] for e in edges} | {e["target"] for e in edges})
    for aid, g in (membership or {}).items():
        nodes.setdefault(aid, {})["group"] = g
    return write_graph(out, edges, nodes, directed=net.params.resolved().weight == "messages")


@click.group("coordination")
def coordination_group():
    """Coordination networks (co-repost, co-link, ...) and groups of coordinated accounts."""


@coordination_group.command("network")
@_input_options
@click.option("--min-weight", type=int, default=1, show_default=True, help="keep edges with at least this weight")
@click.option("--out", help="write the edges: .csv, .parquet, .gexf or .graphml (default: print the top edges)")
@click.option("--limit", default=20, show_default=True, help="edges printed without --out")
@click.option("--null-model", is_flag=True,
              help="add activity_weight (time slots of width --window in which both accounts posted anything) and "
                   "content_ratio = weight / activity_weight to every edge: the synchronized-activity null model")
@click.pass_context
def network_cmd(ctx, ntype, window, min_participation, weight, similarity, url_form, cnt_compatible, csv_path, layout,
                platform, since, until, accounts_file, min_weight, out, limit, null_model):
    """Compute one coordination network on the store (or --from-csv FILE) and write or print its edges."""
    from envoywatch.analysis.coordination import compute_network

    params = _params(ntype, window, min_weight, min_participation, weight, url_form, cnt_compatible, since, until,
                     accounts_file, similarity)
    src = _Source(ctx, csv_path, layout, platform)
    try:
        net = compute_network(src.con, src.table, params)
        shown = "source, target, weight, shared_items, example_items"
        if null_model:
            from envoywatch.analysis.coordination.null_model import with_activity_null

            net = with_activity_null(src.con, src.table, net)
            shown += ", activity_weight, content_ratio"
        if out:
            n = _write_edges(net, out, src)
            click.echo(f"wrote {n:,} edges ({ntype}, window {window:g} s, {params.resolved().weight} weight) to {out}")
        else:
            print_table(net.edges.select(shown).limit(limit)
                        .to_arrow_table(), "table", title=f"{ntype} edges (top {limit})")
    finally:
        src.close()


@coordination_group.command("groups")
@_input_options
@click.option("--min-weight", type=int, default=5, show_default=True, help="an edge in a group needs this weight")
@click.option("--min-overlap", type=float, default=0.25, show_default=True,
              help="and weight / min(items of the two accounts) at least this")
@click.option("--min-size", type=int, default=3, show_default=True, help="smallest group reported")
@click.option("--method", type=click.Choice(["components", "leiden"]), default="components", show_default=True)
@click.option("--resolution", type=float, default=1.0, show_default=True, help="Leiden resolution")
@click.option("--out", help="write the groups: .csv or .json (default: print them)")
@click.option("--graph", "graph_out", help="also write the thresholded network: .gexf or .graphml (node attribute: group)")
@click.pass_context
def groups_cmd(ctx, ntype, window, min_participation, weight, similarity, url_form, cnt_compatible, csv_path, layout,
               platform, since, until, accounts_file, min_weight, min_overlap, min_size, method, resolution, out,
               graph_out):
    """Groups of coordinated accounts: components or Leiden communities of the thresholded network."""
    import json

    import pyarrow as pa

    from envoywatch.analysis.coordination import compute_network
    from envoywatch.analysis.coordination.groups import GroupParams, groups_from_network
    from envoywatch.analysis.coordination.inputs import CoordinationError

    params = _params(ntype, window, min_weight, min_participation, weight, url_form, cnt_compatible, since, until,
                     accounts_file, similarity)
    gp = GroupParams(min_weight=min_weight, min_overlap=min_overlap, min_size=min_size, method=method,
                     resolution=resolution)
    src = _Source(ctx, csv_path, layout, platform)
    try:
        net = compute_network(src.con, src.table, params, keep=True)
        groups, membership = groups_from_network(net, gp)
        rows = [{**g, "members": " ".join(g["members"]), "example_items": " ".join(g["example_items"]),
                 "top_items": " ".join(g["top_items"])} for g in groups]
        if out:
            suffix = Path(out).suffix.lower()
            if suffix == ".json":
                Path(out).write_text(json.dumps(groups, indent=1, default=str), encoding="utf-8")
            elif suffix == ".csv":
                import pyarrow.csv as pcsv

                pcsv.write_csv(pa.Table.from_pylist(rows) if rows else pa.table({"group": []}), out)
            else:
                raise CoordinationError(f"unknown output format {suffix or '(none)'}", out, "name the file .csv or .json")
            click.echo(f"wrote {len(groups)} groups ({sum(g['size'] for g in groups)} accounts) to {out}")
        else:
            cols = ["group", "size", "density", "mean_weight", "items", "members"]
            print_table(pa.Table.from_pylist([{k: r[k] for k in cols} for r in rows]) if rows else pa.table({"group": []}),
                        "table", title=f"{len(groups)} groups ({ntype}, window {window:g} s)")
        if graph_out:
            thr = net.edges.filter(f"weight >= {int(min_weight)} AND weight >= {float(min_overlap)} * "
                                   "greatest(1, least(source_items, target_items))")
            net.edges = thr
            n = _write_edges(net, graph_out, src, membership)
            click.echo(f"wrote the thresholded network ({n:,} edges) to {graph_out}")
    finally:
        src.close()


@coordination_group.command("window")
@click.option("--type", "ntype", type=click.Choice(_WINDOW_TYPES), default="co-link", show_default=True)
@click.option("--q", type=float, default=0.1, show_default=True, help="quantile of the quickest items")
@click.option("--p", type=float, default=0.5, show_default=True, help="share of an item's shares to reach")
@click.option("--from-csv", "csv_path", type=click.Path(dir_okay=False), help="read this CSV instead of the store")
@click.option("--layout", type=click.Choice(["cnt", "coortweet"]), default="cnt", show_default=True)
@click.option("--platform", help="store: only this platform")
@click.pass_context
def window_cmd(ctx, ntype, q, p, csv_path, layout, platform):
    """Estimate the coordination window automatically (CooRnet's estimate_coord_interval)."""
    from envoywatch.analysis.coordination.window import estimate_window

    src = _Source(ctx, csv_path, layout, platform)
    try:
        est = estimate_window(src.con, src.table, ntype, q=q, p=p)
    finally:
        src.close()
    if est["window"] is None:
        click.echo(f"no {ntype} item is shared more than once: no estimate")
    else:
        click.echo(f"estimated window: {est['window']:.1f} s ({ntype}; the {q:g} quantile over {est['items']:,} items "
                   f"of the time to pass {p:.0%} of their shares). Use: --window {round(est['window'])}")


commands = [coordination_group]
