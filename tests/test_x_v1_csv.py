"""X v1.1 tweet objects as CSV rows with Python-dict cells (state_media/covid_state_vs_western)."""

from __future__ import annotations

import ast
import csv
from datetime import datetime

import pytest

from envoywatch.importers.run import import_paths
from envoywatch.schema import DATA_TABLES
from tests.conftest import real_path, table_snapshot

CAP = datetime(2020, 10, 22)
FILES = ["XHN_SeptOct2020.csv", "BBC_SeptOct2020.csv"]


def _q(store, sql, params=None):
    return store.con.execute(sql, params or []).fetchall()


def expected(path) -> dict:
    """Independent reading with csv + ast.literal_eval (first row of a repeated id wins, as in the store)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    primary: dict[str, dict] = {}
    for r in rows:
        primary.setdefault(r["id_str"], r)
    referenced = {}
    users = set()
    tags = urls = reposts = replies = 0
    for pid, r in primary.items():
        users.add(ast.literal_eval(r["user"])["id_str"])
        ext = ast.literal_eval(r["extended_tweet"]) if r.get("extended_tweet") else {}
        ent = ext.get("entities") or ast.literal_eval(r["entities"])
        tags += len({h["text"].casefold() for h in ent["hashtags"]})
        urls += len(ent["urls"])
        if r.get("retweeted_status"):
            reposts += 1
            rt = ast.literal_eval(r["retweeted_status"])
            users.add(rt["user"]["id_str"])
            if rt["id_str"] not in primary and rt["id_str"] not in referenced:
                referenced[rt["id_str"]] = rt
                rext = rt.get("extended_tweet") or {}
                rent = rext.get("entities") or rt["entities"]
                tags += len({h["text"].casefold() for h in rent["hashtags"]})
                urls += len(rent["urls"])
        elif r["in_reply_to_status_id"]:
            replies += 1
    return {"primary": primary, "referenced": referenced, "users": users, "tags": tags, "urls": urls,
            "reposts": reposts, "replies": replies, "rows": len(rows)}


@pytest.mark.parametrize("name", FILES)
def test_real_file_exact_counts(store, name):
    p = real_path("state_media", "covid_state_vs_western", name)
    exp = expected(p)
    res = import_paths(store, [p], captured_at=CAP)
    assert res[0].format == "x-v1-csv" and res[0].detected and res[0].rejects == 0
    assert res[0].records == exp["rows"]
    assert dict(_q(store, "SELECT observed, count(*) FROM posts GROUP BY 1")) == \
        {k: v for k, v in {"primary": len(exp["primary"]), "referenced": len(exp["referenced"])}.items() if v}
    assert {r[0] for r in _q(store, "SELECT post_id FROM posts WHERE observed = 'primary'")} == set(exp["primary"])
    assert store.count("accounts") == len(exp["users"])
    kinds = dict(_q(store, "SELECT kind, count(*) FROM posts WHERE observed = 'primary' GROUP BY 1"))
    assert kinds.get("repost", 0) == exp["reposts"] and kinds.get("reply", 0) == exp["replies"]
    assert store.count("post_hashtags") == exp["tags"]
    assert store.count("post_urls") == exp["urls"]
    pid, r = next(iter(exp["primary"].items()))
    user = ast.literal_eval(r["user"])
    ext = ast.literal_eval(r["extended_tweet"]) if r["extended_tweet"] else {}
    got = _q(store, "SELECT account_id, text, client, created_at, url FROM posts WHERE post_id = ?", [pid])[0]
    assert got[0] == user["id_str"] and got[1] == (ext.get("full_text") or r["text"])
    assert got[2] and "<" not in got[2]
    assert got[3] == datetime.strptime(r["created_at"], "%a %b %d %H:%M:%S %z %Y").replace(tzinfo=None)
    assert got[4] == f"https://x.com/{user['screen_name']}/status/{pid}"
    snap = _q(store, "SELECT followers, captured_at FROM account_snapshots WHERE account_id = ?", [user["id_str"]])
    assert snap == [(user["followers_count"], CAP)]


def test_lossy_float_reply_ids_are_dropped_not_stored_wrong(store):
    p = real_path("state_media", "covid_state_vs_western", "BBC_SeptOct2020.csv")
    import_paths(store, [p], captured_at=CAP)
    rows = _q(store, "SELECT ref_post_id, reply_to_post_id, reply_to_account_id FROM posts "
                     "WHERE kind = 'reply' AND observed = 'primary'")
    assert rows
    for ref, reply_to, reply_user in rows:
        assert ref is None and reply_to is None  # '1.3108435642099753e+18' lost its last digits
        assert reply_user is None or reply_user.isdigit()  # '742143.0' is exact: kept as 742143


def test_reimport_changes_nothing(store):
    p = real_path("state_media", "covid_state_vs_western", "XHN_SeptOct2020.csv")
    import_paths(store, [p], captured_at=CAP)
    before = table_snapshot(store)
    assert import_paths(store, [p], captured_at=CAP)[0].status == "already_imported"
    assert table_snapshot(store) == before
    import_paths(store, [p], captured_at=CAP, force=True)
    after = table_snapshot(store)
    for t in DATA_TABLES:
        assert after[t.name] == before[t.name], t.name


def test_code_in_a_cell_is_never_evaluated(store, tmp_path):
    p = tmp_path / "evil.csv"
    marker = tmp_path / "pwned"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["created_at", "id", "id_str", "text", "user", "entities"])
        w.writerow(["Wed Oct 21 21:43:25 +0000 2020", "1", "1", "ok",
                    "{'id_str': '5', 'screen_name': 'a', 'followers_count': 1}", "{'hashtags': []}"])
        w.writerow(["Wed Oct 21 21:43:25 +0000 2020", "2", "2", "bad",
                    f"__import__('pathlib').Path('{marker}').touch()", "{}"])
        w.writerow(["Wed Oct 21 21:43:25 +0000 2020", "3", "3", "bad",
                    f"{{'id_str': __import__('pathlib').Path('{marker}').touch()}}", "{}"])
    res = import_paths(store, [p], skip_bad=True, captured_at=CAP)
    assert not marker.exists()
    assert res[0].rejects == 2 and store.count("posts") == 1
    assert [r[0] for r in _q(store, "SELECT line FROM rejects ORDER BY 1")] == [3, 4]


def test_pure_function_matches_v1_shape():
    from envoywatch.importers.x_v1_csv import status_bundle

    row = {"created_at": "Wed Oct 21 21:43:25 +0000 2020", "id": "10", "id_str": "10", "text": "RT @b: hi",
           "source": '<a href="http://x" rel="nofollow">App</a>', "user": "{'id': 5, 'id_str': '5', 'screen_name': 'a'}",
           "entities": "{'hashtags': [{'text': 'T'}], 'urls': [], 'user_mentions': [{'screen_name': 'b', 'id_str': '6'}]}",
           "retweeted_status": "{'id_str': '9', 'created_at': 'Wed Oct 21 20:00:00 +0000 2020', 'text': 'hi', "
                               "'user': {'id_str': '6', 'screen_name': 'b'}, 'entities': {}}",
           "favorite_count": "0", "retweet_count": "4", "account": "BBC", "period": "SeptOct2020"}
    b = status_bundle(row, CAP)
    posts = {p["post_id"]: p for p in b.rows["posts"]}
    assert posts["10"]["kind"] == "repost" and posts["10"]["ref_post_id"] == "9" and posts["10"]["ref_account_id"] == "6"
    assert posts["10"]["client"] == "App" and posts["9"]["observed"] == "referenced"
    assert b.rows["post_mentions"][0]["account_id"] == "6"
    assert b.rows["post_metrics"][0]["reposts"] == 4
