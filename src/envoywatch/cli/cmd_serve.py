"""envoywatch serve: the dashboard and REST API over the store (read-only), on 127.0.0.1 by default."""

from __future__ import annotations

import click

from envoywatch.errors import EnvoywatchError


def _require_web():
    import importlib

    for name in ("fastapi", "uvicorn", "jinja2"):
        try:
            importlib.import_module(name)
        except ImportError:
            raise EnvoywatchError(f"the web dashboard needs {name}, which is not installed", "envoywatch serve",
                                  "pip install fastapi uvicorn jinja2") from None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to bind; anything other than 127.0.0.1 exposes the store to the network")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="port (0: any free port)")
@click.option("--no-warm-up", is_flag=True, help="do not precompute the overview pages at start-up")
@click.pass_context
def serve_cmd(ctx, host, port, no_warm_up):
    """Start the dashboard (overview, accounts, search) and the REST API under /api, using the global --db."""
    _require_web()
    import uvicorn

    from envoywatch.cli.common import open_store
    from envoywatch.web.app import create_app

    store = open_store(ctx, read_only=True)
    from envoywatch.analysis.aggregates import is_current

    if store.count("posts") > 100_000 and not is_current(store):
        click.echo(f"note: the aggregates are out of date, so large pages read every post (slow); "
                   f"run `envoywatch --db {store.path} refresh` first", err=True)
    app = create_app(store.path, store=store, warm=not no_warm_up)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: binding {host}: anyone who can reach this address can read the store", err=True)
    click.echo(f"envoywatch dashboard on http://{host}:{port}/  (API: /api, OpenAPI: /openapi.json; Ctrl-C stops)")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        store.close()


commands = [serve_cmd]
