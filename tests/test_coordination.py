"""Coordination networks: definitions on small fixtures, a brute-force cross-check, the store adapter, CLI."""

from __future__ import annotations

import csv
import itertools
import random
from datetime import datetime

import pytest

from envoywatch.analysis.coordination import NetworkParams, compute_network, from_store, network_from_csv
from envoywatch.analysis.coordination.inputs import CoordinationError
from tests.conftest import run_cli

HEADER = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]


def _csv(tmp_path, rows, name="in.csv"):
    p = tmp_path / name
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for r in rows:
            w.writerow([r.get(k, "") for k in HEADER])
    return p


def _edges(table):
    return {(s, t): w for s, t, w in zip(*(table.column(c).to_pylist() for c in ("source", "target", "weight")))}


def _msg(mid, user, ts, **kw):
    return {"message_id": str(mid), "user_id": user, "username": user.upper(), "timestamp": str(ts), **kw}


def test_window_is_inclusive_and_symmetric(tmp_path):
    p = _csv(tmp_path, [_msg(1, "a", 100, repost_id="X"), _msg(2, "b", 160, repost_id="X"),
                        _msg(3, "c", 221, repost_id="X")])
    got = _edges(network_from_csv(p, NetworkParams(window=60, mode="cnt")))
    assert got == {("a", "b"): 1, ("b", "a"): 1}  # b and c are 61 s apart: no match
    assert _edges(network_from_csv(p, NetworkParams(window=61, mode="cnt"))).keys() == {
        ("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")}


def test_messages_weight_is_directed_items_weight_is_not(tmp_path):
    # a reposts X twice (0 s and 5 s), b once (3 s): a -> b counts a's 2 messages, b -> a counts 1
    p = _csv(tmp_path, [_msg(1, "a", 0, repost_id="X"), _msg(2, "a", 5, repost_id="X"), _msg(3, "b", 3, repost_id="X"),
                        _msg(4, "a", 50, repost_id="Y"), _msg(5, "b", 55, repost_id="Y")])
    assert _edges(network_from_csv(p, NetworkParams(window=10, weight="messages"))) == {("a", "b"): 3, ("b", "a"): 2}
    items = network_from_csv(p, NetworkParams(window=10, weight="items"))
    assert _edges(items) == {("a", "b"): 2}
    row = items.to_pylist()[0]
    assert row["first_time"] == 0 and row["last_time"] == 55 and sorted(row["example_items"]) == ["X", "Y"]


def test_cnt_exclusions_and_duplicates(tmp_path):
    p = _csv(tmp_path, [
        _msg(1, "a", 0, urls="http://e.com/1"), _msg(2, "b", 1, urls="http://e.com/1"),
        _msg(3, "c", 2, repost_id="R", urls="http://e.com/1"),            # a repost: its links do not count
        _msg(4, "a", 10, urls=""), _msg(5, "b", 11, urls=""),             # empty URL field: no link at all
        _msg(6, "d", 3, urls="http://e.com/1"), _msg(6, "e", 3, urls="http://e.com/1"),  # duplicated id: first row wins
    ])
    got = _edges(network_from_csv(p, NetworkParams(type="co-link", window=60, mode="cnt")))
    assert set(got) == {(x, y) for x, y in itertools.permutations("abd", 2)}
    assert all(w == 1 for w in got.values())


def test_co_link_normalized_raw_and_domain(tmp_path):
    p = _csv(tmp_path, [_msg(1, "a", 0, urls="https://www.Example.com/p?utm_source=x"),
                        _msg(2, "b", 5, urls="http://example.com/p"),
                        _msg(3, "c", 6, urls="https://news.example.com/other")])
    assert _edges(network_from_csv(p, NetworkParams(type="co-link", url_form="raw"))) == {}
    assert _edges(network_from_csv(p, NetworkParams(type="co-link"))) == {("a", "b"): 1}
    assert set(_edges(network_from_csv(p, NetworkParams(type="co-domain")))) == {("a", "b"), ("a", "c"), ("b", "c")}


