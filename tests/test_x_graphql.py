"""X web GraphQL responses (the CANIS copies): UserTweets, UserByScreenName, Following, INDEX.csv."""

from __future__ import annotations

import json

import pytest

from envoywatch.importers.run import import_paths
from tests.conftest import real_path
from tests.support import x_expected
from tests.support.x_expected import assert_store_matches as _assert_store_matches
from tests.support.x_expected import expected_for as _expected
from tests.support.x_expected import ids as _ids

CANIS = ("state_media", "canis_x_graphql")


# --- web GraphQL (CANIS) ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def canis(tmp_path_factory):
    """The whole CANIS folder imported once: (store, results)."""
    from envoywatch.store import Store

    root = real_path(*CANIS)
    s = Store(tmp_path_factory.mktemp("canis") / "store.duckdb")
    results = import_paths(s, [root])
    yield s, results
    s.close()


def test_canis_graphql_directory(canis):
    root = real_path(*CANIS)
    store, results = canis
    by_fmt = {}
    for r in results:
        by_fmt.setdefault(r.format, []).append(r)
        assert r.rejects == 0, r.path
    assert len(by_fmt["x-graphql-usertweets"]) == 97
    assert len(by_fmt["x-graphql-user"]) == 32
    assert len(by_fmt["x-graphql-following"]) == 39
    (index,) = by_fmt["x-canis-index"]
    assert index.status == "skipped" and index.path.name == "INDEX.csv"
    files = sorted(p for p in root.rglob("*.json"))
    exp = _expected(files)
    assert store.count("posts") == len(exp.posts)
    assert store.count("accounts") == len(exp.accounts)
    _assert_store_matches(store, exp)
    # follow edges: owner (from ../users/<handle>.json) -> every listed account, per following page
    owners = {}
    for p in (root / "users").glob("*.json"):
        res = json.loads(p.read_text())["data"]["user"]["result"]
        owners[res["legacy"]["screen_name"].lower()] = res["rest_id"]
    edges = set()
    for p in (root / "following").glob("*.json"):
        owner = owners[p.stem.rsplit("-P", 1)[0].lower()]
        for e in x_expected.gql_entries(json.loads(p.read_text())):
            if e["entryId"].startswith("user-"):  # an unavailable account still has its id in the entry id
                edges.add((owner, e["entryId"][len("user-"):]))
    got = set(store.con.execute("SELECT account_id, target_account_id FROM account_follows").fetchall())
    assert got == edges and len(edges) > 1000


def test_graphql_pinned_visibility_and_promoted(canis):
    root = real_path(*CANIS, "usertweets")
    store = canis[0]
    pinned, wrapped, promoted = set(), set(), set()
    for p in root.glob("*.json"):
        doc = json.loads(p.read_text())
        for ins in doc["data"]["user"]["result"]["timeline_v2"]["timeline"]["instructions"]:
            if ins["type"] == "TimelinePinEntry":
                pinned.add(ins["entry"]["content"]["itemContent"]["tweet_results"]["result"]["rest_id"])
        for e in x_expected.gql_entries(doc):
            ic = e["content"].get("itemContent") or {}
            res = ic.get("tweet_results", {}).get("result") or {}
            if e["entryId"].startswith("promoted-"):
                promoted.add(e["entryId"].split("-")[2])
            elif res.get("__typename") == "TweetWithVisibilityResults":
                wrapped.add(res["tweet"]["rest_id"])
    assert pinned and wrapped and promoted
    prim = _ids(store, "SELECT post_id FROM posts WHERE observed = 'primary'")
    assert pinned <= prim and wrapped <= prim
    # ads injected into the viewer's timeline are not the account's posts
    assert not (promoted & prim)


def test_graphql_entities_and_note_tweets(store, canis):
    root = real_path(*CANIS, "usertweets")
    files = sorted(root.glob("ChinaDaily-*.json")) + sorted(root.glob("cgtnarabic-*.json"))
    import_paths(store, files)
    exp = _expected(files)
    assert store.count("post_urls") == sum(exp.urls.values())
    assert store.count("post_hashtags") == sum(exp.hashtags.values())
    assert store.count("post_mentions") == sum(exp.mentions.values())
    # a long "note tweet" keeps its full text, not the truncated legacy.full_text
    store = canis[0]
    note = None
    for p in root.glob("*.json"):
        for e in x_expected.gql_entries(json.loads(p.read_text())):
            res = (e["content"].get("itemContent") or {}).get("tweet_results", {}).get("result") or {}
            if "note_tweet" in res and not e["entryId"].startswith("promoted-"):
                note = res
                break
        if note:
            break
    text = store.con.execute("SELECT text FROM posts WHERE post_id = ?", [note["rest_id"]]).fetchone()[0]
    assert text == note["note_tweet"]["note_tweet_results"]["result"]["text"]
    assert len(text) > len(note["legacy"]["full_text"]) - 30


def test_following_without_owner_is_an_error_with_a_fix(tmp_path, store):
    from envoywatch.errors import ImportFormatError

    src = real_path(*CANIS, "following", "PDChina-P1.json")
    f = tmp_path / "following" / "PDChina-P1.json"
    f.parent.mkdir()
    f.write_bytes(src.read_bytes())
    with pytest.raises(ImportFormatError, match="users/PDChina.json"):
        import_paths(store, [f])
    assert store.count("accounts") == 0
    (res,) = import_paths(store, [f], options={"owner_id": "12345"})
    assert res.rejects == 0
    assert _ids(store, "SELECT DISTINCT account_id FROM account_follows") == {"12345"}
