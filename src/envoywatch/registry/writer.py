"""Writing registry rows: one transaction per batch, idempotent, with accounts matched case-insensitively.

registry_accounts is keyed by (platform, handle) as published; lists disagree about case (ChinaEmBE vs
chinaembe), so an incoming account whose handle is already registered under another case joins the stored
row: it keeps the stored handle and actor (first attribution wins), fills its NULLs, and adds its list to
verified_by (a ';'-separated set, so importing the same list again changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envoywatch.registry.model import merge_sources

TABLES = ("registry_actors", "registry_accounts", "registry_history", "registry_domains")


@dataclass
class Batch:
    """Rows of one list (or of the starter registry), with what was read and skipped."""

    list_name: str
    actors: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    domains: list[dict] = field(default_factory=list)
    records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def existing_accounts(store, platforms=None) -> dict[tuple[str, str], dict]:
    """(platform, lower(handle)) -> stored registry_accounts row."""
    sql = "SELECT * FROM registry_accounts"
    rows = store.con.execute(sql).fetchall()
    cols = [d[0] for d in store.con.description]
    out = {}
    for r in rows:
        row = dict(zip(cols, r))
        if platforms and row["platform"] not in platforms:
            continue
        out[(row["platform"], row["handle"].lower())] = row
    return out


def actor_for_handles(existing: dict, handles: list[tuple[str, str]]) -> str | None:
    """The actor already registered for any of these (platform, handle) pairs, if one is."""
    for platform, handle in handles:
        row = existing.get((platform, handle.lower()))
        if row:
            return row["actor_id"]
    return None


def _dedupe_accounts(rows: list[dict]) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for r in rows:
        k = (r["platform"], r["handle"].lower())
        prev = seen.get(k)
        if prev is None:
            seen[k] = dict(r)
            continue
        for c, v in r.items():
            if c == "verified_by":
                prev[c] = merge_sources(prev.get(c), v)
            elif prev.get(c) is None and v is not None:
                prev[c] = v
    return list(seen.values())


def write_batch(store, batch: Batch) -> dict:
    """Write a batch in one transaction; returns counts offered per table, new rows per table, skips."""
    accounts = _dedupe_accounts(batch.accounts)
    before = {t: store.count(t) for t in TABLES}
    with store.transaction():
        existing = existing_accounts(store)
        updates = []
        for r in accounts:
            old = existing.get((r["platform"], r["handle"].lower()))
            if old is None:
                continue
            r["handle"] = old["handle"]          # keep the stored case: same key, coalesce fills NULLs
            r["actor_id"] = old["actor_id"]      # first attribution wins
            merged = merge_sources(old["verified_by"], r["verified_by"])
            if merged != old["verified_by"]:
                updates.append((merged, old["platform"], old["handle"]))
        store.write("registry_actors", batch.actors)
        store.write("registry_accounts", accounts)
        for merged, platform, handle in updates:
            store.con.execute("UPDATE registry_accounts SET verified_by = ? WHERE platform = ? AND handle = ?",
                              [merged, platform, handle])
        for h in batch.history:   # history follows the stored case of the handle too
            old = existing.get((h["platform"], h["handle"].lower()))
            if old is not None:
                h["handle"] = old["handle"]
        store.write("registry_history", batch.history)
        store.write("registry_domains", batch.domains)
    after = {t: store.count(t) for t in TABLES}
    return {
        "list": batch.list_name,
        "records": batch.records,
        "actors": len({a["actor_id"] for a in batch.actors}),
        "accounts": len(accounts),
        "accounts_by_platform": _by_platform(accounts),
        "history": len({(h["platform"], h["handle"].lower(), h["changed_at"], h["change"]) for h in batch.history}),
        "domains": len({(d["domain"], d["state"], d["kind"]) for d in batch.domains}),
        "added": {t.removeprefix("registry_"): after[t] - before[t] for t in TABLES},
        "verified_by_updated": len(updates),
        "skipped": dict(batch.skipped),
    }


def _by_platform(accounts: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in accounts:
        out[a["platform"]] = out.get(a["platform"], 0) + 1
    return out
