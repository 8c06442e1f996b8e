"""Coordination benchmark: generate N posts in DuckDB, time each network type, print wall time and peak RSS.

    python benchmarks/coordination_bench.py --posts 1000000
    python benchmarks/coordination_bench.py --posts 10000000 --types co-repost,co-link
    python benchmarks/coordination_bench.py --posts 1000000 --cnt --cnt-timeout 1800   # + CNT on the same data

Each network type runs in a fresh process on the same generated data (a Parquet file), so the peak RSS
printed is that network's own. Times: `load` = reading the Parquet into DuckDB (the store would already
hold it), `compute` = the network with window 60 s, CNT-compatible definitions (messages weight, raw
URLs), minimum weight 1 unless --min-weight. With --cnt, coordination-network-toolkit (if installed;
not a dependency) preprocesses a CSV of the same data and computes the same network, and the edges are
compared. This is a script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATE = """
CREATE OR REPLACE TABLE accounts AS SELECT range AS a FROM range({accounts});
-- originals: 40 % of posts, uniform over {days} days, 35 % with a link (Zipf-like URL popularity)
CREATE OR REPLACE TABLE orig AS
SELECT range AS k, floor({accounts} * pow(random(), 2))::BIGINT AS a,
       1700000000 + floor(random() * {days} * 86400)::BIGINT AS ts,
       CASE WHEN random() < 0.35 THEN floor({n_urls} * pow(random(), 3))::BIGINT END AS u
