"""envoywatch signals / amplification: inauthenticity signals per account, amplification share per state account."""

from __future__ import annotations

import click

from envoywatch.cli.common import open_store, print_table

_FORMATS = click.Choice(["table", "csv", "json"])
_SHOWN = ["platform", "account_id", "handle", "score", "flagged", "signals_fired", "n_posts", "created_at"]


@click.command("signals")
@click.option("--min-score", type=float, default=None, help="only accounts with at least this score")
@click.option("--flagged", "only_flagged", is_flag=True, help="only flagged accounts (score >= threshold, not registered)")
@click.option("--threshold", type=float, default=None, help="score threshold for `flagged` [default: 3.0]")
@click.option("--all-columns", is_flag=True, help="every measurement and signal column, not only the summary")
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True)
@click.option("--limit", type=int, default=50, show_default=True, help="rows printed in table format")
@click.pass_context
def signals_cmd(ctx, min_score, only_flagged, threshold, all_columns, fmt, limit):
    """Inauthenticity signals and score per account (docs/analysis/inauthenticity.md), highest score first."""
    from envoywatch.analysis.inauthenticity import DEFAULT_THRESHOLD, account_score

    store = open_store(ctx, read_only=True)
    try:
        t = account_score(store, threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
        if min_score is not None:
            t = t.filter(t.score >= min_score)
        if only_flagged:
            t = t.filter(t.flagged)
        if not all_columns:
            t = t.select(*_SHOWN)
        t = t.order_by([t.score.desc(), t.account_id])
        table = t.to_pyarrow()
    finally:
        store.close()
    if fmt == "table" and "signals_fired" in table.column_names:
        import pyarrow as pa

        i = table.column_names.index("signals_fired")
        table = table.set_column(i, "signals_fired", pa.array([" ".join(v or []) for v in
                                                                table.column("signals_fired").to_pylist()]))
    print_table(table, fmt, title=f"inauthenticity signals ({table.num_rows} accounts)", max_rows=limit)


@click.command("amplification")
@click.option("--account", help="only this registered state account (handle or account id)")
@click.option("--freq", type=click.Choice(["day", "week", "month"]), default="month", show_default=True)
@click.option("--kind", type=click.Choice(["all", "repost", "quote", "reply"]), default="all", show_default=True)
@click.option("--threshold", type=float, default=None, help="inauthenticity score threshold [default: 3.0]")
@click.option("--no-coordination", is_flag=True,
              help="do not compute coordination groups (co-repost, 60 s); from_coordinated is then 0")
@click.option("--format", "fmt", type=_FORMATS, default="table", show_default=True)
@click.option("--limit", type=int, default=100, show_default=True, help="rows printed in table format")
@click.pass_context
def amplification_cmd(ctx, account, freq, kind, threshold, no_coordination, fmt, limit):
    """Share of each state account's reposts / quotes / replies that come from flagged or coordinated accounts."""
    from envoywatch.analysis.amplification import amplification_share, coordinated_accounts
    from envoywatch.analysis.inauthenticity import DEFAULT_THRESHOLD

    store = open_store(ctx, read_only=True)
    try:
        members = None if no_coordination else coordinated_accounts(store)
        t = amplification_share(store, freq=freq, account=account, coordinated=members,
                                threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
        t = t.filter(t.kind == kind)
        table = t.to_pyarrow()
    finally:
        store.close()
    print_table(table, fmt, title=f"amplification share per {freq} ({kind})", max_rows=limit)


commands = [signals_cmd, amplification_cmd]
