"""envoywatch export: Parquet (every table); graph and report formats are added by later analyses."""

from __future__ import annotations

import click

from envoywatch.cli.common import open_store


@click.group("export")
def export_group():
    """Export the store or analysis results."""


@export_group.command("parquet")
@click.argument("directory", type=click.Path(file_okay=False))
@click.pass_context
def export_parquet_cmd(ctx, directory):
    """Write every table to DIRECTORY/<table>.parquet with a manifest (read back with: envoywatch import parquet DIR)."""
    from envoywatch.store.parquet import export_parquet

    with open_store(ctx, read_only=True) as store:
        counts = export_parquet(store, directory)
    click.echo(f"wrote {len(counts)} tables to {directory}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items() if n))


commands = [export_group]
