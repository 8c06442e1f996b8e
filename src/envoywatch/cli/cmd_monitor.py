"""envoywatch activity / growth / onboarding / followers / engagement / top-posts / top / languages /
host-focus / search: thin commands over the monitoring analyses (docs/analysis/monitoring.md)."""

from __future__ import annotations

import json

import click

from envoywatch.cli.common import open_store, print_table

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                       show_default=True)
_BY = ["account", "actor", "state", "category", "host_country", "platform", "language"]


def _filter_options(fn):
    opts = [
        click.option("--state", "states", multiple=True, help="affiliated state, ISO alpha-2 (repeat or comma-separate)"),
        click.option("--category", "categories", multiple=True, help="registry category, e.g. mission, head_of_mission"),
        click.option("--platform", "platforms", multiple=True, help="platform slug"),
        click.option("--account", "accounts", multiple=True, help="account id"),
        click.option("--host-country", "host_countries", multiple=True, help="host country, ISO alpha-2"),
        click.option("--kind", "kinds", multiple=True, help="post | repost | quote | reply"),
        click.option("--lang", "languages", multiple=True, help="platform language of the posts"),
        click.option("--since", help="from this time, inclusive (YYYY, YYYY-MM, YYYY-MM-DD or ISO 8601, UTC)"),
        click.option("--until", help="up to this time, exclusive"),
        click.option("--period", help="shortcut for --since/--until: 2021, 2021-06, 2021-06-01 or A..B"),
        click.option("--registered", is_flag=True, help="only accounts in the registry"),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _split(values) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or () for v in str(item).split(",") if v.strip())


def _filters(kw: dict):
    from envoywatch.analysis.filters import Filters, period_bounds

    start, end = kw.pop("since", None), kw.pop("until", None)
    period = kw.pop("period", None)
    if period:
        start, end = period_bounds(period, "--period")
    return Filters(states=_split(kw.pop("states")), categories=_split(kw.pop("categories")),
                   platforms=_split(kw.pop("platforms")), accounts=_split(kw.pop("accounts")),
                   host_countries=_split(kw.pop("host_countries")), kinds=_split(kw.pop("kinds")),
                   languages=_split(kw.pop("languages")), start=start, end=end,
                   registered_only=kw.pop("registered"))


def _show(expr, fmt: str, title: str, max_rows: int | None = 200) -> None:
    print_table(expr.to_pyarrow(), fmt, title=title, max_rows=max_rows if fmt == "table" else None)


@click.command("activity")
@_filter_options
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--by", type=click.Choice(_BY), help="one row per period and group")
@_FORMAT
@click.pass_context
def activity_cmd(ctx, freq, by, fmt, **kw):
    """Posts per period (and group), split into originals, reposts, quotes and replies."""
    from envoywatch.analysis.activity import activity_over_time

    f = _filters(kw)
    with open_store(ctx, read_only=True) as store:
        _show(activity_over_time(store, f, freq=freq, by=by), fmt, f"posts per {freq}" + (f" by {by}" if by else ""))


@click.command("growth")
@_filter_options
@click.option("--a", "a", required=True, help="first period: 2019, 2019-06, 2019-06-01 or A..B")
@click.option("--b", "b", required=True, help="second period")
@click.option("--by-account", is_flag=True, help="also list every account with its status (both, new, gone)")
@_FORMAT
@click.pass_context
def growth_cmd(ctx, a, b, by_account, fmt, **kw):
    """Change of posts between two periods, split exactly: accounts active in both, new, gone quiet."""
    from envoywatch.analysis.activity import growth_by_account, growth_decomposition
    from envoywatch.analysis.filters import period_bounds

    f = _filters(kw)
    (a0, a1), (b0, b1) = period_bounds(a, "--a"), period_bounds(b, "--b")
    with open_store(ctx, read_only=True) as store:
        _show(growth_decomposition(store, f, a0, a1, b0, b1), fmt, f"growth from {a} to {b}")
        if by_account:
            _show(growth_by_account(store, f, a0, a1, b0, b1), fmt, "by account", max_rows=None)


@click.command("onboarding")
@_filter_options
@_FORMAT
@click.pass_context
def onboarding_cmd(ctx, fmt, **kw):
    """Accounts created per month, and accounts whose first post in the store is in that month."""
    from envoywatch.analysis.activity import onboarding

    with open_store(ctx, read_only=True) as store:
        _show(onboarding(store, _filters(kw)), fmt, "onboarding per month")


@click.command("followers")
@_filter_options
@_FORMAT
@click.pass_context
def followers_cmd(ctx, fmt, **kw):
    """Followers and following of the selected accounts at every capture time."""
    from envoywatch.analysis.reach import followers_over_time

    with open_store(ctx, read_only=True) as store:
        _show(followers_over_time(store, _filters(kw)), fmt, "followers over time")


@click.command("engagement")
@_filter_options
@click.option("--by", type=click.Choice(_BY), default="account", show_default=True)
@_FORMAT
@click.pass_context
def engagement_cmd(ctx, by, fmt, **kw):
    """Median likes, reposts, replies and quotes per post (latest snapshot), likes per follower, per group."""
    from envoywatch.analysis.reach import engagement

    with open_store(ctx, read_only=True) as store:
        _show(engagement(store, _filters(kw), by=by), fmt, f"engagement by {by}")


