"""YouTube Data API v3 live collection, full path: HTTP client -> raw archive -> normalize -> store, against a
real HTTP server on 127.0.0.1 replaying API responses (tests/data/youtube_api: made by us, documented shapes).

Also: pageToken paging, incremental runs, faults (429 with a reset, 500, truncated JSON), the API key kept
out of the store, the archive, logs and messages, and quota units counted and bounded.
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.loopback import FakeTime, Loopback, Reply, need_httpx
from tests.test_collect_bluesky import register

DATA = Path(__file__).parent / "data" / "youtube_api"
KEY = "AIzaSy-TEST-youtube-KEY-0042-secret"
HANDLE = "examplelandtv"
CID = "UCx7Qm2ExamplelandTVnews"
UPLOADS = "UUx7Qm2ExamplelandTVnews"
TOKEN = "EAAaBlBUOkNBTQ"


@pytest.fixture(autouse=True)
def _httpx(monkeypatch):
    need_httpx()
    monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
    monkeypatch.delenv("ENVOYWATCH_YOUTUBE_DAILY_QUOTA", raising=False)


def rec(name: str) -> dict:
    return json.loads((DATA / name).read_text())


class YouTubeServer:
    """channels / playlistItems / videos under /youtube/v3, answering the recordings; a wrong key gets Google's 400."""

    def __init__(self, srv: Loopback, next_day: bool = False):
        self.srv = srv
        self.next_day = next_day
        self.faults: list[Reply] = []
        self.videos = {}
        for f in ("videos_page1.json", "videos_page2.json", "videos_next_day_page1.json"):
            body = rec(f)
            self.videos[",".join(v["id"] for v in body["items"])] = body
        srv.route("/youtube/v3/channels", self.guard(self.channels))
        srv.route("/youtube/v3/playlistItems", self.guard(self.playlist))
        srv.route("/youtube/v3/videos", self.guard(self.video_list))

    @property
    def url(self) -> str:
        return self.srv.url + "/youtube/v3"

    def guard(self, fn):
        def handle(req):
            if self.faults:
                return self.faults.pop(0)
            if req.headers.get("x-goog-api-key") != KEY or "key" in req.query:
                return Reply.json(rec("error_keyInvalid.json"), 400)
            return fn(req)
        return handle

    def channels(self, req):
        if req.query.get("forHandle") == "@" + HANDLE or req.query.get("id") == CID:
            return Reply.json(rec("channels_forHandle_examplelandtv.json"))
        return Reply.json(rec("channels_not_found.json"))

    def playlist(self, req):
        assert req.query["playlistId"] == UPLOADS and req.query["part"] == "contentDetails"
        token = req.query.get("pageToken")
        if token is None:
            return Reply.json(rec("playlistItems_next_day_page1.json" if self.next_day else "playlistItems_page1.json"))
        assert token == TOKEN
        return Reply.json(rec("playlistItems_page2.json"))

    def video_list(self, req):
        assert set(req.query["part"].split(",")) == {"snippet", "statistics", "contentDetails"}
        return Reply.json(self.videos[req.query["id"]])

    def calls(self) -> list[str]:
        return [r.path.rsplit("/", 1)[-1] + (f"@{r.query['pageToken']}" if "pageToken" in r.query else "")
                for r in self.srv.requests]


def options(yt, ft=None, **kw):
    from envoywatch.collect import CollectOptions
    from envoywatch.collect.http import RetryPolicy

    ft = ft or FakeTime()
    return CollectOptions(base_urls={"youtube": yt.url}, page_size={"youtube": 3}, concurrency=kw.pop("concurrency", 1),
                          policy=RetryPolicy(retries=kw.pop("retries", 3), backoff_base=0.001, timeout=5.0),
                          sleep=ft.sleep, clock=ft.time, **kw)


def run(store, yt, **kw):
    from envoywatch.collect import collect, select_accounts

    return collect(store, select_accounts(store, "youtube"), options=options(yt, **kw))


def all_video_ids() -> set[str]:
    return {v["id"] for f in ("videos_page1.json", "videos_page2.json") for v in rec(f)["items"]}


def assert_no_key(store, summary, caplog=None):
    from envoywatch.collect.archive import archive_root

    store.con.execute("CHECKPOINT")
    assert KEY.encode() not in store.path.read_bytes()
    for f in archive_root(store.path).rglob("*.gz"):
        data = gzip.decompress(f.read_bytes())
        assert KEY.encode() not in data and b"key=" not in data
    assert KEY not in "\n".join(summary.lines())
    if caplog is not None:
        assert KEY not in caplog.text


