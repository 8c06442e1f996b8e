"""envoywatch sources ...: thin commands over envoywatch.analysis.sources (docs/analysis/sources.md)."""

from __future__ import annotations

import click

from envoywatch.cli.cmd_narratives import FORMAT, filter_options, filters, show
from envoywatch.cli.common import open_store

_OBSERVED = click.option("--primary-only", is_flag=True,
                         help="only the collected timelines' own posts (not posts embedded in them)")


def _obs(primary_only: bool):
    return "primary" if primary_only else None


@click.group("sources")
def sources_group():
    """Amplified sources: linked domains and reposted accounts classified by the registry."""


@sources_group.command("domains")
@filter_options
@_OBSERVED
@FORMAT
@click.pass_context
def domains_cmd(ctx, primary_only, fmt, **kw):
    """Every linked domain with its class (state media of which state, official, IO, unregistered)."""
    from envoywatch.analysis.sources import source_domains

    with open_store(ctx, read_only=True) as store:
        show(source_domains(store, filters(kw), observed=_obs(primary_only)), fmt, "linked domains")


@sources_group.command("accounts")
@filter_options
@_OBSERVED
@FORMAT
@click.pass_context
def accounts_cmd(ctx, primary_only, fmt, **kw):
    """Every reposted / quoted account with its class."""
    from envoywatch.analysis.sources import source_accounts

    with open_store(ctx, read_only=True) as store:
        show(source_accounts(store, filters(kw), observed=_obs(primary_only)), fmt, "reposted / quoted accounts")


@sources_group.command("matrix")
@filter_options
@_OBSERVED
@click.option("--freq", type=click.Choice(["day", "week", "month", "all"]), default="month", show_default=True)
@click.option("--by", type=click.Choice(["state", "category", "state_category", "host_country", "account"]),
              default="state", show_default=True, help="rows: the amplifying accounts grouped by")
@click.option("--type", "source_type", type=click.Choice(["domain", "account"]), help="only links or only reposts")
@click.option("--include-unregistered", is_flag=True)
@FORMAT
@click.pass_context
def matrix_cmd(ctx, primary_only, freq, by, source_type, include_unregistered, fmt, **kw):
    """Cross-state amplification matrix (e.g. CN missions -> RU state media) over time."""
    from envoywatch.analysis.sources import amplification_matrix

    with open_store(ctx, read_only=True) as store:
        show(amplification_matrix(store, filters(kw), freq=None if freq == "all" else freq, by=by,
                                  source_type=source_type, include_unregistered=include_unregistered,
                                  observed=_obs(primary_only)), fmt, "amplification matrix")


@sources_group.command("top")
@filter_options
@_OBSERVED
@click.option("--freq", type=click.Choice(["day", "week", "month", "all"]), default="month", show_default=True)
@click.option("-n", "n", type=int, default=5, show_default=True)
@click.option("--type", "source_type", type=click.Choice(["domain", "account"]))
@click.option("--classified-only", is_flag=True, help="only sources the registry classifies")
@FORMAT
@click.pass_context
def top_cmd(ctx, primary_only, freq, n, source_type, classified_only, fmt, **kw):
    """Top amplified sources per account and period."""
    from envoywatch.analysis.sources import top_sources

    with open_store(ctx, read_only=True) as store:
        show(top_sources(store, filters(kw), freq=None if freq == "all" else freq, n=n, source_type=source_type,
                         registered_only=classified_only, observed=_obs(primary_only)), fmt, "top sources")


@sources_group.command("resolve")
@click.option("--live", is_flag=True, help="required: allow requests to the link shorteners")
@click.option("--limit", type=int, help="resolve at most N links")
@click.option("--interval", type=float, default=1.0, show_default=True, help="seconds between requests per host")
@click.option("--retry-errors", is_flag=True, help="try links that failed before again")
@click.pass_context
def resolve_cmd(ctx, live, limit, interval, retry_errors):
    """Resolve shortened links (bit.ly, ow.ly, ...) live, rate limited and cached. Off unless --live."""
    from envoywatch.analysis.sources import ShortenerResolver, resolve_shortened_urls

    with open_store(ctx) as store:
        out = resolve_shortened_urls(store, live=live, resolver=ShortenerResolver(min_interval=interval) if live else None,
                                     limit=limit, retry_errors=retry_errors)
    click.echo(f"{out['candidates']:,} shortened links: {out['resolved']:,} resolved, {out['failed']:,} failed "
               f"({out['requests']:,} requests)")


commands = [sources_group]
