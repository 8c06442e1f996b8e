"""Inauthenticity signals and score on small constructed stores with known answers."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from envoywatch.analysis.inauthenticity import SIGNAL_NAMES, SIGNALS, account_score, account_signals

DEFAULT_IMG = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"


def acc(aid, handle, created, description=None, image=None, labels=None):
    return {"platform": "x", "account_id": aid, "handle": handle, "created_at": created, "description": description,
            "profile_image_url": image, "labels": labels or []}


def snap(aid, followers, following, posts_count=None, at=datetime(2021, 1, 1)):
    return {"platform": "x", "account_id": aid, "captured_at": at, "followers": followers, "following": following,
            "posts_count": posts_count}


def post(pid, aid, t, kind="post", ref=None, ref_acc=None):
    return {"platform": "x", "post_id": pid, "account_id": aid, "created_at": t, "kind": kind, "ref_post_id": ref,
            "ref_account_id": ref_acc, "observed": "primary"}


def register(store, aid, handle):
    store.write("registry_actors", [{"actor_id": "cn-test", "name": "Test ministry", "actor_type": "organisation",
                                     "state": "CN", "category": "ministry", "source": "test"}])
    store.write("registry_accounts", [{"platform": "x", "handle": handle, "actor_id": "cn-test", "account_id": aid,
                                       "source": "test"}])


def rows(store, **kw):
    return {r["account_id"]: r for r in account_score(store, **kw).to_pyarrow().to_pylist()}


@pytest.fixture
def built(store):
    """S: registered state account; A: amplifier (young, blank, digits, reposts S at 03:xx); H: ordinary user;
    C1..C4: created within a day of A (creation cluster of 5); R: random-looking handle."""
    d0 = datetime(2020, 1, 1, 12)
    store.write("accounts", [
        acc("S", "StateMinistry", datetime(2012, 5, 1), "Official account", "https://pbs.twimg.com/p/s.jpg"),
        acc("A", "bob12345", d0, None, DEFAULT_IMG),
        acc("H", "alice", datetime(2010, 1, 1), "I like birds", "https://pbs.twimg.com/p/h.jpg"),
        *[acc(f"C{i}", f"c_user{i}", d0 + timedelta(hours=6 * i), "x", "https://pbs.twimg.com/p/c.jpg") for i in range(1, 5)],
        acc("R", "x7k9q2z8", datetime(2015, 3, 3), "hello", None),
        acc("Q", "bcdfghx", datetime(2016, 3, 3), "hello", None),
    ])
    store.write("account_snapshots", [snap("A", 1, 100), snap("H", 200, 100), snap("S", 10_000, 50),
                                      snap("R", 5, 30, posts_count=365 * 100, at=datetime(2016, 3, 2))])
    register(store, "S", "StateMinistry")
    posts = [post(f"s{i}", "S", datetime(2020, 1, 10, 2) + timedelta(days=i)) for i in range(20)]
    # A: 20 reposts of S, all in the 03:00 hour, first on 2020-01-10 03:00 (8.625 days after creation)
    posts += [post(f"a{i}", "A", datetime(2020, 1, 10, 3) + timedelta(days=i), "repost", f"s{i}", "S") for i in range(20)]
    # H: 24 originals, one per hour of the day; 1 reply to S, no ref_account_id (resolved through ref_post_id)
    posts += [post(f"h{i}", "H", datetime(2020, 3, 1, i)) for i in range(24)]
    posts += [post("h_r", "H", datetime(2020, 3, 2, 12), "reply", "s0", None)]
    store.write("posts", posts)
    return store


def test_profile_signals(built):
    r = rows(built)
    a, h = r["A"], r["H"]
    assert a["no_description"] and not h["no_description"]
    assert a["default_image"] and not h["default_image"]
    assert r["R"]["default_image"] is False  # absent image: unknown, not default
    assert a["trailing_digits"] == 5 and a["handle_digits"] and not h["handle_digits"]
    assert r["R"]["letter_digit_switches"] == 7 and r["R"]["handle_random"]
    assert r["Q"]["consonant_run"] == 7 and r["Q"]["handle_random"]
    assert not h["handle_random"] and not a["handle_random"]
    assert a["follower_ratio"] == pytest.approx(0.01) and a["low_follower_ratio"]
    assert h["follower_ratio"] == pytest.approx(2.0) and not h["low_follower_ratio"]
    # R's profile rate: 36,500 posts over 365 days
    assert r["R"]["profile_posts_per_day"] == pytest.approx(100.0) and r["R"]["high_volume"]
    # handle entropy of 'alice': 5 distinct letters -> log2(5)
    assert h["handle_entropy"] == pytest.approx(math.log2(5))


def test_creation_cluster(built):
    r = rows(built)
    # A and C1..C4 were created on 2020-01-01/02: 5 accounts within +-1 day of each of them
    assert r["A"]["creation_cluster"] == 5 and r["A"]["creation_cluster_fired"]
    assert r["H"]["creation_cluster"] == 1 and not r["H"]["creation_cluster_fired"]


def test_post_signals(built):
    r = rows(built)
    a, h = r["A"], r["H"]
    assert a["n_posts"] == 20 and a["repost_share"] == 1.0 and a["repost_heavy"]
    assert a["age_days_at_first_post"] == pytest.approx(8 + 15 / 24) and a["young_at_first_post"]
    assert a["amplify_share"] == 1.0 and a["amplifies_state"]
    assert h["n_posts"] == 25 and h["amplify_share"] == pytest.approx(1 / 25) and not h["amplifies_state"]
    assert h["reply_share"] == pytest.approx(1 / 25) and not h["reply_heavy"]
    assert a["hour_entropy"] == 0.0 and a["top_hour_share"] == 1.0 and a["hour_concentrated"]
    assert h["hour_entropy"] > 4.4 and not h["hour_concentrated"]
    # the state account reposts nobody and is never counted as amplifying itself
    assert r["S"]["amplify_share"] == 0.0


def test_score_and_signals_fired(built):
    weights = {s.name: s.weight for s in SIGNALS}
    r = rows(built)
    for aid, row in r.items():
        fired = [n for n in SIGNAL_NAMES if row["creation_cluster_fired" if n == "creation_cluster" else n]]
        assert row["signals_fired"] == fired, aid
        assert row["score"] == pytest.approx(sum(weights[n] for n in fired)), aid
    assert r["A"]["flagged"] and not r["H"]["flagged"]
    # a registered account is never flagged, whatever its score
    r2 = rows(built, threshold=0.0)
    assert not r2["S"]["flagged"] and r2["H"]["flagged"]
    # weights can be overridden: only no_description counts
    zero = {n: 0.0 for n in SIGNAL_NAMES}
    r3 = rows(built, weights={**zero, "no_description": 5.0})
    assert r3["A"]["score"] == 5.0 and r3["H"]["score"] == 0.0


def test_night_posting(store):
    """Night = the platform's 6 quietest hours (cyclic); N posts at 02:xx, O posts 06:00-23:59."""
    store.write("accounts", [acc("O", "olivia", datetime(2010, 1, 1), "d", "https://p/o.jpg"),
                             acc("N", "nina", datetime(2010, 1, 1), "d", "https://p/n.jpg")])
    posts = [post(f"o{h}_{k}", "O", datetime(2020, 1, 1 + k, h)) for h in range(6, 24) for k in range(12)]
    posts += [post(f"n{k}", "N", datetime(2020, 1, 1 + k, 2)) for k in range(20)]
    store.write("posts", posts)
    r = rows(store)
    # quietest window 00-05 holds N's 20 posts of 236
    assert r["N"]["platform_night_share"] == pytest.approx(20 / 236)
    assert r["N"]["night_share"] == 1.0 and r["N"]["night_posting"]
    assert r["O"]["night_share"] == 0.0 and not r["O"]["night_posting"]
    assert r["O"]["hour_entropy"] == pytest.approx(math.log2(18))