def test_youtube_full_path_with_page_tokens(store, caplog):
    from envoywatch.collect.archive import archive_root, iter_pages

    caplog.set_level(logging.DEBUG)
    register(store, "youtube", HANDLE)
    register(store, "youtube", "no_such_handle")
    with Loopback() as srv:
        yt = YouTubeServer(srv)
        summary = run(store, yt)
        assert yt.calls() == ["channels", "playlistItems", "videos", f"playlistItems@{TOKEN}", "videos", "channels"]
        assert srv.requests[0].query["forHandle"] == "@" + HANDLE
        assert srv.requests[0].query["part"] == "snippet,contentDetails,statistics"
        assert srv.requests[1].query["maxResults"] == "3"
        assert all(r.headers["x-goog-api-key"] == KEY and "authorization" not in r.headers and "key" not in r.query
                   for r in srv.requests)
    ok = summary.accounts[0]
    assert ok.outcome == "ok" and ok.new_posts == 5 and not ok.rejects, summary.lines()
    got = [r[0] for r in store.con.execute("SELECT post_id FROM posts").fetchall()]
    assert sorted(got) == sorted(all_video_ids())
    assert store.scalar("SELECT account_id FROM registry_accounts WHERE handle = ?", [HANDLE]) == CID
    acc = store.con.execute("SELECT account_id, handle, display_name, location FROM accounts").fetchall()
    assert acc == [(CID, HANDLE, "Exampleland State TV", "XL")]
    assert store.con.execute("SELECT followers, posts_count FROM account_snapshots").fetchall() == [(1530000, 48213)]
    text = store.scalar("SELECT text FROM posts WHERE post_id = 'kXq1aZ0b9Tc'")
    assert text.startswith("Minister's address to the nation | LIVE\n\nWatch the full address")
    metrics = {r[0]: r[1:] for r in store.con.execute("SELECT post_id, views, likes, replies FROM post_metrics").fetchall()}
    assert metrics["kXq1aZ0b9Tc"] == (48211, 1904, 377)
    assert metrics["p0Vn3sZyQ4k"] == (90321, None, 1201)     # likes hidden
    assert metrics["Zr8eT1uYb6M"] == (3120, 88, None)         # comments off
    tags = {r[0] for r in store.con.execute("SELECT tag_norm FROM post_hashtags WHERE post_id = 'kXq1aZ0b9Tc'").fetchall()}
    assert tags == {"exampleland", "diplomacy"}
    urls = [r[0] for r in store.con.execute("SELECT normalized_url FROM post_urls WHERE post_id = 'Hc7mW2pLr0E'").fetchall()]
    assert urls == ["https://statetv.example/business/trade-deal"]
    gone = summary.accounts[1]
    assert gone.outcome == "gone" and "deleted" in gone.finding
    assert store.scalar("SELECT format FROM import_batches WHERE note LIKE '%examplelandtv%'") == "youtube-live"
    pages = [p for f in (archive_root(store.path) / "youtube").rglob(f"*{HANDLE}.jsonl.gz") for p in iter_pages(f)]
    assert [p["kind"] for p in pages] == ["profile", "timeline", "timeline"]
    assert json.loads(pages[1]["body"]) == rec("videos_page1.json")
    assert "key" not in pages[1]["params"] and "key=" not in pages[1]["url"]
    assert_no_key(store, summary, caplog)


def test_youtube_incremental_runs(store):
    register(store, "youtube", HANDLE)
    with Loopback() as srv:
        run(store, YouTubeServer(srv))
    with Loopback() as srv:
        yt = YouTubeServer(srv)
        s2 = run(store, yt)
        # the first playlist page reaches the last run's newest upload: no second page
        assert yt.calls() == ["channels", "playlistItems", "videos"]
    assert s2.new_posts == 0 and not s2.failed
    with Loopback() as srv:
        yt = YouTubeServer(srv, next_day=True)
        s3 = run(store, yt)
        assert yt.calls() == ["channels", "playlistItems", "videos"]
    assert s3.new_posts == 1
    assert store.scalar("SELECT count(*) FROM posts") == 6
    # every run takes a new snapshot of the counts
    assert store.scalar("SELECT count(*) FROM post_metrics WHERE post_id = 'kXq1aZ0b9Tc'") == 3
    assert store.count("account_snapshots") == 3