def test_co_post_reply_hashtag_mention(tmp_path):
    p = _csv(tmp_path, [
        _msg(1, "a", 0, message="Hello  @Bob WORLD https://t.co/x #Tag"),
        _msg(2, "b", 1, message="hello world #tag"),
        _msg(3, "c", 2, message="HELLO world #TAG", repost_id="Z"),        # reposts never count outside co-repost
        _msg(4, "a", 3, reply_id="P", message="@Bob yes"), _msg(5, "c", 4, reply_id="P", message="@bob no"),
    ])
    assert _edges(network_from_csv(p, NetworkParams(type="co-post"))) == {("a", "b"): 1}
    # CNT's co_tweet keeps URLs in the text: these two differ there
    assert _edges(network_from_csv(p, NetworkParams(type="co-post", mode="cnt"))) == {}
    assert _edges(network_from_csv(p, NetworkParams(type="co-reply"))) == {("a", "c"): 1}
    assert _edges(network_from_csv(p, NetworkParams(type="co-hashtag"))) == {("a", "b"): 1}
    assert _edges(network_from_csv(p, NetworkParams(type="co-mention"))) == {("a", "c"): 1}


def test_filters_participation_accounts_period(tmp_path):
    rows = [_msg(i, u, i * 10, repost_id=f"X{i // 3}") for i, u in enumerate("abcabcabc")] + \
           [_msg(100, "d", 0, repost_id="X0")]
    p = _csv(tmp_path, rows)
    def nodes(params):
        return {n for e in _edges(network_from_csv(p, params)) for n in e}

    assert "d" in nodes(NetworkParams(window=100))
    assert "d" not in nodes(NetworkParams(window=100, min_participation=2))
    got = _edges(network_from_csv(p, NetworkParams(window=100, accounts=["a", "b"])))
    assert set(got) == {("a", "b")}
    got = _edges(network_from_csv(p, NetworkParams(window=100, since=30, until=60)))
    assert set(got) == {("a", "b"), ("a", "c"), ("b", "c")}  # messages 3..5 only: item X1


def _brute(rows, window, weight):
    out: dict = {}
    msgs = [(r["user_id"], r["message_id"], float(r["timestamp"]), r["repost_id"]) for r in rows if r["repost_id"]]
    per = {}
    for u1, m1, t1, i1 in msgs:
        for u2, m2, t2, i2 in msgs:
            if u1 != u2 and i1 == i2 and abs(t1 - t2) <= window:
                per.setdefault((u1, u2), set()).add(m1 if weight == "messages" else i1)
    for (a, b), s in per.items():
        if weight == "items" and a > b:
            continue
        out[(a, b)] = len(s)
    return out


@pytest.mark.parametrize("window", [0, 7, 30.5, 300])
@pytest.mark.parametrize("weight", ["messages", "items"])
def test_engine_equals_brute_force(tmp_path, window, weight):
    rnd = random.Random(window * 7 + len(weight))
    rows = [_msg(i, f"u{rnd.randrange(15)}", rnd.randrange(0, 2000), repost_id=f"o{rnd.randrange(12)}")
            for i in range(400)]
    p = _csv(tmp_path, rows)
    got = _edges(network_from_csv(p, NetworkParams(window=window, weight=weight)))
    assert got == _brute(rows, window, weight)
    k = 3
    pruned = _edges(network_from_csv(p, NetworkParams(window=window, weight=weight, min_weight=k)))
    assert pruned == {e: w for e, w in got.items() if w >= k}


def test_bad_input_is_an_envoywatch_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(CoordinationError, match="missing column"):
        network_from_csv(bad, NetworkParams())
    with pytest.raises(CoordinationError, match="unknown network type"):
        network_from_csv(_csv(tmp_path, []), NetworkParams(type="co-nothing"))


