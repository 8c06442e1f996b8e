"""Tone scoring speed: posts/s of the shipped model on N posts (DIPROMATS texts repeated, or generated).

    python benchmarks/tone_bench.py [--n 100000] [--no-reasons]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

from envoywatch.analysis.tone import default_model

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ENVOYWATCH_REAL_DATA", ROOT.parent / "shared" / "data" / "real")) / "diplomats"
WORDS = ("china us russia cooperation the people lies hypocrisy west media ambassador meeting peace war "
         "sanctions trade virus shameful friendship development support hegemony").split()


def texts(n: int) -> list[str]:
    pool = []
    for f in ("dipromats2023_val_t3_en.json", "dipromats2023_train_t3_es.json"):
        if (DATA / f).exists():
            pool += [r["text"] for r in json.loads((DATA / f).read_text(encoding="utf-8"))]
    rng = random.Random(0)
    if not pool:
        pool = [" ".join(rng.choices(WORDS, k=35)) + " https://t.co/abc" for _ in range(1000)]
    return [pool[i % len(pool)] for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--no-reasons", action="store_true", help="label and score only (no technique/cue reasons)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    model = default_model()
    load = time.perf_counter() - t0
    docs = texts(a.n)
    t, c = time.perf_counter(), time.process_time()
    for i in range(0, len(docs), 5000):
        if a.no_reasons:
            model.probabilities(docs[i:i + 5000])
        else:
            model.score(docs[i:i + 5000])
    s, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"model {model.version} loaded in {load:.1f}s; scored {a.n} posts in {s:.1f}s = {a.n / s:.0f} posts/s wall; "
          f"{cpu:.1f}s CPU = {a.n / cpu:.0f} posts/s per busy core (single-threaded; wall equals CPU on an idle machine) "
          f"(reasons {'off' if a.no_reasons else 'on'}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