def test_youtube_faults_429_500_truncated(store, caplog):
    caplog.set_level(logging.DEBUG)
    register(store, "youtube", HANDLE)
    ft = FakeTime()
    with Loopback() as srv:
        yt = YouTubeServer(srv)
        whole = json.dumps(rec("channels_forHandle_examplelandtv.json")).encode()
        yt.faults = [Reply.json({"error": {"code": 429, "message": "Too many requests"}}, 429,
                                headers={"Retry-After": "20"}),
                     Reply.json({"error": {"code": 500, "message": "Backend Error"}}, 500),
                     Reply(200, whole, cut=len(whole) // 2),     # connection cut mid-body
                     Reply(200, whole[:len(whole) // 2])]        # JSON cut short (complete HTTP answer)
        summary = run(store, yt, ft=ft)
    assert not summary.failed, summary.lines()
    assert summary.rate_waits == 1 and any(s >= 20 for s in ft.slept) and summary.retries == 3
    assert {r[0] for r in store.con.execute("SELECT post_id FROM posts").fetchall()} == all_video_ids()
    assert_no_key(store, summary, caplog)


def test_youtube_quota_counted_by_the_connector(store):
    from envoywatch.collect.connectors import ConnectorPool
    from envoywatch.collect.http import RetryPolicy
    from envoywatch.collect.ratelimit import Limiters

    with Loopback() as srv:
        yt = YouTubeServer(srv)
        pool = ConnectorPool(Limiters(), RetryPolicy(backoff_base=0.001), base_urls={"youtube": yt.url},
                             credentials={"youtube": KEY}, page_size={"youtube": 3})
        conn = pool.for_account("youtube", HANDLE)
        profile = conn.lookup(HANDLE)
        uploads, cid, handle = conn.account_of(profile)
        assert (uploads, cid, handle) == (UPLOADS, CID, "@" + HANDLE)
        pages = list(conn.timeline(uploads, HANDLE))
        assert [p.resume for p in pages] == [TOKEN, None]
        assert conn.quota_used == 5 == len(srv.requests)
        assert pool.stats()["quota"] == {"youtube": 5}
        pool.close()


def test_youtube_daily_quota_budget_stops_the_platform(store, monkeypatch):
    monkeypatch.setenv("ENVOYWATCH_YOUTUBE_DAILY_QUOTA", "3")
    register(store, "youtube", HANDLE)
    register(store, "youtube", "no_such_handle")
    with Loopback() as srv:
        yt = YouTubeServer(srv)
        summary = run(store, yt)
        assert len(srv.requests) == 3       # never past the budget
    first, second = summary.accounts
    assert first.outcome == "failed" and first.partial
    assert "daily quota budget reached (3 of 3 units used by this run)" in first.reason
    assert second.outcome == "skipped" and "quota" in second.reason
    assert store.count("posts") == 3        # what was read before the budget ran out is kept
    assert any("daily quota budget reached" in line for line in summary.lines())


def test_youtube_quota_exceeded_by_google_is_one_clear_message(store):
    register(store, "youtube", HANDLE)
    register(store, "youtube", "no_such_handle")
    with Loopback() as srv:
        yt = YouTubeServer(srv)
        yt.faults = [Reply.json(rec("error_quotaExceeded.json"), 403)]
        summary = run(store, yt)
        assert len(srv.requests) == 1
    first, second = summary.accounts
    assert first.outcome == "failed" and "403 Forbidden" in first.reason and "quotaExceeded" in first.reason
    assert "midnight Pacific time" in first.reason
    assert second.outcome == "skipped"


def test_youtube_wrong_or_missing_key(store, monkeypatch):
    register(store, "youtube", HANDLE)
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSy-WRONG-key-value-123")
    with Loopback() as srv:
        summary = run(store, YouTubeServer(srv))
    reason = summary.failed[0].reason
    assert "API key not valid" in reason and "YOUTUBE_API_KEY" in reason and "AIzaSy-WRONG" not in reason
    monkeypatch.delenv("YOUTUBE_API_KEY")
    with Loopback() as srv:
        summary = run(store, YouTubeServer(srv))
        assert not srv.requests
    assert "YOUTUBE_API_KEY" in summary.failed[0].reason and "is not set" in summary.failed[0].reason


def test_youtube_lookup_by_registry_channel_id(store):
    register(store, "youtube", HANDLE, account_id=CID)
    with Loopback() as srv:
        yt = YouTubeServer(srv)
        summary = run(store, yt)
        assert srv.requests[0].query.get("id") == CID and "forHandle" not in srv.requests[0].query
    assert summary.accounts[0].outcome == "ok" and not summary.findings  # same handle: no rename


def test_cli_collect_youtube(tmp_path):
    from envoywatch.store import Store

    db = tmp_path / "cli.duckdb"
    with Store(db) as s:
        register(s, "youtube", HANDLE)
    with Loopback() as srv:
        yt = YouTubeServer(srv)
        r = run_cli("collect", "--platform", "youtube", "--base-url", yt.url, "--backoff-base", "0.001", db=db,
                    env={"YOUTUBE_API_KEY": KEY})
    assert r.returncode == 0, r.stderr
    assert "5 new post(s)" in r.stdout and KEY not in r.stdout + r.stderr
    assert "youtube: 5 API quota unit(s) used by this run" in r.stdout
