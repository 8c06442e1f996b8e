"""Train the shipped tone model on the DIPROMATS English + Spanish sets and write it as package data.

    python benchmarks/tone_train.py [--data ../shared/data/real/diplomats] [--out src/envoywatch/analysis/tone/tone_model.npz]

The artifact holds derived weights only (vocabulary, IDF, coefficients), never the tweets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from envoywatch.analysis.tone.features import read_dipromats, LabelledSet
from envoywatch.analysis.tone.model import MODEL_FILE, Params, ToneModel

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("ENVOYWATCH_REAL_DATA", ROOT.parent / "shared" / "data" / "real")) / "diplomats"
EN, ES = "dipromats2023_val_t3_en.json", "dipromats2023_train_t3_es.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "envoywatch" / "analysis" / "tone" / MODEL_FILE)
    ap.add_argument("--version", default="dipromats-tfidf-ens-" + dt.date.today().isoformat())
    a = ap.parse_args()
    en, es = read_dipromats(a.data / EN), read_dipromats(a.data / ES)
    data = LabelledSet.concat(en, es)
    t = time.perf_counter()
    params = Params()
    # English is the main set (the binary threshold is chosen on its inner-CV scores), Spanish trains too
    model = ToneModel.fit(en.texts, en.binary, {n: en.technique(n) for n in params.techniques}, params, a.version,
                          aux=(es.texts, es.binary, {n: es.technique(n) for n in params.techniques}))
    model.save(a.out)
    print(f"trained on {len(data)} tweets ({sum(data.binary)} propaganda) in {time.perf_counter() - t:.1f}s; "
          f"wrote {a.out} ({a.out.stat().st_size / 1e6:.2f} MB), version {a.version}, "
          f"{len(model.word.vocabulary_)} word + {len(model.char.vocabulary_)} char features; "
          f"binary threshold {model.thresholds[0]:.3f}")


if __name__ == "__main__":
    main()
