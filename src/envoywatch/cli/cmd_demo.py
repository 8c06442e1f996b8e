"""envoywatch demo: build a store from a SIMULATED dataset and print its headline figures."""

from __future__ import annotations

import sys

import click

from envoywatch.cli.common import open_store, print_table


class _Bar:
    """A rich progress bar on stderr (only on a terminal, or when asked)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("[bold]demo[/] {task.description:<26}"), BarColumn(),
                                     TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                     console=Console(stderr=True))
            self.progress.start()
            self.task = self.progress.add_task("", total=1.0)

    def __call__(self, what: str, frac: float) -> None:
        if self.enabled:
            self.progress.update(self.task, description=what, completed=frac)

    def close(self) -> None:
        if self.enabled:
            self.progress.stop()


@click.command("demo")
@click.option("--scale", default="default", show_default=True, metavar="SIZE",
              help="small (~20k posts), default (~430k posts), large (~1.4M posts), or a number of posts")
@click.option("--seed", default=42, show_default=True, type=int, help="random seed: the same seed gives the same data")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a terminal)")
@click.pass_context
def demo_cmd(ctx, scale, seed, progress):
    """Build a store from a SIMULATED dataset that envoywatch generates, then print the headline figures.

    The official accounts and state media come from the starter registry (real handles, generated activity);
    missions, ordinary users and planted amplifier networks are generated. Everything is labelled simulated.
    Running it again with the same seed and scale changes nothing. Use --db to choose the store file.
    """
    from envoywatch.demo import build_demo, scale_factor
    from envoywatch.demo.report import headline

    scale_factor(scale)  # a bad --scale fails before any store is created
    with open_store(ctx) as store:
        click.echo(f"envoywatch demo: building a SIMULATED dataset (seed {seed}, scale {scale})")
        from envoywatch.store.db import default_db_path

        where = " (the default store in the user's data directory; choose another with --db)" \
            if store.path.resolve() == default_db_path().resolve() else ""
        click.echo(f"store: {store.path.resolve()}{where}")
        bar = _Bar(sys.stderr.isatty() if progress is None else progress)
        try:
            res = build_demo(store, scale=scale, seed=seed, progress=bar)
        finally:
            bar.close()
        if res.already:
            click.echo(f"this demo (seed {seed}, scale {res.scale}) is already in the store as batch {res.batch_id}: "
                       "nothing changed")
        else:
            c = res.counts
            click.echo(f"built batch {res.batch_id} in {res.seconds:.1f} s: {c['posts']:,} posts, {c['accounts']:,} accounts, "
                       f"{c['post_urls']:,} links, {c['account_snapshots']:,} follower snapshots (all SIMULATED)")
        if res.truth_path:
            click.echo(f"ground truth of the planted networks: {res.truth_path.resolve()}")
        h = headline(store)
        _print(h)
        _analyses(store, progress)
        from envoywatch.outputs.report import write_report

        rep = write_report(store, store.path.with_name(store.path.stem + "-report.html"))
        click.echo(f"\nreport (SIMULATED data, one HTML file that opens offline, built in {rep.seconds:.1f} s): "
                   f"{rep.path.resolve()}")
        click.echo(f"dashboard: envoywatch --db {store.path.resolve()} serve   then open http://127.0.0.1:8000")


def _analyses(store, progress) -> None:
    """The cached analyses behind the report's narratives, uniform-line and tone sections (demo/analyses.py)."""
    from envoywatch.demo.analyses import run_demo_analyses

    click.echo("\nanalyses for the report: narratives (pattern), shared lines, tone scores")
    bar = _Bar(sys.stderr.isatty() if progress is None else progress)
    try:
        r = run_demo_analyses(store, progress=bar)
    finally:
        bar.close()
    nr, ln, tn = r["narratives"], r["lines"], r["tone"]
    click.echo(f"  narratives: {nr['scanned']:,} posts scanned, {nr['assigned']:,} assignments in {nr['seconds']:.1f} s")
    click.echo("  shared lines: " + (f"{ln['lines']:,} lines, {ln['posts_in_lines']:,} posts" if ln.get("lines") is not None
                                     else "already in the store") + f" in {ln['seconds']:.1f} s")
    click.echo(f"  tone: {tn['scored']:,} posts scored with model {tn['model_version']} in {tn['seconds']:.1f} s")


def _print(h) -> None:
    click.echo("")
    print_table(h.state_accounts, title="state-affiliated accounts in the store, by state and category (registry)")
    g = h.growth
    if g:
        click.echo("")
        click.echo(f"Chinese diplomatic accounts, posts per month: {g['start_month']:%Y-%m}: {g['start_posts']:,}  ->  "
                   f"{g['end_month']:%Y-%m}: {g['end_posts']:,}  (change {g['change']:+,})")
        click.echo(f"  accounts active in both months ({g['both_accounts']}): {g['both_change']:+,}")
        click.echo(f"  new accounts, active only at the end ({g['new_accounts']}): {g['new_posts']:+,}")
        click.echo(f"  accounts gone quiet, active only at the start ({g['gone_accounts']}): {-g['gone_posts']:+,}")
        click.echo(f"  {g['both_change']:+,} {g['new_posts']:+,} {-g['gone_posts']:+,} = {g['change']:+,}")
    click.echo("")
    print_table(h.hashtags, title="top hashtags")
    print_table(h.domains, title="top linked domains (kind/state/outlet from the registry's domains)")
    n = h.network
    click.echo("")
    click.echo(f"GROUND TRUTH (known only because the data is simulated): {n['from_network']:,} of {n['reposts']:,} "
               f"reposts of state-affiliated accounts ({n['share']:.1%}) come from {n['network_accounts']} accounts of "
               "the planted amplifier networks")
    click.echo("")
    click.echo("SIMULATED DATA: every account, post and figure above was generated by envoywatch demo; "
               "none of it is a real observation.")
    click.echo("Explore further: envoywatch stats | envoywatch accounts --state CN --registered | "
               "envoywatch sql \"SELECT kind, count(*) FROM posts GROUP BY kind\"")


commands = [demo_cmd]
