"""The generic importer with column maps: shipped maps on the real files (detected), user maps, errors."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime

import pytest

from envoywatch.errors import ImportFormatError
from envoywatch.importers.run import import_paths
from envoywatch.schema import DATA_TABLES
from tests.conftest import real_path, reference_path, run_cli, table_snapshot

CAP = datetime(2024, 1, 1)


def _q(store, sql, params=None):
    return store.con.execute(sql, params or []).fetchall()


def _kinds(store) -> Counter:
    return Counter(dict(_q(store, "SELECT kind, count(*) FROM posts GROUP BY kind")))


@pytest.mark.parametrize("name", ["dipromats2023_val_t3_en.json", "dipromats2023_train_t3_es.json"])
def test_dipromats_detected_exact(store, name):
    p = real_path("diplomats", name)
    recs = json.loads(p.read_text(encoding="utf-8"))
    res = import_paths(store, [p], captured_at=CAP)
    assert res[0].format == "dipromats-json" and res[0].detected and res[0].rejects == 0
    assert store.count("posts") == len({r["tweet_id"] for r in recs})
    assert store.count("accounts") == len({r["user_name"] for r in recs})
    types = Counter(r["tweet_type"] for r in recs)
    k = _kinds(store)
    assert k["repost"] == types["Retweet"] and k["quote"] == types["quoted"] and k["reply"] == types["Reply"]
    assert k["post"] == types["Tweet"]
    assert {r[0] for r in _q(store, "SELECT post_id FROM posts")} == {str(r["tweet_id"]) for r in recs}
    r = recs[0]
    got = _q(store, "SELECT account_id, text, lang, created_at FROM posts WHERE post_id = ?", [str(r["tweet_id"])])[0]
    assert got[:3] == (r["user_name"], r["text"], r["language"])
    assert got[3] == datetime.fromisoformat(r["UTC"]).replace(tzinfo=None)
    # links and tags come from the text: every stored tag is in its post's text
    for pid, tag in _q(store, "SELECT post_id, tag FROM post_hashtags LIMIT 50"):
        assert "#" + tag in _q(store, "SELECT text FROM posts WHERE post_id = ?", [pid])[0][0]
    t_co = sum(r["text"].count("https://t.co/") for r in recs)
    assert store.count("post_urls") == t_co


def test_coortweet_detected_exact(store):
    p = real_path("coordination", "russian_coord_tweets.csv")
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    res = import_paths(store, [p])
    assert res[0].format == "coortweet-csv" and res[0].detected and res[0].rejects == 0
    first = {}
    for r in rows:
        first.setdefault(r["content_id"], r)
    assert store.count("posts") == len(first) == 35_085
    assert store.count("accounts") == len({r["account_id"] for r in rows})
    assert _kinds(store)["repost"] == sum(r["object_id"] != r["content_id"] for r in first.values())
    got = dict(_q(store, "SELECT post_id, ref_post_id FROM posts"))
    assert got == {c: r["object_id"] for c, r in first.items()}  # sha256 ids byte for byte
    r = rows[0]
    assert _q(store, "SELECT account_id, created_at FROM posts WHERE post_id = ?", [r["content_id"]])[0] == \
        (r["account_id"], datetime.utcfromtimestamp(int(r["timestamp_share"])))


def test_cnt_detected_exact(store):
    p = reference_path("generated_10k_posts.csv")
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    res = import_paths(store, [p])
    assert res[0].format == "cnt-csv" and res[0].detected and res[0].rejects == 0
    assert store.count("posts") == len({r["message_id"] for r in rows})
    assert store.count("accounts") == len({r["user_id"] for r in rows})
    k = _kinds(store)
    assert k["repost"] == sum(bool(r["repost_id"]) for r in rows)
    assert k["reply"] == sum(bool(r["reply_id"]) and not r["repost_id"] for r in rows)
    assert store.count("post_urls") == sum(len(r["urls"].split()) for r in rows)
    assert store.count("post_hashtags") == 0


def test_map_by_name_and_by_path_give_the_same_rows(tmp_path):
    from envoywatch.importers.generic import MAPS_DIR
    from envoywatch.store import Store

    p = reference_path("generated_10k_posts.csv")
    snaps = []
    for i, spec in enumerate(["cnt", str(MAPS_DIR / "cnt.yaml")]):
        s = Store(tmp_path / f"s{i}.duckdb")
        res = import_paths(s, [p], fmt="generic", options={"map": spec}, captured_at=CAP)
        assert res[0].format == "generic" and not res[0].detected and res[0].rejects == 0
        snap = table_snapshot(s)
        snaps.append({t.name: [tuple(v for v in r) for r in snap[t.name]] for t in DATA_TABLES if t.name != "posts"})
        snaps[-1]["posts"] = s.con.execute("SELECT * EXCLUDE (batch_id) FROM posts ORDER BY post_id").fetchall()
        s.close()
    assert snaps[0] == snaps[1]


def test_reimport_changes_nothing(store):
    p = real_path("diplomats", "dipromats2023_val_t3_en.json")
    import_paths(store, [p], captured_at=CAP)
    before = table_snapshot(store)
    assert import_paths(store, [p], captured_at=CAP)[0].status == "already_imported"
    assert table_snapshot(store) == before
    import_paths(store, [p], captured_at=CAP, force=True)
    after = table_snapshot(store)
    for t in DATA_TABLES:
        assert after[t.name] == before[t.name], t.name


def test_missing_column_is_one_line_cli_error(tmp_path, db_path):
    data = tmp_path / "posts.csv"
    data.write_text("id,user,time,body\n1,a,2020-01-01T00:00:00Z,hello\n", encoding="utf-8")
    m = tmp_path / "mymap.yaml"
    m.write_text("post: {post_id: id, account_id: user, created_at: when, text: body}\n", encoding="utf-8")
    out = run_cli("import", str(data), "--format", "generic", "--map", str(m), db=db_path)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    msg = out.stderr.strip()
    assert len(msg.splitlines()) == 1, msg
    assert "'when'" in msg and "posts.csv" in msg and "mymap.yaml" in msg


def test_missing_column_in_json(store, tmp_path):
    data = tmp_path / "posts.jsonl"
    data.write_text('{"id": 1, "user": "a", "t": 1577836800}\n', encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text("time_format: epoch_s\npost: {post_id: id, account_id: user, created_at: t, text: body}\n")
    with pytest.raises(ImportFormatError) as ei:
        import_paths(store, [data], fmt="generic", options={"map": str(m)})
    assert "'body'" in str(ei.value) and "posts.jsonl" in str(ei.value) and "m.yaml" in str(ei.value)


def test_bad_value_rejected_with_line(store, tmp_path, db_path):
    data = tmp_path / "posts.csv"
    data.write_text("id,user,ts\n1,a,1577836800\n2,b,\"not\na time\"\n3,c,1577836900\n", encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text("time_format: epoch_s\npost: {post_id: id, account_id: user, created_at: ts}\n")
    out = run_cli("import", str(data), "--format", "generic", "--map", str(m), db=db_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr and "posts.csv:3" in out.stderr
    res = import_paths(store, [data], fmt="generic", options={"map": str(m)}, skip_bad=True)
    assert res[0].rejects == 1 and store.count("posts") == 2
    assert _q(store, "SELECT line FROM rejects") == [(3,)]


def test_jsonl_with_nested_fields_lists_metrics_and_constants(store, tmp_path):
    data = tmp_path / "export.jsonl"
    recs = [
        {"id": "p1", "at": 1577836800000, "who": {"id": "u1", "name": "@Alice", "followers": "10"},
         "body": "RT @bob: look #Tag", "tags": ["Tag", "tag", "Other"], "links": "https://a.example/x|http://b.example",
         "likes": 3, "net": "telegram"},
        {"id": "p2", "at": 1577836900000, "who": {"id": "u2", "name": "bob", "followers": "7"},
         "body": "hello @alice", "tags": [], "links": "", "likes": None, "net": "telegram", "re": "p1"},
    ]
    data.write_text("\n".join(json.dumps(r) for r in recs) + "\n", encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text("""
