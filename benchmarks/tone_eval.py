"""Cross-validated macro-F1 of the tone model on DIPROMATS (protocols in envoywatch.analysis.tone.evaluate).

    python benchmarks/tone_eval.py [--data DIR] [--limit N] [--protocols en_cv,en_cv+es,es->en,en->es] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from envoywatch.analysis.tone.evaluate import cross_validate, format_report, transfer
from envoywatch.analysis.tone.features import read_dipromats

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("ENVOYWATCH_REAL_DATA", ROOT.parent / "shared" / "data" / "real")) / "diplomats"
EN, ES = "dipromats2023_val_t3_en.json", "dipromats2023_train_t3_es.json"
PROTOCOLS = ("en_cv", "en_cv+es", "es->en", "en->es")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, help="only the first N tweets of each file (a quick run)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--protocols", default=",".join(PROTOCOLS))
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    a = ap.parse_args(argv)
    en = read_dipromats(a.data / EN, a.limit)
    es = read_dipromats(a.data / ES, a.limit)
    results = {}
    for name in a.protocols.split(","):
        t = time.perf_counter()
        if name == "en_cv":
            r = cross_validate(en, None, k=a.folds)
        elif name == "en_cv+es":
            r = cross_validate(en, es, k=a.folds, with_es=True)
        elif name == "es->en":
            r = transfer(es, en)
        elif name == "en->es":
            r = transfer(en, es)
        else:
            raise SystemExit(f"unknown protocol {name!r}; use some of {','.join(PROTOCOLS)}")
        r["seconds"] = round(time.perf_counter() - t, 1)
        results[name] = r
        print(format_report(name, r) + f"\n    ({r['seconds']}s)", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
