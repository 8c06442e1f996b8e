"""Telegram live collection through the public preview (t.me/s/<channel>), full path: HTTP client -> raw
archive -> normalize -> store, against a real HTTP server on 127.0.0.1 replaying preview pages.

The pages under tests/data/telegram_preview are made by us (no real recording exists; see its README).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import run_cli, table_snapshot
from tests.support.loopback import FakeTime, Loopback, Reply, need_httpx
from tests.test_collect_bluesky import register

DATA = Path(__file__).parent / "data" / "telegram_preview"
CHANNEL, CHANNEL_ID = "mfa_example", "1987654321"
POSTS = {3, 4, 5, 6, 8, 9, 10, 11, 12}   # 1, 2 are service messages, 7 was deleted


@pytest.fixture(autouse=True)
def _httpx():
    need_httpx()


def html(name: str) -> bytes:
    return (DATA / name).read_bytes()


def page(name: str, **kw) -> Reply:
    return Reply(200, html(name), headers={"Content-Type": "text/html; charset=utf-8"}, **kw)


class PreviewServer:
    """t.me's preview: /s/<channel>[?before=N]; names without a preview redirect to the contact card."""

    def __init__(self, srv: Loopback, top: str = "top.html"):
        self.srv, self.top = srv, top
        self.faults: list[Reply] = []
        self.ignore_before = False
        srv.route(f"/s/{CHANNEL}", self.channel)
        srv.route("/s/no_such_channel_x", lambda req: Reply(302, b"", headers={"Location": "/no_such_channel_x"}))
        srv.route("/no_such_channel_x", lambda req: page("contact_card.html"))
        srv.route("/s/blocked_example", lambda req: page("blocked.html"))

    def channel(self, req):
        if self.faults:
            return self.faults.pop(0)
        before = None if self.ignore_before else req.query.get("before")
        return page({None: self.top, "8": "before_8.html", "2": "before_2.html"}[before])

    def befores(self) -> list:
        return [r.query.get("before") for r in self.srv.hits(f"/s/{CHANNEL}")]


def options(srv, ft=None, **kw):
    from envoywatch.collect import CollectOptions
    from envoywatch.collect.http import RetryPolicy

    ft = ft or FakeTime()
    return CollectOptions(base_urls={"telegram": srv.url},
                          policy=RetryPolicy(retries=kw.pop("retries", 3), backoff_base=0.001, timeout=5.0),
                          sleep=ft.sleep, clock=ft.time, **kw)


def run(store, srv, **kw):
    from envoywatch.collect import collect, select_accounts

    return collect(store, select_accounts(store, "telegram"), options=options(srv, **kw))


def primary(store) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT post_id FROM posts WHERE observed = 'primary'").fetchall()]


