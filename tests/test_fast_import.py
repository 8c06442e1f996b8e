"""The columnar fast readers (takedown-tweets, x-v2-flat) give exactly the store the record-by-record readers
give: every data table compared row for row, on generated files with every shape the readers handle, on the
real twarc flat file, and on files where the fast reader must give up (it falls back, same result)."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import orjson
import pytest

from envoywatch.importers.base import FORMATS, UseSlowPath, load_formats
from envoywatch.importers.run import import_paths
from envoywatch.schema import DATA_TABLES
from envoywatch.store import Store
from tests.conftest import real_path, table_snapshot
from tests.test_takedown import write_tweets

TWARC = ("fixtures", "twitter_api_v2_twarc")
CAP = datetime(2024, 3, 1, 12, 0)
_TIMING = ("started_at", "finished_at")


def _import(tmp_path, name, path, fmt, fast: bool, skip_bad=False, fell_back=None):
    """Import `path` into a fresh store, with or without the fast reader; returns (snapshot, result, fell_back)."""
    load_formats()
    spec = FORMATS[fmt]
    saved = spec.fast_read
    fell_back = [] if fell_back is None else fell_back
    if fast:
        def spy(source, _f=saved):
            try:
                yield from _f(source)
            except UseSlowPath as why:
                fell_back.append(str(why))
                raise
        spec.fast_read = spy
    else:
        spec.fast_read = None
    try:
        with Store(tmp_path / f"{name}.duckdb") as s:
            res = import_paths(s, [path], fmt=fmt, skip_bad=skip_bad, captured_at=CAP)
            snap = table_snapshot(s)
            cols = [r[0] for r in s.con.execute("SELECT name FROM pragma_table_info('import_batches')").fetchall()]
    finally:
        spec.fast_read = saved
    keep = [i for i, c in enumerate(cols) if c not in _TIMING]
    snap["import_batches"] = [tuple(r[i] for i in keep) for r in snap["import_batches"]]
    return snap, res[0], fell_back


def _assert_same(tmp_path, path, fmt, expect_fast=True, skip_bad=False):
    fast, rf, fell = _import(tmp_path, "fast", path, fmt, True, skip_bad)
    slow, rs, _ = _import(tmp_path, "slow", path, fmt, False, skip_bad)
    if expect_fast is not None:
        assert (not fell) == expect_fast, f"fast path {'gave up: ' + '; '.join(fell) if fell else 'was taken'}"
    for t in [t.name for t in DATA_TABLES] + ["import_batches", "rejects"]:
        assert fast[t] == slow[t], f"table {t} differs between the fast and the record-by-record reader"
    assert (rf.records, rf.rejects, rf.new_posts, rf.new_accounts, rf.status) == \
           (rs.records, rs.rejects, rs.new_posts, rs.new_accounts, rs.status)
    return fast, fell


# --- takedown tweets ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_takedown_generated_same_store(tmp_path, seed):
    f = tmp_path / "op_0101_tweets_csv_hashed.csv"
    write_tweets(f, 700, seed=seed)
    snap, _ = _assert_same(tmp_path, f, "takedown-tweets")
    assert snap["posts"] and snap["post_urls"] and snap["post_hashtags"] and snap["post_mentions"]


def test_takedown_synth_same_store(tmp_path):
    from envoywatch.util.synth import write_takedown_csv

    f = tmp_path / "synth_tweets_csv_hashed.csv"
    write_takedown_csv(f, 3000, seed=5)
    _assert_same(tmp_path, f, "takedown-tweets")


def test_takedown_lf_line_ends_and_unicode(tmp_path):
    f = tmp_path / "lf_tweets_csv_hashed.csv"
    write_tweets(f, 300, seed=9)
    f.write_bytes(f.read_bytes().replace(b"\r\n", b"\n"))
    _assert_same(tmp_path, f, "takedown-tweets")


@pytest.mark.parametrize("damage", ["bad_time", "short_row", "bad_int", "lone_cr", "bad_utf8", "bad_utf8_unused",
                                    "dup_id", "nul"])
def test_takedown_unusual_rows_fall_back(tmp_path, damage):
    f = tmp_path / "bad_tweets_csv_hashed.csv"
    write_tweets(f, 200, seed=4)
    lines = f.read_bytes().split(b"\r\n")
    i = next(k for k in range(60, 120) if lines[k].startswith(b"11000") and lines[k].count(b",") > 25)
    if damage == "bad_time":
        lines[i] = lines[i].replace(b",2019-0", b",20x9-0", 1)
    elif damage == "short_row":
        lines[i] = b"1,2,3"
    elif damage == "bad_int":
        lines[i] = re.sub(rb",absent,absent,[0-9]+,", b",absent,absent,1.5,", lines[i], count=1)
    elif damage == "lone_cr":
        lines[i] = lines[i].replace(b"Twitter Web Client", b"Twitter\rWeb", 1)
    elif damage == "bad_utf8":
        lines[i] = lines[i].replace(b"Twitter Web Client", b"Twitter \xff Client", 1)
    elif damage == "bad_utf8_unused":  # in a column the reader does not use (latitude)
        lines[i] = lines[i].replace(b",absent,", b",ab\xffsent,", 1)
    elif damage == "nul":
        lines[i] = lines[i].replace(b"Twitter Web Client", b"Twitter\x00Web", 1)
    elif damage == "dup_id":
        lines[i + 1] = lines[i]
    f.write_bytes(b"\r\n".join(lines))
    # without --skip-bad the fast path gives up and the slow path decides (it may reject: same error);
    # with --skip-bad both use the exact reader, so compare the rejects too
    fast_fell = _fallback_or_same(tmp_path, f, "takedown-tweets")
    assert fast_fell
    _assert_same(tmp_path / "sb", f, "takedown-tweets", expect_fast=None, skip_bad=True)


def _fallback_or_same(tmp_path, f, fmt):
    """Import with the fast path enabled and disabled: both succeed with the same store, or both fail with
    the same error. Returns whether the fast path gave up."""
    outcomes = []
    fell = []
    for fast in (True, False):
        d = tmp_path / ("f" if fast else "s")
        d.mkdir(parents=True, exist_ok=True)
        try:
            snap, res, _ = _import(d, "x", f, fmt, fast, fell_back=fell)
            outcomes.append(("ok", snap, res.records, res.rejects))
        except Exception as exc:  # the record-by-record reader's error (e.g. a reject without --skip-bad)
            outcomes.append(("error", type(exc).__name__, str(exc)))
    assert outcomes[0] == outcomes[1]
    return bool(fell)


# --- flattened X v2 --------------------------------------------------------------------------------

def _user(uid: int, rnd: random.Random, full=True) -> dict:
    u = {"id": str(uid), "username": f"synthetic_{uid}", "name": f"Synthétique {uid} ✓"}
    if full:
        u.update({"created_at": "2015-05-01T10:00:00.000Z", "description": rnd.choice(["", "bio #tag", "Журналист"]),
                  "protected": False, "verified": rnd.random() < 0.3, "profile_image_url": f"https://pbs.twimg.com/{uid}.jpg",
                  "url": rnd.choice(["", "https://t.co/u"]),
                  "public_metrics": {"followers_count": uid % 997, "following_count": 3, "tweet_count": 10, "listed_count": 0}})
        if rnd.random() < 0.3:
            u["location"] = "Genève"
        if rnd.random() < 0.3:
            u["entities"] = {"url": {"urls": [{"start": 0, "end": 23, "url": "https://t.co/u",
                                               "expanded_url": rnd.choice(["https://example.org/me", ""])}]}}
        if rnd.random() < 0.2:
            u["verified_type"] = rnd.choice(["blue", "government", ""])
    return u


def _tweet(i: int, seed: int, depth: int, retrieved: str) -> dict:
    """Tweet i, the same object wherever it is inlined (up to its own references)."""
    rnd = random.Random(i * 1_000_003 + seed)
    uid = 500 + rnd.randrange(40)
    tid = str(1_500_000_000_000_000_000 + i)
    created = (datetime(2022, 1, 1) + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    tags = rnd.sample(["China", "china", "香港", "News", "Ünïcode"], rnd.randrange(4))
    urls = []
    for k in range(rnd.randrange(4)):
        u = {"start": k, "end": k + 1, "url": f"https://t.co/x{i % 17}{k}"}
        if rnd.random() < 0.8:
            u["expanded_url"] = rnd.choice([f"https://www.cgtn.com/n/{i % 7}?utm_source=tw", "https://m.example.org/a/",
                                            "http://bit.ly/abc", ""])
        if rnd.random() < 0.1:
            u["url"] = ""
        urls.append(u)
    mentions = []
    for k in range(rnd.randrange(4)):
        mu = 500 + rnd.randrange(60)
        r = rnd.random()
        if r < 0.5:
            m = dict(_user(mu, rnd, full=rnd.random() < 0.7))  # inlined by flatten
        elif r < 0.8:
            m = {"username": f"Synthetic_{mu}".upper() if k % 2 else f"synthetic_{mu}", "id": str(mu)}  # not inlined
        else:
            m = {"username": f"gone_{mu}"}  # no id
        m.update({"start": k, "end": k + 3})
        mentions.append(m)
    t = {"id": tid, "author_id": str(uid), "created_at": created, "conversation_id": tid, "lang": rnd.choice(["en", "zh", "und"]),
         "text": f"synthetic tweet {i} “quoted” ✓ #{' #'.join(tags)}", "source": rnd.choice(["Twitter Web App", "Hootsuite"]),
         "author": _user(uid, rnd), "public_metrics": {"retweet_count": i % 5, "reply_count": 1, "like_count": i % 11,
                                                        "quote_count": 0},
         "entities": {"hashtags": [{"start": 0, "end": 1, "tag": x} for x in tags] + ([{"tag": ""}] if i % 13 == 0 else []),
                      "urls": urls, "mentions": mentions}}
    if rnd.random() < 0.15:
        t["public_metrics"]["impression_count"] = 100 + i
    if rnd.random() < 0.1:
        t["note_tweet"] = {"text": f"a long note tweet {i} " * 3,
                           "entities": {"hashtags": [{"start": 0, "end": 3, "tag": "Note"}]} if i % 2 else {"cashtags": [{"start": 1, "end": 2, "tag": "X"}]}}
    if rnd.random() < 0.15:
        t["attachments"] = {"media_keys": ["3_1"], "media": [
            {"media_key": f"3_{i}", "type": "photo", "url": f"https://pbs.twimg.com/media/{i}.jpg"},
            {"media_key": f"7_{i}", "type": "video", "preview_image_url": f"https://pbs.twimg.com/p/{i}.jpg",
             "alt_text": "Ünïcode alt"}]}
    if depth < 2:
        r = rnd.random()
        refs = []
        if r < 0.25:
            refs = [("retweeted", i - 1 - rnd.randrange(30))]
        elif r < 0.45:
            refs = [("quoted", i - 1 - rnd.randrange(30))]
        elif r < 0.65:
            refs = [("replied_to", i - 1 - rnd.randrange(30))]
        elif r < 0.75:
            refs = [("replied_to", i - 2), ("quoted", i - 5)]
        if refs:
            t["referenced_tweets"] = []
            for typ, j in refs:
                if rnd.random() < 0.3:
                    j += 9_000_000  # a tweet that is not in the file: stored as 'referenced'
                if rnd.random() < 0.8:  # inlined (flatten): the referenced tweet itself
                    rt = _tweet(max(j, 0), seed, depth + 1, retrieved)
                else:
                    rt = {"id": str(1_500_000_000_000_000_000 + max(j, 0))}
                rt["type"] = typ
                t["referenced_tweets"].append(rt)
            if any(typ == "replied_to" for typ, _ in refs):
                t["in_reply_to_user_id"] = str(500 + rnd.randrange(40))
                if rnd.random() < 0.7:
                    t["in_reply_to_user"] = _user(int(t["in_reply_to_user_id"]), rnd)
    else:
        t["referenced_tweets"] = [{"type": "quoted", "id": "1"}] if rnd.random() < 0.3 else []
    if depth == 0:
        t["__twarc"] = {"url": "https://api.twitter.com/2/tweets/search/all", "version": "2.14.0",
                        "retrieved_at": retrieved}
    return t


def write_rich_flat(path, n: int, seed: int) -> None:
    with open(path, "wb") as fh:
        for i in range(n):
            retrieved = ["2023-05-01T00:00:00+00:00", "2023-05-02T10:00:00+00:00", "2023-05-02T10:00:00Z"][(i // 150) % 3]
            t = _tweet(i, seed, 0, retrieved)
            if i % 50 == 7:
                del t["__twarc"]
            fh.write(orjson.dumps(t) + b"\n")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flat_generated_same_store(tmp_path, seed):
    f = tmp_path / "rich.jsonl"
    write_rich_flat(f, 600, seed)
    snap, _ = _assert_same(tmp_path, f, "x-v2-flat")
    assert {r[-2] for r in snap["posts"]} == {"primary", "referenced"}  # observed
    assert snap["post_urls"] and snap["post_hashtags"] and snap["post_mentions"] and snap["post_media"]


def test_flat_synth_same_store(tmp_path):
    from envoywatch.util.synth import write_flat_v2

    f = tmp_path / "synth.jsonl"
    write_flat_v2(f, 3000, seed=11)
    _assert_same(tmp_path, f, "x-v2-flat")


def test_flat_real_file_takes_the_fast_path(tmp_path):
    _assert_same(tmp_path, real_path(*TWARC, "flat.jsonl"), "x-v2-flat", expect_fast=True)


def test_flat_real_twarc_files_share_taking_the_fast_path(tmp_path):
    """Every real twarc file detected as x-v2-flat: same store either way; report how many take the fast path."""
    from envoywatch.importers.run import detect_format

    folder = real_path(*TWARC)
    files = [f for f in sorted(folder.iterdir()) if detect_format(f).name == "x-v2-flat"]
    fast = 0
    for k, f in enumerate(files):
        d = tmp_path / str(k)
        d.mkdir()
        _, fell = _assert_same(d, f, "x-v2-flat", expect_fast=None)
        fast += not fell
    print(f"real x-v2-flat files taking the fast path: {fast}/{len(files)}")
    assert files and fast == len(files)


@pytest.mark.parametrize("damage", ["not_json", "bad_utf8", "blank_line", "no_created_at", "name_null",
                                    "string_count", "empty_metrics", "deep_inline", "trailing_comma",
                                    "nan_unread_field", "bad_utf8_unread_field", "number_id", "float_count"])
def test_flat_bad_line_falls_back(tmp_path, damage):
    f = tmp_path / "bad.jsonl"
    write_rich_flat(f, 300, 5)
    lines = f.read_bytes().split(b"\n")
    i = 150
    obj = orjson.loads(lines[i])
    if damage == "not_json":
        lines[i] = lines[i][:40]
    elif damage == "bad_utf8":
        lines[i] = lines[i].replace(b"synthetic tweet", b"synthetic \xff tweet", 1)
    elif damage == "blank_line":
        lines[i] = b"   "
    elif damage == "no_created_at":
        del obj["created_at"]
        lines[i] = orjson.dumps(obj)
    elif damage == "name_null":
        obj["entities"]["mentions"] = [{"id": "77", "username": "x", "name": None}]
        lines[i] = orjson.dumps(obj)
    elif damage == "string_count":
        obj["public_metrics"]["like_count"] = "12"
        lines[i] = orjson.dumps(obj)
    elif damage == "empty_metrics":
        obj["public_metrics"] = {}
        lines[i] = orjson.dumps(obj)
    elif damage == "trailing_comma":  # DuckDB's reader accepts it, orjson (the record-by-record reader) does not
        lines[i] = lines[i][:-1] + b", }"
    elif damage == "nan_unread_field":
        lines[i] = lines[i][:-1] + b', "extra": NaN}'
    elif damage == "bad_utf8_unread_field":
        lines[i] = lines[i][:-1] + b', "extra": "\xc3("}'
    elif damage == "number_id":  # DuckDB would read 12 as '12' for a text field
        obj["id"] = 12
        lines[i] = orjson.dumps(obj)
    elif damage == "float_count":  # ... and round 2.5 for a count
        obj["public_metrics"]["like_count"] = 2.5
        lines[i] = orjson.dumps(obj)
    elif damage == "deep_inline":
        obj["referenced_tweets"] = [{"type": "quoted", "id": "9", "author_id": "1", "created_at": "2022-01-01T00:00:00.000Z",
                                     "referenced_tweets": [{"type": "quoted", "id": "8", "author_id": "1",
                                                            "created_at": "2022-01-01T00:00:00.000Z",
                                                            "referenced_tweets": [{"type": "quoted", "id": "7", "author_id": "1",
                                                                                   "created_at": "2022-01-01T00:00:00.000Z"}]}]}]
        lines[i] = orjson.dumps(obj)
    f.write_bytes(b"\n".join(lines))
    assert _fallback_or_same(tmp_path, f, "x-v2-flat")
    if damage not in ("string_count", "number_id", "float_count"):
        # those stop the record-by-record reader too (a StoreError, not a reject)
        _assert_same(tmp_path / "sb", f, "x-v2-flat", expect_fast=None, skip_bad=True)


def test_flat_chunks_and_reimport(tmp_path, monkeypatch):
    """Small chunks: rows of one user / post spread over several ArrowBatches merge as the slow path's do."""
    from envoywatch.platforms.x import flat_fast

    monkeypatch.setattr(flat_fast, "CHUNK_BYTES", 20_000)
    f = tmp_path / "rich.jsonl"
    write_rich_flat(f, 400, 8)
    _assert_same(tmp_path, f, "x-v2-flat")


def test_takedown_small_chunks(tmp_path, monkeypatch):
    """Chunks cut between rows, never inside a quoted multi-line field; users once per file across chunks."""
    from envoywatch.importers import takedown_fast

    monkeypatch.setattr(takedown_fast, "CHUNK_BYTES", 4_000)
    f = tmp_path / "small_tweets_csv_hashed.csv"
    write_tweets(f, 500, seed=12)
    _assert_same(tmp_path, f, "takedown-tweets")


def test_takedown_stray_quote_falls_back_or_agrees(tmp_path, monkeypatch):
    """A quote inside an unquoted field (Python's csv keeps it) upsets the row-boundary count: the fast reader
    either reads the chunk as Python does or gives up; the store is the same."""
    from envoywatch.importers import takedown_fast

    monkeypatch.setattr(takedown_fast, "CHUNK_BYTES", 4_000)
    f = tmp_path / "stray_tweets_csv_hashed.csv"
    write_tweets(f, 300, seed=13)
    f.write_bytes(f.read_bytes().replace(b",Twitter Web Client,", b',Twitter "Web Client,', 3))
    _fallback_or_same(tmp_path, f, "takedown-tweets")