def test_store_adapter(store):
    t0 = datetime(2024, 1, 1, 12, 0, 0)
    sec = lambda s: t0.replace(second=s)  # noqa: E731
    store.write("accounts", [{"platform": "x", "account_id": a, "handle": f"h_{a}"} for a in "abc"])
    posts = [
        {"post_id": "o1", "account_id": "c", "created_at": t0, "kind": "post", "text": "original"},
        {"post_id": "r1", "account_id": "a", "created_at": sec(10), "kind": "repost", "ref_post_id": "o1"},
        {"post_id": "r2", "account_id": "b", "created_at": sec(40), "kind": "repost", "ref_post_id": "o1"},
        {"post_id": "l1", "account_id": "a", "created_at": sec(1), "kind": "post", "text": "see"},
        {"post_id": "l2", "account_id": "c", "created_at": sec(2), "kind": "post", "text": "see"},
    ]
    store.write("posts", [{"platform": "x", **p} for p in posts])
    store.write("post_urls", [
        {"platform": "x", "post_id": pid, "position": 0, "url": "https://t.co/abc", "expanded_url": u,
         "normalized_url": "https://example.com/a", "domain": "example.com", "host": "example.com"}
        for pid, u in (("l1", "https://example.com/a?utm_source=x"), ("l2", "https://www.example.com/a"))])
    assert from_store(store, "ew_messages") == 5
    rep = compute_network(store.con, "ew_messages", NetworkParams(type="co-repost", window=60)).to_arrow().to_pylist()
    assert [(r["source"], r["target"], r["weight"], r["source_handle"]) for r in rep] == [("a", "b", 1, "h_a")]
    assert _edges(compute_network(store.con, "ew_messages", NetworkParams(type="co-link")).to_arrow()) == {("a", "c"): 1}
    # raw = expanded URL as given: different strings here
    assert _edges(compute_network(store.con, "ew_messages", NetworkParams(type="co-link", url_form="raw")).to_arrow()) == {}
    assert _edges(compute_network(store.con, "ew_messages", NetworkParams(type="co-repost", window=20)).to_arrow()) == {}


def test_cli_network_and_errors(tmp_path):
    p = _csv(tmp_path, [_msg(1, "a", 0, repost_id="X"), _msg(2, "b", 5, repost_id="X")])
    out = tmp_path / "edges.csv"
    r = run_cli("coordination", "network", "--from-csv", str(p), "--cnt-compatible", "--out", str(out))
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("source,target,weight") and len(lines) == 3
    r = run_cli("coordination", "network", "--from-csv", str(tmp_path / "missing.csv"))
    assert r.returncode != 0 and "Traceback" not in r.stderr and "Fix:" in r.stderr
    r = run_cli("coordination", "network", "--from-csv", str(p), "--out", str(tmp_path / "e.txt"))
    assert r.returncode != 0 and "Traceback" not in r.stderr and ".gexf" in r.stderr


def test_coornet_window_estimate(tmp_path):
    from envoywatch.analysis.coordination import open_csv_source
    from envoywatch.analysis.coordination.window import estimate_window

    # item X: shares at 0, 10, 20, 30 -> first share past 50 % is the 3rd (rank 3/4): 20 s; item Y: 0, 100 -> 100 s
    rows = [_msg(i, f"u{i}", t, repost_id="X") for i, t in enumerate((0, 10, 20, 30))] + \
           [_msg(10, "a", 0, repost_id="Y"), _msg(11, "b", 100, repost_id="Y"), _msg(12, "c", 5, repost_id="Z")]
    con, table = open_csv_source(_csv(tmp_path, rows))
    est = estimate_window(con, table, "co-repost", q=0.5, p=0.5)
    assert est["items"] == 2 and est["window"] == pytest.approx(60.0)  # median of 20 and 100


