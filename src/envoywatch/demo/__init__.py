"""envoywatch demo: a seeded, deterministic SIMULATED ecosystem on platform x, landed in the store as one batch.

Nothing here is a real observation. The official accounts and state media are those of the starter registry
(real handles, generated activity); every other account is generated and says so ('[SIMULATED]' in its
description, 'sim' in its handle). Every account carries the label 'simulated'; the import batch has
simulated = true and format 'envoywatch-demo'. The ground truth of the planted amplifier networks is written
next to the store as `<db>.demo-truth.json` (see docs/demo.md).

    from envoywatch.demo import build_demo
    result = build_demo(store, scale="small", seed=42)
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from envoywatch import __version__
from envoywatch.errors import ConfigError, StoreError

FORMAT = "envoywatch-demo"
GENERATOR_VERSION = "1"
DEFAULT_SEED = 42
SCALES = {"small": 0.05, "default": 1.0, "large": 3.0}
DEFAULT_POSTS = 420_000   # about what factor 1.0 generates (see docs/demo.md)
GROUPS = {"small": 3, "default": 6, "large": 10}
CHUNK = 50_000


@dataclass
class DemoResult:
    batch_id: int
    seed: int
    scale: str
    factor: float
    already: bool                     # the same demo was already in the store: nothing changed
    counts: dict[str, int] = field(default_factory=dict)   # rows generated per table (the generator's bookkeeping)
    truth_path: Path | None = None
    seconds: float = 0.0


def scale_factor(scale: str | int | float) -> tuple[str, float, int]:
    """'small' | 'default' | 'large' | a number of posts -> (name, factor, number of planted groups)."""
    s = str(scale).strip().lower()
    if s in SCALES:
        return s, SCALES[s], GROUPS[s]
    try:
        posts = int(float(s.replace("_", "").replace(",", "")))
    except ValueError:
        raise ConfigError(f"unknown demo scale '{scale}'", "--scale",
                          "use small, default, large or a number of posts such as 200000") from None
    if not 5_000 <= posts <= 3_000_000:
        raise ConfigError(f"demo scale {posts} posts is out of range", "--scale", "choose between 5000 and 3000000 posts")
    factor = posts / DEFAULT_POSTS
    return str(posts), factor, max(3, min(12, round(6 * factor ** 0.5)))


def truth_path_for(store) -> Path:
    return Path(str(store.path) + ".demo-truth.json")


def _fingerprint(seed: int, factor: float, groups: int) -> str:
    return hashlib.sha256(f"{FORMAT}|{GENERATOR_VERSION}|seed={seed}|factor={factor:.6f}|groups={groups}".encode()).hexdigest()


def _install_registry(store) -> None:
    try:
        from envoywatch.registry import install_starter
    except ImportError:
        return  # read_registry below says what is missing if the registry is empty
    install_starter(store)


def build_demo(store, scale: str | int = "default", seed: int = DEFAULT_SEED, install_registry: bool = True,
               progress: Callable[[str, float], None] | None = None) -> DemoResult:
    """Generate the simulated data and land it in ONE transaction with an import_batches row (simulated=true).

    Running it again with the same seed and scale changes nothing (the batch is found by its fingerprint);
    another seed or scale on a store that already holds a demo is refused (ids would mix two simulations).
    """
    from envoywatch.demo.accounts import build_accounts, read_registry, registry_rows
    from envoywatch.demo.activity import generate
    from envoywatch.demo.tables import build

    t0 = time.perf_counter()
    step = progress or (lambda what, frac: None)
    name, factor, n_groups = scale_factor(scale)
    digest = _fingerprint(seed, factor, n_groups)
    prev = store.con.execute("SELECT batch_id, sha256, source_path FROM import_batches WHERE format = ? ORDER BY batch_id",
                             [FORMAT]).fetchall()
    for batch_id, sha, src in prev:
        if sha == digest:
            step("already in the store", 1.0)
            truth = truth_path_for(store)
            return DemoResult(batch_id, seed, name, factor, True, truth_path=truth if truth.exists() else None,
                              seconds=time.perf_counter() - t0)
    if prev:
        raise StoreError(f"this store already holds another demo ({prev[0][2]}, batch {prev[0][0]})", str(store.path),
                         "run the demo with the same --seed and --scale, or build it in a new store with --db OTHER.duckdb")
    store.con.execute("SET enable_progress_bar = false")  # DuckDB's own bar would print over ours
    real = store.con.execute(
        "SELECT count(*) FROM posts WHERE batch_id IS NULL OR batch_id NOT IN "
        "(SELECT batch_id FROM import_batches WHERE simulated)").fetchall()[0][0]
    if real:
        raise StoreError(f"this store holds {real:,} posts of real (not simulated) data; the demo would mix into them",
                         str(store.path), "build the demo in a store of its own, e.g. envoywatch --db demo.duckdb demo")
    step("registry", 0.02)
    if install_registry:
        _install_registry(store)
    registry = read_registry(store)
    rng = np.random.default_rng(seed)
    step("accounts", 0.05)
    accs = build_accounts(registry, rng, factor, n_groups)
    step("posts", 0.10)
    act = generate(accs, rng, factor)
    batch_id = store.next_id("import_batches", "batch_id")
    step("tables", 0.30)
    tables = build(accs, act, batch_id, rng)
    actors, reg_accounts = registry_rows(accs)
    counts = {k: v.num_rows for k, v in tables.items()}
    counts["registry_actors(simulated)"] = len(actors)
    counts["registry_accounts(simulated)"] = len(reg_accounts)
    truth = _truth(accs, act, seed, name, factor, batch_id)
    started = _now()
    total = sum(t.num_rows for t in tables.values())
    done = 0
    with store.transaction():
        posts_before, accounts_before = store.count("posts"), store.count("accounts")
        store.write("import_batches", [{
            "batch_id": batch_id, "source_path": f"envoywatch demo --seed {seed} --scale {name} (SIMULATED, generated)",
            "format": FORMAT, "detected": False, "sha256": digest, "size_bytes": 0, "started_at": started,
            "status": "running", "simulated": True, "tool_version": __version__}])
        if actors:
            store.write("registry_actors", actors)
            store.write("registry_accounts", reg_accounts)
        for tname in ("accounts", "posts", "post_urls", "post_hashtags", "post_mentions", "post_metrics", "account_snapshots"):
            tab = tables[tname]
            for off in range(0, tab.num_rows, CHUNK):
                store.write(tname, tab.slice(off, CHUNK))
                done += min(CHUNK, tab.num_rows - off)
                step(f"writing {tname}", 0.35 + 0.6 * done / max(total, 1))
        new_posts = store.count("posts") - posts_before
        new_accounts = store.count("accounts") - accounts_before
        note = (f"SIMULATED data generated by envoywatch demo (seed {seed}, scale {name}); ground truth of the planted "
                f"amplifier networks in {truth_path_for(store).name} next to the store")
        store.con.execute(
            "UPDATE import_batches SET finished_at = ?, status = 'done', records_read = ?, posts = ?, accounts = ?, "
            "rejects = 0, note = ? WHERE batch_id = ?",
            [_now(), counts["posts"], new_posts, new_accounts, note, batch_id])
        step("aggregates and search index", 0.97)
        from envoywatch.analysis.aggregates import refresh_derived

        refresh_derived(store)   # in the same transaction: the demo lands with its aggregates and index
    path = truth_path_for(store)
    path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    step("done", 1.0)
    return DemoResult(batch_id, seed, name, factor, False, counts, path, time.perf_counter() - t0)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _iso(secs: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(seconds=int(secs))).isoformat()


def _truth(accs, act, seed, scale, factor, batch_id) -> dict:
    groups = []
    for g in act.groups:
        groups.append({
            "group": g["group"], "created_from": _iso(g["created_from"]), "created_to": _iso(g["created_to"]),
            "members": [{"account_id": accs[i].account_id, "handle": accs[i].handle} for i in g["members"]],
            "targets": [{"account_id": accs[i].account_id, "handle": accs[i].handle} for i in g["targets"]],
            "target_posts": g["target_posts"], "reposts": g["reposts"],
            "behaviour": "each member reposts the chosen posts of the targets 3-90 s after posting, members within 15 s of each other",
        })
    roles: dict[str, int] = {}
    for a in accs:
        roles[a.role] = roles.get(a.role, 0) + 1
    return {
        "SIMULATED": True, "generator": f"envoywatch demo v{GENERATOR_VERSION}", "seed": seed, "scale": scale,
        "factor": factor, "batch_id": batch_id, "platform": "x", "accounts_by_role": roles,
        "network_label": "ground-truth:amplifier-network", "groups": groups,
        "not_planted": "organic users also repost state accounts (minutes to days later); they are not coordinated",
    }
