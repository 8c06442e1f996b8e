"""envoywatch registry ...: the registry of state-affiliated actors, accounts and domains."""

from __future__ import annotations

import json

import click

from envoywatch.cli.common import open_store, print_table

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                       show_default=True)
_CATEGORIES = ("ministry", "spokesperson", "head_of_mission", "mission", "state_media_outlet", "state_media_staff",
               "other_official")
_KINDS = ("canis", "schliebs-latest", "schliebs-historical", "schliebs-users", "twitter-labels",
          "statemedia-domains", "dima")


def _say_counts(what: str, counts: dict) -> None:
    added = counts.get("added", {})
    click.echo(f"{what}: {counts.get('records', 0)} records read; offered {counts.get('actors', 0)} actors, "
               f"{counts.get('accounts', 0)} accounts, {counts.get('history', 0)} history rows, "
               f"{counts.get('domains', 0)} domains; new: " + ", ".join(f"{k} {v}" for k, v in added.items()))
    if counts.get("accounts_by_platform"):
        click.echo("accounts by platform: " + ", ".join(f"{k} {v}" for k, v in counts["accounts_by_platform"].items()))
    if counts.get("verified_by_updated"):
        click.echo(f"confirmed {counts['verified_by_updated']} already registered account(s) (verified_by extended)")
    for why, n in (counts.get("skipped") or {}).items():
        click.echo(f"skipped {n}: {why}")


@click.group("registry")
def registry_group():
    """State-affiliated actors, their accounts and state-media / influence-operation domains."""


@registry_group.command("list")
@click.option("--state", help="ISO 3166-1 alpha-2 of the affiliated state, e.g. CN")
@click.option("--category", type=click.Choice(_CATEGORIES), help="actor category")
@click.option("--platform", help="platform slug, e.g. x")
@click.option("--host-country", help="ISO 3166-1 alpha-2 of the host country (missions, heads of mission)")
@click.option("--unverified", is_flag=True, help="only accounts that no list confirmed")
@_FORMAT
@click.pass_context
def list_cmd(ctx, state, category, platform, host_country, unverified, fmt):
    """List registered accounts with their actor. Unverified accounts are marked UNVERIFIED."""
    from envoywatch.registry import list_accounts

    with open_store(ctx, read_only=True) as store:
        t = list_accounts(store, state=state, category=category, platform=platform, host_country=host_country,
                          verified=False if unverified else None)
    if fmt != "table":
        print_table(t, fmt)
        return
    import pyarrow as pa

    rows = [{"platform": r["platform"], "handle": r["handle"], "verified": "yes" if r["verified"] else "UNVERIFIED",
             "lists": str(len(r["verified_by"].split(";"))) if r["verified_by"] else "0",
             "state": r["state"], "category": r["category"], "host": r["host_country"], "name": r["name"]}
            for r in t.to_pylist()]
    cols = ["platform", "handle", "verified", "lists", "state", "category", "host", "name"]
    print_table(pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in cols])), fmt)
    n_unv = sum(1 for r in rows if r["verified"] == "UNVERIFIED")
    click.echo(f"{len(rows)} account(s); {n_unv} UNVERIFIED (no list confirms the handle; see verified_by with --format csv)")


@registry_group.command("add")
@click.option("--actor-id", required=True, help="stable slug, e.g. cn-emb-de")
@click.option("--name", help="actor name in English (needed when the actor is new)")
@click.option("--name-local", help="name in the state's language")
@click.option("--type", "actor_type", type=click.Choice(["person", "organisation"]), default="organisation",
              show_default=True)
