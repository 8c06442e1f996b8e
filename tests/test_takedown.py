"""Takedown (X transparency) CSVs: generated tweets files and the real users file, counted independently."""

from __future__ import annotations

import ast
import csv
import random
from datetime import datetime

import pytest

from envoywatch.importers.run import import_paths
from envoywatch.schema import DATA_TABLES
from tests.conftest import real_path, run_cli, table_snapshot

COLS = ("tweetid userid user_display_name user_screen_name user_reported_location user_profile_description "
        "user_profile_url follower_count following_count account_creation_date account_language tweet_language "
        "tweet_text tweet_time tweet_client_name in_reply_to_userid in_reply_to_tweetid quoted_tweet_tweetid "
        "is_retweet retweet_userid retweet_tweetid latitude longitude quote_count reply_count like_count "
        "retweet_count hashtags urls user_mentions").split()
CAP = datetime(2019, 8, 19)


def _hashed(i: int) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(str(i).encode()).digest()).decode()  # like 'vMm2zem...='


def write_tweets(path, n: int, seed: int = 7) -> None:
    """Realistic takedown rows: hashed and numeric ids, multi-line quoted text, both list styles."""
    rnd = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLS)
        for i in range(n):
            u = rnd.randrange(40)
            uid = _hashed(u) if u % 3 else str(900_000_000 + u)
            kind = rnd.choice(["post", "post", "rt", "reply", "quote"])
            tags = rnd.sample(["HongKong", "香港", "hongkong", "China", "news"], rnd.randrange(3))
            links = rnd.sample(["https://www.example.com/a?utm_source=x", "http://bit.ly/abc", "https://news.cn/x,y"],
                               rnd.randrange(3))
            quoted_style = rnd.random() < 0.5
            fmt = (lambda xs: "[" + ", ".join(f"'{x}'" for x in xs) + "]") if quoted_style else \
                  (lambda xs: "[" + ", ".join(xs) + "]")
            mentions = ["@someone", "@Other_1"][: rnd.randrange(3)]
            text = (f"RT @orig{u}: " if kind == "rt" else "") + f'line one, "quoted" {i}\nline two ' + \
                " ".join(mentions) + " " + " ".join("#" + t for t in tags)
            w.writerow([
                str(1_100_000_000_000_000_000 + i) if i % 4 else _hashed(10_000 + i), uid, f"名字 {u}", f"user_{u}",
                "Hong Kong" if u % 2 else "", "bio,\nwith lines" if u % 5 == 0 else "", "", str(u * 11), str(u),
                "2017-08-30", "zh-cn", rnd.choice(["en", "zh", "und"]), text,
                f"2019-0{1 + i % 8}-1{i % 10} 0{i % 10}:{i % 60:02d}", "Twitter Web Client",
                "123" if kind == "reply" else "", str(5_000 + i) if kind == "reply" else "",
                str(7_000 + i) if kind == "quote" else "", "True" if kind == "rt" else "False",
                str(800 + u) if kind == "rt" else "", str(6_000 + i) if kind == "rt" else "", "absent", "absent",
                str(i % 3), "0", str(i % 5), "1" if i % 7 == 0 else "0",
                fmt(tags) if tags or rnd.random() < 0.5 else "", fmt(links) if links else "[]",
                fmt([str(10 + k) for k in range(len(mentions))]),
            ])


