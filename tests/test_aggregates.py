"""Per-account-day aggregates (analysis/aggregates.py): the analyses give the same rows from the aggregates as
from the posts; an import refreshes them incrementally; re-importing the same file changes nothing.

Real parts: files imported by the real import runner into real DuckDB stores; the "raw" side is a copy of
the same store file whose aggregates are marked out of date (so the analyses read the posts)."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timedelta

import pytest

from envoywatch.analysis import aggregates
from envoywatch.analysis.activity import (activity_figures, activity_over_time, growth_by_account,
                                          growth_decomposition, top_accounts)
from envoywatch.analysis.filters import Filters
from envoywatch.analysis.reach import engagement, top_posts
from envoywatch.analysis.shares import top_entities
from envoywatch.importers.base import FORMATS, Bundle, FormatSpec
from envoywatch.importers.run import import_paths
from envoywatch.store import Store

ACCOUNTS = ["a1", "a2", "a3", "a4", "a5", "a6"]
TAGS = ["China", "china", "Peace", "Trade", "UN"]
DOMAINS = ["cgtn.com", "rt.com", "un.org"]


def _reader(source):
    for _n, text, _raw, _problem in source.lines():
        pid, acc, ts, kind, ref, tags, dom, cap = text.rstrip("\n").split("|")
        b = Bundle()
        b.add("posts", {"platform": "x", "post_id": pid, "account_id": acc, "created_at": datetime.fromisoformat(ts),
                        "kind": kind, "ref_account_id": ref or None, "text": f"post {pid} about {tags}",
                        "lang": "en", "observed": "primary"})
        for t in tags.split():
            b.add("post_hashtags", {"platform": "x", "post_id": pid, "tag": t, "tag_norm": t.lower()})
        if dom:
            b.add("post_urls", {"platform": "x", "post_id": pid, "position": 0, "url": f"https://{dom}/{pid}",
                                "normalized_url": f"https://{dom}/{pid}", "domain": dom, "host": dom})
        i, c = int(pid[1:]), int(cap)
        if i % 4:   # a metrics snapshot for three posts in four, captured on day `cap`
            b.add("post_metrics", {"platform": "x", "post_id": pid, "captured_at": datetime(2024, 1, 1) + timedelta(days=c),
                                   "likes": (i * 7 + c * 3) % 50, "reposts": (i * 5 + c) % 20, "replies": i % 3,
                                   "quotes": (i + c) % 4, "views": None if i % 5 == 0 else i * 10 + c})
        yield b


@pytest.fixture(autouse=True)
def fmt():
    FORMATS["test-agg"] = FormatSpec("test-agg", "test", "test only", lambda s: False, _reader)
    yield "test-agg"
    del FORMATS["test-agg"]


def _lines(rng: random.Random, ids: range, start: datetime, days: int, drop_refs: bool = False) -> list[str]:
    out = []
    for i in ids:
        acc = rng.choice(ACCOUNTS)
        ts = start + timedelta(days=rng.randrange(days), seconds=rng.randrange(86400))
        kind = rng.choice(["post", "post", "repost", "quote", "reply"])
        ref = rng.choice(ACCOUNTS + ["z9"]) if kind in ("repost", "quote") and not drop_refs else ""
        tags = " ".join(rng.sample(TAGS, rng.randrange(3)))
        dom = rng.choice(DOMAINS + ["", ""])
        out.append(f"p{i}|{acc}|{ts.isoformat()}|{kind}|{ref}|{tags}|{dom}|0")
    return out


def _store(path) -> Store:
    s = Store(path)
    s.write("registry_actors", [
        dict(actor_id="cn-1", name="CN one", actor_type="organisation", state="CN", category="mission",
             host_country="FR", source="test"),
        dict(actor_id="ru-1", name="RU one", actor_type="organisation", state="RU", category="state_media_outlet",
             source="test")])
    s.write("registry_accounts", [dict(platform="x", handle="one", actor_id="cn-1", account_id="a1", source="test"),
                                  dict(platform="x", handle="two", actor_id="cn-1", account_id="a2", source="test"),
                                  dict(platform="x", handle="three", actor_id="ru-1", account_id="a3", source="test")])
    s.write("accounts", [dict(platform="x", account_id=a, handle=f"h_{a}") for a in ACCOUNTS[:5]])
    return s


def _run(store, expr) -> list:
    sql = str(store.ibis().compile(expr))
    return sorted(store.con.execute(sql).fetchall(), key=repr)


FILTERS = [
    Filters(),
    Filters(states=("CN",)),
    Filters(start="2021-01-10", end="2021-03-05"),          # month rows inside, day rows at both ends
    Filters(start="2021-02-01", end="2021-03-01", kinds=("post", "quote")),
    Filters(registered_only=True, accounts=("a1", "a3", "a4"), start="2021-01-05", end="2021-01-19"),  # days only
    Filters(categories=("state_media_outlet",), platforms=("x",)),
]
# more window shapes (aggregates._pieces), checked on the queries that read whole months and single days
WINDOWS = [
    Filters(start="2021-01-10"),                            # open ends: days, then months
    Filters(end="2021-02-10", states=("CN",)),              # months, then days
    Filters(start="2021-01-01", end="2021-01-20"),          # inside one month, from its first day
    Filters(start="2021-01-10", end="2021-02-01"),          # to the first of the next month
]


def _window_queries(tables, f: Filters) -> dict:
    return {"activity_month": activity_over_time(tables, f, freq="month", by="account"),
            "activity_day": activity_over_time(tables, f, freq="day"), "figures": activity_figures(tables, f),
            "top_domain": top_entities(tables, f, "domain", n=10), "top_accounts": top_accounts(tables, f, n=5)}


def _queries(tables, f: Filters) -> dict:
    out = {f"activity_{freq}_{by}": activity_over_time(tables, f, freq=freq, by=by)
           for freq, by in (("day", None), ("week", "state"), ("month", None), ("month", "account"))}
    out["figures"] = activity_figures(tables, f)
    out["top_accounts"] = top_accounts(tables, f, n=4, offset=1)
    out["top_hashtag"] = top_entities(tables, f, "hashtag", n=3)
    for metric in ("reposts", "views"):
        out[f"top_posts_{metric}"] = top_posts(tables, f, n=7, metric=metric)
    for by in ("account", "language", None):
        out[f"engagement_{by}"] = engagement(tables, f, by=by)
    for e in aggregates.ENTITY_TYPES:
        out[f"top_{e}_prev"] = top_entities(tables, f, e, n=10, previous=(datetime(2021, 1, 3), datetime(2021, 2, 1)))
    for a, b in (("2021-01-01", "2021-02-01"), ("2021-01-04", "2021-02-17")):
        mid = datetime.fromisoformat(b)
        out[f"growth_{a}"] = growth_decomposition(tables, f, a, mid, mid, mid + timedelta(days=31))
        out[f"growth_by_account_{a}"] = growth_by_account(tables, f, a, mid, mid, mid + timedelta(days=31))
    return out


def _raw_copy(store: Store, tmp_path) -> Store:
    """The same store file with its aggregates marked out of date: the analyses read the posts."""
    store.con.execute("CHECKPOINT")
    dst = tmp_path / "raw.duckdb"
    shutil.copy(store.path, dst)
    raw = Store(dst)
    raw.con.execute("UPDATE agg_meta SET value = 'outdated' WHERE key = 'posts'")
    return raw


def assert_same_rows(store: Store, tmp_path) -> int:
    raw = _raw_copy(store, tmp_path)
    try:
        assert not aggregates.is_current(raw)
        assert aggregates.is_current(store)
        compared = 0
        for f, queries in [(f, _queries) for f in FILTERS] + [(f, _window_queries) for f in WINDOWS]:
            assert aggregates.usable(store, f)
            fast, slow = queries(store, f), queries(raw, f)
            for name in fast:
                got, want = _run(store, fast[name]), _run(raw, slow[name])
                assert got == want, (f, name)
                compared += len(want)
        return compared
    finally:
        raw.close()


def _agg_tables(store: Store) -> dict:
    return {t: sorted(store.con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in aggregates.TABLES if t != "agg_meta"}


def test_same_rows_incremental_and_idempotent(tmp_path):
    rng = random.Random(5)
    f1, f2 = tmp_path / "one.txt", tmp_path / "two.txt"
    first = _lines(rng, range(0, 400), datetime(2021, 1, 1), 45, drop_refs=False)
    f1.write_text("\n".join(first) + "\n")
    store = _store(tmp_path / "s.duckdb")
    try:
        import_paths(store, [f1], fmt="test-agg")
        assert store.scalar("SELECT count(*) FROM agg_account_day") > 0
        (tmp_path / "a").mkdir()
        assert assert_same_rows(store, tmp_path / "a") > 500

        # second import: new posts on days already aggregated and on new days (incremental refresh)
        f2.write_text("\n".join(_lines(rng, range(400, 700), datetime(2021, 1, 20), 60)) + "\n")
        before_meta = dict(store.con.execute("SELECT key, value FROM agg_meta").fetchall())
        import_paths(store, [f2], fmt="test-agg")
        meta = dict(store.con.execute("SELECT key, value FROM agg_meta").fetchall())
        assert int(meta["posts"]) == int(before_meta["posts"]) + 300 and meta["max_batch"] != before_meta["max_batch"]
        (tmp_path / "b").mkdir()
        assert_same_rows(store, tmp_path / "b")
        # third import: new metrics snapshots of known posts (the posts themselves unchanged)
        f3 = tmp_path / "three.txt"
        f3.write_text("\n".join(ln[:-2] + "|1" for ln in first[:150]) + "\n")
        posts_before = store.scalar("SELECT count(*) FROM posts")
        import_paths(store, [f3], fmt="test-agg")
        assert store.scalar("SELECT count(*) FROM posts") == posts_before
        assert store.scalar("SELECT count(*) FROM post_metrics WHERE captured_at = TIMESTAMP '2024-01-02'") > 100
        (tmp_path / "b3").mkdir()
        assert_same_rows(store, tmp_path / "b3")
        # the incrementally refreshed tables equal a full rebuild
        incremental = _agg_tables(store)
        with store.transaction():
            assert aggregates.refresh_aggregates(store, full=True) == "rebuilt"
        assert _agg_tables(store) == incremental

        # re-importing a file changes nothing (no new batch of posts: the aggregates stay as they are)
        import_paths(store, [f1], fmt="test-agg", force=True)
        assert _agg_tables(store) == incremental
        with store.transaction():
            assert aggregates.refresh_aggregates(store) == "current"
    finally:
        store.close()


def test_filled_ref_account_is_picked_up(tmp_path):
    """A re-import that fills ref_account_id of known reposts (NULL -> value) changes the reposted accounts."""
    rng = random.Random(9)
    lines = _lines(rng, range(0, 200), datetime(2021, 3, 1), 20)
    no_refs = [ln.split("|") for ln in lines]
    for parts in no_refs:
        parts[4] = ""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join("|".join(p) for p in no_refs) + "\n")
    b.write_text("\n".join(lines) + "\n")
    store = _store(tmp_path / "s.duckdb")
    try:
        import_paths(store, [a], fmt="test-agg")
        assert store.scalar("SELECT count(*) FROM agg_entity_day WHERE entity_type = 'reposted_account'") == 0
        import_paths(store, [b], fmt="test-agg")
        n_refs = store.scalar("SELECT count(*) FROM posts WHERE kind = 'repost' AND ref_account_id IS NOT NULL")
        assert n_refs > 0
        assert store.scalar("SELECT sum(n) FROM agg_entity_day WHERE entity_type = 'reposted_account'") == n_refs
        (tmp_path / "c").mkdir()
        assert_same_rows(store, tmp_path / "c")
    finally:
        store.close()


def test_posts_written_without_refresh_fall_back_to_raw(tmp_path):
    """Posts written by a path that does not refresh (here: a plain store.write) make the aggregates out of date:
    the analyses read the posts (right figures), and the next refresh rebuilds."""
    rng = random.Random(3)
    f1 = tmp_path / "one.txt"
    f1.write_text("\n".join(_lines(rng, range(0, 100), datetime(2021, 1, 1), 30)) + "\n")
    store = _store(tmp_path / "s.duckdb")
    try:
        import_paths(store, [f1], fmt="test-agg")
        assert aggregates.is_current(store)
        store.write("posts", [{"platform": "x", "post_id": "extra", "account_id": "a1", "created_at": datetime(2021, 1, 2),
                               "kind": "post", "observed": "primary"}])
        assert not aggregates.is_current(store)
        assert not aggregates.usable(store, Filters())
        n = _run(store, activity_figures(store, Filters()))[0][0]
        assert n == store.count("posts") == 101
        with store.transaction():
            assert aggregates.refresh_aggregates(store) == "rebuilt"
        assert aggregates.usable(store, Filters())
        assert _run(store, activity_figures(store, Filters()))[0][0] == 101
        # a filter the aggregates cannot answer: times that are not midnight, or a language
        assert not aggregates.usable(store, Filters(start=datetime(2021, 1, 1, 12)))
        assert not aggregates.usable(store, Filters(languages=("en",)))
    finally:
        store.close()


def test_demo_store_same_rows(tmp_path):
    from envoywatch.demo import build_demo

    store = Store(tmp_path / "demo.duckdb")
    try:
        build_demo(store, scale="small", seed=11)
        assert aggregates.is_current(store)
        (tmp_path / "d").mkdir()
        assert assert_same_rows(store, tmp_path / "d") > 1000
    finally:
        store.close()


def test_import_keeps_search_index_and_read_only_server_never_builds_a_big_one(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from envoywatch.analysis import search
    from envoywatch.web.app import create_app

    f1 = tmp_path / "one.txt"
    f1.write_text("\n".join(_lines(random.Random(1), range(0, 50), datetime(2021, 1, 1), 10)) + "\n")
    path = tmp_path / "s.duckdb"
    store = _store(path)
    import_paths(store, [f1], fmt="test-agg")
    meta = dict(store.con.execute("SELECT key, value FROM search_meta").fetchall())
    assert meta["docs"] == "50" and meta["version"] == search.INDEX_VERSION     # built by the import
    for t in ("search_tokens", "search_docs", "search_accounts", "search_meta"):
        store.con.execute(f"DROP TABLE {t}")
    store.close()
    search._last_check.clear()
    monkeypatch.setattr(search, "READ_ONLY_TEMP_MAX", 10)   # the store counts as big: 50 posts > 10
    ro = Store(path, read_only=True)
    try:
        with pytest.raises(search.SearchIndexMissing, match="search --reindex"):
            search.search_posts(ro, "post", Filters())
        r = TestClient(create_app(path, store=ro)).get("/api/search", params={"q": "post"})
        assert r.status_code == 503 and "search --reindex" in r.json()["detail"]
        assert not ro.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'search_docs'").fetchall()[0][0]
    finally:
        ro.close()


def test_read_only_answer_is_remembered_per_connection_and_forgotten_with_it(tmp_path):
    """A read-only store's 'aggregates are current' is remembered for its connection only: a closed connection
    leaves nothing behind that a later connection (which may get the same id) could inherit."""
    import gc

    rng = random.Random(5)
    f1 = tmp_path / "one.txt"
    f1.write_text("\n".join(_lines(rng, range(0, 40), datetime(2021, 1, 1), 10)) + "\n")
    path = tmp_path / "s.duckdb"
    store = _store(path)
    import_paths(store, [f1], fmt="test-agg")
    store.close()
    others = set(aggregates._current.keys())      # read-only stores of other tests still open
    ro = Store(path, read_only=True)
    assert aggregates.is_current(ro) and ro.con in aggregates._current
    ro.close()
    del ro
    gc.collect()
    assert set(aggregates._current.keys()) <= others
    del others
    # a stale store opened next is judged on its own
    store = Store(path)
    store.write("posts", [{"platform": "x", "post_id": "extra", "account_id": "a1", "created_at": datetime(2021, 1, 2),
                           "kind": "post", "observed": "primary"}])
    store.close()
    ro = Store(path, read_only=True)
    try:
        assert not aggregates.is_current(ro)
    finally:
        ro.close()


def test_dashboard_top_posts_by_rowid_equal_the_analysis(tmp_path):
    """The dashboard ranks top posts in agg_post_metrics and fetches their texts by rowid: the rows equal the
    analysis (posts joined by key), also when rowids no longer point at the posts (looked up by key)."""
    from envoywatch.analysis.reach import top_posts
    from envoywatch.web.data import Data

    f1 = tmp_path / "one.txt"
    f1.write_text("\n".join(_lines(random.Random(4), range(0, 300), datetime(2021, 1, 1), 40)) + "\n")
    store = _store(tmp_path / "s.duckdb")
    try:
        import_paths(store, [f1], fmt="test-agg")
        assert aggregates.is_current(store)
        cases = [(Filters(), "reposts"), (Filters(accounts=("a2",), platforms=("x",)), "likes"),
                 (Filters(states=("CN",), start="2021-01-05", end="2021-01-30"), "views")]
        want = {}
        for f, metric in cases:
            want[(f, metric)] = [list(r) for r in store.con.execute(
                str(store.ibis().compile(top_posts(store, f, n=8, metric=metric)))).fetchall()]
            assert want[(f, metric)] and all(r[6] for r in want[(f, metric)])   # texts present
        for moved in (False, True):
            if moved:   # every stored rowid now points at another post
                store.con.execute("UPDATE agg_post_metrics SET prow = prow + 1")
            d = Data(store)
            for (f, metric), rows in want.items():
                got = d.top_posts(f, n=8, metric=metric)
                assert [[r[c] for c in got.columns] for r in got.rows] == [
                    [v.isoformat(timespec="seconds") if isinstance(v, datetime) else v for v in r] for r in rows]
    finally:
        store.close()


def test_refresh_command_brings_stale_tables_up_to_date(tmp_path):
    """`envoywatch refresh`: posts written outside an import leave the aggregates and the index stale; the
    command rebuilds them (then the analyses read the aggregates again) and a second run finds them current."""
    from envoywatch.analysis.search import search_posts
    from tests.conftest import run_cli

    f1 = tmp_path / "one.txt"
    f1.write_text("\n".join(_lines(random.Random(8), range(0, 60), datetime(2021, 1, 1), 10)) + "\n")
    db = tmp_path / "s.duckdb"
    store = _store(db)
    try:
        import_paths(store, [f1], fmt="test-agg")
        store.write("posts", [{"platform": "x", "post_id": "late", "account_id": "a6", "created_at": datetime(2021, 1, 3),
                               "kind": "post", "text": "zanzibar cooperation", "observed": "primary"}])
        assert not aggregates.is_current(store)
    finally:
        store.close()
    r = run_cli("refresh", db=db)
    assert r.returncode == 0, r.stderr
    assert "aggregates: rebuilt" in r.stderr and "search index:" in r.stderr
    store = Store(db, read_only=True)
    try:
        assert aggregates.is_current(store)
        assert store.scalar("SELECT sum(posts) FROM agg_account_day") == store.count("posts")
        assert [h["post_id"] for h in search_posts(store, "zanzibar")["rows"]] == ["late"]
    finally:
        store.close()
    r = run_cli("refresh", db=db)
    assert r.returncode == 0 and "aggregates: current" in r.stderr, r.stderr
