"""envoywatch import: archive files (formats detected) and Parquet exports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from envoywatch.cli.common import open_store


def _echo_result(res) -> None:
    name = res.path.name
    if res.status == "already_imported":
        click.echo(f"{name}: {res.note}")
        return
    how = "detected" if res.detected else "forced"
    if res.status == "skipped":
        click.echo(f"{name}: format {res.format} ({how}); skipped: {res.note}")
        return
    rej = f", {res.rejects} rejected (see: envoywatch sql \"SELECT * FROM rejects WHERE batch_id = {res.batch_id}\")" if res.rejects else ""
    click.echo(f"{name}: format {res.format} ({how}); batch {res.batch_id}: {res.records:,} records, "
               f"{res.new_posts:,} new posts, {res.new_accounts:,} new accounts{rej} in {res.seconds:.1f}s")


@click.command("import")
@click.argument("paths", nargs=-1, required=False)
@click.option("--format", "fmt", metavar="NAME", help="force a format instead of detecting it (see --list-formats)")
@click.option("--skip-bad", is_flag=True, help="import the good records; keep bad ones in the rejects table")
@click.option("--force", is_flag=True, help="read files again even if their bytes were imported before")
@click.option("--captured-at", metavar="TIME", help="capture time for follower/engagement snapshots when the file gives none (default: file mtime)")
@click.option("--map", "mapping", metavar="NAME|FILE", help="column mapping for --format generic: a shipped map (dipromats, coortweet, cnt, influencer_mentions) or a YAML file")
@click.option("--list-formats", is_flag=True, help="list the formats and exit")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a terminal)")
@click.option("--memory-limit", metavar="SIZE", help="DuckDB's memory during the import, e.g. 512MB or 4GB "
              "(env ENVOYWATCH_IMPORT_MEMORY; default 512MB: memory stays flat however large the files; "
              "more can be faster for very large stores)")
@click.pass_context
def import_cmd(ctx, paths, fmt, skip_bad, force, captured_at, mapping, list_formats, progress, memory_limit):
    """Import archive files or directories (.gz too) into the store; `import parquet DIR` reads an export.

    Each file lands whole or not at all; re-importing a file changes nothing; an interrupted run resumes
    when run again. Formats are detected and the choice is printed.
    """
    from envoywatch.importers.base import load_formats
    from envoywatch.util.timeparse import parse_time

    if list_formats:
        for name, spec in sorted(load_formats().items()):
            click.echo(f"{name:28} {spec.platform or '-':10} {spec.description}")
        return
    if not paths:
        raise click.UsageError("give one or more files or directories (or --list-formats)")
    if paths[0] == "parquet" and not Path("parquet").exists():
        if len(paths) != 2:
            raise click.UsageError("usage: envoywatch import parquet DIR")
        from envoywatch.store.parquet import import_parquet

        with open_store(ctx) as store:
            added = import_parquet(store, paths[1])
        click.echo("imported: " + ", ".join(f"{t} +{n:,}" for t, n in added.items()))
        return
    from envoywatch.importers.run import import_paths

    cap = parse_time(captured_at, "--captured-at") if captured_at else None
    options = {"map": mapping} if mapping else None
    if progress is None:
        progress = sys.stderr.isatty()
    with open_store(ctx) as store:
        results = import_paths(store, paths, fmt=fmt, skip_bad=skip_bad, force=force, captured_at=cap,
                               progress=progress, options=options, on_file=_echo_result,
                               memory_limit=memory_limit)
    total = sum(r.new_posts for r in results)
    rejects = sum(r.rejects for r in results)
    derived = sum(r.derived_seconds for r in results)
    refreshed = f"; search index and aggregates refreshed in {derived:.1f}s" if derived else ""
    click.echo(f"done: {len(results)} file(s), {total:,} new posts, {rejects:,} rejected{refreshed}")


commands = [import_cmd]