platform: {column: net}
time_format: epoch_ms
post: {post_id: id, account_id: who.id, handle: who.name, created_at: at, text: body, reply_to_post_id: re}
kind: {text_prefix: "RT @"}
lists:
  hashtags: {column: tags, split: json}
  urls: {column: links, split: "|"}
from_text: [mentions]
metrics: {likes: likes}
account: {followers: who.followers}
constants: {lang: en}
labels: [sample]
""")
    res = import_paths(store, [data], fmt="generic", options={"map": str(m)}, captured_at=CAP)
    assert res[0].rejects == 0
    assert _q(store, "SELECT post_id, platform, account_id, kind, ref_post_id, lang, created_at FROM posts ORDER BY 1") == [
        ("p1", "telegram", "u1", "repost", None, "en", datetime(2020, 1, 1)),
        ("p2", "telegram", "u2", "reply", "p1", "en", datetime(2020, 1, 1, 0, 1, 40))]
    assert _q(store, "SELECT tag FROM post_hashtags ORDER BY 1") == [("Other",), ("Tag",)]
    assert store.count("post_urls") == 2
    assert _q(store, "SELECT handle FROM accounts ORDER BY 1") == [("Alice",), ("bob",)]
    assert _q(store, "SELECT DISTINCT labels FROM accounts") == [(["sample"],)]
    assert _q(store, "SELECT account_id, followers FROM account_snapshots ORDER BY 1") == [("u1", 10), ("u2", 7)]
    assert _q(store, "SELECT post_id, likes FROM post_metrics ORDER BY 1") == [("p1", 3), ("p2", None)]
    assert _q(store, "SELECT post_id, handle FROM post_mentions ORDER BY 1") == [("p1", "bob"), ("p2", "alice")]


def test_generic_needs_a_map_and_is_never_detected(store, tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(ImportFormatError, match="needs a column mapping"):
        import_paths(store, [data], fmt="generic")
    with pytest.raises(ImportFormatError, match="unknown format"):
        import_paths(store, [data])


@pytest.mark.parametrize("text,what", [
    ("post: {post_id: id, account_id: u}\n", "created_at"),
    ("bogus: 1\npost: {post_id: id, account_id: u, created_at: t}\n", "bogus"),
    ("post: {post_id: id, account_id: u, created_at: t}\nkind: {column: k, values: {a: share}}\n", "kind.values"),
    ("post: {post_id: id, account_id: u, created_at: t}\ntime_format: unixish\n", "unixish"),
    ("post: {post_id: {derive: a}, account_id: u, created_at: t}\n", "derive"),
])
def test_bad_mapping_files(tmp_path, text, what):
    from envoywatch.importers.generic import load_mapping

    m = tmp_path / "bad.yaml"
    m.write_text(text)
    with pytest.raises(ImportFormatError) as ei:
        load_mapping(str(m))
    assert what in str(ei.value) and "bad.yaml" in str(ei.value)


def test_unknown_map_name():
    from envoywatch.importers.generic import load_mapping

    with pytest.raises(ImportFormatError, match="dipromats"):
        load_mapping("no-such-map")


def test_influencer_mentions_with_derived_ids(store):
    p = real_path("diplomats", "china_twiplomacy_influencer_mentions.csv")
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    res = import_paths(store, [p], fmt="generic", options={"map": "influencer_mentions"})
    assert res[0].rejects == 0
    keys = {(r["mentioner"], r["created_at"], r["retweet"], r["mentionee"], r["text"]) for r in rows}
    assert store.count("posts") == len(keys)
    assert store.count("accounts") == len({r["mentioner"] for r in rows})
    want = Counter({"retweeted": "repost", "quoted": "quote", "replied_to": "reply", "original": "post"}[r["retweet"]]
                   for r in rows)
    assert _kinds(store) == want
    assert all(pid.startswith("derived:") for (pid,) in _q(store, "SELECT post_id FROM posts"))
    # who amplifies whom survives: mentioner -> mentionee, as handles
    pairs = Counter(tuple(x) for x in _q(store, "SELECT account_id, ref_account_id FROM posts WHERE kind = 'repost'"))
    assert pairs == Counter((r["mentioner"], r["mentionee"]) for r in rows if r["retweet"] == "retweeted")
    assert store.count("post_mentions") == len(keys)
    before = table_snapshot(store)
    import_paths(store, [p], fmt="generic", options={"map": "influencer_mentions"}, force=True)
    after = table_snapshot(store)
    for t in DATA_TABLES:
        assert after[t.name] == before[t.name], t.name
