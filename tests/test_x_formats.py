"""X archive formats on the real fixtures: detection, zero rejects, counts equal to an independent reading
(plain json, tests/support/x_expected.py), kinds, entities, idempotent re-import, the CLI."""

from __future__ import annotations

import json

import pytest

from envoywatch.importers.run import detect_format, import_paths
from tests.conftest import real_path, run_cli, table_snapshot
from tests.support import x_expected
from tests.support.x_expected import assert_store_matches as _assert_store_matches
from tests.support.x_expected import expected_for as _expected
from tests.support.x_expected import ids as _ids
from tests.support.x_expected import kinds as _kinds
from tests.support.cassettes import write_payloads

TWARC = ("fixtures", "twitter_api_v2_twarc")
CANIS = ("state_media", "canis_x_graphql")
DATA_TABLES = ("accounts", "account_snapshots", "posts", "post_metrics", "post_urls", "post_hashtags",
               "post_mentions", "post_media", "account_follows")

SKIPPED = {"counts.jsonl": "x-v2-counts", "tweets_compliance.jsonl": "x-compliance",
           "users_compliance.jsonl": "x-compliance", "lists.jsonl": "x-v2-lists"}
TRUNCATED = "streaming_output_with_error.jsonl"  # its last line is cut off mid-object: one reject


def _tweepy_payloads(tmp_path):
    files = []
    for c in sorted(real_path("fixtures", "tweepy_vcr_cassettes").iterdir()):
        files += write_payloads(c, tmp_path / "payloads")
    return files


# --- twarc2 (v2) -----------------------------------------------------------------------------------

def test_twarc_files_detected_and_imported_with_zero_rejects(store):
    files = sorted(real_path(*TWARC).glob("*.jsonl"))
    assert len(files) == 22
    for f in files:
        fmt = detect_format(f).name
        if f.name in SKIPPED:
            assert fmt == SKIPPED[f.name]
        elif f.name == "flat.jsonl":
            assert fmt == "x-v2-flat"
        else:
            assert fmt == "x-v2-page", f.name
        if f.name == TRUNCATED:
            continue
        (res,) = import_paths(store, [f])  # without skip_bad: any reject would raise
        assert res.rejects == 0
        assert res.status == ("skipped" if f.name in SKIPPED else "done"), (f.name, res.note)
    good = [f for f in files if f.name != TRUNCATED]
    _assert_store_matches(store, _expected(good))


def test_twarc_counts_per_file(store):
    """Per file, in a fresh store each: posts and accounts equal the independent reading."""
    from envoywatch.store import Store

    for f in sorted(real_path(*TWARC).glob("*.jsonl")):
        s = Store(store.path.parent / f"{f.stem}.duckdb")
        try:
            (res,) = import_paths(s, [f], skip_bad=True)
            exp = _expected([f])
            assert s.count("posts") == len(exp.posts), f.name
            assert s.count("accounts") == len(exp.accounts), f.name
            _assert_store_matches(s, exp)
        finally:
            s.close()


def test_truncated_stream_line_is_the_only_reject(store):
    f = real_path(*TWARC, TRUNCATED)
    (res,) = import_paths(store, [f], skip_bad=True)
    assert res.rejects == 1 and res.status == "done_with_rejects"
    line, reason = store.con.execute("SELECT line, reason FROM rejects").fetchone()
    assert line == 8 and "not valid JSON" in reason
    _assert_store_matches(store, _expected([f]))


def test_flat_and_noflat_hold_the_same_tweets_and_users(tmp_path):
    from envoywatch.store import Store

    got = {}
    for name in ("flat.jsonl", "noflat.jsonl"):
        with Store(tmp_path / f"{name}.duckdb") as s:
            import_paths(s, [real_path(*TWARC, name)])
            got[name] = (_kinds(s), _ids(s, "SELECT account_id FROM accounts"),
                         _ids(s, "SELECT post_id || ':' || position FROM post_urls"),
                         _ids(s, "SELECT post_id || ':' || handle_norm || ':' || coalesce(account_id, '') FROM post_mentions"))
    assert got["flat.jsonl"] == got["noflat.jsonl"]