@click.command("top-posts")
@_filter_options
@click.option("--n", default=20, show_default=True, help="how many posts")
@click.option("--metric", type=click.Choice(["likes", "reposts", "replies", "quotes", "views"]), default="reposts",
              show_default=True)
@_FORMAT
@click.pass_context
def top_posts_cmd(ctx, n, metric, fmt, **kw):
    """The posts with the most likes / reposts / replies / quotes / views (latest snapshot)."""
    from envoywatch.analysis.reach import top_posts

    with open_store(ctx, read_only=True) as store:
        _show(top_posts(store, _filters(kw), n=n, metric=metric), fmt, f"top posts by {metric}")


@click.command("top")
@click.argument("entity", type=click.Choice(["hashtag", "mention", "reposted_account", "quoted_account", "url",
                                             "domain"]))
@_filter_options
@click.option("--n", default=20, show_default=True, help="how many entities")
@click.option("--previous", help="compare with this period (default: the same length just before --since/--period)")
@_FORMAT
@click.pass_context
def top_cmd(ctx, entity, n, previous, fmt, **kw):
    """Top hashtags, mentions, reposted or quoted accounts, URLs or domains, with their trend."""
    from envoywatch.analysis.filters import period_bounds
    from envoywatch.analysis.shares import top_entities

    prev = period_bounds(previous, "--previous") if previous else None
    with open_store(ctx, read_only=True) as store:
        _show(top_entities(store, _filters(kw), entity, n=n, previous=prev), fmt, f"top {entity}")


@click.command("languages")
@_filter_options
@click.option("--by", type=click.Choice(_BY), help="one mix per group")
@click.option("--no-detect", is_flag=True, help="count posts without a platform language as 'und' (no detection)")
@_FORMAT
@click.pass_context
def languages_cmd(ctx, by, no_detect, fmt, **kw):
    """Language mix: the platform's language, else detected offline (py3langid)."""
    from envoywatch.analysis.focus import language_mix

    with open_store(ctx, read_only=True) as store:
        _show(language_mix(store, _filters(kw), by=by, detect=not no_detect), fmt, "language mix")


@click.command("host-focus")
@_filter_options
@_FORMAT
@click.pass_context
def host_focus_cmd(ctx, fmt, **kw):
    """Share of each mission's / head of mission's posts that mention the host country."""
    from envoywatch.analysis.focus import host_focus, host_terms_version

    with open_store(ctx, read_only=True) as store:
        _show(host_focus(store, _filters(kw)), fmt, f"host-country focus (terms {host_terms_version()})",
              max_rows=None)


@click.command("search")
@click.argument("query", required=False, default="")
@_filter_options
@click.option("--page", default=1, show_default=True)
@click.option("--per-page", default=20, show_default=True)
@click.option("--reindex", is_flag=True, help="rebuild the search index first (needs write access to the store)")
@_FORMAT
@click.pass_context
def search_cmd(ctx, query, page, per_page, reindex, fmt, **kw):
    """Full-text search over posts, ranked (BM25): every word must occur; "quoted phrases" verbatim."""
    import pyarrow as pa

    from envoywatch.analysis.search import ensure_index, search_posts

    f = _filters(kw)
    with open_store(ctx, read_only=not reindex) as store:
        if reindex:
            meta = ensure_index(store, force=True)
            click.echo(f"search index rebuilt: {meta['docs']} posts", err=True)
            if not query:
                return
        res = search_posts(store, query, f, page=page, per_page=per_page)
    if fmt == "json":
        click.echo(json.dumps(res, default=str, ensure_ascii=False, indent=1))
        return
    rows = [{"score": round(r["score"], 3), "handle": r["handle"] or r["account_id"],
             "created_at": str(r["created_at"])[:16], "kind": r["kind"], "post_id": r["post_id"],
             "snippet": r["snippet"]} for r in res["rows"]]
    if fmt == "csv":
        rows = [{**x, "platform": r["platform"], "text": r["text"]} for x, r in zip(rows, res["rows"])]
    table = pa.Table.from_pylist(rows) if rows else pa.table({"score": [], "snippet": []})
    print_table(table, fmt, title=f"{res['total']} posts match, page {res['page']}")
    if res.get("stale") and fmt == "table":
        click.echo("note: the index is older than the store; run envoywatch search --reindex", err=True)


@click.command("refresh")
@click.option("--full", is_flag=True, help="recompute everything instead of what changed")
@click.pass_context
def refresh_cmd(ctx, full):
    """Bring the derived tables up to date: the per-account-day aggregates and the search index (what every
    import does at its end; needed after posts were written another way or after an upgrade changed them)."""
    import time

    from envoywatch.analysis.aggregates import refresh_aggregates
    from envoywatch.analysis.search import refresh_index

    with open_store(ctx, read_only=False) as store:
        for what, fn in (("aggregates", lambda: refresh_aggregates(store, full=full)),
                         ("search index", lambda: refresh_index(store, force=full))):
            t = time.perf_counter()
            with store.transaction():
                how = fn()
            if isinstance(how, dict):
                how = f"{int(how.get('docs', 0)):,} posts indexed"
            click.echo(f"{what}: {how} ({time.perf_counter() - t:.1f} s)", err=True)


commands = [activity_cmd, growth_cmd, onboarding_cmd, followers_cmd, engagement_cmd, top_posts_cmd, top_cmd,
            languages_cmd, host_focus_cmd, search_cmd, refresh_cmd]
