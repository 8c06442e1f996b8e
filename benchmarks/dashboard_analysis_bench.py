"""Analysis pages benchmark: the demo store with its caches filled as a user would (`narratives assign`,
`narratives lines`, `tone store`), then the first (computing) and second (cached) load of /coordination,
/narratives and /api/coordination/network through the app (FastAPI TestClient, in process).

    python benchmarks/dashboard_analysis_bench.py                    # demo scale small
    python benchmarks/dashboard_analysis_bench.py --scale medium --keep DIR

A script that prints figures (never a timed test); on a machine shared with other work the times include waiting
for a core.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="small")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="directory for (and reuse of) the store")
    a = ap.parse_args()
    folder = Path(a.keep or tempfile.mkdtemp(prefix="ew-analysis-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"demo-{a.scale}-{a.seed}.duckdb"
    from envoywatch.store import Store

    if not db.exists():
        from envoywatch.demo import build_demo

        t = time.perf_counter()
        s = Store(db)
        build_demo(s, scale=a.scale, seed=a.seed)
        s.close()
        print(f"demo store built in {time.perf_counter() - t:.1f} s")
        for cmd in (["narratives", "assign"], ["narratives", "lines"], ["tone", "store"]):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "envoywatch.cli.main", "--db", str(db), *cmd], check=True,
                           capture_output=True)
            print(f"envoywatch {' '.join(cmd)}: {time.perf_counter() - t:.1f} s")
    from fastapi.testclient import TestClient

    from envoywatch.web.app import create_app

    store = Store(db, read_only=True)
    print(f"posts: {store.scalar('SELECT count(*) FROM posts'):,}")
    c = TestClient(create_app(db, store=store))
    for url in ("/coordination", "/narratives", "/api/coordination/network"):
        for label in ("first", "cached"):
            t = time.perf_counter()
            r = c.get(url)
            print(f"{url:32} {label:7} {r.status_code} {time.perf_counter() - t:6.2f} s  {len(r.content):,} bytes")
    net = c.get("/api/coordination/network").json()
    print(f"network: {len(net['nodes'])} nodes, {len(net['edges'])} edges; "
          f"groups: {len(c.get('/api/coordination/groups').json()['rows'])}")
    store.close()


if __name__ == "__main__":
    main()
