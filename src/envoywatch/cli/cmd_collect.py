"""envoywatch collect / watch: live collection of registry selections (the library does the work)."""

from __future__ import annotations

import sys
import time

import click

from envoywatch.cli.common import open_store

from envoywatch.collect.connectors import PLATFORMS as _PLATFORMS

PLATFORM_CHOICES = tuple(_PLATFORMS)


def _options(platform, base_url, concurrency, max_pages, max_rate_wait, backoff_base, timeout, progress):
    from envoywatch.collect import CollectOptions
    from envoywatch.collect.http import RetryPolicy
    from envoywatch.config import setting

    if base_url and not platform:
        raise click.UsageError("--base-url needs --platform (it applies to one platform)")
    policy = RetryPolicy(
        retries=int(setting("collect", "retries", None, "ENVOYWATCH_COLLECT_RETRIES", 4)),
        backoff_base=float(setting("collect", "backoff_base", backoff_base, "ENVOYWATCH_COLLECT_BACKOFF_BASE", 1.0)),
        timeout=float(setting("collect", "timeout", timeout, "ENVOYWATCH_COLLECT_TIMEOUT", 30.0)))
    cap = setting("x", "monthly_post_cap", None, "ENVOYWATCH_X_MONTHLY_POST_CAP", None)
    return CollectOptions(
        base_urls={platform: base_url} if base_url else {},
        concurrency=int(setting("collect", "concurrency", concurrency, "ENVOYWATCH_COLLECT_CONCURRENCY", 4)),
        policy=policy,
        max_rate_wait=float(setting("collect", "max_rate_wait", max_rate_wait, "ENVOYWATCH_COLLECT_MAX_RATE_WAIT", 900)),
        max_pages=max_pages, monthly_post_cap={"x": int(cap)} if cap else {},
        progress=sys.stderr.isatty() if progress is None else progress)


def _selection(store, platform, state, category, handles):
    from envoywatch.collect import select_accounts

    if not (platform or state or category or handles):
        raise click.UsageError("choose what to collect: --platform, --state, --category and/or --handle")
    targets = select_accounts(store, platform, state, category, handles)
    supported = [t for t in targets if t.platform in PLATFORM_CHOICES]
    if not supported:
        raise click.UsageError(f"no registry account matches this selection on {', '.join(PLATFORM_CHOICES)} "
                               "(see: envoywatch registry accounts)")
    return supported


def _run_once(ctx, platform, state, category, handles, since, until, opts):
    from envoywatch.collect import collect
    from envoywatch.util.timeparse import parse_time

    s = parse_time(since, "--since") if since else None
    u = parse_time(until, "--until") if until else None
    with open_store(ctx) as store:
        targets = _selection(store, platform, state, category, handles)
        summary = collect(store, targets, since=s, until=u, options=opts)
    for line in summary.lines():
        click.echo(line)
    return summary


_common = [
    click.option("--platform", type=click.Choice(PLATFORM_CHOICES), help="only this platform"),
    click.option("--state", metavar="ISO2", help="registry accounts of this state (e.g. CN)"),
    click.option("--category", metavar="NAME", help="registry category (mission, ministry, state_media_outlet...)"),
    click.option("--handle", "handles", multiple=True, metavar="HANDLE",
                 help="collect this handle (repeatable; needs --platform)"),
    click.option("--base-url", metavar="URL",
                 help="API base URL for --platform [env ENVOYWATCH_<PLATFORM>_BASE_URL; toml [<platform>] base_url]"),
    click.option("--concurrency", type=int, help="accounts collected at once [default 4]"),
    click.option("--max-pages", type=int, help="pages per account per run; the next run continues (no gap)"),
    click.option("--max-rate-wait", type=float, help="longest wait for a rate-limit reset, seconds [default 900]"),
    click.option("--backoff-base", type=float, help="first retry delay in seconds, doubled each retry [default 1]"),
    click.option("--timeout", type=float, help="seconds per request [default 30]"),
    click.option("--progress/--no-progress", default=None, help="progress bar (default: on a terminal)"),
]


def _with_common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


@click.command("collect")
@_with_common
@click.option("--since", metavar="TIME", help="backfill: posts from this time (kept apart from the incremental cursor)")
@click.option("--until", metavar="TIME", help="backfill: posts up to this time")
@click.pass_context
def collect_cmd(ctx, platform, state, category, handles, base_url, concurrency, max_pages, max_rate_wait,
                backoff_base, timeout, progress, since, until):
    """Collect posts and follower snapshots of registry accounts from the live platforms.

    Incremental by default: each account continues from its cursor in the store. An interrupted run
    resumes with no gap and no duplicate. Raw pages are kept next to the store (<db>.raw/). Credentials
    are read by reference only (envoywatch.toml: [x] bearer_token = "env:X_BEARER_TOKEN").
    """
    opts = _options(platform, base_url, concurrency, max_pages, max_rate_wait, backoff_base, timeout, progress)
    summary = _run_once(ctx, platform, state, category, handles, since, until, opts)
    if summary.accounts and len(summary.failed) == len(summary.accounts):
        ctx.exit(1)


def _seconds(every: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(every[:-1]) * units[every[-1]] if every[-1] in units else float(every)
    except (ValueError, IndexError):
        raise click.BadParameter("use a number with s, m, h or d (e.g. 1h)", param_hint="--every") from None


@click.command("watch")
@_with_common
@click.option("--every", default="1h", show_default=True, help="interval between runs (30m, 1h, 1d)")
@click.option("--iterations", type=int, help="stop after this many runs [default: run until interrupted]")
@click.pass_context
def watch_cmd(ctx, platform, state, category, handles, base_url, concurrency, max_pages, max_rate_wait,
              backoff_base, timeout, progress, every, iterations):
    """Keep collecting on a schedule: every run takes new posts and follower snapshots."""
    interval = _seconds(every)
    opts = _options(platform, base_url, concurrency, max_pages, max_rate_wait, backoff_base, timeout, progress)
    n = 0
    while iterations is None or n < iterations:
        started = time.monotonic()
        click.echo(f"run {n + 1}:")
        _run_once(ctx, platform, state, category, handles, None, None, opts)
        n += 1
        if iterations is not None and n >= iterations:
            break
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


commands = [collect_cmd, watch_cmd]