def test_telegram_preview_full_path_with_before_paging(store):
    from envoywatch.collect.archive import archive_root, iter_pages

    register(store, "telegram", CHANNEL)
    register(store, "telegram", "no_such_channel_x")
    register(store, "telegram", "blocked_example")
    with Loopback() as srv:
        tg = PreviewServer(srv)
        summary = run(store, srv)
        # the newest page is fetched once (lookup), then ?before= pages from the "load more" element
        assert tg.befores() == [None, "8", "2"]
    ok = next(a for a in summary.accounts if a.handle == CHANNEL)
    assert ok.outcome == "ok" and ok.new_posts == len(POSTS) and not ok.rejects, summary.lines()
    got = primary(store)
    assert sorted(got) == sorted(f"{CHANNEL_ID}/{i}" for i in POSTS) and len(got) == len(set(got))
    # ids: the channel's numeric id, as the Telegram Desktop / Telethon importers write them
    assert store.scalar("SELECT account_id FROM registry_accounts WHERE handle = ?", [CHANNEL]) == CHANNEL_ID
    assert store.con.execute("SELECT handle, display_name FROM accounts").fetchall() == [(CHANNEL, "MFA of Exampleland")]
    assert store.scalar("SELECT followers FROM account_snapshots") == 48300
    assert store.scalar("SELECT views FROM post_metrics WHERE post_id = ?", [f"{CHANNEL_ID}/11"]) == 2_070_000
    kinds = dict(store.con.execute("SELECT post_id, kind FROM posts").fetchall())
    assert kinds[f"{CHANNEL_ID}/10"] == "reply" and kinds[f"{CHANNEL_ID}/11"] == "repost"
    assert store.scalar("SELECT ref_post_id FROM posts WHERE post_id = ?", [f"{CHANNEL_ID}/10"]) == f"{CHANNEL_ID}/9"
    tags = {r[0] for r in store.con.execute("SELECT tag_norm FROM post_hashtags").fetchall()}
    assert tags == {"diplomacy", "exampleland", "peace", "cooperation"}
    assert store.scalar("SELECT normalized_url FROM post_urls WHERE post_id = ?", [f"{CHANNEL_ID}/8"]) == \
        "https://statetv.example/news/interview-minister"
    assert store.scalar("SELECT handle FROM post_mentions") == "mfa_photos"
    assert {r[0] for r in store.con.execute("SELECT media_type FROM post_media").fetchall()} == {"photo", "video"}
    # message 5 carries only data-view: the same numeric id
    assert f"{CHANNEL_ID}/5" in got
    # hostile text is stored as characters; no markup of the page and no script element content
    text = store.scalar("SELECT text FROM posts WHERE post_id = ?", [f"{CHANNEL_ID}/12"])
    assert text == "Hostile text test: <script>alert('x')</script> <img src=x onerror=alert(1)> & \"quotes\""
    assert "pwned" not in text
    assert "<b>" not in store.scalar("SELECT text FROM posts WHERE post_id = ?", [f"{CHANNEL_ID}/4"])
    assert store.scalar("SELECT format FROM import_batches") == "telegram-live"
    # a name without a public preview: a failure that says why; a blocked channel: a finding
    nope = next(a for a in summary.accounts if a.handle == "no_such_channel_x")
    assert nope.outcome == "failed" and "no public preview" in nope.reason
    blocked = next(a for a in summary.accounts if a.handle == "blocked_example")
    assert blocked.outcome == "gone" and "suspended" in blocked.finding
    assert store.con.execute("SELECT handle, change FROM registry_history").fetchall() == [("blocked_example", "suspended")]
    # the archive keeps the HTML exactly as received
    files = list((archive_root(store.path) / "telegram").rglob(f"*{CHANNEL}.jsonl.gz"))
    pages = [p for f in files for p in iter_pages(f)]
    assert [p["kind"] for p in pages] == ["profile", "timeline", "timeline", "timeline"]
    assert pages[0]["body"] == html("top.html").decode() and pages[2]["body"] == html("before_8.html").decode()
    assert pages[2]["url"].endswith(f"/s/{CHANNEL}?before=8")


def test_telegram_archived_pages_renormalize_to_the_same_rows(store, tmp_path):
    from envoywatch.collect.archive import archive_root, iter_pages
    from envoywatch.collect.pages import normalize_page
    from envoywatch.importers.base import Bundle

    register(store, "telegram", CHANNEL)
    with Loopback() as srv:
        PreviewServer(srv)
        run(store, srv)
    ids = set()
    for f in (archive_root(store.path) / "telegram").rglob("*.gz"):
        for p in iter_pages(f):
            for item in normalize_page("telegram", p["kind"], p["body"], datetime(2026, 1, 1)):
                assert isinstance(item, Bundle)
                ids |= {r["post_id"] for r in item.rows.get("posts", [])}
    assert ids == set(primary(store))


def test_telegram_incremental_second_run_and_a_new_message(store):
    register(store, "telegram", CHANNEL)
    with Loopback() as srv:
        PreviewServer(srv)
        run(store, srv)
    before = table_snapshot(store)
    with Loopback() as srv:
        tg = PreviewServer(srv)
        s2 = run(store, srv)
        assert tg.befores() == [None]  # the newest page reaches the last run's newest message: no paging
    assert s2.new_posts == 0 and not s2.failed
    after = table_snapshot(store)
    for t in ("posts", "post_urls", "post_hashtags", "accounts"):
        assert after[t] == before[t]
    with Loopback() as srv:
        tg = PreviewServer(srv, top="top_new.html")
        s3 = run(store, srv)
        assert tg.befores() == [None]
    assert s3.new_posts == 1 and store.scalar("SELECT text FROM posts WHERE post_id = ?", [f"{CHANNEL_ID}/13"]) \
        .startswith("New: the Minister")
    assert sorted(r[0] for r in store.con.execute("SELECT followers FROM account_snapshots").fetchall()) == \
        [48300, 48300, 48400]