def test_hashed_takedown_handles_are_not_handles(store):
    h = "vMm2zemFOF7kmXoDyX24Bo+TorqhNutpZlATYyxsE="
    store.write("accounts", [acc(h, h, datetime(2017, 8, 30))])
    r = rows(store)[h]
    assert r["handle"] is None and not r["handle_random"] and not r["handle_digits"]


def test_signals_analysis_is_registered_and_lazy(built):
    from envoywatch.analysis import ANALYSES

    assert ANALYSES["inauthenticity.signals"] is account_signals
    assert "inauthenticity.score" in ANALYSES
    t = account_signals(built)
    assert "no_description" in t.columns and t.count().execute() == 9


def test_cli_signals(built, run_cli_db):
    res = run_cli_db("signals", "--format", "csv", "--min-score", "1")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].startswith("platform,account_id,handle,score,flagged,signals_fired")
    assert any(",A,bob12345," in ln for ln in lines)
    assert not any(",H,alice," in ln for ln in lines[1:] if ln.split(",")[3] == "0.0")


@pytest.fixture
def run_cli_db(built):
    from tests.conftest import run_cli

    path = built.path
    built.close()

    def go(*args):
        return run_cli(*args, db=path)

    return go


def test_node_attributes_for_graph_exports(built):
    from envoywatch.analysis.inauthenticity import node_attributes

    attrs = node_attributes(built, ["A", "H", "unknown"])
    assert set(attrs) == {"A", "H"}
    assert attrs["A"]["flagged"] and "amplifies_state" in attrs["A"]["signals_fired"].split()
    assert attrs["H"]["score"] == rows(built)["H"]["score"]
