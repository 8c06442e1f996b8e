"""Reading the registry: accounts with filters, domains, host lookup, export; adding single entries."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import yaml

from envoywatch.errors import RegistryError
from envoywatch.registry.model import CATEGORIES, account_row, actor_row, check_choice, country_code
from envoywatch.registry.writer import Batch, write_batch

ACCOUNT_COLUMNS = ("platform", "handle", "account_id", "verified", "verified_by", "status", "opened",
                   "actor_id", "name", "actor_type", "state", "category", "host_country", "valid_from", "valid_to",
                   "source")


def list_accounts(store, state: str | None = None, category: str | None = None, platform: str | None = None,
                  host_country: str | None = None, verified: bool | None = None, actor_id: str | None = None) -> pa.Table:
    """Registered accounts joined with their actor; verified is False for accounts no list confirmed."""
    where, params = [], []
    if state:
        where.append("a.state = ?")
        params.append(_iso(state, "--state"))
    if category:
        check_choice(category, CATEGORIES, "category", "--category")
        where.append("a.category = ?")
        params.append(category)
    if platform:
        where.append("r.platform = ?")
        params.append(platform.lower())
    if host_country:
        where.append("a.host_country = ?")
        params.append(_iso(host_country, "--host-country"))
    if verified is not None:
        where.append("r.verified_by IS NOT NULL" if verified else "r.verified_by IS NULL")
    if actor_id:
        where.append("r.actor_id = ?")
        params.append(actor_id)
    sql = f"""
        SELECT r.platform, r.handle, r.account_id, r.verified_by IS NOT NULL AS verified, r.verified_by, r.status,
               r.opened, r.actor_id, a.name, a.actor_type, a.state, a.category, a.host_country,
               coalesce(r.valid_from, a.valid_from) AS valid_from, coalesce(r.valid_to, a.valid_to) AS valid_to,
               r.source
        FROM registry_accounts r LEFT JOIN registry_actors a ON a.actor_id = r.actor_id
        {'WHERE ' + ' AND '.join(where) if where else ''}
        ORDER BY a.state, a.category, r.platform, lower(r.handle)"""
    return _query(store, sql, params)


def _query(store, sql: str, params: list) -> pa.Table:
    """A small result as an Arrow table (the registry is small; fetchall avoids DuckDB's extra-copy warning)."""
    cur = store.con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)}) if rows else \
        pa.table({c: pa.array([], pa.string()) for c in cols})


def list_domains(store, state: str | None = None, kind: str | None = None, contains: str | None = None) -> pa.Table:
    where, params = [], []
    if state:
        where.append("state = ?")
        params.append(_iso(state, "--state"))
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if contains:
        where.append("domain LIKE ?")
        params.append(f"%{contains.lower()}%")
    sql = ("SELECT domain, state, kind, outlet, actor_id, match_type, source, source_url, notes FROM registry_domains "
           + ("WHERE " + " AND ".join(where) if where else "") + " ORDER BY state, kind, domain")
    return _query(store, sql, params)


def actor_roles(store, actor_id: str) -> list[dict]:
    """An actor and its dated roles ('<id>/role-N' rows), oldest first."""
    rows = _query(store, "SELECT * FROM registry_actors WHERE actor_id = ? OR parent_actor_id = ? AND actor_id LIKE ?",
                  [actor_id, actor_id, f"{actor_id}/role-%"]).to_pylist()
    return sorted(rows, key=lambda r: (r["actor_id"] != actor_id, r["valid_from"] or dt.date.min))


def _iso(value: str, flag: str) -> str:
    code = country_code(value)
    if not code:
        raise RegistryError(f"'{value}' is not an ISO 3166-1 alpha-2 code", flag, "use a two-letter code such as CN")
    return code


# --- domain lookup ----------------------------------------------------------------------------------

def _domain_rows(store_or_rows) -> list[dict]:
    if isinstance(store_or_rows, (list, tuple)):
        return list(store_or_rows)
    if isinstance(store_or_rows, pa.Table):
        return store_or_rows.to_pylist()
    return _query(store_or_rows, "SELECT domain, state, kind, outlet, match_type FROM registry_domains", []).to_pylist()