def test_v2_page_details(store):
    import_paths(store, [real_path(*TWARC, "noflat.jsonl"), real_path(*TWARC, "media_tweet.jsonl")])
    page = json.loads(real_path(*TWARC, "noflat.jsonl").read_text().splitlines()[0])
    retrieved = page["__twarc"]["retrieved_at"][:19].replace("T", " ")
    # snapshots at twarc's capture time
    caps = {str(r[0]) for r in store.con.execute(
        "SELECT DISTINCT captured_at FROM post_metrics m JOIN posts p USING (platform, post_id) "
        "WHERE p.post_id IN (SELECT unnest(?))", [[t["id"] for t in page["data"]]]).fetchall()}
    assert caps == {retrieved}
    # a retweet points at the original and its author (from includes)
    inc = {t["id"]: t for t in page["includes"]["tweets"]}
    rts = [t for t in page["data"] if any(r["type"] == "retweeted" for r in t.get("referenced_tweets", []))]
    assert rts
    for t in rts:
        ref = next(r["id"] for r in t["referenced_tweets"] if r["type"] == "retweeted")
        row = store.con.execute("SELECT ref_post_id, ref_account_id, client, conversation_id FROM posts WHERE post_id = ?",
                                [t["id"]]).fetchone()
        assert row == (ref, inc[ref]["author_id"] if ref in inc else None, t["source"], t["conversation_id"])
    # media joined from includes.media
    mt = json.loads(real_path(*TWARC, "media_tweet.jsonl").read_text().splitlines()[0])
    keys = [k for t in mt["data"] for k in t.get("attachments", {}).get("media_keys", [])]
    got = [r[0] for r in store.con.execute(
        "SELECT media_key FROM post_media WHERE post_id IN (SELECT unnest(?)) ORDER BY post_id, position",
        [[t["id"] for t in mt["data"]]]).fetchall()]
    assert keys and got == keys
    known = {m["media_key"] for m in page["includes"].get("media", [])} | {m["media_key"] for m in mt["includes"]["media"]}
    for key, typ in store.con.execute("SELECT media_key, media_type FROM post_media").fetchall():
        # a key the page's includes.media does not describe keeps its key, with no type
        assert (typ in {"photo", "video", "animated_gif"}) == (key in known), key


@pytest.mark.parametrize("name", ["brexit.jsonl", "many_urls.jsonl", "mentions_tweet.jsonl", "withheld.jsonl"])
def test_v2_entities_counts(store, name):
    f = real_path(*TWARC, name)
    import_paths(store, [f])
    exp = _expected([f])
    assert store.count("post_urls") == sum(exp.urls.values())
    assert store.count("post_hashtags") == sum(exp.hashtags.values())
    assert store.count("post_mentions") == sum(exp.mentions.values())
    assert store.con.execute("SELECT count(*) FROM post_urls WHERE normalized_url IS NULL OR domain IS NULL").fetchone()[0] == 0


def test_users_page_imports_accounts(store):
    f = real_path(*TWARC, "users.jsonl")
    (res,) = import_paths(store, [f])
    page = json.loads(f.read_text().splitlines()[0])
    ids = {u["id"] for u in page["data"]} | {u["id"] for u in page.get("includes", {}).get("users", [])}
    pinned = {t["id"] for t in page["includes"]["tweets"]}  # users pages include their pinned tweets
    assert res.status == "done" and _ids(store, "SELECT post_id FROM posts WHERE observed = 'referenced'") == pinned
    assert store.count("posts") == len(pinned)
    assert _ids(store, "SELECT account_id FROM accounts") == ids
    u = page["data"][0]
    row = store.con.execute("SELECT handle, followers FROM accounts JOIN account_snapshots USING (platform, account_id) "
                            "WHERE account_id = ?", [u["id"]]).fetchone()
    assert row == (u["username"], u["public_metrics"]["followers_count"])


# --- tweepy cassettes (v2 Client and v1.1 API payloads) --------------------------------------------

def test_tweepy_payloads_import_with_zero_rejects(store, tmp_path):
    files = _tweepy_payloads(tmp_path)
    assert len(files) == 31
    for f in files:
        body = json.loads(f.read_text())
        if body == []:
            # an empty array (mentions_timeline with no mentions) names no platform: not detected,
            # imported when the format is named
            (res,) = import_paths(store, [f], fmt="x-v1-json")
        else:
            (res,) = import_paths(store, [f])
        assert res.rejects == 0
        assert res.format.startswith("x-"), f.name
        if "count" in f.name:
            assert res.status == "skipped" and res.format == "x-v2-counts"
    _assert_store_matches(store, _expected(files))
    # the v2 tweet payloads were recorded with the default fields (id, text): skipped, with the reason
    notes = {r[0] for r in store.con.execute("SELECT note FROM import_batches WHERE status = 'skipped'").fetchall()}
    assert any("author_id" in (n or "") for n in notes)