FROM range({n_orig});
-- reposts: a Zipf-like popular original, log-normal delay (median 30 min, sigma 1.8)
CREATE OR REPLACE TABLE rt AS
SELECT range AS k, floor({accounts} * pow(random(), 2))::BIGINT AS a,
       floor({n_orig} * pow(random(), 3))::BIGINT AS o,
       exp(ln(1800) + 1.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS delay
FROM range({n_rt});
CREATE OR REPLACE TABLE messages AS
SELECT 'm' || o.k AS message_id, 'u' || o.a AS account_id, 'user' || o.a AS handle, o.ts::DOUBLE AS ts,
       NULL::VARCHAR AS repost_id, NULL::VARCHAR AS reply_id, 'text ' || o.k AS text,
       CASE WHEN o.u IS NULL THEN []::VARCHAR[] ELSE ['https://news' || (o.u % 97) || '.example/a/' || o.u] END AS urls
FROM orig o
UNION ALL
SELECT 'r' || r.k, 'u' || r.a, 'user' || r.a, round(o.ts + r.delay)::DOUBLE, 'm' || o.k, NULL, 'RT', []
FROM rt r JOIN orig o ON o.k = r.o
UNION ALL
-- planted groups: {groups} groups of 8 accounts repost the same 20 originals within 30 s
SELECT 'p' || g.range || '_' || i.range || '_' || m.range, 'g' || g.range || '_' || m.range, 'g' || g.range || '_' || m.range,
       (1700000000 + (g.range * 1000 + i.range) * 997 % ({days} * 86400) + floor(random() * 30))::DOUBLE,
       'm' || ((g.range * 7919 + i.range * 104729) % {n_orig}), NULL, 'RT', []
FROM range({groups}) g, range(20) i, range(8) m;
"""


def generate(path: Path, posts: int, seed: float = 0.42) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed})")
    accounts = max(100, posts // 10)
    n_orig = int(posts * 0.4)
    sql = GENERATE.format(accounts=accounts, days=7, n_urls=max(100, posts // 4), n_orig=n_orig,
                          n_rt=posts - n_orig - max(1, posts // 100_000) * 160, groups=max(1, posts // 100_000))
    con.execute(sql)
    con.execute(f"COPY messages TO '{path}' (FORMAT parquet)")
    con.close()


def run_one(parquet: str, ntype: str, window: float, min_weight: int, mode: str) -> dict:
    import duckdb

    from envoywatch.analysis.coordination import NetworkParams, compute_network

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(f"""CREATE TEMP TABLE msgs AS SELECT *, urls AS urls_norm,
        []::VARCHAR[] AS hashtags, []::VARCHAR[] AS mentions FROM read_parquet('{parquet}')""")
    t1 = time.perf_counter()
    net = compute_network(con, "msgs", NetworkParams(type=ntype, window=window, min_weight=min_weight, mode=mode))
    edges = con.execute(f"SELECT count(*) FROM {net.prefix}_edges").fetchall()[0][0]
    t2 = time.perf_counter()
    return {"type": ntype, "load_s": round(t1 - t0, 2), "compute_s": round(t2 - t1, 2), "edges": edges,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


_PREPROCESS_S: list[float] = []


def run_cnt(parquet: str, ntype: str, window: float, timeout: float, workdir: Path) -> dict:
    """CNT on the same data: CSV export, `preprocess`, `compute`; wall time of preprocess + compute."""
    import duckdb

    stem = Path(parquet).stem
    csv_path, db = workdir / f"cnt_{stem}.csv", workdir / f"cnt_{stem}.db"
    if not csv_path.exists():
        duckdb.connect().execute(f"""COPY (SELECT message_id, account_id AS user_id, handle AS username,
            coalesce(repost_id, '') AS repost_id, '' AS reply_id, text AS message, ts::BIGINT AS timestamp,
            array_to_string(urls, ' ') AS urls FROM read_parquet('{parquet}')) TO '{csv_path}' (HEADER)""")
    cmd = [sys.executable, "-m", "coordination_network_toolkit"]
    t0 = time.perf_counter()
    try:
        if not _PREPROCESS_S:
            for old in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                old.unlink(missing_ok=True)
            subprocess.run(cmd + [str(db), "preprocess", "--format", "csv", str(csv_path)], check=True,
                           capture_output=True, timeout=timeout)
            # CNT as released stores the empty URL field as a URL "" shared by every link-less post;
            # drop it, as the reference edge lists do (docs/analysis/coordination.md)


            with sqlite3.connect(db) as lite:
                lite.execute("DELETE FROM message_url WHERE url = ''")
            _PREPROCESS_S.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        name = {"co-repost": "co_retweet", "co-link": "co_link"}[ntype]
        subprocess.run(cmd + [str(db), "compute", name, "--time_window", str(int(window)), "--n_cpus", "2"],
                       check=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"type": ntype, "cnt": f"did not finish in {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"type": ntype, "cnt": f"failed: {exc.stderr.decode()[-300:]}"}
    t2 = time.perf_counter()
    with sqlite3.connect(db) as lite:
        n = lite.execute(f"SELECT count(*) FROM {name}_network WHERE user_1 != user_2").fetchone()[0]
    # CNT's own query in one process, all users in one batch (its multi-process batching loses edges
    # here, see docs/analysis/coordination.md): the edge list that CNT's definitions give
    t3 = time.perf_counter()
    n_sql = _cnt_query_one_batch(db, name, window)
    t4 = time.perf_counter()
    # preprocessing is done once for all networks: count it in every network's CNT total
    return {"type": ntype, "cnt_preprocess_s": round(_PREPROCESS_S[0], 2), "cnt_compute_s": round(t2 - t1, 2),
            "cnt_edges": n, "cnt_sql_edges": n_sql, "cnt_sql_s": round(t4 - t3, 2)}


def _cnt_query_one_batch(db: Path, name: str, window: float) -> int:
    table = {"co_retweet": "edge", "co_link": "message_url"}[name]
    key = {"co_retweet": "repost_id", "co_link": "url"}[name]
    with sqlite3.connect(db) as lite:
        return lite.execute(f"""
            SELECT count(*) FROM (
                SELECT e_1.user_id AS user_1, e_2.user_id AS user_2, count(DISTINCT e_1.message_id) AS weight
                FROM {table} e_1 JOIN {table} e_2 ON e_1.{key} = e_2.{key}
                    AND e_2.timestamp BETWEEN e_1.timestamp - ?1 AND e_1.timestamp + ?1
                WHERE e_1.user_id != e_2.user_id
                GROUP BY e_1.user_id, e_2.user_id)""", (window,)).fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--types", default="co-repost,co-link")
    ap.add_argument("--window", type=float, default=60.0)
    ap.add_argument("--min-weight", type=int, default=1)
    ap.add_argument("--mode", default="cnt", choices=["cnt", "default"])
    ap.add_argument("--cnt", action="store_true", help="also run coordination-network-toolkit (if installed)")
    ap.add_argument("--cnt-timeout", type=float, default=1800)
    ap.add_argument("--workdir", help="keep generated files here (default: a temporary directory)")
    ap.add_argument("--one", nargs=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.types, args.window, args.min_weight, args.mode)))
        return
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ew_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    parquet = work / f"posts_{args.posts}.parquet"
    t0 = time.perf_counter()
    if not parquet.exists():
        generate(parquet, args.posts)
    print(f"data: {args.posts:,} posts in {parquet} (generated in {time.perf_counter() - t0:.1f} s); "
          f"cpus={os.cpu_count()}, window={args.window:g} s, min weight={args.min_weight}, mode={args.mode}")
    for ntype in args.types.split(","):
        out = subprocess.run([sys.executable, __file__, "--one", str(parquet), "--types", ntype, "--window",
                              str(args.window), "--min-weight", str(args.min_weight), "--mode", args.mode],
                             capture_output=True, text=True)
        if out.returncode:
            print(f"{ntype}: failed: {out.stderr[-500:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{ntype:10s} compute {r['compute_s']:7.2f} s  (+ load {r['load_s']:.2f} s)  "
              f"peak RSS {r['peak_rss_mb']:6,} MB  edges {r['edges']:,}")
        if args.cnt:
            c = run_cnt(str(parquet), ntype, args.window, args.cnt_timeout, work)
            if "cnt" in c:
                print(f"{ntype:10s} CNT: {c['cnt']}")
            else:
                total = c["cnt_preprocess_s"] + c["cnt_compute_s"]
                print(f"{ntype:10s} CNT preprocess {c['cnt_preprocess_s']:.1f} s + compute {c['cnt_compute_s']:.1f} s "
                      f"= {total:.1f} s -> ratio CNT end to end / envoywatch compute = {total / r['compute_s']:.1f}x; "
                      f"CNT CLI edges {c['cnt_edges']:,}; CNT's query in one batch {c['cnt_sql_edges']:,} edges "
                      f"in {c['cnt_sql_s']:.1f} s; ours {r['edges']:,} "
                      f"({'equal' if c['cnt_sql_edges'] == r['edges'] else 'DIFFERENT'})")


if __name__ == "__main__":
    main()
