"""Bluesky live collection, full path: HTTP client -> raw archive -> normalize -> store, against a real
HTTP server on 127.0.0.1 that replays the real recorded AppView responses (../shared/data/real)."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest

from tests.conftest import real_path, run_cli
from tests.support.loopback import FakeTime, Loopback, Reply, need_httpx


@pytest.fixture(autouse=True)
def _httpx():
    need_httpx()


def register(store, platform, handle, account_id=None, state="CN", category="mission", status=None):
    store.write("registry_actors", [{"actor_id": f"test-{handle}", "name": f"Test {handle}", "actor_type": "organisation",
                                     "state": state, "category": category, "source": "test"}])
    store.write("registry_accounts", [{"platform": platform, "handle": handle, "actor_id": f"test-{handle}",
                                       "account_id": account_id, "status": status, "source": "test"}])


def bluesky_replay(srv: Loopback):
    """getProfile -> the recorded profile; getAuthorFeed -> the recorded page, then (its cursor) the end."""
    profile = real_path("fixtures", "bluesky_appview", "profile.json").read_bytes()
    feed = real_path("fixtures", "bluesky_appview", "feeds", "author_feed.json").read_bytes()
    prof = json.loads(profile)
    known = {prof["did"], prof["handle"]}
    # the AppView's answer for an unknown actor (its documented error shape)
    unknown = Reply.json({"error": "InvalidRequest", "message": "Profile not found"}, 400)
    srv.route("/xrpc/app.bsky.actor.getProfile",
              lambda req: Reply(200, profile) if req.query.get("actor") in known else unknown)
    # the end of a feed: the AppView answers an empty feed without a cursor
    srv.route("/xrpc/app.bsky.feed.getAuthorFeed",
              lambda req: unknown if req.query.get("actor") not in known else
              Reply(200, feed) if "cursor" not in req.query else Reply.json({"feed": []}))
    return prof, json.loads(feed), feed


def options(srv, **kw):
    from envoywatch.collect import CollectOptions
    from envoywatch.collect.http import RetryPolicy

    ft = FakeTime()
    return CollectOptions(base_urls={"bluesky": srv.url, "x": srv.url, "mastodon": srv.url},
                          policy=RetryPolicy(retries=kw.pop("retries", 3), backoff_base=0.001,
                                             timeout=kw.pop("timeout", 5.0)),
                          sleep=ft.sleep, clock=ft.time, **kw)


def test_bluesky_full_path_replays_real_responses(store, tmp_path):
    from envoywatch.collect import collect, select_accounts
    from envoywatch.collect.archive import archive_root, iter_pages

    with Loopback() as srv:
        prof, feed, feed_bytes = bluesky_replay(srv)
        register(store, "bluesky", "dril.bsky.social")
        targets = select_accounts(store, "bluesky", "CN", "mission")
        assert [t.handle for t in targets] == ["dril.bsky.social"]
        summary = collect(store, targets, options=options(srv))

    assert not summary.failed, summary.lines()
    did = prof["did"]
    expected = {it["post"]["uri"] for it in feed["feed"] if not it.get("reason")}
    got = {r[0] for r in store.con.execute(
        "SELECT post_id FROM posts WHERE account_id = ? AND observed = 'primary'", [did]).fetchall()}
    assert got == expected
    assert summary.new_posts == store.count("posts")
    snap = store.con.execute("SELECT followers, following, posts_count FROM account_snapshots WHERE account_id = ?",
                             [did]).fetchall()
    assert (prof["followersCount"], prof["followsCount"], prof["postsCount"]) in snap
    # the registry learns the DID
    assert store.scalar("SELECT account_id FROM registry_accounts WHERE handle = 'dril.bsky.social'") == did
    # the cursor: the newest item's time, nothing pending
    cur = json.loads(store.scalar("SELECT cursor FROM collection_cursors WHERE platform = 'bluesky' AND account_id = ?",
                                  [did]))
    assert cur["newest"] == feed["feed"][0]["post"]["indexedAt"] and cur["pending"] is None
    # provenance: one live batch, the raw pages archived as received, with where and when
    batch = store.con.execute("SELECT format, source_path, status, posts FROM import_batches").fetchall()
    assert len(batch) == 1 and batch[0][0] == "bluesky-live" and batch[0][2] == "done"
    files = list(archive_root(store.path).rglob("*.jsonl.gz"))
    assert [str(f.resolve()) for f in files] == [batch[0][1]]
    assert files[0].relative_to(archive_root(store.path)).parts[:2] == ("bluesky", date.today().isoformat())
    pages = list(iter_pages(files[0]))
    assert [p["kind"] for p in pages] == ["profile", "timeline", "timeline"]
    assert pages[1]["body"].encode() == feed_bytes                      # byte-for-byte as received
    assert pages[1]["url"].startswith(srv.url + "/xrpc/app.bsky.feed.getAuthorFeed?actor=")
    assert pages[2]["params"]["cursor"] == feed["cursor"]
    assert all(p["fetched_at"].endswith("Z") for p in pages)
    gzip.decompress(files[0].read_bytes())  # a plain gzip file for any tool


def test_bluesky_second_run_is_incremental_and_adds_nothing(store):
    from envoywatch.collect import collect, select_accounts
    from tests.conftest import table_snapshot

    with Loopback() as srv:
        bluesky_replay(srv)
        register(store, "bluesky", "dril.bsky.social")
        targets = select_accounts(store, "bluesky")
        collect(store, targets, options=options(srv))
        before = {t: rows for t, rows in table_snapshot(store).items()
                  if t in ("posts", "post_urls", "post_hashtags", "post_mentions", "post_media")}
        feed_hits = len(srv.hits("/xrpc/app.bsky.feed.getAuthorFeed"))
        summary = collect(store, targets, options=options(srv))
        # the floor is reached on the first page: no second feed request
        assert len(srv.hits("/xrpc/app.bsky.feed.getAuthorFeed")) == feed_hits + 1
    assert summary.new_posts == 0 and not summary.failed
    after = {t: rows for t, rows in table_snapshot(store).items() if t in before}
    assert after == before
    assert store.count("account_snapshots") >= 1


def test_cli_collect_bluesky_selection(tmp_path):
    from envoywatch.store import Store

    db = tmp_path / "cli.duckdb"
    with Store(db) as s:
        register(s, "bluesky", "dril.bsky.social")
        register(s, "bluesky", "other.example", state="RU")
    with Loopback() as srv:
        bluesky_replay(srv)
        r = run_cli("collect", "--platform", "bluesky", "--state", "CN", "--category", "mission",
                    "--base-url", srv.url, "--backoff-base", "0.001", db=db)
        assert r.returncode == 0, r.stderr
        assert "collected 1 account(s): 1 ok" in r.stdout
        # only the CN account was asked for
        assert {q.query.get("actor") for q in srv.hits("/xrpc/app.bsky.actor.getProfile")} == {"dril.bsky.social"}
        r2 = run_cli("watch", "--platform", "bluesky", "--every", "0s", "--iterations", "2",
                     "--base-url", srv.url, db=db)
        assert r2.returncode == 0, r2.stderr
        assert r2.stdout.count("collected 2 account(s)") == 2
        assert "0 new post(s)" in r2.stdout