def expected(path) -> dict:
    """Counts by plain csv reading (no envoywatch code)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def items(v):
        if v.startswith("['"):
            return ast.literal_eval(v)
        return [x for x in v[1:-1].split(", ") if x]

    return {
        "posts": len({r["tweetid"] for r in rows}),
        "accounts": len({r["userid"] for r in rows}),
        "reposts": sum(r["is_retweet"] == "True" for r in rows),
        "quotes": sum(r["is_retweet"] != "True" and bool(r["quoted_tweet_tweetid"]) for r in rows),
        "replies": sum(r["is_retweet"] != "True" and not r["quoted_tweet_tweetid"] and bool(r["in_reply_to_tweetid"])
                       for r in rows),
        "hashtags": sum(len({t.casefold() for t in items(r["hashtags"])}) for r in rows),
        "urls": sum(len(items(r["urls"])) for r in rows),
        "ids": {r["tweetid"] for r in rows}, "userids": {r["userid"] for r in rows},
        "rows": rows,
    }


def _q(store, sql):
    return store.con.execute(sql).fetchall()


def test_generated_tweets_exact_counts(store, tmp_path):
    p = tmp_path / "hk_082019_tweets_csv_hashed.csv"
    write_tweets(p, 600)
    exp = expected(p)
    res = import_paths(store, [p], captured_at=CAP)
    assert res[0].format == "takedown-tweets" and res[0].detected and res[0].rejects == 0
    assert res[0].records == 600
    assert store.count("posts") == exp["posts"]
    assert store.count("accounts") == exp["accounts"]
    kinds = dict(_q(store, "SELECT kind, count(*) FROM posts GROUP BY kind"))
    assert kinds.get("repost", 0) == exp["reposts"]
    assert kinds.get("quote", 0) == exp["quotes"]
    assert kinds.get("reply", 0) == exp["replies"]
    assert store.count("post_hashtags") == exp["hashtags"]
    assert store.count("post_urls") == exp["urls"]
    # hashed ids byte for byte, for posts and accounts
    assert {r[0] for r in _q(store, "SELECT post_id FROM posts")} == exp["ids"]
    assert {r[0] for r in _q(store, "SELECT account_id FROM accounts")} == exp["userids"]
    # multi-line quoted text survives as written
    first = exp["rows"][0]
    assert _q(store, f"SELECT text FROM posts WHERE post_id = '{first['tweetid']}'")[0][0] == first["tweet_text"]
    assert "\n" in first["tweet_text"]
    # takedown label, snapshots at the capture time, one per account and per post
    assert _q(store, "SELECT DISTINCT labels FROM accounts") == [(["takedown:hk_082019"],)]
    assert _q(store, "SELECT DISTINCT captured_at FROM account_snapshots") == [(CAP,)]
    assert store.count("account_snapshots") == exp["accounts"]
    assert store.count("post_metrics") == exp["posts"]
    rt = next(r for r in exp["rows"] if r["is_retweet"] == "True")
    assert _q(store, f"SELECT ref_post_id, ref_account_id FROM posts WHERE post_id = '{rt['tweetid']}'") == \
        [(rt["retweet_tweetid"], rt["retweet_userid"])]
    # mentions: handles from the text, ids from user_mentions when they pair up
    # (an RT's text also names the retweeted account: three handles, two ids, so none pair up there)
    m = dict(_q(store, "SELECT handle, list(DISTINCT account_id ORDER BY account_id) FILTER (WHERE account_id IS NOT NULL) "
                       "FROM post_mentions WHERE handle IN ('someone', 'Other_1') GROUP BY handle"))
    assert m == {"someone": ["10"], "Other_1": ["11"]}
    unpaired = _q(store, "SELECT count(*) FROM post_mentions m JOIN posts p USING (platform, post_id) "
                         "WHERE m.account_id IS NULL AND p.kind <> 'repost'")
    assert unpaired == [(0,)]


def test_reimport_changes_nothing(store, tmp_path):
    p = tmp_path / "x_tweets_csv_hashed.csv"
    write_tweets(p, 200, seed=3)
    import_paths(store, [p], captured_at=CAP)
    before = table_snapshot(store)
    res = import_paths(store, [p], captured_at=CAP)
    assert res[0].status == "already_imported"
    assert table_snapshot(store) == before
    res = import_paths(store, [p], captured_at=CAP, force=True)  # read again: the data tables stay equal
    after = table_snapshot(store)
    assert res[0].new_posts == 0 and res[0].new_accounts == 0
    for t in DATA_TABLES:
        assert after[t.name] == before[t.name], t.name


def test_bad_row_is_rejected_with_its_line(store, tmp_path):
    p = tmp_path / "bad_tweets_csv_hashed.csv"
    write_tweets(p, 5)
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[3][COLS.index("tweet_time")] = "yesterday"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    res = import_paths(store, [p], skip_bad=True)
    assert res[0].rejects == 1 and store.count("posts") == 4
    line, reason = _q(store, "SELECT line, reason FROM rejects")[0]
    # the physical line where the 4th data row starts (rows span lines)
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        starts = []
        prev = 0
        for _ in reader:
            starts.append(prev + 1)
            prev = reader.line_num
    assert line == starts[3] and "tweet_time" in reason
    assert lines  # the file was read back as text


def test_real_users_file(store):
    p = real_path("takedown", "china_082019_1_users_csv_hashed.csv")
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    res = import_paths(store, [p], captured_at=CAP)
    assert res[0].format == "takedown-users" and res[0].rejects == 0 and res[0].status == "done"
    ids = {r["userid"] for r in rows}
    assert store.count("accounts") == len(ids) == 744
    assert {r[0] for r in _q(store, "SELECT account_id FROM accounts")} == ids  # hashed ids byte for byte
    assert store.count("account_snapshots") == len(ids)
    assert store.count("posts") == 0
    r = next(r for r in rows if r["user_profile_description"])
    got = _q(store, "SELECT handle, description, lang, labels, created_at FROM accounts WHERE account_id = ?".replace(
        "?", "'" + r["userid"].replace("'", "''") + "'"))[0]
    assert got[0] == r["user_screen_name"] and got[1] == r["user_profile_description"]
    assert got[2] == r["account_language"] and got[3] == ["takedown:china_082019_1"]
    assert got[4] == datetime.fromisoformat(r["account_creation_date"])
    followers = {(a, f) for a, f in _q(store, "SELECT account_id, followers FROM account_snapshots")}
    assert followers == {(r["userid"], int(r["follower_count"])) for r in rows}
    before = table_snapshot(store)
    import_paths(store, [p], captured_at=CAP)
    assert table_snapshot(store) == before


def test_spotted_subset_is_skipped_with_reason(store):
    p = real_path("takedown", "spotted_validation_dataset.csv")
    res = import_paths(store, [p])
    assert res[0].format == "takedown-text-sample" and res[0].status == "skipped"
    assert "labelled text" in res[0].note and store.count("posts") == 0


def test_cli_detects_and_prints_format(tmp_path, db_path):
    p = tmp_path / "op_tweets_csv_hashed.csv"
    write_tweets(p, 50)
    out = run_cli("import", str(p), "--captured-at", "2019-08-19", db=db_path)
    assert out.returncode == 0, out.stderr
    assert "format takedown-tweets (detected)" in out.stdout and "50 records" in out.stdout


@pytest.mark.parametrize("cell,items", [("[a, b]", ["a", "b"]), ("['a', 'b']", ["a", "b"]), ("[]", []), ("", []),
                                        ('["x y"]', ["x y"]), ("[a,b]", ["a", "b"]),
                                        ("[https://a.b/c,d]", ["https://a.b/c,d"]),
                                        ("[https://a.b/c,d, http://e.f]", ["https://a.b/c,d", "http://e.f"])])
def test_split_cell(cell, items):
    from envoywatch.importers.takedown import split_cell

    assert split_cell(cell) == items


def test_operation_label():
    from envoywatch.importers.takedown import operation_label

    assert operation_label("china_082019_1_users_csv_hashed.csv") == "takedown:china_082019_1"
    assert operation_label("china_082019_1_tweets_csv_hashed.csv") == "takedown:china_082019_1"
    assert operation_label("custom.csv") == "takedown:custom"


def test_invalid_utf8_line_is_rejected_and_the_rest_imported(store, tmp_path):
    p = tmp_path / "enc_tweets_csv_hashed.csv"
    write_tweets(p, 300)
    data = p.read_bytes()
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    # corrupt the text of data row 200 (a row on its own line range)
    target = rows[200][COLS.index("tweetid")]
    i = data.index(target.encode())
    p.write_bytes(data[:i] + b"\xff\xfe" + data[i + len(target):])
    res = import_paths(store, [p], skip_bad=True)
    # as iter_csv_rows does: the undecodable line is one reject, the rest of its multi-line row another
    reasons = [r[0] for r in _q(store, "SELECT reason FROM rejects ORDER BY line")]
    assert any("UTF-8" in r for r in reasons) and len(reasons) <= 2
    assert store.count("posts") == 299
    assert target not in {r[0] for r in _q(store, "SELECT post_id FROM posts")}

