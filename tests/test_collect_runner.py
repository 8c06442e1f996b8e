"""The runner across platforms: one run, three connectors at once on one loopback server; backfills kept
apart from the incremental cursor; the raw archive normalizes again to the same store rows."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.support.loopback import Loopback, need_httpx
from tests.test_collect_bluesky import bluesky_replay, options, register
from tests.test_collect_mastodon import mastodon_replay
from tests.test_collect_x import TOKEN, recorded_page, x_replay


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    need_httpx()
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)


def test_three_platforms_in_one_concurrent_run(store):
    from envoywatch.collect import collect, select_accounts

    with Loopback() as srv:
        xuser = x_replay(srv, recorded_page())
        prof, feed, _ = bluesky_replay(srv)
        macct, mine = mastodon_replay(srv)
        register(store, "x", xuser["username"])
        register(store, "bluesky", prof["handle"])
        register(store, "mastodon", "admin@localhost:3000")
        register(store, "x", "RU_embassy_gone", state="RU")
        targets = select_accounts(store, state_code="CN")
        assert {t.platform for t in targets} == {"x", "bluesky", "mastodon"}
        summary = collect(store, targets, options=options(srv, concurrency=3))
    assert [a.outcome for a in summary.accounts] == ["ok", "ok", "ok"], summary.lines()
    by = dict(store.con.execute("SELECT platform, count(*) FROM posts WHERE observed = 'primary' GROUP BY 1").fetchall())
    assert by["x"] == len(recorded_page()["data"]) and by["mastodon"] == len(mine)
    assert by["bluesky"] == sum(1 for it in feed["feed"] if not it.get("reason"))
    assert sorted(r[0] for r in store.con.execute("SELECT format FROM import_batches").fetchall()) == [
        "bluesky-live", "mastodon-live", "x-live"]
    assert summary.new_posts == store.count("posts")
    # the run left the aggregates and the search index current: the monitoring pages read them
    from envoywatch.analysis.aggregates import account_days, refresh_aggregates, usable
    from envoywatch.analysis.filters import Filters
    from envoywatch.analysis.search import refresh_index

    assert refresh_aggregates(store) == "current"
    assert usable(store, Filters())
    assert int(refresh_index(store, build=False)["docs"]) == store.scalar("SELECT count(*) FROM posts WHERE text IS NOT NULL")
    assert account_days(store, Filters()).posts.sum().to_pyarrow().as_py() == store.count("posts")


def test_backfill_uses_time_bounds_and_keeps_the_incremental_cursor(store):
    from envoywatch.collect import collect, select_accounts

    page = recorded_page()
    with Loopback() as srv:
        user = x_replay(srv, page)
        register(store, "x", user["username"])
        since, until = datetime(2021, 5, 1), datetime(2021, 5, 12)
        s1 = collect(store, select_accounts(store, "x"), since=since, until=until, options=options(srv))
        first = srv.hits(f"/2/users/{user['id']}/tweets")[0]
        assert first.query["start_time"] == "2021-05-01T00:00:00Z" and first.query["end_time"] == "2021-05-12T00:00:00Z"
        assert "since_id" not in first.query
        # the same window again: already complete, nothing asked
        n, tl = len(srv.requests), len(srv.hits(f"/2/users/{user['id']}/tweets"))
        s2 = collect(store, select_accounts(store, "x"), since=since, until=until, options=options(srv))
        assert len(srv.hits(f"/2/users/{user['id']}/tweets")) == tl
        assert len(srv.requests) == n + 1   # only the profile (a follower snapshot)
    assert s1.new_posts > 0 and s2.new_posts == 0
    endpoints = [r[0] for r in store.con.execute("SELECT endpoint FROM collection_cursors WHERE account_id = ?",
                                                 [user["id"]]).fetchall()]
    assert endpoints == ["timeline@2021-05-01T00:00:00..2021-05-12T00:00:00"]   # no incremental cursor moved


def test_the_raw_archive_normalizes_again_to_the_same_rows(store, tmp_path):
    from envoywatch.collect import collect, select_accounts
    from envoywatch.collect.archive import archive_root, iter_pages
    from envoywatch.collect.pages import normalize_page
    from envoywatch.importers.base import Bundle
    from envoywatch.store import Store
    from envoywatch.util.timeparse import parse_time

    with Loopback() as srv:
        prof, feed, _ = bluesky_replay(srv)
        macct, mine = mastodon_replay(srv)
        register(store, "bluesky", prof["handle"])
        register(store, "mastodon", "admin@localhost:3000")
        collect(store, select_accounts(store, state_code="CN"), options=options(srv))
    with Store(tmp_path / "again.duckdb") as again:
        for f in sorted(archive_root(store.path).rglob("*.jsonl.gz")):
            for p in iter_pages(f):
                buf: dict = {}
                for item in normalize_page(p["platform"], p["kind"], json.loads(p["body"]),
                                           parse_time(p["fetched_at"])):
                    assert isinstance(item, Bundle)
                    for t, rows in item.rows.items():
                        buf.setdefault(t, []).extend(rows)
                again.write_many(buf)
        for table in ("posts", "post_urls", "post_hashtags", "post_mentions", "post_media", "accounts"):
            cols = "platform, post_id" if table != "accounts" else "platform, account_id, handle"
            assert sorted(again.con.execute(f"SELECT {cols} FROM {table}").fetchall()) == \
                sorted(store.con.execute(f"SELECT {cols} FROM {table}").fetchall()), table
