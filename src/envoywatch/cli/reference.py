"""Generate docs/cli.md from the commands' --help (python -m envoywatch.cli.reference > docs/cli.md).

A test regenerates it and compares, so the reference can never drift from the code (house rule 8).
"""

from __future__ import annotations

import click


def _walk(cmd: click.Command, path: list[str], out: list[str]) -> None:
    ctx = click.Context(cmd, info_name=" ".join(path), max_content_width=100, terminal_width=100)
    out.append(f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`")
    out.append("")
    out.append("```")
    out.append(cmd.get_help(ctx).rstrip())
    out.append("```")
    out.append("")
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.list_commands(ctx)):
            _walk(cmd.get_command(ctx, name), path + [name], out)


def cli_markdown() -> str:
    from envoywatch.cli.main import cli

    out = ["# envoywatch command reference", "",
           "Generated from `--help` by `python -m envoywatch.cli.reference > docs/cli.md`; a test keeps it current.", ""]
    _walk(cli, ["envoywatch"], out)
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(cli_markdown())
