"""Discovery of emerging topics that no narrative covers yet: cluster the recent unassigned posts.

Posts of the filters (default: the last 30 days of the store) with text and no cached narrative (run
`assign_narratives` first) are deduplicated by cleaned text, turned into vectors, and clustered with spherical
k-means (k-means++ start, fixed seed: the same data gives the same clusters):

- method 'tfidf' (default, no extra dependency): TF-IDF over words (Latin, Cyrillic, Arabic... scripts) and
  character bigrams (Chinese, Japanese), words in at least `min_df` posts and at most half of them;
- method 'embedding': multilingual sentence embeddings (envoywatch[narratives]); translations cluster together.

Each cluster: size (posts, counting duplicates), accounts, first/last time, key terms (the TF-IDF terms most
over-represented in the cluster), representative posts (closest to the centre). `promote` turns a cluster into a
narrative definition (keywords = key terms, examples = representative posts) for `add_narratives`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import ibis
import numpy as np

from envoywatch.analysis.filters import Filters, filtered_posts
from envoywatch.analysis.narratives.cache import cache_table
from envoywatch.analysis.narratives.definitions import Narrative, NarrativeError, narrative_from_dict
from envoywatch.analysis.narratives.embed import clean

_WORD = re.compile(r"[^\W\d_]{3,}", re.U)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff]+")
STOPWORDS = set("""the and for that with this from are was were has have had not but you your our their they
them his her its will would can could should about into over more than also been being who what when where which
while all any each other some such only own same very just new one two via amp rt http https www com
les des une pour dans sur par avec est pas qui que aux del las los por para con una que sus como más este esta
der die das und den dem des ein eine mit von für auf ist nicht sich auch
что как это для его или при так все они она был была были
في من على إلى عن مع هذا هذه التي الذي
uma para com não dos das por que""".split())


@dataclass
class Cluster:
    number: int
    size: int
    accounts: int
    first_at: datetime | None
    last_at: datetime | None
    terms: list[str]
    examples: list[str]
    post_ids: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def as_row(self) -> dict:
        return {"cluster": self.number, "size": self.size, "accounts": self.accounts, "first_at": self.first_at,
                "last_at": self.last_at, "terms": ", ".join(self.terms), "examples": " | ".join(self.examples)}


def tokens(text: str) -> list[str]:
    t = clean(text).lower()
    out = [w for w in _WORD.findall(_CJK.sub(" ", t)) if w not in STOPWORDS]
    for run in _CJK.findall(t):
        out += [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]
    return out


def tfidf(docs: list[list[str]], min_df: int = 3, max_df: float = 0.5, max_terms: int = 3000):
    """(matrix (n_docs, n_terms) float32 L2-normalized, vocabulary list)."""
    df = Counter(w for d in docs for w in set(d))
    n = len(docs)
    vocab = [w for w, c in df.items() if c >= min_df and c <= max(min_df, max_df * n)]
    vocab = sorted(vocab, key=lambda w: (-df[w], w))[:max_terms]
    index = {w: i for i, w in enumerate(vocab)}
    m = np.zeros((n, len(vocab)), dtype=np.float32)
    for r, d in enumerate(docs):
        for w, c in Counter(d).items():
            j = index.get(w)
            if j is not None:
                m[r, j] = 1.0 + np.log(c)
    idf = np.log((1 + n) / (1 + np.array([df[w] for w in vocab], dtype=np.float32))) + 1.0
    m *= idf
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-12), vocab


def spherical_kmeans(x: np.ndarray, k: int, seed: int = 0, iters: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centres) of k-means on the unit sphere (cosine), k-means++ initialisation."""
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    k = max(1, min(k, n))
    centres = [x[rng.integers(n)]]
    dist = 1.0 - x @ centres[0]
    for _ in range(1, k):
        p = np.clip(dist, 0, None) ** 2
        idx = rng.choice(n, p=p / p.sum()) if p.sum() > 0 else rng.integers(n)
        centres.append(x[idx])
        dist = np.minimum(dist, 1.0 - x @ x[idx])
    c = np.stack(centres)
    labels = np.full(n, -1)
    for _ in range(iters):
        new = (x @ c.T).argmax(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = x[labels == j]
            if len(members):
                v = members.sum(axis=0)
                c[j] = v / max(np.linalg.norm(v), 1e-12)
    return labels, c


def discover_topics(store, f: Filters | None = None, n_clusters: int | None = None, method: str = "tfidf",
                    min_size: int = 5, max_posts: int = 20000, n_terms: int = 8, n_examples: int = 3,
                    days: int = 30, seed: int = 0) -> list[Cluster]:
    """Clusters of recent posts without a narrative, largest first (only those of at least min_size posts)."""
    if method not in ("tfidf", "embedding"):
        raise NarrativeError(f"unknown method '{method}'", "--method", "use tfidf or embedding")
    f = f or Filters()
    if f.start is None and f.end is None and days:
        last = store.con.execute("SELECT max(created_at) FROM posts").fetchall()[0][0]
        if last is not None:
            f = f.window(last - timedelta(days=days), last + timedelta(seconds=1))
    p = filtered_posts(store, f)
    p = p.filter(p.text.notnull() & (p.kind != "repost"))
    pn = cache_table(store, "post_narratives")
    p = p.anti_join(pn, ["platform", "post_id"])
    sel = p.select("platform", "post_id", "account_id", "created_at", "text")
    rows = sel.order_by([ibis.desc("created_at"), "post_id"]).limit(int(max_posts)).to_pyarrow().to_pylist()
    groups: dict[str, list[dict]] = {}
    for r in rows:
        key = " ".join(clean(r["text"]).lower().split())
        if key:
            groups.setdefault(key, []).append(r)
    keys = list(groups)
    if len(keys) < max(2, min_size):
        return []
    docs = [tokens(k) for k in keys]
    tf, vocab = tfidf(docs, min_df=max(2, min(3, len(keys) // 50 + 2)))
    if method == "embedding":
        from envoywatch.analysis.narratives.embed import embed

        x = embed(keys)
    else:
        keep = tf.any(axis=1)
        x = tf
        if not keep.any():
            return []
    k = n_clusters or int(min(30, max(2, round(np.sqrt(len(keys) / 4)))))
    labels, centres = spherical_kmeans(x, k, seed=seed)
    weights = np.array([len(groups[k_]) for k_ in keys])
    overall = (tf * weights[:, None]).sum(axis=0) / max(weights.sum(), 1)
    out = []
    for j in range(centres.shape[0]):
        idx = np.flatnonzero(labels == j)
        idx = idx[np.linalg.norm(x[idx], axis=1) > 0] if method == "tfidf" else idx
        members = [r for i in idx for r in groups[keys[i]]]
        if len(members) < min_size:
            continue
        w = weights[idx]
        mean = (tf[idx] * w[:, None]).sum(axis=0) / w.sum()
        lift = mean - overall
        terms = [vocab[t] for t in np.argsort(-lift)[:n_terms] if lift[t] > 0]
        order = idx[np.argsort(-(x[idx] @ centres[j]))]
        examples = [groups[keys[i]][0]["text"] for i in order[:n_examples]]
        times = [r["created_at"] for r in members]
        out.append(Cluster(0, len(members), len({(r["platform"], r["account_id"]) for r in members}), min(times),
                           max(times), terms, examples, [(r["platform"], r["post_id"]) for r in members]))
    out.sort(key=lambda c: (-c.size, c.terms))
    for i, c in enumerate(out, 1):
        c.number = i
    return out


def promote(cluster: Cluster, name: str, description: str | None = None, n_keywords: int = 5) -> Narrative:
    """A narrative definition from a discovered cluster: its key terms as keywords (any language), its
    representative posts as examples. Review it before relying on it: key terms can be broad."""
    return narrative_from_dict({
        "name": name,
        "description": description or f"Discovered topic: {', '.join(cluster.terms[:n_keywords])}",
        "keywords": {"any": cluster.terms[:n_keywords]},
        "examples": cluster.examples,
    }, "discovered cluster", origin="discovered")
