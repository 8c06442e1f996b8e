"""Import benchmark: generate N flattened X v2 tweets (JSONL) and a takedown-style CSV of N rows, import
each into a fresh store in a child process, print posts/s and the child's peak RSS.

    python benchmarks/import_bench.py                 # N = 100k and 1M
    python benchmarks/import_bench.py --n 100000      # one size
    python benchmarks/import_bench.py --keep DIR      # keep generated files and stores in DIR
    python benchmarks/import_bench.py --repeat 3      # each import 3 times: the fastest run and the median
    python benchmarks/import_bench.py --distinct-links  # every post links a page of its own (real exports:
                                                        # mostly distinct links; by default ~1,000 recur)

A script that prints figures (never a timed test). The files are synthetic (envoywatch.util.synth).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time, resource
from envoywatch.store import Store
from envoywatch.importers.run import import_paths
from envoywatch.importers.base import UseSlowPath
from envoywatch.importers.run import detect_format
path, db = sys.argv[1], sys.argv[2]
fell_back = []
spec = detect_format(__import__("pathlib").Path(path))
if spec.fast_read:  # note when the columnar reader gives up (the file is then read again record by record)
    def _spy(source, _fast=spec.fast_read):
        try:
            yield from _fast(source)
        except UseSlowPath as why:
            fell_back.append(str(why))
            raise
    spec.fast_read = _spy
t0 = time.perf_counter()
with Store(db) as s:
    res = import_paths(s, [path])
    posts = s.scalar("SELECT count(*) FROM posts WHERE observed = 'primary'")
dt = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": dt, "posts": posts, "format": res[0].format, "rejects": res[0].rejects,
                  "derived_seconds": res[0].derived_seconds,
                  "cpu_seconds": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024,
                  "reader": ("record by record (fast reader gave up: " + fell_back[0] + ")") if fell_back
                            else "columnar" if spec.fast_read else "record by record"}))
"""


def run_one(path: Path, db: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(db)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"import of {path} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="sizes (default: 100000 and 1000000)")
    ap.add_argument("--keep", type=Path, help="directory to keep files and stores in")
    ap.add_argument("--repeat", type=int, default=1, help="import each file this many times (a shared machine's "
                    "timings vary by 20-30%%: the fastest run is printed, the median after it)")
    ap.add_argument("--distinct-links", action="store_true", help="a link of its own in every post (normalizing "
                    "links is then a large part of the work) instead of ~1,000 links that recur")
    args = ap.parse_args()
    sizes = args.n or [100_000, 1_000_000]
    from functools import partial

    from envoywatch.util.synth import write_flat_v2, write_takedown_csv

    if args.distinct_links:
        write_flat_v2, write_takedown_csv = partial(write_flat_v2, link_every=0), partial(write_takedown_csv, link_every=0)
    tag = "_distinct_links" if args.distinct_links else ""

    work = args.keep or Path(tempfile.mkdtemp(prefix="ew-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; files in {work}")
    print(f"{'format':<22} {'N':>9} {'file MB':>8} {'seconds':>8} {'posts/s':>9} {'CPU s':>7} {'posts/CPU-s':>11} "
          f"{'peak RSS MB':>12} {'of which index+aggregates s':>27}")
    for n in sizes:
        for kind, writer, suffix in (("flat v2 JSONL", write_flat_v2, "jsonl"), ("takedown CSV", write_takedown_csv, "csv")):
            f = work / f"bench_{n}{tag}.{suffix}"
            if not f.exists():
                writer(f, n)
            db = work / f"bench_{n}{tag}_{suffix}.duckdb"
            runs = []
            for _ in range(max(1, args.repeat)):
                for p in (db, Path(str(db) + ".wal")):
                    if p.exists():
                        p.unlink()
                r = run_one(f, db)
                assert r["posts"] == n and r["rejects"] == 0, r
                runs.append(r)
            runs.sort(key=lambda x: x["seconds"])
            r = runs[0]
            median = runs[len(runs) // 2]["seconds"]
            rss = max(x["peak_rss_mb"] for x in runs)
            spread = f"; median of {len(runs)}: {median:.1f} s, {n / median:,.0f} posts/s" if len(runs) > 1 else ""
            print(f"{kind:<22} {n:>9,} {f.stat().st_size / 1e6:>8.1f} {r['seconds']:>8.1f} "
                  f"{n / r['seconds']:>9,.0f} {r['cpu_seconds']:>7.1f} {n / r['cpu_seconds']:>11,.0f} "
                  f"{rss:>12,.0f} {r['derived_seconds']:>27.1f}   ({r['format']}, {r['reader']}{spread})", flush=True)
            if not args.keep:
                db.unlink(missing_ok=True)
        if not args.keep:
            for suffix in ("jsonl", "csv"):
                (work / f"bench_{n}{tag}.{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