@click.option("--state", help="ISO 3166-1 alpha-2 of the affiliated state (needed when the actor is new)")
@click.option("--category", type=click.Choice(_CATEGORIES), help="actor category (needed when the actor is new)")
@click.option("--host-country", help="ISO alpha-2 of the host country")
@click.option("--language", "languages", multiple=True, help="language code; repeat for more")
@click.option("--source", required=True, help="citation: who attributes this actor/account to the state")
@click.option("--source-url", help="where the attribution can be checked")
@click.option("--valid-from", help="YYYY-MM-DD")
@click.option("--valid-to", help="YYYY-MM-DD")
@click.option("--platform", help="account platform slug, e.g. x (with --handle)")
@click.option("--handle", help="account handle, without @")
@click.option("--account-id", help="the platform's id of the account")
@click.option("--verified-by", help="the list that confirms the handle; leave out and the account is unverified")
@click.pass_context
def add_cmd(ctx, actor_id, name, name_local, actor_type, state, category, host_country, languages, source,
            source_url, valid_from, valid_to, platform, handle, account_id, verified_by):
    """Add an actor (and optionally one of its accounts) from flags."""
    from envoywatch.errors import RegistryError
    from envoywatch.registry import add_account, add_actor

    if bool(platform) != bool(handle):
        raise RegistryError("--platform and --handle go together", "envoywatch registry add", "give both, or neither")
    with open_store(ctx) as store:
        exists = store.con.execute("SELECT 1 FROM registry_actors WHERE actor_id = ?", [actor_id]).fetchall()
        if not exists or name or state or category:
            if not (name and state and category):
                raise RegistryError(f"actor '{actor_id}' is new and needs --name, --state and --category",
                                    "envoywatch registry add", "give --name, --state and --category")
            c = add_actor(store, actor_id=actor_id, name=name, name_local=name_local, actor_type=actor_type,
                          state=state, category=category, host_country=host_country, languages=list(languages),
                          source=source, source_url=source_url, valid_from=valid_from, valid_to=valid_to)
            click.echo(f"actor {actor_id}: {'added' if c['added']['actors'] else 'already registered (empty fields filled)'}")
        if handle:
            old = store.con.execute("SELECT handle, actor_id FROM registry_accounts WHERE platform = ? "
                                    "AND lower(handle) = lower(?)", [platform.lower(), handle.lstrip("@")]).fetchall()
            old = old[0] if old else None
            if old and old[1] != actor_id:
                raise RegistryError(f"{platform}:{old[0]} is already registered to actor '{old[1]}'",
                                    "envoywatch registry add",
                                    f"use --actor-id {old[1]}, or export, edit and re-import the registry to move it")
            c = add_account(store, platform=platform, handle=handle, actor_id=actor_id, source=source,
                            account_id=account_id, verified_by=verified_by, valid_from=valid_from, valid_to=valid_to)
            state_word = "verified by " + verified_by if verified_by else "UNVERIFIED (no list given with --verified-by)"
            click.echo(f"account {platform}:{handle.lstrip('@')}: "
                       f"{'added' if c['added']['accounts'] else 'already registered'}, {state_word}")


@registry_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(_KINDS), help="force the list kind (default: detected from the header)")
@click.option("--state", help="ISO alpha-2 of the state a diplomat/label list is about, when the file name has no cn_/ru_")
@click.pass_context
def import_cmd(ctx, path, kind, state):
    """Import a list file: CANIS, schliebs/disinfo, Twitter labels, state-media domains, DIMA domains."""
    from envoywatch.registry import import_list

    with open_store(ctx) as store:
        counts = import_list(store, path, kind=kind, state=state)
    _say_counts(f"{counts['file']} ({counts['kind']})", counts)


@registry_group.command("export")
@click.argument("path", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["yaml", "csv"]), default=None,
              help="yaml: one file; csv: one file per table in the folder PATH [default: from PATH]")
@click.pass_context
def export_cmd(ctx, path, fmt):
    """Export the registry tables to YAML or CSV."""
    from envoywatch.registry import export_registry

    with open_store(ctx, read_only=True) as store:
        counts = export_registry(store, path, fmt)
    click.echo(f"wrote {', '.join(counts['files'])}: {counts['actors']} actors, {counts['accounts']} accounts, "
               f"{counts['history']} history rows, {counts['domains']} domains")


@registry_group.command("domains")
@click.option("--state", help="ISO alpha-2 of the state")
@click.option("--kind", type=click.Choice(["state_media", "influence_operation", "official"]))
@click.option("--contains", help="domain contains this text")
@click.option("--lookup", "host", help="which registered domain covers this host or URL")
@_FORMAT
@click.pass_context
def domains_cmd(ctx, state, kind, contains, host, fmt):
    """List registered domains, or look up which one covers a host (subdomains match)."""
    from envoywatch.registry import list_domains, lookup_domain

    with open_store(ctx, read_only=True) as store:
        if host:
            hit = lookup_domain(store, host)
            if fmt == "json":
                click.echo(json.dumps(dict(zip(("state", "kind", "outlet"), hit)) if hit else None))
            else:
                click.echo(f"{host}: " + (f"{hit[0]} {hit[1]} ({hit[2]})" if hit else "not in the registry"))
            return
        print_table(list_domains(store, state=state, kind=kind, contains=contains), fmt)


@registry_group.command("starter")
@click.pass_context
def starter_cmd(ctx):
    """Install the curated starter registry (envoywatch demo installs it automatically)."""
    from envoywatch.registry import install_starter

    with open_store(ctx) as store:
        counts = install_starter(store)
    _say_counts(f"starter registry {counts['version']}", counts)
    click.echo("note: 'envoywatch demo' installs the starter registry automatically; running this again changes nothing")


commands = [registry_group]