def test_cli_on_the_store_with_registry_attributes(tmp_path):
    from envoywatch.store import Store

    db = tmp_path / "s.duckdb"
    t0 = datetime(2024, 1, 1, 12, 0, 0)
    with Store(db) as s:
        s.write("accounts", [{"platform": "x", "account_id": a, "handle": f"h_{a}"} for a in "ab"])
        s.write("posts", [{"platform": "x", "post_id": f"r{i}", "account_id": a, "created_at": t0.replace(second=i),
                           "kind": "repost", "ref_post_id": "o1"} for i, a in enumerate("ab")])
        s.write("registry_actors", [{"actor_id": "cn-mission", "name": "Mission", "actor_type": "organisation",
                                     "state": "CN", "category": "mission", "source": "test"}])
        s.write("registry_accounts", [{"platform": "x", "handle": "h_a", "actor_id": "cn-mission", "account_id": "a",
                                       "source": "test"}])
    out = tmp_path / "g.graphml"
    r = run_cli("coordination", "network", "--out", str(out), db=db)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert '<data key="handle">h_a</data><data key="category">mission</data><data key="state">CN</data>' in text
    r = run_cli("coordination", "network", "--platform", "nope", db=db)
    assert r.returncode != 0 and "no posts in the store" in r.stderr and "Traceback" not in r.stderr


def test_csv_quoting_newlines_and_float_timestamps(tmp_path):
    p = _csv(tmp_path, [_msg(1, "a", 10, message='hello, "world"\nsecond line #Tag', urls="http://x.com/1"),
                        _msg(2, "b", "1.2e1", message='Hello, "world" second line #tag', urls="http://x.com/1 ")])
    assert _edges(network_from_csv(p, NetworkParams(type="co-post"))) == {("a", "b"): 1}
    assert _edges(network_from_csv(p, NetworkParams(type="co-link", mode="cnt"))) == {("a", "b"): 1, ("b", "a"): 1}
    assert _edges(network_from_csv(p, NetworkParams(type="co-hashtag"))) == {("a", "b"): 1}


def _similar_brute(rows, threshold, window, weight):
    import re

    toks = {r["message_id"]: set(re.findall(r"\w+", re.sub(r"@\S*", "", r["message"].lower()))) for r in rows}
    per: dict = {}
    for a in rows:
        for b in rows:
            if a["user_id"] != b["user_id"] and abs(float(a["timestamp"]) - float(b["timestamp"])) <= window:
                ta, tb = toks[a["message_id"]], toks[b["message_id"]]
                if len(ta & tb) >= threshold * len(ta | tb):
                    sa, sb = per.setdefault((a["user_id"], b["user_id"]), (set(), set()))
                    sa.add(a["message_id"])
                    sb.add(b["message_id"])
    if weight == "messages":
        return {k: len(v[0]) for k, v in per.items()}
    return {k: min(len(v[0]), len(v[1])) for k, v in per.items() if k[0] < k[1]}


@pytest.mark.parametrize("weight", ["messages", "items"])
def test_co_similar_text_minhash_is_verified_and_complete_at_high_similarity(tmp_path, weight):
    rnd = random.Random(3)
    vocab = [f"w{i}" for i in range(40)]
    base = [rnd.sample(vocab, 8) for _ in range(10)]
    rows = []
    for i in range(300):
        toks = list(rnd.choice(base))
        for _ in range(rnd.randrange(3)):
            toks[rnd.randrange(len(toks))] = rnd.choice(vocab)
        rows.append(_msg(i, f"u{rnd.randrange(20)}", rnd.randrange(3000), message=" ".join(toks) + " @x"))
    p = _csv(tmp_path, rows)
    for threshold in (0.8, 0.6):
        got = _edges(network_from_csv(p, NetworkParams(type="co-similar-text", window=200, similarity=threshold,
                                                       weight=weight)))
        want = _similar_brute(rows, threshold, 200, weight)
        if threshold == 0.8:  # a pair at s >= 0.8 is missed with probability <= 2e-4: none here
            assert got == want
        else:  # LSH may miss a few pairs at s = 0.6 (probability <= 0.11 each); never a false one
            assert all(want.get(k, 0) >= w for k, w in got.items()) and len(got) >= 0.95 * len(want)
