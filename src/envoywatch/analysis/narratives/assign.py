"""Narrative assignment: pattern matching and semantic similarity to the narrative examples, cached in the store.

`assign_narratives(store, methods=("pattern", "embedding"))` scans the posts that are not scanned yet with the
current definitions (a changed or added narrative changes the definitions' hash: everything is rescanned),
and writes post_narratives rows (see cache.py). A post can carry several narratives, and the same narrative by
both methods; the analyses count a (post, narrative) once.

- pattern: a keyword or regex of the narrative (any language) occurs in the text; score 1.0, evidence = the
  matched phrase.
- embedding: the cosine similarity of the post with the closest example of the narrative (multilingual USE v3)
  is >= threshold (default 0.5: translations of one sentence score about 0.55-0.7, unrelated texts about 0);
  score = that similarity, evidence = the example. Needs the optional extra (envoywatch[narratives]).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from envoywatch.analysis.filters import Filters, filtered_posts
from envoywatch.analysis.narratives.cache import ensure_tables
from envoywatch.analysis.narratives.definitions import NarrativeError, all_narratives, defs_hash

METHODS = ("pattern", "embedding")
DEFAULT_THRESHOLD = 0.5
_BATCH = 5000


def _check_methods(methods) -> tuple[str, ...]:
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise NarrativeError(f"unknown method(s) {bad}", "--method", f"use one of: {', '.join(METHODS)}")
    return methods


def assign_narratives(store, methods=("pattern",), f: Filters | None = None, threshold: float = DEFAULT_THRESHOLD,
                      refresh: bool = False, progress=None) -> dict:
    """Scan posts (those of the filters, default all) and cache their narratives. Returns counts per method:
    {'pattern': {'scanned': n, 'assigned': rows}, ...}."""
    methods = _check_methods(methods)
    ensure_tables(store.con)
    narratives = all_narratives(store)
    out = {}
    for method in methods:
        h = defs_hash(narratives, method if method == "pattern" else f"{method}:{threshold}")
        todo = _posts_to_scan(store, f or Filters(), method, h, refresh)
        scanned = assigned = 0
        scorer = _pattern_rows if method == "pattern" else _embedding_scorer(narratives, threshold)
        seen: dict = {}
        for start in range(0, todo.num_rows, _BATCH):
            chunk = todo.slice(start, _BATCH)
            rows = scorer(narratives, chunk, seen) if method == "pattern" else scorer(chunk)
            _write(store, method, h, chunk, rows)
            scanned += chunk.num_rows
            assigned += len(rows)
            if progress:
                progress(method, scanned, todo.num_rows)
        out[method] = {"scanned": scanned, "assigned": assigned}
    return out


def _posts_to_scan(store, f: Filters, method: str, h: str, refresh: bool) -> pa.Table:
    p = filtered_posts(store, f).select("platform", "post_id", "text")
    p = p.filter(p.text.notnull())
    if not refresh:
        s = store.ibis().table("post_narrative_scans")
        s = s.filter((s.method == method) & (s.defs_hash == h))
        p = p.anti_join(s, ["platform", "post_id"])
    return p.order_by(["platform", "post_id"]).to_pyarrow()


def _pattern_rows(narratives, chunk: pa.Table, cache: dict | None = None) -> list[tuple]:
    rows = []
    plats, ids, texts = (chunk.column(c).to_pylist() for c in ("platform", "post_id", "text"))
    # each distinct text is matched once per call (reposts of one post carry the same text): the same rows
    # with less regex work; `cache` (text -> hits) carries results across chunks
    cache = {} if cache is None else cache
    if len(cache) > 500_000:
        cache.clear()
    for text in dict.fromkeys(texts):
        if text not in cache:
            low = text.lower()
            cache[text] = tuple((n.name, m[:200]) for n in narratives if (m := n.match(text, low)))
    for plat, pid, text in zip(plats, ids, texts):
        for name, ev in cache[text]:
            rows.append((plat, pid, name, "pattern", 1.0, ev))
    return rows


def _embedding_scorer(narratives, threshold: float):
    from envoywatch.analysis.narratives.embed import embed

    examples = [(n.name, e) for n in narratives for e in (n.examples or ([n.description] if n.description else []))]
    if not examples:
        return lambda chunk: []
    ex_vec = embed([e for _, e in examples])
    ex_names = np.array([n for n, _ in examples])
    names = sorted(set(ex_names))

    def score(chunk: pa.Table) -> list[tuple]:
        plats, ids, texts = (chunk.column(c).to_pylist() for c in ("platform", "post_id", "text"))
        sims = embed(texts) @ ex_vec.T                     # (posts, examples)
        rows = []
        for name in names:
            cols = np.flatnonzero(ex_names == name)
            sub = sims[:, cols]
            best = sub.argmax(axis=1)
            val = sub[np.arange(len(texts)), best]
            for i in np.flatnonzero(val >= threshold):
                rows.append((plats[i], ids[i], name, "embedding", round(float(val[i]), 4),
                             examples[cols[best[i]]][1][:200]))
        return rows

    return score


def _write(store, method: str, h: str, chunk: pa.Table, rows: list[tuple]) -> None:
    keys = pa.table({"platform": chunk.column("platform"), "post_id": chunk.column("post_id")})
    new = pa.table({k: pa.array([r[i] for r in rows], t) for i, (k, t) in enumerate(
        (("platform", pa.string()), ("post_id", pa.string()), ("narrative", pa.string()), ("method", pa.string()),
         ("score", pa.float64()), ("evidence", pa.string())))})
    con = store.con
    with store.transaction():
        con.register("_ew_nk", keys)
        con.register("_ew_nrows", new)
        try:
            con.execute("DELETE FROM post_narratives WHERE method = ? AND (platform, post_id) IN "
                        "(SELECT platform, post_id FROM _ew_nk)", [method])
            con.execute("INSERT INTO post_narratives SELECT * FROM _ew_nrows")
            con.execute("DELETE FROM post_narrative_scans WHERE method = ? AND (platform, post_id) IN "
                        "(SELECT platform, post_id FROM _ew_nk)", [method])
            con.execute("INSERT INTO post_narrative_scans SELECT platform, post_id, ?, ? FROM _ew_nk", [method, h])
        finally:
            con.unregister("_ew_nk")
            con.unregister("_ew_nrows")


def match_text(text: str, narratives=None) -> list[tuple[str, str]]:
    """(narrative, matched phrase) for one text by pattern: for users checking a definition."""
    narratives = narratives if narratives is not None else all_narratives()
    return [(n.name, m) for n in narratives if (m := n.match(text))]
