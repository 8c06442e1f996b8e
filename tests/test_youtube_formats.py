"""The youtube-api-json archive format on the recorded responses (tests/data/youtube_api, made by us):
detection, counts equal to a plain-json reading, no rejects, idempotent re-import, JSON lines, the raw
archive's pages, skipped playlist listings, a bad item set aside."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from envoywatch.importers.run import detect_format, import_paths
from tests.conftest import table_snapshot

DATA = Path(__file__).parent / "data" / "youtube_api"
CAPTURED = datetime(2025, 11, 21, 12, 0, 0)


def _items(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text()).get("items") or []


def test_detection():
    for name in ("videos_page1.json", "channels_forHandle_examplelandtv.json", "playlistItems_page1.json"):
        assert detect_format(DATA / name).name == "youtube-api-json", name


def test_videos_and_channels_import_with_counts_from_plain_json(store):
    files = [DATA / "videos_page1.json", DATA / "videos_page2.json", DATA / "channels_forHandle_examplelandtv.json"]
    res = import_paths(store, files, captured_at=CAPTURED)
    assert [r.status for r in res] == ["done", "done", "done"], [(r.status, r.note) for r in res]
    videos = _items("videos_page1.json") + _items("videos_page2.json")
    assert store.count("posts") == len(videos) and store.count("rejects") == 0
    assert store.count("post_metrics") == sum(1 for v in videos if v.get("statistics"))
    views = dict(store.con.execute("SELECT post_id, views FROM post_metrics").fetchall())
    assert views == {v["id"]: int(v["statistics"]["viewCount"]) for v in videos}
    ch = _items("channels_forHandle_examplelandtv.json")[0]
    snap = store.con.execute("SELECT account_id, captured_at, followers, posts_count FROM account_snapshots").fetchall()
    assert snap == [(ch["id"], CAPTURED, int(ch["statistics"]["subscriberCount"]), int(ch["statistics"]["videoCount"]))]
    assert store.scalar("SELECT handle FROM accounts") == ch["snippet"]["customUrl"].lstrip("@")
    assert store.count("accounts") == 1  # the videos' channel is the same account
    text = [v["snippet"]["title"] + " " + v["snippet"]["description"] for v in videos]
    expected_links = sum(len(set(re.findall(r"https?://[^\s<>\"']+", t))) for t in text)
    assert store.count("post_urls") == expected_links
    before = table_snapshot(store)
    import_paths(store, files, captured_at=CAPTURED, force=True)  # same data again: nothing changes
    after = table_snapshot(store)
    assert {t: r for t, r in after.items() if t not in ("import_batches",)} == \
        {t: r for t, r in before.items() if t not in ("import_batches",)}


def test_playlist_listing_is_skipped_not_rejected(store):
    res = import_paths(store, [DATA / "playlistItems_page1.json"])
    assert res[0].status == "skipped" and "video ids" in (res[0].note or "")
    assert store.count("posts") == 0 and store.count("rejects") == 0


def test_json_lines_and_a_bad_item(store, tmp_path):
    page1 = json.loads((DATA / "videos_page1.json").read_text())
    page2 = json.loads((DATA / "videos_page2.json").read_text())
    del page2["items"][0]["snippet"]           # a video without its snippet: set aside, the rest lands
    f = tmp_path / "saved_pages.jsonl"
    f.write_text(json.dumps(page1) + "\n" + json.dumps(page2) + "\n")
    assert detect_format(f).name == "youtube-api-json"
    res = import_paths(store, [f], skip_bad=True)
    assert store.count("posts") == len(page1["items"]) + len(page2["items"]) - 1
    assert store.count("rejects") == 1 and "without snippet" in store.scalar("SELECT reason FROM rejects")
    assert res[0].rejects == 1
