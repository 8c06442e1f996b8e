"""CrowdTangle exports (search CSV, post history CSV, links API JSON) on the real fixtures: detection, zero
rejects, rows under platform 'facebook' (never 'crowdtangle'), counts and metrics equal to an independent
reading with plain csv/json, capture times, idempotent re-import, the CLI."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta

from envoywatch.importers.run import detect_format, import_paths
from tests.conftest import real_path, run_cli, table_snapshot

CT = ("fixtures", "crowdtangle")
SEARCH = "2021-07-05-22-49-20-BRT-search-csv-export.csv"
HISTORY = "history_post_3758007754304128.csv"
LINKS = "links-api-response-example.json"
CAPTURED = datetime(2021, 10, 24, 0, 0, 0)
DATA_TABLES = ("accounts", "account_snapshots", "posts", "post_metrics", "post_urls", "post_hashtags",
               "post_mentions", "post_media", "account_follows")
REACTIONS = ("Likes", "Love", "Wow", "Haha", "Sad", "Angry", "Care")


def _search_rows():
    with open(real_path(*CT, SEARCH), encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_detection():
    assert detect_format(real_path(*CT, SEARCH)).name == "crowdtangle-search-csv"
    assert detect_format(real_path(*CT, HISTORY)).name == "crowdtangle-history-csv"
    assert detect_format(real_path(*CT, LINKS)).name == "crowdtangle-api-json"


def test_counts_metrics_and_platform_equal_an_independent_reading(store):
    results = import_paths(store, [real_path(*CT)], captured_at=None)
    assert [r.status for r in results] == ["done", "done", "done"] and sum(r.rejects for r in results) == 0
    assert {r[0] for r in store.con.execute("SELECT DISTINCT platform FROM posts").fetchall()} == {"facebook"}
    assert {r[0] for r in store.con.execute("SELECT DISTINCT platform FROM accounts").fetchall()} == {"facebook"}

    rows = _search_rows()
    search_posts = {re.search(r"/posts/(\d+)", r["URL"]).group(1): r for r in rows}
    with open(real_path(*CT, HISTORY), encoding="utf-8-sig", newline="") as fh:
        hist = list(csv.reader(fh))
    hist_post = hist[1][0].strip()
    hist_page = hist[0][-1].split("facebook.com/")[1].split("/")[0]
    api = json.loads(real_path(*CT, LINKS).read_text(encoding="utf-8"))
    api_post = api["platformId"].split("_")[1]
    want_posts = set(search_posts) | {hist_post, api_post}
    want_accounts = {r["Facebook Id"] for r in rows} | {hist_page, api["account"]["platformId"]}
    assert {r[0] for r in store.con.execute("SELECT post_id FROM posts").fetchall()} == want_posts
    assert len(want_posts) == 12
    assert {r[0] for r in store.con.execute("SELECT account_id FROM accounts").fetchall()} == want_accounts
    assert set(store.con.execute("SELECT DISTINCT kind FROM posts").fetchall()) == {("post",)}

    # search export: counts at the export time in the file name (22:49:20 BRT = 01:49:20 UTC next day)
    exported = datetime(2021, 7, 6, 1, 49, 20)
    for pid, r in search_posts.items():
        got = store.con.execute("SELECT captured_at, likes, reposts, replies FROM post_metrics WHERE post_id = ?", [pid]).fetchall()
        assert got == [(exported, sum(int(r[c]) for c in REACTIONS), int(r["Shares"]), int(r["Comments"]))]
        created = datetime.strptime(r["Post Created"][:19], "%Y-%m-%d %H:%M:%S") + timedelta(hours=3)
        assert store.scalar("SELECT created_at FROM posts WHERE post_id = ?", [pid]) == created
        assert store.con.execute("SELECT followers FROM account_snapshots WHERE account_id = ? AND captured_at = ?",
                                 [r["Facebook Id"], created]).fetchall() == [(int(r["Followers at Posting"]),)]
    # history: one snapshot per row at its Score Date
    got = store.con.execute("SELECT captured_at, likes, replies, reposts FROM post_metrics WHERE post_id = ? ORDER BY 1",
                            [hist_post]).fetchall()
    want = sorted((datetime.fromisoformat(h[1]), int(h[21]), int(h[5]), int(h[7])) for h in hist[1:] if h)
    assert hist[0][21] == "Reactions" and got == want and len(got) == 7
    # API: statistics.actual at `updated`
    assert store.con.execute("SELECT captured_at, replies FROM post_metrics WHERE post_id = ?", [api_post]).fetchall() == [
        (datetime(2021, 10, 23, 5, 56, 26), api["statistics"]["actual"]["commentCount"])]


def test_hashtags_and_links_checked_independently(store):
    import_paths(store, [real_path(*CT)])
    rows = _search_rows()
    want = {(re.search(r"/posts/(\d+)", r["URL"]).group(1), t.lower())
            for r in rows for t in re.findall(r"#(\w+)", r["Message"])}
    assert set(store.con.execute("SELECT post_id, tag_norm FROM post_hashtags").fetchall()) == want
    assert len(want) == 13
    api = json.loads(real_path(*CT, LINKS).read_text(encoding="utf-8"))
    got = store.con.execute("SELECT url, domain FROM post_urls WHERE post_id = ?", [api["platformId"].split("_")[1]]).fetchall()
    assert got == [(api["expandedLinks"][0]["original"], "uol.com.br")]
    # Spotify link in a message; photo/video posts' own facebook.com links are media, not links
    msg_links = {(re.search(r"/posts/(\d+)", r["URL"]).group(1), u) for r in rows for u in re.findall(r"https?://\S+", r["Message"])}
    rows_links = set(store.con.execute("SELECT post_id, url FROM post_urls").fetchall()) - {(api["platformId"].split("_")[1], got[0][0])}
    assert rows_links == msg_links and len(msg_links) == 1
    assert store.count("post_media") == 11


def test_reimport_changes_nothing(store):
    import_paths(store, [real_path(*CT)], captured_at=CAPTURED)
    before = table_snapshot(store)
    import_paths(store, [real_path(*CT)], captured_at=CAPTURED, force=True)
    after = table_snapshot(store)
    for t in DATA_TABLES:
        assert after[t] == before[t], t


def test_cli_import(db_path):
    proc = run_cli("import", str(real_path(*CT)), db=db_path)
    assert proc.returncode == 0, proc.stderr
    from envoywatch.store import Store

    s = Store(db_path)
    try:
        assert s.count("posts") == 12 and s.scalar("SELECT count(*) FROM rejects") == 0
    finally:
        s.close()
