"""The envoywatch command: parse, call the library, print; map errors to one line with the fix.

Commands live in cli/cmd_*.py modules, each exposing `commands` (a list of click commands or groups);
they are collected here so that adding a command touches only its own module.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import click

from envoywatch import __version__
from envoywatch.errors import EnvoywatchError


class EnvoywatchGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EnvoywatchError as exc:
            click.echo(f"error: {exc.one_line()}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: completed files are kept; run the same command again to resume", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # never a traceback for the user; --debug or ENVOYWATCH_DEBUG=1 shows it
            if os.environ.get("ENVOYWATCH_DEBUG") or (ctx.obj or {}).get("debug"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(f"error: unexpected {type(exc).__name__}: {first[:300]} "
                       "Fix: re-run with --debug for details and report it at the project's issue tracker", err=True)
            ctx.exit(1)


@click.group(cls=EnvoywatchGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="envoywatch")
@click.option("--db", envvar="ENVOYWATCH_DB", metavar="FILE",
              help="DuckDB store file [env ENVOYWATCH_DB; default: the user's data directory]")
@click.option("--debug", is_flag=True, help="show tracebacks of unexpected errors")
@click.pass_context
def cli(ctx, db, debug):
    """envoywatch: monitor state-affiliated accounts on social media, and who amplifies them."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    ctx.obj["debug"] = debug


def _collect() -> None:
    import envoywatch.cli as pkg

    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if mod.name.startswith("cmd_"):
            module = importlib.import_module(f"envoywatch.cli.{mod.name}")
            for command in getattr(module, "commands", []):
                cli.add_command(command)


_collect()


def main() -> None:
    cli(prog_name="envoywatch")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