class DomainIndex:
    """Host -> (state, kind, outlet): the longest registered suffix wins, exact 'host' entries only for themselves."""

    _KIND_ORDER = {"state_media": 0, "official": 1, "influence_operation": 2}

    def __init__(self, rows):
        self.by_domain: dict[str, tuple] = {}
        self.prefixes: list[tuple[str, tuple]] = []
        for r in sorted(rows, key=lambda r: (self._KIND_ORDER.get(r["kind"], 9), r["state"], r["domain"])):
            val = (r["state"], r["kind"], r.get("outlet"))
            mt = r.get("match_type") or "domain"
            if mt == "url_prefix":
                self.prefixes.append((r["domain"], val))
                continue
            key = r["domain"] if mt == "domain" else "=" + r["domain"]
            self.by_domain.setdefault(key, val)

    def lookup(self, host_or_url: str | None):
        if not host_or_url:
            return None
        text = host_or_url.strip().lower()
        bare = text.split("://", 1)[-1]
        host = bare.split("/", 1)[0].split(":", 1)[0].strip(".")
        if host.startswith("www."):
            host = host[4:]
        for prefix, val in sorted(self.prefixes, key=lambda p: -len(p[0])):   # the longest prefix wins
            if bare.removeprefix("www.").startswith(prefix):
                return val
        if "=" + host in self.by_domain:
            return self.by_domain["=" + host]
        parts = host.split(".")
        for i in range(len(parts) - 1):
            hit = self.by_domain.get(".".join(parts[i:]))
            if hit:
                return hit
        return None


def lookup_domain(store_or_rows, host: str):
    """'news.cgtn.com' -> ('CN', 'state_media', 'cgtn'); None when no registered domain covers the host.

    store_or_rows: a Store, a pyarrow Table or a list of registry_domains rows (dicts). For many lookups build
    a DomainIndex once and call .lookup(host)."""
    return DomainIndex(_domain_rows(store_or_rows)).lookup(host)


# --- adding single entries -------------------------------------------------------------------------

def add_actor(store, *, actor_id: str, name: str, state: str, category: str, source: str,
              actor_type: str = "organisation", **fields) -> dict:
    """Add (or complete) one actor; an existing actor keeps its values and gets its empty fields filled."""
    b = Batch("user")
    b.actors.append(actor_row(actor_id=actor_id, name=name, state=state, category=category, source=source,
                              actor_type=actor_type, list_name=fields.pop("list_name", "user"), **fields))
    b.records = 1
    return write_batch(store, b)


def add_account(store, *, platform: str, handle: str, actor_id: str, source: str, verified_by: str | None = None,
                **fields) -> dict:
    """Register one account of an existing actor. Without verified_by it is stored (and shown) as unverified."""
    if not store.con.execute("SELECT 1 FROM registry_actors WHERE actor_id = ?", [actor_id]).fetchall():
        raise RegistryError(f"actor '{actor_id}' is not in the registry", f"{platform} account {handle}",
                            "add the actor first (envoywatch registry add with --name, --state, --category)")
    b = Batch("user")
    b.accounts.append(account_row(platform=platform, handle=handle, actor_id=actor_id, source=source,
                                  verified_by=verified_by, **fields))
    b.records = 1
    return write_batch(store, b)


# --- export ---------------------------------------------------------------------------------------

def export_registry(store, path, fmt: str | None = None) -> dict:
    """Write the registry tables to YAML (one document, a list per table) or CSV (one file per table)."""
    from envoywatch.registry.writer import TABLES

    path = Path(path)
    fmt = (fmt or ("csv" if path.suffix.lower() == ".csv" or path.is_dir() else "yaml")).lower()
    if fmt not in ("yaml", "csv"):
        raise RegistryError(f"unknown export format '{fmt}'", str(path), "use --format yaml or --format csv")
    data = {t: _query(store, f'SELECT * FROM "{t}" ORDER BY ALL', []).to_pylist() for t in TABLES}
    counts = {t.removeprefix("registry_"): len(v) for t, v in data.items()}
    try:
        if fmt == "yaml":
            path.parent.mkdir(parents=True, exist_ok=True)
            doc = {"envoywatch_registry_export": 1, **{t.removeprefix("registry_"): [_plain(r) for r in v]
                                                      for t, v in data.items()}}
            with open(path, "w", encoding="utf-8") as fh:
                yaml.safe_dump(doc, fh, allow_unicode=True, sort_keys=False, width=120)
            return {"format": "yaml", "files": [str(path)], **counts}
        base = path.with_suffix("") if path.suffix.lower() == ".csv" else path
        base.mkdir(parents=True, exist_ok=True)
        files = []
        from envoywatch.schema import TABLES as SCHEMA

        for t, rows in data.items():
            f = base / f"{t}.csv"
            with open(f, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                cols = SCHEMA[t].column_names
                w.writerow(cols)
                for r in rows:
                    w.writerow([_cell(r[c]) for c in cols])
            files.append(str(f))
        return {"format": "csv", "files": files, **counts}
    except OSError as exc:
        raise RegistryError(f"cannot write the export ({exc.strerror})", str(path), "choose a writable path") from None


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in row.items()}


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, list):
        return ";".join(v)
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v
