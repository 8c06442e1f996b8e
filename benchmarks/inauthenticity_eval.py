"""Evaluate the inauthenticity signals and score on the real labelled data (and the demo's planted networks).

Prints precision / recall of each signal (fired vs label), the AUC of its measurement, and precision /
recall / AUC of the score, per dataset:

1. cresci-2017: social spambots #1 vs genuine accounts (user CSVs: profile fields only, no posts).
   Accounts are split in two halves by id (even / odd): weights are fitted on the FIT half (--fit prints
   the log-likelihood ratios) and figures are reported on the TEST half.
2. China 2019 takedown users (imported with envoywatch's takedown-users format) vs a seeded sample of
   cresci genuine accounts (profile fields only; hashed screen names are not handles).
3. Botometer bot repository label files: ids and labels only. The only measurement available is the
   creation time encoded in snowflake ids (ids > 2^40), so only the creation-date cluster signal is
   evaluated there, on the accounts with snowflake ids.
4. The demo's planted amplifier networks (simulated ground truth): the full score with posts.

    python benchmarks/inauthenticity_eval.py [--real DIR] [--sample N] [--fit] [--json]

Everything runs in temporary stores; nothing is written next to the data.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REAL = Path(os.environ.get("ENVOYWATCH_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))

# measurement behind each signal for the AUC (higher = more suspicious); None: the boolean itself
MEASURE = {
    "handle_digits": "trailing_digits", "handle_random": "handle_entropy", "low_follower_ratio": "-follower_ratio",
    "creation_cluster": "cluster_ratio", "high_volume": "posts_per_day", "young_at_first_post": "-age_days_at_first_post",
    "repost_heavy": "repost_share", "reply_heavy": "reply_share", "hour_concentrated": "-hour_entropy",
    "night_posting": "night_share", "amplifies_state": "amplify_share",
}


def auc(scores: list, labels: list) -> float | None:
    """Mann-Whitney AUC with average ranks for ties; None when a class is empty. NULL scores rank lowest."""
    pairs = [(float("-inf") if s is None else float(s), y) for s, y in zip(scores, labels)]
    pos = sum(1 for _, y in pairs if y)
    neg = len(pairs) - pos
    if not pos or not neg:
        return None
    pairs.sort(key=lambda x: x[0])
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg = (i + j + 1) / 2  # ranks i+1 .. j
        rank_sum += avg * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def prf(pred: list[bool], labels: list[bool]) -> tuple[float | None, float | None, int]:
    tp = sum(1 for p, y in zip(pred, labels) if p and y)
    fp = sum(1 for p, y in zip(pred, labels) if p and not y)
    pos = sum(labels)
    return (tp / (tp + fp) if tp + fp else None), (tp / pos if pos else None), tp + fp


def _parse_twitter_time(v: str) -> datetime | None:
    for fmt in ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S"):
        try:
            d = datetime.strptime(v, fmt)
            return d.astimezone(timezone.utc).replace(tzinfo=None) if d.tzinfo else d
        except (ValueError, TypeError):
            continue
    return None


def _int(v):
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def read_cresci(path: Path, label: str, limit_ids: set | None = None) -> tuple[list[dict], list[dict]]:
    """cresci-2017 users CSV -> (accounts rows, snapshot rows). Loader for evaluation only."""
    accounts, snaps = [], []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if limit_ids is not None and r["id"] not in limit_ids:
                continue
            img = r.get("profile_image_url") or None
            if img == "NULL":
                img = None
            desc = r.get("description")
            accounts.append({"platform": "x", "account_id": r["id"], "handle": r["screen_name"] or None,
                             "display_name": r["name"] or None,
                             "description": None if desc in (None, "", "NULL") else desc,
                             "created_at": _parse_twitter_time(r["created_at"]), "profile_image_url": img,
                             "labels": [label]})
            cap = _parse_twitter_time(r.get("crawled_at") or "") or datetime(2016, 1, 1)
            snaps.append({"platform": "x", "account_id": r["id"], "captured_at": cap,
                          "followers": _int(r["followers_count"]), "following": _int(r["friends_count"]),
                          "posts_count": _int(r["statuses_count"]), "listed_count": _int(r["listed_count"])})
    return accounts, snaps


def snowflake_time(uid: str) -> datetime | None:
    n = _int(uid)
    if n is None or n < 2 ** 40:
        return None
    return datetime(1970, 1, 1) + (datetime.fromtimestamp(((n >> 22) + 1288834974657) / 1000, timezone.utc)
                                   .replace(tzinfo=None) - datetime(1970, 1, 1))


def scored_rows(store, threshold: float, weights: dict | None = None) -> list[dict]:
    from envoywatch.analysis.inauthenticity import account_score

    t = account_score(store, threshold=threshold, weights=weights)
    rows = t.to_pyarrow().to_pylist()
    for r in rows:
        exp = r.get("creation_expected")
        r["cluster_ratio"] = (r["creation_cluster"] / exp) if r.get("creation_cluster") and exp else None
    return rows


def _value(r: dict, measure: str):
    neg = measure.startswith("-")
    v = r.get(measure.lstrip("-"))
    return None if v is None else (-v if neg else v)


def evaluate(rows: list[dict], labels: list[bool], signals: list[str] | None = None) -> dict:
    from envoywatch.analysis.inauthenticity import SIGNAL_NAMES

    out = {"n": len(rows), "positives": sum(labels), "signals": {}}
    for name in signals or SIGNAL_NAMES:
        col = "creation_cluster_fired" if name == "creation_cluster" else name
        fired = [bool(r[col]) for r in rows]
        p, rec, nf = prf(fired, labels)
        m = MEASURE.get(name)
        out["signals"][name] = {"fired": nf, "precision": p, "recall": rec, "auc_fired": auc(fired, labels),
                                "measure": m, "auc_measure": _auc_present(rows, labels, m) if m else None}
    p, rec, nf = prf([bool(r["flagged"]) for r in rows], labels)
    out["score"] = {"flagged": nf, "precision": p, "recall": rec, "auc": auc([r["score"] for r in rows], labels)}
    return out


def _auc_present(rows: list[dict], labels: list[bool], measure: str) -> float | None:
    """AUC of a measurement over the accounts where it is present (None if a class has none): a field that
    one source lacks (takedown files have no status count) must not separate the classes by its absence."""
    vals = [(_value(r, measure), y) for r, y in zip(rows, labels)]
    vals = [(v, y) for v, y in vals if v is not None]
    return auc([v for v, _ in vals], [y for _, y in vals])


def half(account_id: str) -> str:
    """FIT or TEST half of a dataset, by the parity of the crc32 of the account id (stable, seedless)."""
    import zlib

    return "fit" if zlib.crc32(account_id.encode()) % 2 == 0 else "test"


def fit_weights(rows: list[dict], labels: list[bool]) -> dict[str, float]:
    """log((rate among bots + 0.5/n_b) / (rate among humans + 0.5/n_h)) per profile signal (Laplace-like)."""
    import math

    from envoywatch.analysis.inauthenticity import SIGNALS

    nb, nh = sum(labels), len(labels) - sum(labels)
    w = {}
    for s in SIGNALS:
        if s.needs != "profile":
            continue
        col = "creation_cluster_fired" if s.name == "creation_cluster" else s.name
        fb = sum(1 for r, y in zip(rows, labels) if y and r[col])
        fh = sum(1 for r, y in zip(rows, labels) if not y and r[col])
        w[s.name] = round(math.log(((fb + 0.5) / (nb + 1)) / ((fh + 0.5) / (nh + 1))), 3)
    return w


def _store(tmp: Path, name: str):
    from envoywatch.store import Store

    return Store(tmp / f"{name}.duckdb")


def eval_cresci(real: Path, tmp: Path, threshold: float, sample: int | None, fit: bool) -> dict:
    bots = real / "bots"
    s = _store(tmp, "cresci")
    try:
        for fname, label in (("cresci2017_genuine_accounts_users.csv", "eval:genuine"),
                             ("cresci2017_social_spambots_1_users.csv", "eval:bot")):
            acc, snaps = read_cresci(bots / fname, label)
            if sample:
                acc, snaps = acc[:sample], snaps[:sample]
            s.write("accounts", acc)
            s.write("account_snapshots", snaps)
        rows = scored_rows(s, threshold)
    finally:
        s.close()
    # labels are not among the signal columns: read them back from the loader's id set
    bot_ids = {a["account_id"] for a in read_cresci(bots / "cresci2017_social_spambots_1_users.csv", "b")[0]}
    labels = [r["account_id"] in bot_ids for r in rows]
    fit_idx = [i for i, r in enumerate(rows) if half(r["account_id"]) == "fit"]
    test_idx = [i for i, r in enumerate(rows) if half(r["account_id"]) == "test"]
    res = {"dataset": "cresci-2017 social spambots #1 vs genuine (TEST half)",
           **evaluate([rows[i] for i in test_idx], [labels[i] for i in test_idx])}
    res["all"] = evaluate(rows, labels)["score"]
    if fit:
        res["fitted_weights"] = fit_weights([rows[i] for i in fit_idx], [labels[i] for i in fit_idx])
    return res


def eval_takedown(real: Path, tmp: Path, threshold: float, sample: int | None, fit: bool = False) -> dict:
    import random

    from envoywatch.importers.run import import_paths

    s = _store(tmp, "takedown")
    try:
        import_paths(s, [real / "takedown" / "china_082019_1_users_csv_hashed.csv"], fmt="takedown-users",
                     captured_at=datetime(2019, 8, 19))
        acc, snaps = read_cresci(real / "bots" / "cresci2017_genuine_accounts_users.csv", "eval:genuine")
        rng = random.Random(2019)
        n = min(len(acc), sample or 1000)
        idx = sorted(rng.sample(range(len(acc)), n))
        s.write("accounts", [acc[i] for i in idx])
        s.write("account_snapshots", [snaps[i] for i in idx])
        if sample:  # keep the takedown side small too
            s.con.execute("DELETE FROM accounts WHERE list_contains(labels, 'takedown:china_082019_1') AND account_id "
                          f"NOT IN (SELECT account_id FROM accounts WHERE list_contains(labels, 'takedown:china_082019_1') "
                          f"ORDER BY account_id LIMIT {int(sample)})")
        op = {r[0] for r in s.con.execute(
            "SELECT account_id FROM accounts WHERE list_contains(labels, 'takedown:china_082019_1')").fetchall()}
        rows = scored_rows(s, threshold)
    finally:
        s.close()
    labels = [r["account_id"] in op for r in rows]
    fit_idx = [i for i, r in enumerate(rows) if half(r["account_id"]) == "fit"]
    test_idx = [i for i, r in enumerate(rows) if half(r["account_id"]) == "test"]
    res = {"dataset": f"China 2019 takedown users ({len(op)}) vs cresci genuine sample ({n}, seed 2019) (TEST half)",
           **evaluate([rows[i] for i in test_idx], [labels[i] for i in test_idx])}
    res["all"] = evaluate(rows, labels)["score"]
    if fit:
        res["fitted_weights"] = fit_weights([rows[i] for i in fit_idx], [labels[i] for i in fit_idx])
    return res


def eval_botometer(real: Path, tmp: Path, threshold: float, sample: int | None) -> list[dict]:
    out = []
    folder = real / "bots" / "botometer_bot_repository_labels"
    for f in sorted(folder.iterdir()):
        pairs = []
        for line in f.read_text(encoding="utf-8").splitlines():
            parts = line.strip().split("\t")
            if len(parts) == 2:
                pairs.append((parts[0], parts[1].strip() in ("bot", "1")))
        if sample:
            pairs = pairs[:sample]
        if len({y for _, y in pairs}) < 2:
            out.append({"dataset": f"botometer {f.name}", "n": len(pairs), "note": "one class only: no evaluation"})
            continue
        s = _store(tmp, f"bm_{f.stem}")
        try:
            s.write("accounts", [{"platform": "x", "account_id": uid, "created_at": snowflake_time(uid)}
                                 for uid, _ in pairs])
            rows = scored_rows(s, threshold)
        finally:
            s.close()
        lab = dict(pairs)
        covered = [r for r in rows if r["created_at"] is not None]
        res = {"dataset": f"botometer {f.name} (snowflake ids only: {len(covered)} of {len(rows)})",
               **evaluate(covered, [lab[r["account_id"]] for r in covered], ["creation_cluster"])}
        out.append(res)
    return out


def eval_demo_store(db: Path, threshold: float) -> dict:
    from envoywatch.store import Store

    s = Store(db, read_only=True)
    try:
        rows = scored_rows(s, threshold)
        truth = {r[0] for r in s.con.execute("SELECT account_id FROM accounts WHERE "
                                             "list_contains(labels, 'ground-truth:amplifier-network')").fetchall()}
    finally:
        s.close()
    return {"dataset": f"demo planted amplifier networks (SIMULATED, {db.name})",
            **evaluate(rows, [r["account_id"] in truth for r in rows])}


def _fmt(v) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def print_result(res: dict) -> None:
    print(f"\n## {res['dataset']}")
    if "note" in res:
        print(f"n={res['n']}: {res['note']}")
        return
    print(f"accounts {res['n']}, positives {res['positives']}")
    print(f"{'signal':22} {'fired':>6} {'precision':>9} {'recall':>7} {'AUC(fired)':>10}  AUC(measure)")
    for name, m in res["signals"].items():
        print(f"{name:22} {m['fired']:>6} {_fmt(m['precision']):>9} {_fmt(m['recall']):>7} {_fmt(m['auc_fired']):>10}  "
              f"{_fmt(m['auc_measure'])} {('(' + m['measure'] + ')') if m['measure'] else ''}")
    sc = res["score"]
    print(f"{'SCORE':22} {sc['flagged']:>6} {_fmt(sc['precision']):>9} {_fmt(sc['recall']):>7} {'':>10}  "
          f"AUC(score) {_fmt(sc['auc'])}")
    if "all" in res:
        a = res["all"]
        print(f"(both halves: precision {_fmt(a['precision'])}, recall {_fmt(a['recall'])}, AUC {_fmt(a['auc'])})")
    if "fitted_weights" in res:
        print("fitted log-likelihood ratios on the FIT half:", json.dumps(res["fitted_weights"]))


def run(real: Path, threshold: float, sample: int | None = None, fit: bool = False, demo_db: Path | None = None) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory(prefix="ew_inauth_eval_") as d:
        tmp = Path(d)
        results.append(eval_cresci(real, tmp, threshold, sample, fit))
        results.append(eval_takedown(real, tmp, threshold, sample, fit))
        results.extend(eval_botometer(real, tmp, threshold, sample))
        if demo_db is None:
            from envoywatch.demo import build_demo
            from envoywatch.store import Store

            demo_db = tmp / "demo.duckdb"
            with Store(demo_db) as ds:
                build_demo(ds, scale="small")
        results.append(eval_demo_store(demo_db, threshold))
    return results


def main(argv=None) -> int:
    from envoywatch.analysis.inauthenticity import DEFAULT_THRESHOLD

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", type=Path, default=DEFAULT_REAL, help="the shared data/real folder")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--sample", type=int, help="only the first N accounts of each file (quick runs, tests)")
    ap.add_argument("--fit", action="store_true", help="print the weights fitted on the cresci FIT half")
    ap.add_argument("--demo-db", type=Path, help="an existing demo store (default: build one, small)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    a = ap.parse_args(argv)
    if not a.real.exists():
        print(f"real data not found at {a.real} (use --real or ENVOYWATCH_REAL_DATA)", file=sys.stderr)
        return 2
    results = run(a.real, a.threshold, a.sample, a.fit, a.demo_db)
    fits = [r["fitted_weights"] for r in results if "fitted_weights" in r]
    if fits:
        proposed = {k: min(3.0, max(0.0, round(2 * sum(f[k] for f in fits) / len(fits)) / 2)) for k in fits[0]}
        results.append({"proposed_profile_weights": proposed})
    if a.json:
        print(json.dumps(results, indent=1, default=str))
    else:
        print(f"# inauthenticity evaluation (threshold {a.threshold:g})")
        for r in results:
            if "proposed_profile_weights" in r:
                print("\nproposed profile weights (mean of the fitted ratios, rounded to 0.5, clipped to [0, 3]):",
                      json.dumps(r["proposed_profile_weights"]))
            else:
                print_result(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
