"""envoywatch narratives ...: thin commands over envoywatch.analysis.narratives (docs/analysis/narratives.md)."""

from __future__ import annotations

from pathlib import Path

import click

from envoywatch.cli.common import open_store, print_table

FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                      show_default=True)
BY = ["account", "actor", "state", "category", "host_country", "platform", "language"]


def filter_options(fn):
    opts = [
        click.option("--state", "states", multiple=True, help="affiliated state, ISO alpha-2 (repeat or comma-separate)"),
        click.option("--category", "categories", multiple=True, help="registry category, e.g. mission"),
        click.option("--platform", "platforms", multiple=True, help="platform slug"),
        click.option("--account", "accounts", multiple=True, help="account id"),
        click.option("--host-country", "host_countries", multiple=True, help="host country, ISO alpha-2"),
        click.option("--kind", "kinds", multiple=True, help="post | repost | quote | reply"),
        click.option("--since", help="from this time, inclusive (YYYY, YYYY-MM, YYYY-MM-DD or ISO 8601, UTC)"),
        click.option("--until", help="up to this time, exclusive"),
        click.option("--registered", is_flag=True, help="only accounts in the registry"),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _split(values) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or () for v in str(item).split(",") if v.strip())


def filters(kw: dict, registered_default: bool = False):
    from envoywatch.analysis.filters import Filters

    return Filters(states=tuple(s.upper() for s in _split(kw.pop("states"))), categories=_split(kw.pop("categories")),
                   platforms=_split(kw.pop("platforms")), accounts=_split(kw.pop("accounts")),
                   host_countries=tuple(s.upper() for s in _split(kw.pop("host_countries"))),
                   kinds=_split(kw.pop("kinds")), start=kw.pop("since", None), end=kw.pop("until", None),
                   registered_only=kw.pop("registered") or registered_default)


def show(expr_or_table, fmt: str, title: str, max_rows: int | None = 200) -> None:
    table = expr_or_table.to_pyarrow() if hasattr(expr_or_table, "to_pyarrow") else expr_or_table
    print_table(table, fmt, title=title, max_rows=max_rows if fmt == "table" else None)


@click.group("narratives")
def narratives_group():
    """Narratives: registry, assignment, share over time, shifts, leaders, discovery, uniform line."""


@narratives_group.command("list")
@FORMAT
@click.pass_context
def list_cmd(ctx, fmt):
    """The narratives known to the store: packaged and user-defined."""
    import pyarrow as pa

    from envoywatch.analysis.narratives import all_narratives

    with open_store(ctx) as store:
        ns = all_narratives(store)
    show(pa.table({"name": [n.name for n in ns], "origin": [n.origin for n in ns],
                   "languages": [",".join(sorted(set(n.keywords) | set(n.patterns))) for n in ns],
                   "examples": [len(n.examples) for n in ns], "description": [n.description for n in ns]}),
         fmt, "narratives", max_rows=None)


@narratives_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="replace narratives of the same name (packaged ones too)")
@click.pass_context
def add_cmd(ctx, file, replace):
    """Add your own narratives from a YAML file (same format as the packaged registry)."""
    from envoywatch.analysis.narratives import add_narratives

    with open_store(ctx) as store:
        names = add_narratives(store, Path(file), replace=replace)
    click.echo(f"added {len(names)} narrative(s): {', '.join(names)}; run `envoywatch narratives assign` to apply them")


@narratives_group.command("assign")
@filter_options
@click.option("--method", "methods", multiple=True, type=click.Choice(["pattern", "embedding"]),
              help="pattern (default) and/or embedding (needs envoywatch[narratives])")
@click.option("--threshold", type=float, default=0.5, show_default=True, help="embedding: minimum cosine similarity")
@click.option("--refresh", is_flag=True, help="rescan posts scanned before")
@click.pass_context
def assign_cmd(ctx, methods, threshold, refresh, **kw):
    """Assign narratives to posts (cached in the store; only new posts are scanned)."""
    from envoywatch.analysis.narratives import assign_narratives

    with open_store(ctx) as store:
        out = assign_narratives(store, methods or ("pattern",), filters(kw), threshold=threshold, refresh=refresh)
    for m, c in out.items():
        click.echo(f"{m}: {c['scanned']:,} posts scanned, {c['assigned']:,} narrative assignments")


@narratives_group.command("share")
@filter_options
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--by", type=click.Choice(BY))
@click.option("--narrative", "names", multiple=True, help="only these narratives")
@FORMAT
@click.pass_context
def share_cmd(ctx, freq, by, names, fmt, **kw):
    """Share of posts per narrative, period and group."""
    from envoywatch.analysis.narratives import narrative_share

    with open_store(ctx, read_only=True) as store:
        show(narrative_share(store, filters(kw), freq=freq, by=by, narratives=_split(names) or None), fmt,
             f"narrative share per {freq}")


@narratives_group.command("shifts")
@filter_options
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="week", show_default=True)
@click.option("--by", type=click.Choice(BY))
@click.option("--baseline", type=int, default=4, show_default=True, help="periods before that form the baseline")
@click.option("--alpha", type=float, default=0.01, show_default=True, help="family-wise error rate (Bonferroni)")
@click.option("--min-change", type=float, default=0.05, show_default=True, help="minimum change of the share")
@click.option("--all", "show_all", is_flag=True, help="every tested cell, not only the onsets of shifts")
@FORMAT
@click.pass_context
def shifts_cmd(ctx, freq, by, baseline, alpha, min_change, show_all, fmt, **kw):
    """When and how significantly narrative shares change (onsets of significant shifts)."""
    from envoywatch.analysis.narratives import narrative_shifts

    with open_store(ctx, read_only=True) as store:
        t = narrative_shifts(store, filters(kw), freq=freq, by=by, baseline=baseline, alpha=alpha,
                             min_change=min_change)
        if not show_all:
            t = t.filter(t.onset)
        show(t.select("period", "group", "narrative", "direction", "baseline_share", "share", "posts", "z",
                      "p_adjusted", "significant", "onset"), fmt, "narrative shifts")


