"""Faults on a real HTTP server on 127.0.0.1: 429 with reset, 500, slow answers, connection resets,
truncated JSON, a cursor that repeats, an account that disappears mid-run, an interrupted run.

The server speaks the Bluesky AppView API and pages the real recorded author feed (5 items) two items
a page, with a time cursor like the AppView's. Waits run on a fake clock (no real sleeping) except the
slow-answer case, which uses a short real client timeout. Each test proves: no duplicate, no gap,
bounded retries, the run finishes, and the summary names what failed.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.conftest import real_path
from tests.support.loopback import FakeTime, Loopback, Reply, need_httpx
from tests.test_collect_bluesky import register

HANDLE = "dril.bsky.social"


@pytest.fixture(autouse=True)
def _httpx():
    need_httpx()


class FeedServer:
    """getProfile + getAuthorFeed over the recorded items, with a queue of faults for the feed."""

    def __init__(self, srv: Loopback, page_size: int = 2, hide_newest: int = 0):
        from envoywatch.platforms.bluesky.client import item_time

        self.srv = srv
        self.profile = json.loads(real_path("fixtures", "bluesky_appview", "profile.json").read_text())
        self.items = json.loads(real_path("fixtures", "bluesky_appview", "feeds", "author_feed.json").read_text())["feed"]
        self.item_time = item_time
        self.page_size = page_size
        self.hide_newest = hide_newest      # items not posted yet
        self.faults: list[Reply] = []        # served (first in, first out) before normal answers
        self.repeat_cursor = False
        self.gone_after: int | None = None   # feed requests answered before the account is taken down
        self.feed_requests = 0
        srv.route("/xrpc/app.bsky.actor.getProfile", lambda req: Reply.json(self.profile))
        srv.route("/xrpc/app.bsky.feed.getAuthorFeed", self.feed)

    @property
    def expected(self) -> set[str]:
        return {it["post"]["uri"] for it in self.items}

    def feed(self, req):
        self.feed_requests += 1
        if self.faults:
            return self.faults.pop(0)
        if self.gone_after is not None and self.feed_requests > self.gone_after:
            return Reply.json({"error": "AccountTakedown", "message": "Account has been suspended"}, 400)
        cursor = req.query.get("cursor")
        items = self.items[self.hide_newest:]
        older = [it for it in items if cursor is None or self.item_time(it) < cursor]
        page = older[:self.page_size]
        body = {"feed": page}
        if len(older) > len(page):
            body["cursor"] = cursor if (self.repeat_cursor and cursor) else self.item_time(page[-1])
        return Reply.json(body)


def run(store, srv, ft=None, **kw):
    from envoywatch.collect import CollectOptions, collect, select_accounts
    from envoywatch.collect.http import RetryPolicy

    ft = ft or FakeTime()
    policy = RetryPolicy(retries=kw.pop("retries", 3), backoff_base=0.01, timeout=kw.pop("timeout", 5.0))
    opts = CollectOptions(base_urls={"bluesky": srv.url}, policy=policy, sleep=ft.sleep, clock=ft.time, **kw)
    return collect(store, select_accounts(store, "bluesky"), options=opts)


def primary_posts(store) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT post_id FROM posts WHERE observed = 'primary'").fetchall()]


def assert_complete(store, fs: FeedServer):
    posts = primary_posts(store)
    assert len(posts) == len(set(posts))            # no duplicate
    assert set(posts) == fs.expected                # no gap


def test_429_with_reset_header_waits_and_resumes(store):
    import time

    register(store, "bluesky", HANDLE)
    ft = FakeTime()
    with Loopback() as srv:
        fs = FeedServer(srv)
        reset = int(time.time()) + 30
        fs.faults = [Reply.json({"error": "RateLimitExceeded"}, 429,
                                headers={"ratelimit-remaining": "0", "ratelimit-reset": str(reset)})]
        summary = run(store, srv, ft)
    assert not summary.failed, summary.lines()
    assert summary.rate_waits >= 1 and 29 <= max(ft.slept) <= 32   # waited until the reset, not a guess
    assert_complete(store, fs)


def test_429_beyond_the_longest_wait_fails_the_account_and_the_run_finishes(store):
    import time

    register(store, "bluesky", HANDLE)
    with Loopback() as srv:
        fs = FeedServer(srv)
        fs.faults = [Reply.json({"error": "RateLimitExceeded"}, 429,
                                headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time()) + 3600)})]
        summary = run(store, srv, max_rate_wait=60)
        assert "rate limited for another" in summary.failed[0].reason
        assert any(line.startswith(f"failed: bluesky {HANDLE}: ") and "rate limited" in line for line in summary.lines())
        s2 = run(store, srv)   # later: the account completes
    assert not s2.failed
    assert_complete(store, fs)


def test_5xx_retries_are_bounded_then_the_account_fails_and_resumes_next_run(store):
    register(store, "bluesky", HANDLE)
    with Loopback() as srv:
        fs = FeedServer(srv)
        # the first page lands, then the second page answers 500 to every try
        fs.faults = []
        orig = fs.feed

        def failing(req):
            if req.query.get("cursor"):
                fs.feed_requests += 1
                return Reply.json({"error": "InternalServerError"}, 500)
            return orig(req)
        srv.route("/xrpc/app.bsky.feed.getAuthorFeed", failing)
        ft = FakeTime()
        summary = run(store, srv, ft, retries=3)
        assert [s for s in ft.slept if s in (0.01, 0.02, 0.04)] == [0.01, 0.02, 0.04]   # exponential backoff
        tries = [r for r in srv.hits("/xrpc/app.bsky.feed.getAuthorFeed") if r.query.get("cursor")]
        assert len(tries) == 4                                   # 1 try + 3 retries, no more
        assert "gave up after 4 tries (HTTP 500)" in summary.failed[0].reason
        assert summary.retries == 3
        assert len(primary_posts(store)) == 2                    # the committed first page stays
        pending = json.loads(store.scalar("SELECT cursor FROM collection_cursors"))["pending"]
        assert pending["resume"] == fs.item_time(fs.items[1])
        srv.route("/xrpc/app.bsky.feed.getAuthorFeed", orig)
        s2 = run(store, srv)
        first = [r for r in srv.hits("/xrpc/app.bsky.feed.getAuthorFeed")][len(tries) + 1]
        assert first.query["cursor"] == pending["resume"]        # resumed where it stopped
    assert not s2.failed and s2.new_posts == 3
    assert_complete(store, fs)
    assert store.con.execute("SELECT status FROM import_batches ORDER BY batch_id").fetchall() == [("failed",), ("done",)]


def test_slow_answer_reset_truncated_and_invalid_json_are_retried(store):
    register(store, "bluesky", HANDLE)
    with Loopback() as srv:
        fs = FeedServer(srv)
        page1 = json.dumps({"feed": fs.items[:2], "cursor": fs.item_time(fs.items[1])}).encode()
        fs.faults = [
            Reply.json({"error": "InternalServerError"}, 500),
            Reply.reset(),                                     # connection reset by peer
            Reply(200, page1, delay=1.5),                      # slower than the 0.5 s timeout
            Reply(200, page1, cut=len(page1) // 2),            # body cut: Content-Length not reached
            Reply(200, page1[: len(page1) // 2]),              # complete answer, truncated JSON
        ]
        summary = run(store, srv, retries=5, timeout=0.5)
    assert not summary.failed, summary.lines()
    assert summary.retries == 5
    assert_complete(store, fs)


def test_retries_are_bounded_for_resets_and_the_summary_names_the_failure(store):
    register(store, "bluesky", HANDLE)
    with Loopback() as srv:
        fs = FeedServer(srv)
        fs.faults = [Reply.reset() for _ in range(10)]
        summary = run(store, srv, retries=2)
        assert fs.feed_requests == 3 and len(fs.faults) == 7
    assert summary.failed[0].reason.count("gave up after 3 tries") == 1
    assert "failed: bluesky dril.bsky.social" in "\n".join(summary.lines())


def test_a_repeating_cursor_ends_the_pass_and_the_next_run_goes_on(store):
    register(store, "bluesky", HANDLE)
    with Loopback() as srv:
        fs = FeedServer(srv)
        fs.repeat_cursor = True
        summary = run(store, srv)
        assert fs.feed_requests == 2                  # no endless loop
        assert summary.accounts[0].partial and "repeated a page cursor" in summary.accounts[0].reason
        assert any(line.startswith("partial:") for line in summary.lines())
        fs.repeat_cursor = False
        run(store, srv)
    assert_complete(store, fs)


def test_an_account_that_disappears_mid_run_is_a_finding(store):
    register(store, "bluesky", HANDLE)
    with Loopback() as srv:
        fs = FeedServer(srv)
        fs.gone_after = 1
        summary = run(store, srv)
    acc = summary.accounts[0]
    assert acc.outcome == "gone" and acc.finding.startswith("suspended") and "mid-run" in acc.finding
    assert any(line.startswith(f"finding: bluesky {HANDLE}: suspended") for line in summary.lines())
    assert store.con.execute("SELECT change, changed_at FROM registry_history").fetchall() == [("suspended", date.today())]
    assert store.scalar("SELECT status FROM registry_accounts") == "suspended"
    assert len(primary_posts(store)) == 2   # what was read before stays


def test_interrupted_run_resumes_with_no_gap_and_no_duplicate(store):
    """Run 1 is interrupted (Ctrl-C during a retry wait) after its first page; meanwhile a new post
    appears. Run 2 finishes the interrupted pass, then reads the new post: every post exactly once."""
    register(store, "bluesky", HANDLE)
    ft = FakeTime()

    with Loopback() as srv:
        def interrupting_sleep(seconds):   # Ctrl-C while waiting to retry the second page
            if any(r.query.get("cursor") for r in srv.requests):
                raise KeyboardInterrupt

        fs = FeedServer(srv, hide_newest=1)
        fs.faults = []
        orig = fs.feed
        srv.route("/xrpc/app.bsky.feed.getAuthorFeed",
                  lambda req: Reply.json({"error": "x"}, 503) if req.query.get("cursor") else orig(req))
        ft.sleep = interrupting_sleep
        with pytest.raises(KeyboardInterrupt):
            run(store, srv, ft)
        assert set(primary_posts(store)) == {it["post"]["uri"] for it in fs.items[1:3]}
        fs.hide_newest = 0                       # a new post appears
        srv.route("/xrpc/app.bsky.feed.getAuthorFeed", orig)
        summary = run(store, srv)
    assert not summary.failed and summary.new_posts == 3
    assert_complete(store, fs)
    cur = json.loads(store.scalar("SELECT cursor FROM collection_cursors"))
    assert cur["pending"] is None and cur["newest"] == fs.item_time(fs.items[0])


def test_sigkill_mid_run_then_rerun_leaves_no_gap_and_no_duplicate(tmp_path):
    """`envoywatch collect` killed with SIGKILL while it waits for the third page: the committed pages and
    their cursor survive; the next run resumes there and ends with every post exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    from envoywatch.store import Store
    from tests.conftest import run_cli

    db = tmp_path / "kill.duckdb"
    with Store(db) as s:
        register(s, "bluesky", HANDLE)
    third_page_asked = threading.Event()
    with Loopback() as srv:
        fs = FeedServer(srv)
        orig = fs.feed

        def slow_third(req):
            if fs.feed_requests == 2:          # this is the third feed request
                third_page_asked.set()
                fs.feed_requests += 1
                return Reply.json({"feed": []}, delay=30)   # hangs until the kill
            return orig(req)
        srv.route("/xrpc/app.bsky.feed.getAuthorFeed", slow_third)
        p = subprocess.Popen([sys.executable, "-m", "envoywatch.cli.main", "--db", str(db), "collect",
                              "--platform", "bluesky", "--base-url", srv.url, "--timeout", "60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
        try:
            assert third_page_asked.wait(60), p.stderr.read().decode() if p.poll() is not None else "no third page"
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        with Store(db) as s:
            assert len(primary_posts(s)) == 4                  # two committed pages
            pending = json.loads(s.scalar("SELECT cursor FROM collection_cursors"))["pending"]
            assert pending["resume"] == fs.item_time(fs.items[3])
        srv.route("/xrpc/app.bsky.feed.getAuthorFeed", orig)
        r = run_cli("collect", "--platform", "bluesky", "--base-url", srv.url, db=db)
        assert r.returncode == 0, r.stderr
    with Store(db) as s:
        assert_complete(s, fs)
