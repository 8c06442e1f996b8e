"""Helpers shared by the CLI commands: open the store from the context, print tables."""

from __future__ import annotations

import json
import sys

import click

from envoywatch.config import db_path


def open_store(ctx: click.Context, read_only: bool = False):
    from envoywatch.store import Store

    return Store(db_path((ctx.obj or {}).get("db")), read_only=read_only)


def print_table(table, fmt: str = "table", title: str | None = None, max_rows: int | None = None) -> None:
    """Print a pyarrow Table as a terminal table, CSV or JSON (one array)."""
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(table.column_names)
        for row in table.to_pylist():
            w.writerow(["" if v is None else v for v in row.values()])
        return
    if fmt == "json":
        click.echo(json.dumps(table.to_pylist(), default=str, ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for name in table.column_names:
        t.add_column(name, overflow="fold")
    rows = table.to_pylist()
    for row in rows[: max_rows or len(rows)]:
        t.add_row(*["" if v is None else str(v) for v in row.values()])
    Console().print(t)
    if max_rows and len(rows) > max_rows:
        click.echo(f"... {len(rows) - max_rows} more rows (use --format csv for all)")
