"""The curated starter registry bundled with envoywatch (data/starter_*.yaml) and its installer."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from envoywatch.errors import RegistryError
from envoywatch.registry.model import account_row, actor_row, domain_row
from envoywatch.registry.writer import Batch, write_batch

STARTER_LIST = "starter"
_ACTOR_FIELDS = {"id", "name", "name_local", "type", "state", "category", "host_country", "languages", "parent",
                 "valid_from", "valid_to", "cite", "notes", "roles", "accounts"}


@lru_cache(maxsize=4)
def load_starter_file(name: str) -> dict:
    where = f"envoywatch/registry/data/{name}"
    try:
        with resources.files("envoywatch.registry").joinpath(f"data/{name}").open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"cannot read the starter registry ({str(exc).splitlines()[0]})", where,
                            "reinstall envoywatch (pip install -e .) so the package data is present") from None
    if not isinstance(data, dict) or not data.get("version"):
        raise RegistryError("the starter registry file has no version", where, "add a top-level 'version:' field")
    return data


def starter_version() -> str:
    return str(load_starter_file("starter_actors.yaml")["version"])


def _cite(citations: dict, keys, where: str) -> tuple[str, str | None]:
    if isinstance(keys, str):
        keys = [keys]
    if not keys:
        raise RegistryError("entry has no citation", where, "add cite: [key] naming an entry of 'citations'")
    texts, urls = [], []
    for k in keys:
        c = citations.get(k)
        if not c:
            raise RegistryError(f"unknown citation '{k}'", where, "add it under 'citations' at the top of the file")
        texts.append(c["source"])
        urls.append(c["url"])
    return " | ".join(texts), " ".join(urls)


def starter_batch() -> Batch:
    """All rows of the starter registry (validated), ready to write."""
    data = load_starter_file("starter_actors.yaml")
    version = data["version"]
    citations = data.get("citations", {})
    lists = data.get("lists", {})
    b = Batch(f"{STARTER_LIST} {version}")
    list_name = f"{STARTER_LIST} {version}"
    for a in data.get("actors", []):
        where = f"starter_actors.yaml actor {a.get('id')}"
        unknown = set(a) - _ACTOR_FIELDS
        if unknown:
            raise RegistryError(f"unknown field(s) {sorted(unknown)}", where, f"use only {sorted(_ACTOR_FIELDS)}")
        source, url = _cite(citations, a.get("cite"), where)
        b.records += 1
        b.actors.append(actor_row(
            actor_id=a["id"], name=a["name"], name_local=a.get("name_local"), actor_type=a["type"], state=a["state"],
            category=a["category"], host_country=a.get("host_country"), languages=a.get("languages"),
            parent_actor_id=a.get("parent"), source=source, source_url=url, valid_from=a.get("valid_from"),
            valid_to=a.get("valid_to"), list_name=list_name, notes=a.get("notes"), where=where))
        for i, role in enumerate(a.get("roles") or [], 1):
            rsource, rurl = _cite(citations, role.get("cite") or a.get("cite"), f"{where} role {i}")
            b.actors.append(actor_row(
                actor_id=f"{a['id']}/role-{i}", name=f"{a['name']}: {role['title']}", name_local=a.get("name_local"),
                actor_type=a["type"], state=a["state"], category=role["category"],
                host_country=role.get("host_country"), languages=a.get("languages"), parent_actor_id=a["id"],
                source=rsource, source_url=rurl, valid_from=role.get("valid_from"), valid_to=role.get("valid_to"),
                list_name=list_name, notes=f"role of {a['id']}", where=f"{where} role {i}"))
        for acc in a.get("accounts") or []:
            awhere = f"{where} account {acc.get('handle')}"
            verified = [lists.get(k, k) for k in (acc.get("verified_by") or [])]
            asource = f"starter registry {version}: {source}"
            if acc.get("account_id_from"):
                asource += f" | account id from {acc['account_id_from']}"
            b.accounts.append(account_row(
                platform=acc["platform"], handle=acc["handle"], actor_id=a["id"], source=asource,
                account_id=acc.get("account_id"), verified_by="; ".join(verified) or None,
                status=acc.get("status"), opened=acc.get("opened"), valid_from=acc.get("valid_from"),
                valid_to=acc.get("valid_to"), where=awhere))
    dom = load_starter_file("starter_domains.yaml")
    dcit = dom.get("citations", {})
    for d in dom.get("domains", []):
        where = f"starter_domains.yaml domain {d.get('domain')}"
        source, url = _cite(dcit, d.get("cite"), where)
        notes = "; ".join(x for x in (d.get("notes"), f"also in {d['listed_in']}" if d.get("listed_in") else None) if x)
        b.domains.append(domain_row(
            domain=d["domain"], state=d["state"], kind=d["kind"], outlet=d.get("outlet"), actor_id=d.get("actor"),
            match_type=d.get("match_type", "domain"), source=f"starter registry {dom['version']}: {source}",
            source_url=url, notes=notes or None, where=where))
    return b


def install_starter(store) -> dict:
    """Write the starter registry into the store's registry tables (idempotent: a second call adds nothing)."""
    counts = write_batch(store, starter_batch())
    counts["version"] = starter_version()
    return counts


def starter_table_markdown() -> str:
    """The starter registry as a Markdown table (docs/registry.md embeds it; a test keeps them equal)."""
    data = load_starter_file("starter_actors.yaml")
    cit = data.get("citations", {})
    lists = data.get("lists", {})
    out = ["Lists named in *verified by*: " + "; ".join(f"`{k}` = {v}" for k, v in lists.items()) + ".", "",
           "| actor | state | category | host | X account | verified by | citations |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for a in data["actors"]:
        accs = a.get("accounts") or [{}]
        for i, acc in enumerate(accs):
            handle = f"@{acc['handle']}" if acc.get("handle") else "-"
            ver = ", ".join(acc.get("verified_by") or []) or ("**unverified**" if acc.get("handle") else "")
            cites = ", ".join(f"[{k}]({cit[k]['url']})" for k in a.get("cite", [])) if i == 0 else ""
            first = i == 0
            out.append(f"| {a['name'] if first else ''} | {a['state'] if first else ''} | "
                       f"{a['category'] if first else ''} | {(a.get('host_country') or '') if first else ''} | "
                       f"{handle} | {ver} | {cites} |")
    dom = load_starter_file("starter_domains.yaml")
    dcit = dom.get("citations", {})
    out += ["", "| domain (and subdomains) | state | kind | outlet | citation |", "| --- | --- | --- | --- | --- |"]
    for d in dom["domains"]:
        out.append(f"| {d['domain']} | {d['state']} | {d['kind']} | {d.get('outlet') or ''} | "
                   f"[{d['cite']}]({dcit[d['cite']]['url']}) |")
    return "\n".join(out)

