"""Mastodon live collection against a real HTTP server on 127.0.0.1 replaying the real Mastodon.py recordings.

The recordings hold no /accounts/:id/statuses call, so the statuses endpoint serves the account's statuses
taken from the recorded public timeline, with the recorded Link header's shape (rel="next" max_id); the
lookup answers the account object recorded inside those statuses, and an unknown account the recorded
404 (`{"error": "Record not found"}`).
"""

from __future__ import annotations

import pytest

from tests.conftest import real_path
from tests.support.cassettes import cassette_payloads, load_cassette
from tests.support.loopback import Loopback, Reply, need_httpx
from tests.test_collect_bluesky import options, register

TOKEN = "mastodon-SECRET-token-41c2"


@pytest.fixture(autouse=True)
def _httpx():
    need_httpx()


def recorded():
    cas = real_path("fixtures", "mastodon_py_vcr_cassettes")
    public = next(b for m, u, s, b in cassette_payloads(cas / "test_public_tl_anonymous.yaml")
                  if "/timelines/public" in u)
    not_found = next(b for m, u, s, b in cassette_payloads(cas / "test_account_lookup.yaml") if s == 404)
    link = next(i["response"]["headers"].get("Link") or i["response"]["headers"].get("link")
                for i in load_cassette(cas / "test_public_tl_anonymous.yaml") if "timelines/public" in i["request"]["uri"])
    return public, not_found, link[0]


def mastodon_replay(srv: Loopback, page_size: int = 40, require_token: str | None = None):
    public, not_found, recorded_link = recorded()
    assert 'rel="next"' in recorded_link
    account = next(s["account"] for s in public if s["account"]["acct"] == "admin")
    mine = [s for s in public if s["account"]["id"] == account["id"]]

    def lookup(req):
        if require_token and req.headers.get("authorization") != f"Bearer {require_token}":
            return Reply.json({"error": "This method requires an authenticated user"}, 401)
        # like Mastodon, a local account answers to `user` and to `user@its-domain` (recorded in test_account_lookup)
        if req.query.get("acct") not in (account["acct"], account["acct"] + "@localhost:3000"):
            return Reply.json(not_found, 404)
        return Reply.json(account)

    def statuses(req):
        max_id, since_id = req.query.get("max_id"), req.query.get("since_id")
        rows = [s for s in mine if (not max_id or int(s["id"]) < int(max_id))
                and (not since_id or int(s["id"]) > int(since_id))][:int(req.query.get("limit", 40))]
        headers = {}
        if rows:
            base = f"{srv.url}/api/v1/accounts/{account['id']}/statuses"
            headers["Link"] = (f'<{base}?max_id={rows[-1]["id"]}>; rel="next", '
                               f'<{base}?min_id={rows[0]["id"]}>; rel="prev"')
        return Reply.json(rows, headers=headers)

    srv.route("/api/v1/accounts/lookup", lookup)
    srv.route(f"/api/v1/accounts/{account['id']}/statuses", statuses)
    return account, mine


def test_mastodon_full_path_with_link_pagination(store):
    from envoywatch.collect import collect, select_accounts

    with Loopback() as srv:
        account, mine = mastodon_replay(srv)
        register(store, "mastodon", "admin@localhost:3000")
        register(store, "mastodon", "nobody@localhost:3000")
        # 4 statuses per page: the Link header pages
        summary = collect(store, select_accounts(store, "mastodon"), options=options(srv, page_size={"mastodon": 4}))
        pages = srv.hits(f"/api/v1/accounts/{account['id']}/statuses")
        assert [p.query.get("max_id") for p in pages] == [None, mine[3]["id"], mine[-1]["id"]]
    ok = [a for a in summary.accounts if a.handle.startswith("admin")][0]
    assert ok.outcome == "ok" and ok.new_posts == len(mine)
    got = {r[0] for r in store.con.execute("SELECT post_id FROM posts WHERE observed = 'primary'").fetchall()}
    assert got == {s["uri"] for s in mine}
    assert store.scalar("SELECT followers FROM account_snapshots") == account["followers_count"]
    assert store.scalar("SELECT account_id FROM registry_accounts WHERE handle = 'admin@localhost:3000'") == account["url"]
    gone = [a for a in summary.accounts if a.handle.startswith("nobody")][0]
    assert gone.outcome == "gone" and "Record not found" in gone.finding
    assert store.scalar("SELECT format FROM import_batches") == "mastodon-live"

    # incremental: the next run asks only for statuses newer than the newest seen
    with Loopback() as srv:
        mastodon_replay(srv)
        s2 = collect(store, select_accounts(store, "mastodon"), options=options(srv))
        assert srv.hits("/api/v1/accounts/")[-1].query["since_id"] == mine[0]["id"]
    assert s2.new_posts == 0
    assert store.con.execute("SELECT change FROM registry_history").fetchall() == [("deleted",)]  # no false rename


def test_mastodon_token_is_sent_by_reference_and_never_kept(store, monkeypatch, tmp_path):
    from envoywatch import config
    from envoywatch.collect import collect, select_accounts

    cfg = tmp_path / "envoywatch.toml"
    cfg.write_text('[mastodon]\naccess_token = "env:MY_MASTODON_TOKEN"\n')
    monkeypatch.setenv("ENVOYWATCH_CONFIG", str(cfg))
    monkeypatch.setenv("MY_MASTODON_TOKEN", TOKEN)
    config._load.cache_clear()
    with Loopback() as srv:
        mastodon_replay(srv, require_token=TOKEN)
        register(store, "mastodon", "admin@localhost:3000")
        summary = collect(store, select_accounts(store, "mastodon"), options=options(srv))
    assert not summary.failed, summary.lines()
    store.con.execute("CHECKPOINT")
    assert TOKEN.encode() not in store.path.read_bytes()
    import gzip

    from envoywatch.collect.archive import archive_root
    for f in archive_root(store.path).rglob("*.gz"):
        assert TOKEN.encode() not in gzip.decompress(f.read_bytes())


def test_mastodon_plain_secret_in_config_is_refused(store, monkeypatch, tmp_path):
    from envoywatch import config
    from envoywatch.collect import collect, select_accounts

    cfg = tmp_path / "envoywatch.toml"
    cfg.write_text(f'[mastodon]\naccess_token = "{TOKEN}"\n')
    monkeypatch.setenv("ENVOYWATCH_CONFIG", str(cfg))
    config._load.cache_clear()
    register(store, "mastodon", "admin@localhost:3000")
    with Loopback() as srv:
        mastodon_replay(srv)
        summary = collect(store, select_accounts(store, "mastodon"), options=options(srv))
        assert not srv.requests
    reason = summary.failed[0].reason
    assert "must be a reference like" in reason and TOKEN not in reason