def test_v1_details(store, tmp_path):
    (f,) = write_payloads(real_path("fixtures", "tweepy_vcr_cassettes", "testsearchtweets.json"), tmp_path)
    import_paths(store, [f])
    exp = _expected([f])
    assert store.count("post_urls") == sum(exp.urls.values())
    assert store.count("post_hashtags") == sum(exp.hashtags.values())
    assert store.count("post_mentions") == sum(exp.mentions.values())
    doc = json.loads(f.read_text())
    rt = next(s for s in doc["statuses"] if s.get("retweeted_status"))
    row = store.con.execute("SELECT kind, ref_post_id, ref_account_id, account_id FROM posts WHERE post_id = ?",
                            [rt["id_str"]]).fetchone()
    assert row == ("repost", rt["retweeted_status"]["id_str"], rt["retweeted_status"]["user"]["id_str"], rt["user"]["id_str"])
    assert store.con.execute("SELECT observed FROM posts WHERE post_id = ?", [rt["retweeted_status"]["id_str"]]).fetchone()[0] \
        in ("referenced", "primary")
    clients = {r[0] for r in store.con.execute("SELECT client FROM posts").fetchall()}
    assert not any(c and c.startswith("<") for c in clients)


def test_v1_jsonl_one_status_per_line(store, tmp_path):
    doc = json.loads(real_path("fixtures", "tweepy_vcr_cassettes", "testhometimeline.json").read_text())
    (payload,) = write_payloads(real_path("fixtures", "tweepy_vcr_cassettes", "testhometimeline.json"), tmp_path)
    statuses = json.loads(payload.read_text())
    f = tmp_path / "timeline.jsonl"
    f.write_text("\n".join(json.dumps(s) for s in statuses) + "\n")
    assert detect_format(f).name == "x-v1-json"
    (res,) = import_paths(store, [f])
    assert res.records == len(statuses) and res.rejects == 0
    exp = x_expected.Expected()
    x_expected.read_v1(statuses, exp)
    _assert_store_matches(store, exp)
    assert doc  # the cassette itself is not a format users import


# --- idempotency and the CLI -----------------------------------------------------------------------

def test_reimport_changes_no_table(store, tmp_path):
    paths = [real_path(*TWARC, n) for n in ("flat.jsonl", "noflat.jsonl", "withheld.jsonl", "users.jsonl")]
    paths += sorted(real_path(*CANIS, "usertweets").glob("C*.json"))[:12]
    paths += [real_path(*CANIS, "users"), *sorted(real_path(*CANIS, "following").glob("C*.json"))]
    paths += [p for p in _tweepy_payloads(tmp_path) if json.loads(p.read_text()) != []]
    import_paths(store, paths)
    before = table_snapshot(store)
    import_paths(store, paths, force=True)  # read and normalize everything again
    after = table_snapshot(store)
    for t in DATA_TABLES:
        assert after[t] == before[t], t


def test_cli_import(tmp_path):
    db = tmp_path / "cli.duckdb"
    proc = run_cli("import", str(real_path(*TWARC)), "--skip-bad", db=db)
    assert proc.returncode == 0, proc.stderr
    assert "flat.jsonl: format x-v2-flat (detected)" in proc.stdout
    assert "counts.jsonl: format x-v2-counts (detected); skipped" in proc.stdout
    assert "1 rejected" in proc.stdout
    proc = run_cli("import", str(real_path(*CANIS, "users", "ChinaDaily.json")), db=db)
    assert proc.returncode == 0 and "x-graphql-user" in proc.stdout, proc.stderr
    from envoywatch.store import Store

    with Store(db) as s:
        exp = _expected([f for f in real_path(*TWARC).glob("*.jsonl")] + [real_path(*CANIS, "users", "ChinaDaily.json")])
        assert s.count("posts") == len(exp.posts)
        assert s.count("accounts") == len(exp.accounts)


# --- detection against other platforms' files, and API messages in a stream ---------------------------

def _x_sniffers():
    from envoywatch.importers.base import load_formats

    # the formats of this package (other modules may register X formats too, e.g. a CSV importer)
    return {n: s for n, s in load_formats().items() if s.read.__module__ == "envoywatch.platforms.x.formats"}


