"""Bluesky archive formats on the real AppView fixtures: detection, zero rejects, counts equal to an
independent reading (plain json below), kinds, links/mentions, idempotent re-import, the CLI; plus a
small hand-written feed page for what the fixtures lack (reposts, hashtags)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from envoywatch.importers.run import detect_format, import_paths
from tests.conftest import real_path, run_cli, table_snapshot

BSKY = ("fixtures", "bluesky_appview")
CAPTURED = datetime(2025, 3, 1, 12, 0, 0)
DATA_TABLES = ("accounts", "account_snapshots", "posts", "post_metrics", "post_urls", "post_hashtags",
               "post_mentions", "post_media", "account_follows")
EXPECTED_FORMATS = {
    "author_feed.json": "bluesky-feed", "follows.json": "bluesky-follows", "likes.json": "bluesky-likes",
    "quotes.json": "bluesky-posts", "profile.json": "bluesky-profile",
}


# --- independent reading (plain json, no envoywatch code) -------------------------------------------

def _walk(o):
    yield o
    if isinstance(o, dict):
        for v in o.values():
            yield from _walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from _walk(v)


def _kind(view: dict) -> str:
    rec = view.get("record") if "record" in view and "text" in (view.get("record") or {}) else view.get("value") or {}
    emb = rec.get("embed") or {}
    if emb.get("$type") == "app.bsky.embed.recordWithMedia":
        emb = emb.get("record") or {}
    target = (emb.get("record") or {}).get("uri", "") if emb.get("$type", "").startswith("app.bsky.embed.record") else ""
    if "/app.bsky.feed.post/" in target:
        return "quote"
    return "reply" if rec.get("reply") else "post"


def expected(files):
    posts, primary, accounts = {}, set(), set()
    for f in files:
        doc = json.loads(Path(f).read_text(encoding="utf-8"))
        for o in _walk(doc):
            if isinstance(o, dict) and isinstance(o.get("did"), str) and "handle" in o:
                accounts.add(o["did"])
            if isinstance(o, dict) and str(o.get("uri", "")).startswith("at://") and "author" in o \
                    and "/app.bsky.feed.post/" in o["uri"] and ("record" in o or "value" in o):
                posts[o["uri"]] = _kind(o)
        items = doc.get("feed") or ([doc] if "post" in doc else [])
        for it in items:
            assert "reason" not in it  # the fixtures hold no reposts (the synthetic test below has one)
            primary.add(it["post"]["uri"])
        for p in doc.get("posts") or []:
            primary.add(p["uri"])
    return posts, primary, accounts


def _files():
    return sorted(p for p in real_path(*BSKY).rglob("*.json"))


# --- tests -------------------------------------------------------------------------------------------

def test_every_fixture_is_detected_as_bluesky():
    files = _files()
    assert len(files) == 14
    for f in files:
        want = EXPECTED_FORMATS.get(f.name, "bluesky-feed")
        assert detect_format(f).name == want, f


def test_counts_and_kinds_equal_an_independent_reading(store):
    files = _files()
    results = import_paths(store, files, captured_at=CAPTURED)
    assert all(r.rejects == 0 and r.status == "done" for r in results), [(r.path.name, r.status, r.note) for r in results]
    posts, primary, accounts = expected(files)
    got = dict(store.con.execute("SELECT post_id, kind FROM posts WHERE platform = 'bluesky'").fetchall())
    assert got == posts
    assert len(got) == 28
    assert {r[0] for r in store.con.execute("SELECT post_id FROM posts WHERE observed = 'primary'").fetchall()} == primary
    assert {r[0] for r in store.con.execute("SELECT account_id FROM accounts").fetchall()} == accounts
    assert len(accounts) == 46
    # every post has a metrics snapshot at the given capture time (AppView gives none)
    assert store.scalar("SELECT count(*) FROM post_metrics WHERE captured_at = ?", [CAPTURED]) == len(posts)
    # follows.json: the subject follows each account listed
    doc = json.loads(real_path(*BSKY, "feeds", "follows.json").read_text())
    edges = {(doc["subject"]["did"], f["did"]) for f in doc["follows"]}
    assert set(store.con.execute("SELECT account_id, target_account_id FROM account_follows").fetchall()) == edges
    # profile.json: follower counts
    prof = json.loads(real_path(*BSKY, "profile.json").read_text())
    assert store.con.execute("SELECT followers, following, posts_count FROM account_snapshots WHERE account_id = ?",
                             [prof["did"]]).fetchall() == [(prof["followersCount"], prof["followsCount"], prof["postsCount"])]


def test_links_mentions_media_against_the_raw_post(store):
    f = real_path(*BSKY, "posts", "regular_post_with_multi_links.json")
    import_paths(store, [f], captured_at=CAPTURED)
    post = json.loads(f.read_text())["post"]
    want = []
    for facet in post["record"].get("facets", []):
        for feat in facet["features"]:
            if feat["$type"] == "app.bsky.richtext.facet#link" and feat["uri"] not in want:
                want.append(feat["uri"])
    ext = post["record"]["embed"]["external"]["uri"]
    if ext not in want:
        want.append(ext)
    got = [r[0] for r in store.con.execute("SELECT url FROM post_urls WHERE post_id = ? ORDER BY position", [post["uri"]]).fetchall()]
    assert got == want and len(got) >= 3

    q = real_path(*BSKY, "posts", "quote.json")
    import_paths(store, [q], captured_at=CAPTURED)
    qp = json.loads(q.read_text())["post"]
    dids = {feat["did"] for o in _walk(qp["embed"]) if isinstance(o, dict) and "features" in o
            for feat in o["features"] if feat["$type"].endswith("#mention")}
    quoted = qp["embed"]["record"]["uri"]
    got = {r[0] for r in store.con.execute("SELECT account_id FROM post_mentions WHERE post_id = ?", [quoted]).fetchall()}
    assert got == dids and len(got) == 3
    row = store.con.execute("SELECT kind, ref_post_id, quoted_post_id FROM posts WHERE post_id = ?", [qp["uri"]]).fetchone()
    assert row == ("quote", quoted, quoted)

    v = real_path(*BSKY, "posts", "regular_post_w_video.json")
    import_paths(store, [v], captured_at=CAPTURED)
    vp = json.loads(v.read_text())["post"]
    assert store.con.execute("SELECT media_type, url FROM post_media WHERE post_id = ?", [vp["uri"]]).fetchall() == [
        ("video", vp["embed"]["playlist"])]


def test_reply_points_at_parent_and_root(store):
    f = real_path(*BSKY, "posts", "reply.json")
    import_paths(store, [f], captured_at=CAPTURED)
    doc = json.loads(f.read_text())
    rec = doc["post"]["record"]
    row = store.con.execute("SELECT kind, ref_post_id, reply_to_post_id, conversation_id, observed FROM posts "
                            "WHERE post_id = ?", [doc["post"]["uri"]]).fetchone()
    assert row == ("reply", rec["reply"]["parent"]["uri"], rec["reply"]["parent"]["uri"], rec["reply"]["root"]["uri"],
                   "primary")
    assert store.scalar("SELECT observed FROM posts WHERE post_id = ?", [doc["reply"]["parent"]["uri"]]) == "referenced"


def test_reimport_changes_nothing(store):
    files = _files()
    import_paths(store, files, captured_at=CAPTURED)
    before = table_snapshot(store)
    import_paths(store, files, captured_at=CAPTURED, force=True)
    after = table_snapshot(store)
    for t in DATA_TABLES:
        assert after[t] == before[t], t


SYNTHETIC_FEED = {
    "feed": [{
        "post": {
            "uri": "at://did:plc:orig/app.bsky.feed.post/3aaa", "cid": "bafy1",
            "author": {"did": "did:plc:orig", "handle": "orig.example.com"},
            "record": {"$type": "app.bsky.feed.post", "createdAt": "2025-01-02T03:04:05.000Z", "langs": ["en"],
                       "text": "Hello #Diplomacy world",
                       "facets": [{"index": {"byteStart": 6, "byteEnd": 16},
                                   "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Diplomacy"}]}]},
            "likeCount": 5, "repostCount": 2, "replyCount": 0, "quoteCount": 0, "indexedAt": "2025-01-02T03:04:06.000Z",
        },
        "reason": {"$type": "app.bsky.feed.defs#reasonRepost",
                   "by": {"did": "did:plc:reposter", "handle": "embassy.example.org"},
                   "indexedAt": "2025-01-03T00:00:00.000Z"},
    }],
    "cursor": "x",
}


def test_repost_gets_a_derived_stable_id_and_tags(store, tmp_path):
    f = tmp_path / "author_feed_with_repost.json"
    f.write_text(json.dumps(SYNTHETIC_FEED))
    assert detect_format(f).name == "bluesky-feed"
    import_paths(store, [f], captured_at=CAPTURED)
    rows = store.con.execute("SELECT post_id, account_id, kind, ref_post_id, observed FROM posts ORDER BY kind").fetchall()
    rid = "did:plc:reposter/repost/at://did:plc:orig/app.bsky.feed.post/3aaa@2025-01-03T00:00:00.000Z"
    assert rows == [("at://did:plc:orig/app.bsky.feed.post/3aaa", "did:plc:orig", "post", None, "referenced"),
                    (rid, "did:plc:reposter", "repost", "at://did:plc:orig/app.bsky.feed.post/3aaa", "primary")]
    assert store.con.execute("SELECT tag, tag_norm FROM post_hashtags").fetchall() == [("Diplomacy", "diplomacy")]


def test_cli_imports_the_fixtures(db_path):
    proc = run_cli("import", str(real_path(*BSKY)), "--captured-at", "2025-03-01T12:00:00Z", db=db_path)
    assert proc.returncode == 0, proc.stderr
    from envoywatch.store import Store

    s = Store(db_path)
    try:
        assert s.count("posts") == 28 and s.count("accounts") == 46
        assert s.scalar("SELECT count(*) FROM rejects") == 0
    finally:
        s.close()
