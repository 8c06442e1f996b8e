"""Cross-validated macro-F1 of the tone model on DIPROMATS (protocols in envoywatch.analysis.tone.evaluate).

    python benchmarks/tone_eval.py [--data DIR] [--limit N] [--protocols en_cv,en_cv+es,es->en,en->es] [--json OUT]
                                   [--members lr,nblr] [--C 4] [--nb-C 4] [--svm-C 0.1] [--no-tune]

The defaults are the shipped model's parameters; --members/--C/--no-tune reproduce the other variants of the
table in docs/analysis/tone.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from envoywatch.analysis.tone.evaluate import cross_validate, format_report, transfer
from envoywatch.analysis.tone.features import read_dipromats
from envoywatch.analysis.tone.model import Params

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
    d = Params()
    ap.add_argument("--members", default=",".join(d.members), help="binary ensemble members: lr, nblr, svm")
    ap.add_argument("--C", type=float, default=d.C, help="logistic regression C (binary member and techniques)")
    ap.add_argument("--nb-C", type=float, default=d.nb_C)
    ap.add_argument("--svm-C", type=float, default=d.svm_C)
    ap.add_argument("--no-tune", action="store_true", help="threshold 0.5 on the uncalibrated ensemble (no inner CV)")
    a = ap.parse_args(argv)
    params = Params(C=a.C, nb_C=a.nb_C, svm_C=a.svm_C, members=tuple(a.members.split(",")), tune=not a.no_tune)
    print(f"params: {params}", flush=True)
    en = read_dipromats(a.data / EN, a.limit)
    es = read_dipromats(a.data / ES, a.limit)
    results = {}
    for name in a.protocols.split(","):
        t = time.perf_counter()
        if name == "en_cv":
            r = cross_validate(en, None, k=a.folds, params=params)
        elif name == "en_cv+es":
            r = cross_validate(en, es, k=a.folds, with_es=True, params=params)
        elif name == "es->en":
            r = transfer(es, en, params)
        elif name == "en->es":
            r = transfer(en, es, params)
        else:
            raise SystemExit(f"unknown protocol {name!r}; use some of {','.join(PROTOCOLS)}")
        r["seconds"] = round(time.perf_counter() - t, 1)
        r["params"] = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(params).items()}
        results[name] = r
        print(format_report(name, r) + f"\n    ({r['seconds']}s)", flush=True)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