def test_x_sniffers_claim_no_other_platform_file(tmp_path):
    from envoywatch.importers.base import make_sniff

    others = []
    for parts in (("fixtures", "bluesky_appview"), ("fixtures", "crowdtangle"), ("state_media", "telegram"),
                  ("diplomats",), ("coordination",), ("account_lists",), ("state_media", "covid_state_vs_western"),
                  ("state_media", "rt_sputnik_ruptly_tweet_urls")):
        others += [p for p in real_path(*parts).rglob("*") if p.is_file()]
    for c in sorted(real_path("fixtures", "mastodon_py_vcr_cassettes").iterdir()):
        others += write_payloads(c, tmp_path / "mastodon")
    assert len(others) > 30
    sniffers = _x_sniffers()
    for p in others:
        s = make_sniff(p)
        claimed = [n for n, spec in sniffers.items() if spec.sniff(s)]
        assert not claimed, (p, claimed)


def test_x_files_are_claimed_by_exactly_one_x_format(tmp_path):
    from envoywatch.importers.base import make_sniff

    files = sorted(real_path(*TWARC).glob("*.jsonl")) + sorted(p for p in real_path(*CANIS).rglob("*") if p.is_file())
    files += [p for p in _tweepy_payloads(tmp_path) if json.loads(p.read_text()) != []]
    sniffers = _x_sniffers()
    for p in files:
        s = make_sniff(p)
        claimed = [n for n, spec in sniffers.items() if spec.sniff(s)]
        assert len(claimed) == 1, (p.name, claimed)


def test_stream_api_messages_are_not_rejects(store, tmp_path):
    """A stream's own messages (an `errors` disconnect notice, an empty page) hold no posts and are passed
    over; only lines that are not JSON are rejects."""
    lines = real_path(*TWARC, TRUNCATED).read_text().splitlines()
    notice = {"errors": [{"title": "operational-disconnect", "disconnect_type": "UpstreamOperationalDisconnect",
                          "detail": "This stream has been disconnected upstream for operational reasons.",
                          "type": "https://api.twitter.com/2/problems/operational-disconnect"}],
              "__twarc": {"url": "https://api.twitter.com/2/tweets/search/stream", "retrieved_at": "2021-04-01T15:55:00+00:00"}}
    f = tmp_path / "stream.jsonl"
    f.write_text("\n".join([lines[0], json.dumps(notice), json.dumps({"meta": {"result_count": 0}}), lines[1]]) + "\n")
    assert detect_format(f).name == "x-v2-page"
    (res,) = import_paths(store, [f])
    assert res.rejects == 0 and res.records == 2
    exp = x_expected.Expected()
    x_expected.read_v2_pages(f, exp)
    _assert_store_matches(store, exp)


def test_pretty_printed_responses(store, tmp_path):
    """A response saved indented (not one per line) is read as one document."""
    page = json.loads(real_path(*TWARC, "two_tweets.jsonl").read_text().splitlines()[0])
    f = tmp_path / "page.json"
    f.write_text(json.dumps(page, indent=2))
    (payload,) = write_payloads(real_path("fixtures", "tweepy_vcr_cassettes", "testsearchtweets.json"), tmp_path)
    g = tmp_path / "search.json"
    g.write_text(json.dumps(json.loads(payload.read_text()), indent=2))
    assert detect_format(f).name == "x-v2-page" and detect_format(g).name == "x-v1-json"
    results = import_paths(store, [f, g])
    assert [r.rejects for r in results] == [0, 0]
    _assert_store_matches(store, _expected([real_path(*TWARC, "two_tweets.jsonl"), payload]))


def test_flat_reject_does_not_lose_its_author_for_later_tweets(store, tmp_path):
    lines = real_path(*TWARC, "flat.jsonl").read_text().splitlines()
    t = json.loads(lines[0])
    bad = dict(t, id=str(int(t["id"]) + 1))
    del bad["created_at"]  # rejected: its author must still come with the next tweet of that author
    f = tmp_path / "flat.jsonl"
    f.write_text(json.dumps(bad) + "\n" + lines[0] + "\n")
    (res,) = import_paths(store, [f], skip_bad=True)
    assert res.rejects == 1 and "created_at" in store.con.execute("SELECT reason FROM rejects").fetchone()[0]
    assert t["author"]["id"] in _ids(store, "SELECT account_id FROM accounts")
    exp = x_expected.Expected()
    x_expected._flat(exp, t, True)
    _assert_store_matches(store, exp)