@narratives_group.command("leaders")
@filter_options
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--narrative", "names", multiple=True, help="only these narratives")
@click.option("-n", "n", type=int, default=5, show_default=True, help="accounts per narrative and period")
@FORMAT
@click.pass_context
def leaders_cmd(ctx, freq, names, n, fmt, **kw):
    """Which accounts post a narrative first in each period, and how long the others take."""
    from envoywatch.analysis.narratives import narrative_leaders

    with open_store(ctx, read_only=True) as store:
        show(narrative_leaders(store, filters(kw), freq=freq, narratives=_split(names) or None, n=n), fmt,
             "narrative leaders")


@narratives_group.command("followers")
@filter_options
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--window-hours", type=float, default=72.0, show_default=True)
@click.option("--min-times", type=int, default=2, show_default=True)
@FORMAT
@click.pass_context
def followers_cmd(ctx, freq, window_hours, min_times, fmt, **kw):
    """Leader -> follower pairs: who posts a narrative within hours/days after whom."""
    from envoywatch.analysis.narratives import narrative_followers

    with open_store(ctx, read_only=True) as store:
        show(narrative_followers(store, filters(kw), freq=freq, window_hours=window_hours, min_times=min_times),
             fmt, "narrative followers")


@narratives_group.command("discover")
@filter_options
@click.option("--days", type=int, default=30, show_default=True, help="the last N days of the store (without --since)")
@click.option("--clusters", type=int, help="number of clusters [default: from the number of posts]")
@click.option("--method", type=click.Choice(["tfidf", "embedding"]), default="tfidf", show_default=True)
@click.option("--min-size", type=int, default=5, show_default=True)
@click.option("--promote", "promote_n", type=int, help="write cluster N as a new narrative (with --name)")
@click.option("--name", help="name of the promoted narrative")
@click.option("--out", type=click.Path(dir_okay=False), help="also write the promoted definition to this YAML file")
@FORMAT
@click.pass_context
def discover_cmd(ctx, days, clusters, method, min_size, promote_n, name, out, fmt, **kw):
    """Emerging topics: clusters of recent posts that no narrative covers, with key terms and examples."""
    import pyarrow as pa

    from envoywatch.analysis.narratives import NarrativeError, add_narratives, discover_topics, promote, to_yaml

    if promote_n is not None and not name:
        raise NarrativeError("--promote needs --name", "narratives discover", "add --name your_topic_name")
    with open_store(ctx) as store:
        found = discover_topics(store, filters(kw), n_clusters=clusters, method=method, min_size=min_size, days=days)
        if promote_n is None:
            rows = [c.as_row() for c in found]
            show(pa.Table.from_pylist(rows) if rows else pa.table({"cluster": []}), fmt, "emerging topics")
            return
        match = [c for c in found if c.number == promote_n]
        if not match:
            raise NarrativeError(f"no cluster {promote_n}", "--promote",
                                 f"choose one of 1..{len(found)} from `envoywatch narratives discover`")
        n = promote(match[0], name)
        if out:
            Path(out).write_text(to_yaml([n]), encoding="utf-8")
        add_narratives(store, [n])
    click.echo(f"narrative {name} added (keywords: {', '.join(n.keywords.get('any', []))})"
               + (f"; definition written to {out}" if out else ""))


@narratives_group.command("lines")
@filter_options
@click.option("--days", type=float, default=3.0, show_default=True, help="posts of one line lie within N days")
@click.option("--method", type=click.Choice(["text", "embedding", "both"]), default="text", show_default=True)
@click.option("--threshold", type=float, default=0.7, show_default=True, help="embedding: minimum cosine")
@click.option("--min-accounts", type=int, default=3, show_default=True)
@FORMAT
@click.pass_context
def lines_cmd(ctx, days, method, threshold, min_accounts, fmt, **kw):
    """Find the shared lines (near-identical or translated messages of several accounts) and list them."""
    from envoywatch.analysis.narratives import find_shared_lines, shared_lines

    f = filters(kw, registered_default=True)
    with open_store(ctx) as store:
        c = find_shared_lines(store, f, days=days, method=method, threshold=threshold, min_accounts=min_accounts)
        click.echo(f"{c['lines']:,} lines, {c['posts_in_lines']:,} of {c['posts_compared']:,} original posts", err=True)
        show(shared_lines(store, f), fmt, "shared lines")


@narratives_group.command("line-share")
@filter_options
@click.option("--by", type=click.Choice(["account", "host_country", "state", "category"]), default="account",
              show_default=True)
@FORMAT
@click.pass_context
def line_share_cmd(ctx, by, fmt, **kw):
    """Per account (mission): the share of its own posts that is a shared line vs local content."""
    from envoywatch.analysis.narratives import line_share

    with open_store(ctx, read_only=True) as store:
        show(line_share(store, filters(kw, registered_default=True), by=by), fmt, "shared line vs local")


commands = [narratives_group]