def test_telegram_export_and_live_collection_do_not_duplicate(store, tmp_path):
    """A Telethon dump of the same channel (marked id -100<id>) and the preview land on the same post ids."""
    from envoywatch.importers.run import import_paths

    dump = tmp_path / "mfa_example.json"
    dump.write_text(json.dumps([
        {"message_id": i, "sender_id": -1001987654321, "channel_id": -1001987654321, "channel": "MFA of Exampleland",
         "date": f"2025-11-17T{8 + i:02d}:00:00+00:00", "text": f"message {i}", "views": 100 + i}
        for i in (9, 10, 11)]))
    res = import_paths(store, [dump])
    assert res[0].format == "telegram-telethon-json" and store.count("posts") == 3
    register(store, "telegram", CHANNEL)
    with Loopback() as srv:
        PreviewServer(srv)
        summary = run(store, srv)
    assert summary.accounts[0].new_posts == len(POSTS) - 3
    assert store.count("posts") == len(POSTS)
    assert store.count("accounts") == 1


def test_telegram_faults_429_500_truncated_and_cut_html(store):
    register(store, "telegram", CHANNEL)
    ft = FakeTime()
    with Loopback() as srv:
        tg = PreviewServer(srv)
        body = html("top.html")
        tg.faults = [Reply(429, b"Too Many Requests", headers={"Retry-After": "30", "Content-Type": "text/plain"}),
                     Reply(500, b"<html>oops</html>"),
                     Reply(200, body, cut=len(body) // 2, headers={"Content-Type": "text/html"}),   # connection cut
                     Reply(200, body[:len(body) // 2], headers={"Content-Type": "text/html"})]       # HTML cut short
        summary = run(store, srv, ft=ft)
    assert not summary.failed, summary.lines()
    assert summary.rate_waits >= 1 and any(s >= 30 for s in ft.slept)
    assert summary.retries == 3
    got = primary(store)
    assert sorted(got) == sorted(f"{CHANNEL_ID}/{i}" for i in POSTS) and len(got) == len(set(got))


def test_telegram_retries_are_bounded_and_the_run_finishes(store):
    register(store, "telegram", CHANNEL)
    register(store, "telegram", "blocked_example")
    with Loopback() as srv:
        tg = PreviewServer(srv)
        tg.faults = [Reply(502, b"bad gateway")] * 10
        summary = run(store, srv, retries=2)
    failed = summary.failed
    assert [a.handle for a in failed] == [CHANNEL] and "gave up after 3 tries (HTTP 502)" in failed[0].reason
    assert any(a.outcome == "gone" for a in summary.accounts)


def test_telegram_repeated_page_stops_and_resumes_there(store):
    register(store, "telegram", CHANNEL)
    with Loopback() as srv:
        tg = PreviewServer(srv)
        tg.ignore_before = True   # the server answers the newest page whatever `before` says
        summary = run(store, srv)
    res = summary.accounts[0]
    assert res.partial and "repeated a page cursor" in res.reason
    with Loopback() as srv:
        tg = PreviewServer(srv)
        s2 = run(store, srv)
        assert tg.befores()[:2] == [None, "8"]   # resumes at the cursor it stopped at: no gap
    assert not s2.failed
    assert sorted(primary(store)) == sorted(f"{CHANNEL_ID}/{i}" for i in POSTS)


def test_telegram_max_pages_resumes_without_gap(store):
    register(store, "telegram", CHANNEL)
    with Loopback() as srv:
        PreviewServer(srv)
        s1 = run(store, srv, max_pages=1)
        assert s1.accounts[0].partial
        s2 = run(store, srv, max_pages=1)
        s3 = run(store, srv, max_pages=1)
    assert not (s2.failed or s3.failed)
    assert sorted(primary(store)) == sorted(f"{CHANNEL_ID}/{i}" for i in POSTS)


def test_cli_collect_telegram(tmp_path):
    from envoywatch.store import Store

    db = tmp_path / "cli.duckdb"
    with Store(db) as s:
        register(s, "telegram", CHANNEL)
    with Loopback() as srv:
        PreviewServer(srv)
        r = run_cli("collect", "--platform", "telegram", "--base-url", srv.url, "--backoff-base", "0.001",
                    db=db, env={"ENVOYWATCH_TELEGRAM_MIN_INTERVAL": "0"})
    assert r.returncode == 0, r.stderr
    assert f"{len(POSTS)} new post(s)" in r.stdout
