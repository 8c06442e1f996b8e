"""Mastodon archive formats on the real Mastodon.py cassette bodies (test-instance content, see the shared
SOURCES.md): detection, zero rejects, counts equal to an independent reading (plain json), non-post bodies
skipped with a reason, idempotent re-import, the CLI; plus hand-written statuses for what the recordings
lack (reblogs, replies, quotes, links, media) and for hostile HTML."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from envoywatch.errors import ImportFormatError
from envoywatch.importers.run import detect_format, import_paths
from tests.conftest import real_path, run_cli, table_snapshot
from tests.support.cassettes import write_payloads

CAPTURED = datetime(2026, 8, 1, 14, 0, 0)
DATA_TABLES = ("accounts", "account_snapshots", "posts", "post_metrics", "post_urls", "post_hashtags",
               "post_mentions", "post_media", "account_follows")


def _bodies(tmp_path):
    files = []
    for c in sorted(real_path("fixtures", "mastodon_py_vcr_cassettes").glob("*.yaml")):
        files += write_payloads(c, tmp_path / "bodies")
    return files


def _is_empty_list(f):
    return json.loads(f.read_text()) == []


def _import_all(store, files, **kw):
    results = []
    for f in files:
        # `[]` names no platform: it cannot be detected, so it is imported with the format named
        fmt = "mastodon-statuses" if _is_empty_list(f) else None
        results += import_paths(store, [f], fmt=fmt, captured_at=CAPTURED, **kw)
    return results


# --- independent reading -----------------------------------------------------------------------------

def expected(files):
    posts, accounts = set(), set()

    def status(s):
        posts.add(s["uri"])
        accounts.add(s["account"]["url"])
        if s.get("reblog"):
            status(s["reblog"])
        if isinstance(s.get("quote"), dict) and isinstance(s["quote"].get("quoted_status"), dict):
            status(s["quote"]["quoted_status"])

    for f in files:
        doc = json.loads(f.read_text())
        if isinstance(doc, dict) and "statuses" in doc and "accounts" in doc:
            for a in doc["accounts"]:
                accounts.add(a["url"])
            for s in doc["statuses"]:
                status(s)
            continue
        for o in (doc if isinstance(doc, list) else [doc]):
            if "account" in o and "uri" in o:
                status(o)
            elif "acct" in o:
                accounts.add(o["url"])
    return posts, accounts


def test_bodies_import_with_zero_rejects_and_expected_counts(store, tmp_path):
    files = _bodies(tmp_path)
    assert len(files) == 34
    results = _import_all(store, files)
    assert sum(r.rejects for r in results) == 0
    # non-post bodies (instance descriptions, relationships, empty lists, an empty search) are skipped with
    # the reason; identical bodies (same bytes) are "already_imported" after the first
    for f, r in zip(files, results):
        doc = json.loads(f.read_text())
        non_post = doc == [] or (isinstance(doc, dict) and (
            "configuration" in doc or "showing_reblogs" in doc or doc.get("statuses") == doc.get("accounts") == []))
        assert r.status in (("skipped", "already_imported") if non_post else ("done", "already_imported")), (f.name, r.status)
    notes = {r.note for r in results if r.status == "skipped"}
    assert len(notes) == 4 and all(notes), notes  # instance, relationship, empty list, empty search
    assert any("instance" in n for n in notes) and any("relationship" in n for n in notes)
    posts, accounts = expected(files)
    got_posts = dict(store.con.execute("SELECT post_id, kind FROM posts WHERE platform = 'mastodon'").fetchall())
    assert set(got_posts) == posts and len(posts) == 11
    assert set(got_posts.values()) == {"post"}  # the recordings hold no reblogs, replies or quotes
    assert {r[0] for r in store.con.execute("SELECT account_id FROM accounts").fetchall()} == accounts
    assert len(accounts) == 4
    # the hashtag timeline's toot and the mention toot, checked against their bodies
    tags = store.con.execute("SELECT tag FROM post_hashtags").fetchall()
    raw_tags = {t["name"] for f in files for o in ([json.loads(f.read_text())] if f.name.startswith("test_hashtag_tl") else [])
                for s in (o if isinstance(o, list) else [o]) if isinstance(s, dict) for t in s.get("tags", [])}
    assert {t[0] for t in tags} == raw_tags == {"hoot"}
    assert store.con.execute("SELECT handle, account_id FROM post_mentions").fetchall() == [
        ("mastodonpy_test@localhost:3000", "http://localhost:3000/@mastodonpy_test")]
    text = store.scalar("SELECT text FROM posts WHERE text LIKE '%jeep%'")
    assert text == "@mastodonpy_test beep beep I'm a jeep"


def test_empty_list_is_not_detected(tmp_path):
    f = tmp_path / "empty.json"
    f.write_text("[]")
    with pytest.raises(ImportFormatError):
        detect_format(f)


def test_reimport_changes_nothing(store, tmp_path):
    files = _bodies(tmp_path)
    _import_all(store, files)
    before = table_snapshot(store)
    _import_all(store, files, force=True)
    after = table_snapshot(store)
    for t in DATA_TABLES:
        assert after[t] == before[t], t


def _account(name, host="social.example"):
    return {"id": {"alice": "1", "bob": "2"}.get(name, "9"), "username": name, "acct": name if host == "social.example" else f"{name}@{host}",
            "display_name": name.title(), "locked": False, "bot": False, "created_at": "2023-01-01T00:00:00.000Z",
            "note": "<p>bio</p>", "url": f"https://{host}/@{name}", "uri": f"https://{host}/users/{name}",
            "avatar": f"https://{host}/a.png", "followers_count": 10, "following_count": 2, "statuses_count": 5}


def _status(sid, acc, content, **kw):
    host = acc["url"].split("/")[2]
    s = {"id": sid, "created_at": "2025-05-01T10:00:00.000Z", "in_reply_to_id": None, "in_reply_to_account_id": None,
         "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "en",
         "uri": f"https://{host}/users/{acc['username']}/statuses/{sid}", "url": f"https://{host}/@{acc['username']}/{sid}",
         "replies_count": 1, "reblogs_count": 2, "favourites_count": 3, "quotes_count": 0, "content": content,
         "reblog": None, "application": {"name": "Web", "website": None}, "account": acc, "media_attachments": [],
         "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None}
    s.update(kw)
    return s


HOSTILE = ('<p>Read <a href="https://news.example.org/a?utm_source=mastodon" rel="nofollow">this</a>'
           '<script>alert("x")</script><br>second line <img src=x onerror="alert(1)">'
           '<a href="https://social.example/tags/Peace" class="mention hashtag" rel="tag">#<span>Peace</span></a> '
           '<span class="h-card"><a href="https://other.example/@bob" class="u-url mention">@<span>bob</span></a></span>'
           '</p><p>&lt;b&gt;not bold&lt;/b&gt; <a href="javascript:alert(2)">js</a></p>')


def test_kinds_links_and_hostile_html(store, tmp_path):
    alice, bob = _account("alice"), _account("bob", "other.example")
    original = _status("100", bob, "<p>original</p>")
    reblog = _status("101", alice, "", reblog=original, uri="https://social.example/users/alice/statuses/101/activity")
    reply = _status("102", alice, HOSTILE, in_reply_to_id="999", in_reply_to_account_id=bob["id"],
                    mentions=[{"id": bob["id"], "username": "bob", "acct": "bob@other.example", "url": bob["url"]}],
                    tags=[{"name": "Peace", "url": "https://social.example/tags/Peace"}],
                    card={"url": "https://card.example.net/story", "title": "t"},
                    media_attachments=[{"id": "m1", "type": "image", "url": "https://social.example/m1.png",
                                        "description": "alt"}])
    quote = _status("103", alice, "<p>look</p>", quote={"state": "accepted", "quoted_status": original})
    f = tmp_path / "statuses.json"
    f.write_text(json.dumps([reblog, reply, quote]))
    assert detect_format(f).name == "mastodon-statuses"
    res = import_paths(store, [f], captured_at=CAPTURED)
    assert res[0].rejects == 0
    kinds = dict(store.con.execute("SELECT post_id, kind FROM posts").fetchall())
    assert kinds == {original["uri"]: "post", reblog["uri"]: "repost", reply["uri"]: "reply", quote["uri"]: "quote"}
    assert store.con.execute("SELECT ref_post_id, ref_account_id FROM posts WHERE post_id = ?", [reblog["uri"]]).fetchone() == (
        original["uri"], bob["url"])
    assert store.scalar("SELECT observed FROM posts WHERE post_id = ?", [original["uri"]]) == "referenced"
    assert store.scalar("SELECT reply_to_account_id FROM posts WHERE post_id = ?", [reply["uri"]]) == bob["url"]
    assert store.scalar("SELECT quoted_post_id FROM posts WHERE post_id = ?", [quote["uri"]]) == original["uri"]
    text = store.scalar("SELECT text FROM posts WHERE post_id = ?", [reply["uri"]])
    assert "<script" not in text and "onerror" not in text and "alert(" not in text and "<img" not in text
    assert text.startswith("Read this\nsecond line")
    assert "<b>not bold</b>" in text  # escaped text in the HTML stays text (escaped again where it is shown)
    urls = [r[0] for r in store.con.execute("SELECT url FROM post_urls WHERE post_id = ? ORDER BY position", [reply["uri"]]).fetchall()]
    assert urls == ["https://news.example.org/a?utm_source=mastodon", "https://card.example.net/story"]
    assert store.con.execute("SELECT handle, account_id FROM post_mentions").fetchall() == [("bob@other.example", bob["url"])]
    assert store.con.execute("SELECT media_type, alt_text FROM post_media").fetchall() == [("photo", "alt")]
    assert store.con.execute("SELECT likes, reposts, replies FROM post_metrics WHERE post_id = ?", [reply["uri"]]).fetchone() == (3, 2, 1)
    assert store.con.execute("SELECT handle FROM accounts ORDER BY 1").fetchall() == [("alice@social.example",), ("bob@other.example",)]


def test_cli_imports_a_timeline_body(tmp_path, db_path):
    files = [f for f in _bodies(tmp_path) if f.name == "test_public_tl-02.json"]
    proc = run_cli("import", str(files[0]), "--captured-at", "2026-08-01T14:00:00Z", db=db_path)
    assert proc.returncode == 0, proc.stderr
    from envoywatch.store import Store

    s = Store(db_path)
    try:
        assert s.count("posts") == 8 and s.count("accounts") == 2
    finally:
        s.close()
