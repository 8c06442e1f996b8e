"""X API v2 live collection against a real HTTP server on 127.0.0.1 replaying real recorded v2 pages.

The timeline page is the real twarc2 page of `from:mariambarghouti` (100 tweets, expansions, includes)
without twarc's own `__twarc` key; the user lookup answers `{"data": <that user's recorded object>}`.
The end of a timeline (`{"meta": {"result_count": 0}}`) and the error answers for a suspended user are
written here from X's documented shapes (no recording of them exists in the shared data).
"""

from __future__ import annotations

import gzip
import json
import logging

import pytest

from tests.conftest import real_path
from tests.support.loopback import Loopback, Reply, need_httpx
from tests.test_collect_bluesky import options, register

TOKEN = "AAAAtest-bearer-SECRET-7f3a9c"   # a made-up token: it must never reach the store, archive or logs


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    need_httpx()
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    monkeypatch.delenv("ENVOYWATCH_CONFIG", raising=False)


def recorded_page():
    page = json.loads(real_path("fixtures", "twitter_api_v2_twarc", "media_policy_violation_on.jsonl")
                      .read_text().splitlines()[0])
    page.pop("__twarc")
    return page


def x_replay(srv: Loopback, page: dict, suspended: set = frozenset(), protected: set = frozenset()):
    author = page["data"][0]["author_id"]
    user = next(u for u in page["includes"]["users"] if u["id"] == author)
    headers = {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "899", "x-rate-limit-reset": "9999999999"}

    def auth(handler):
        def wrapped(req):
            if req.headers.get("authorization") != f"Bearer {TOKEN}":
                return Reply.json({"title": "Unauthorized", "type": "about:blank", "status": 401,
                                   "detail": "Unauthorized"}, 401)
            return handler(req)
        return wrapped

    def lookup(req):
        name = req.path.rsplit("/", 1)[-1]
        if name.lower() in suspended:
            return Reply.json({"errors": [{"value": name, "detail": f"User has been suspended: [{name}].",
                                           "title": "Forbidden", "resource_type": "user", "parameter": "username",
                                           "resource_id": name,
                                           "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        if name.lower() in protected:
            return Reply.json({"errors": [{"value": name, "detail": f"Sorry, you are not authorized to see the user "
                                           f"with username: [{name}].", "title": "Authorization Error",
                                           "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}]})
        if name.lower() not in (user["username"].lower(), user["id"]):
            return Reply.json({"errors": [{"value": name, "detail": f"Could not find user with username: [{name}].",
                                           "title": "Not Found Error", "resource_type": "user",
                                           "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return Reply.json({"data": user}, headers=headers)

    def tweets(req):
        if "until_id" in req.query or "pagination_token" in req.query:
            return Reply.json({"meta": {"result_count": 0}}, headers=headers)
        return Reply(200, json.dumps(page).encode(), headers=headers)

    srv.route("/2/users/by/username/", auth(lookup))
    srv.route(f"/2/users/{author}/tweets", auth(tweets))
    srv.route(f"/2/users/{author}", auth(lookup))
    return user


def test_x_full_path_replays_real_page(store, caplog):
    from envoywatch.collect import collect, select_accounts
    from envoywatch.collect.archive import archive_root, iter_pages

    caplog.set_level(logging.DEBUG)
    page = recorded_page()
    with Loopback() as srv:
        user = x_replay(srv, page)
        register(store, "x", user["username"])
        summary = collect(store, select_accounts(store, "x"), options=options(srv))
        tl = srv.hits(f"/2/users/{user['id']}/tweets")
        assert "referenced_tweets.id" in tl[0].query["expansions"] and tl[0].query["max_results"] == "100"
        assert tl[1].query["until_id"] == page["meta"]["oldest_id"]
    assert not summary.failed, summary.lines()
    primary = {r[0] for r in store.con.execute("SELECT post_id FROM posts WHERE observed = 'primary'").fetchall()}
    assert primary == {t["id"] for t in page["data"]}
    assert summary.new_posts == store.count("posts")
    snap = store.con.execute("SELECT followers FROM account_snapshots WHERE account_id = ?", [user["id"]]).fetchall()
    assert (user["public_metrics"]["followers_count"],) in snap
    assert store.scalar("SELECT account_id FROM registry_accounts WHERE platform = 'x'") == user["id"]
    cur = json.loads(store.scalar("SELECT cursor FROM collection_cursors WHERE platform = 'x' AND endpoint = 'timeline'"))
    assert cur == {"newest": page["meta"]["newest_id"], "pending": None, "done": False}
    # the monthly post cap counter: the tweets of `data` read this month
    assert summary.posts_read_month["x"][1] == len(page["data"])
    assert any("posts read in" in line for line in summary.lines())
    files = list(archive_root(store.path).rglob("*.jsonl.gz"))
    pages = [p for f in files for p in iter_pages(f)]
    assert json.loads(pages[1]["body"]) == page
    assert store.scalar("SELECT format FROM import_batches") == "x-live"
    _no_secret(store, caplog, summary)


def _no_secret(store, caplog, summary, extra: str = ""):
    from envoywatch.collect.archive import archive_root

    store.con.execute("CHECKPOINT")
    assert TOKEN.encode() not in store.path.read_bytes()
    for f in archive_root(store.path).rglob("*"):
        if f.is_file():
            assert TOKEN.encode() not in gzip.decompress(f.read_bytes())
    assert TOKEN not in caplog.text
    assert TOKEN not in "\n".join(summary.lines()) + extra
    for table in ("import_batches", "rejects", "collection_cursors", "registry_history"):
        assert TOKEN not in json.dumps(store.query(f"SELECT * FROM {table}").to_pylist(), default=str)


def test_x_second_run_uses_since_id(store):
    from envoywatch.collect import collect, select_accounts

    page = recorded_page()
    with Loopback() as srv:
        user = x_replay(srv, page)
        register(store, "x", user["username"])
        collect(store, select_accounts(store, "x"), options=options(srv))
        n = store.count("posts")
        s2 = collect(store, select_accounts(store, "x"), options=options(srv))
        last = srv.hits(f"/2/users/{user['id']}/tweets")[-2]
        assert last.query["since_id"] == page["meta"]["newest_id"]
    assert s2.new_posts == 0 and store.count("posts") == n


def test_x_refused_token_is_one_clear_message_without_the_token(store, caplog, monkeypatch):
    from envoywatch.collect import collect, select_accounts

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("X_BEARER_TOKEN", "wrong-" + TOKEN)
    with Loopback() as srv:
        user = x_replay(srv, recorded_page())
        register(store, "x", user["username"])
        register(store, "x", "second_account")
        summary = collect(store, select_accounts(store, "x"), options=options(srv, concurrency=1))
        assert len(srv.requests) == 1   # the platform stops at the first refusal
    reasons = [a.reason for a in summary.accounts]
    assert "/2/users/by/username/MariamBarghouti: x: the API refused the request (401 Unauthorized)" in reasons[0]
    assert "Fix: check that X_BEARER_TOKEN" in reasons[0]
    assert summary.accounts[1].outcome == "skipped" and summary.accounts[1].reason == reasons[0]
    assert TOKEN not in "\n".join(summary.lines()) and TOKEN not in caplog.text


def test_x_missing_token_names_the_variable(store, monkeypatch):
    from envoywatch.collect import collect, select_accounts

    monkeypatch.delenv("X_BEARER_TOKEN")
    register(store, "x", "someone")
    summary = collect(store, select_accounts(store, "x"), options=options(_Url()))
    assert "X_BEARER_TOKEN" in summary.failed[0].reason and "is not set" in summary.failed[0].reason


class _Url:
    url = "http://127.0.0.1:9"


def test_x_suspended_account_is_a_finding_in_registry_history(store, caplog):
    from datetime import date

    from envoywatch.collect import collect, select_accounts

    with Loopback() as srv:
        user = x_replay(srv, recorded_page(), suspended={"gone_embassy"})
        register(store, "x", user["username"])
        register(store, "x", "gone_embassy")
        summary = collect(store, select_accounts(store, "x"), options=options(srv))
        # a second run does not record the same suspension again
        collect(store, select_accounts(store, "x"), options=options(srv))
    gone = [a for a in summary.accounts if a.handle == "gone_embassy"][0]
    assert gone.outcome == "gone" and gone.finding.startswith("suspended")
    assert any(line.startswith("finding: x gone_embassy: suspended") for line in summary.lines())
    hist = store.con.execute("SELECT handle, changed_at, change, source FROM registry_history").fetchall()
    assert hist == [("gone_embassy", date.today(), "suspended", hist[0][3])]
    assert "User has been suspended" in hist[0][3]
    assert store.scalar("SELECT status FROM registry_accounts WHERE handle = 'gone_embassy'") == "suspended"
    _no_secret(store, caplog, summary)


def test_x_rename_is_a_finding(store):
    from envoywatch.collect import collect, select_accounts

    with Loopback() as srv:
        user = x_replay(srv, recorded_page())
        # the registry knows the id under an older handle: the lookup by id shows the new one
        register(store, "x", "OldHandle", account_id=user["id"])
        summary = collect(store, select_accounts(store, "x"), options=options(srv))
    assert summary.accounts[0].finding == f"renamed OldHandle -> {user['username']}"
    assert store.con.execute("SELECT change, old_value, new_value FROM registry_history").fetchall() == [
        ("renamed", "OldHandle", user["username"])]


def test_x_monthly_cap_is_counted_and_enforced(store):
    from envoywatch.collect import collect, select_accounts

    with Loopback() as srv:
        user = x_replay(srv, recorded_page())
        register(store, "x", user["username"])
        collect(store, select_accounts(store, "x"), options=options(srv, monthly_post_cap={"x": 100}))
        s2 = collect(store, select_accounts(store, "x"), options=options(srv, monthly_post_cap={"x": 100}))
    assert "monthly post cap reached (100 of 100" in s2.failed[0].reason
    assert any("100 posts read in" in line and "of a 100 cap" in line for line in s2.lines())


def test_x_protected_or_unknown_accounts_fail_without_a_false_finding(store):
    from envoywatch.collect import collect, select_accounts

    with Loopback() as srv:
        x_replay(srv, recorded_page(), protected={"locked_account"})
        register(store, "x", "locked_account")
        register(store, "x", "never_existed")
        summary = collect(store, select_accounts(store, "x"), options=options(srv))
    by = {a.handle: a for a in summary.accounts}
    assert by["locked_account"].outcome == "failed" and "not authorized" in by["locked_account"].reason
    assert by["never_existed"].outcome == "gone" and by["never_existed"].finding.startswith("deleted")
    assert store.con.execute("SELECT handle, change FROM registry_history").fetchall() == [("never_existed", "deleted")]
