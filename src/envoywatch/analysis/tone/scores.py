"""Tone scores kept in the store, and the share of propaganda posts per period and group.

Scores are a cache: `tone_scores(platform, post_id, model_version, score, label, reasons, scored_at)`,
one row per post and model version, so a new model never mixes with an old one's figures and
re-running `score_store` only scores posts not yet scored by that version. Until schema.py declares
the table, this module creates it itself (same columns; see docs/analysis/tone.md).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import ibis
import pyarrow as pa

from envoywatch.analysis import analysis
from envoywatch.analysis.filters import FREQ_UNITS, Filters, check_choice, filtered_posts, group_expr
from envoywatch.analysis.tone.model import ToneModel, default_model
from envoywatch.errors import StoreError

TABLE = "tone_scores"
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    platform VARCHAR NOT NULL,      -- platform slug
    post_id VARCHAR NOT NULL,       -- post id (posts.post_id)
    model_version VARCHAR NOT NULL, -- the tone model that gave the score
    score DOUBLE NOT NULL,          -- probability that the post is propagandistic (0..1)
    label BOOLEAN NOT NULL,         -- score >= the model's threshold
    reasons VARCHAR,                -- JSON list: 'technique:<name>' and 'cue:<n-gram>'
    scored_at TIMESTAMP NOT NULL,   -- when it was scored (UTC)
    PRIMARY KEY (platform, post_id, model_version))"""


def ensure_table(store) -> None:
    store.con.execute(DDL)


def score_store(store, model: ToneModel | None = None, since: datetime | None = None,
                batch: int = 20000, progress=None) -> dict:
    """Score every post with text (created at or after `since`) not yet scored by this model version.
    Returns {'scored': n, 'already': m, 'model_version': v}."""
    if store.read_only:
        raise StoreError("the store is open read-only", str(store.path), "open it writable to keep tone scores")
    model = model or default_model()
    ensure_table(store)
    where, params = "", [model.version]
    if since is not None:
        where, params = "AND p.created_at >= ?", [model.version, since]
    todo_sql = (f"SELECT p.platform, p.post_id, p.text FROM posts p LEFT JOIN {TABLE} s "
                f"ON s.platform = p.platform AND s.post_id = p.post_id AND s.model_version = ? "
                f"WHERE s.post_id IS NULL AND p.text IS NOT NULL AND length(trim(p.text)) > 0 {where} "
                f"ORDER BY p.platform, p.post_id LIMIT {int(batch)}")
    scored = 0
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    while True:
        # each round re-asks for unscored posts: what the last round wrote drops out (no open cursor
        # while writing, and an interrupted run resumes where it stopped)
        rows = store.con.execute(todo_sql, params).fetchall()
        if not rows:
            break
        results = _score_distinct(model, [r[2] for r in rows])
        out = pa.table({"platform": [r[0] for r in rows], "post_id": [r[1] for r in rows],
                        "model_version": [model.version] * len(rows), "score": [x.score for x in results],
                        "label": [x.label for x in results],
                        "reasons": [json.dumps(x.reasons, ensure_ascii=False) for x in results],
                        "scored_at": pa.array([now] * len(rows), pa.timestamp("us"))})
        store.con.register("_tone_stage", out)
        try:
            with store.transaction():
                store.con.execute(f"INSERT OR IGNORE INTO {TABLE} SELECT * FROM _tone_stage")
        finally:
            store.con.unregister("_tone_stage")
        scored += len(out)
        if progress:
            progress(scored)
    already = store.con.execute(f"SELECT count(*) FROM {TABLE} WHERE model_version = ?", [model.version]).fetchall()[0][0]
    return {"scored": scored, "total_scored": int(already), "model_version": model.version}


def _score_distinct(model: ToneModel, texts: list[str]) -> list:
    """model.score over texts, each distinct prepared text scored once. The model sees prepare(text) only
    (links -> URL, handles -> @user: features.py), so texts equal after prepare get equal results; reposts
    of one post and posts that differ only by their t.co link are scored once (the demo: 256 distinct
    prepared texts among 431,673 posts)."""
    from envoywatch.analysis.tone.features import prepare

    keys = [prepare(t) for t in texts]
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    uniq = list(first.values())
    res = dict(zip(uniq, model.score([texts[i] for i in uniq])))
    return [res[first[k]] for k in keys]


def scores_table(tables) -> ibis.Table:
    """The tone_scores table through the store's accessor (or its Ibis backend until schema.py has it)."""
    try:
        return tables.table(TABLE)
    except StoreError:
        return tables.ibis().table(TABLE)


@analysis("tone.share")
def tone_share(tables, f: Filters = Filters(), freq: str = "month", by: str | None = None,
               model_version: str | None = None) -> ibis.Table:
    """Per period and group (by=account|actor|state|category|host_country|platform|language): posts scored,
    propaganda posts, their share and the mean score. Only posts scored by `model_version` (default: the
    shipped model) count; run `envoywatch tone store` first."""
    unit = FREQ_UNITS[check_choice(freq, list(FREQ_UNITS), "freq")]
    version = model_version or default_model().version
    s = scores_table(tables)
    s = s.filter(s.model_version == version).select(s_platform="platform", s_post_id="post_id", score="score",
                                                    label="label")
    p = filtered_posts(tables, f)
    j = p.inner_join(s, (p.platform == s.s_platform) & (p.post_id == s.s_post_id))
    j = j.mutate(period=j.created_at.truncate(unit).date(), group=group_expr(j, by))
    one, zero = ibis.literal(1).cast("int64"), ibis.literal(0).cast("int64")
    agg = j.group_by(["period", "group"]).aggregate(
        posts_scored=j.count().cast("int64"),
        propaganda_posts=ibis.ifelse(j.label, one, zero).sum().cast("int64"),
        mean_score=j.score.mean())
    agg = agg.mutate(share=agg.propaganda_posts.cast("float64") / agg.posts_scored.cast("float64"))
    return agg.select("period", "group", "posts_scored", "propaganda_posts", "share", "mean_score") \
              .order_by(["period", "group"])
