"""Amplification share (exact fractions on a constructed store; planted networks on the demo),
group profiles, and the evaluation script on the real labelled data (small sample)."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest

from tests.conftest import ROOT, real_path
from tests.test_inauthenticity import acc, post, register


@pytest.fixture
def amp_store(store):
    """S (registered) has posts s1, s2 (Jan) and s3 (Feb). Jan: A1 (flagged) reposts s1; A2 (coordinated)
    reposts s1 and quotes s2; A3 (neither) replies to s2 (ref author unknown: resolved via s2); A4 (both)
    reposts s2; S reposts its own s1 (not counted). Feb: A3 reposts s3."""
    store.write("accounts", [acc(a, a.lower(), datetime(2010 + i, 1, 1), "d")
                             for i, a in enumerate(("S", "A1", "A2", "A3", "A4"))])
    register(store, "S", "S")
    jan, feb = datetime(2020, 1, 5), datetime(2020, 2, 5)
    store.write("posts", [
        post("s1", "S", jan), post("s2", "S", jan), post("s3", "S", feb),
        post("p1", "A1", jan, "repost", "s1", "S"), post("p2", "A2", jan, "repost", "s1", "S"),
        post("p3", "A2", jan, "quote", "s2", "S"), post("p4", "A3", jan, "reply", "s2", None),
        post("p5", "A4", jan, "repost", "s2", "S"), post("p6", "S", jan, "repost", "s1", "S"),
        post("p7", "A3", feb, "repost", "s3", "S")])
    return store


def _rows(store, **kw):
    from envoywatch.analysis.amplification import amplification_share

    return {(str(r["period"]), r["kind"]): r
            for r in amplification_share(store, **kw).to_pyarrow().to_pylist()}


def test_amplification_share_exact(amp_store):
    r = _rows(amp_store, flagged=["A1", "A4"], coordinated={"A2": 1, "A4": 1})
    jan = r[("2020-01-01", "all")]
    assert (jan["amplifications"], jan["from_flagged"], jan["from_coordinated"], jan["from_either"]) == (5, 2, 3, 4)
    assert Fraction(jan["share_flagged"]).limit_denominator(100) == Fraction(2, 5)
    assert Fraction(jan["share_coordinated"]).limit_denominator(100) == Fraction(3, 5)
    assert Fraction(jan["share_either"]).limit_denominator(100) == Fraction(4, 5)
    rep = r[("2020-01-01", "repost")]
    assert (rep["amplifications"], rep["from_flagged"], rep["from_coordinated"], rep["from_either"]) == (3, 2, 2, 3)
    assert (r[("2020-01-01", "quote")]["from_coordinated"], r[("2020-01-01", "quote")]["amplifications"]) == (1, 1)
    reply = r[("2020-01-01", "reply")]
    assert (reply["amplifications"], reply["from_either"]) == (1, 0)
    feb = r[("2020-02-01", "all")]
    assert (feb["amplifications"], feb["from_either"], feb["share_either"]) == (1, 0, 0.0)
    assert jan["amplifiers"] == 4 and jan["state_handle"] == "s"


def test_amplification_filters(amp_store):
    assert _rows(amp_store, account="nobody") == {}
    r = _rows(amp_store, account="@s", flagged=[])
    assert r[("2020-01-01", "all")]["from_flagged"] == 0
    # default: flagged from the score (nobody here is flagged), no coordination known
    r = _rows(amp_store)
    assert r[("2020-01-01", "all")]["from_either"] == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from envoywatch.demo import build_demo
    from envoywatch.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with Store(path) as s:
        build_demo(s, scale="small")
    s = Store(path, read_only=True)
    yield s
    s.close()


def test_demo_score_finds_planted_networks(demo):
    from envoywatch.analysis.inauthenticity import account_score

    t = account_score(demo)
    flagged = {r["account_id"] for r in t.filter(t.flagged).select("account_id").to_pyarrow().to_pylist()}
    truth = {r[0] for r in demo.con.execute("SELECT account_id FROM accounts WHERE "
                                            "list_contains(labels, 'ground-truth:amplifier-network')").fetchall()}
    tp = len(flagged & truth)
    assert tp / len(flagged) >= 0.9 and tp / len(truth) >= 0.9


def test_demo_amplification_share_matches_ground_truth(demo):
    pytest.importorskip("igraph")
    from envoywatch.analysis.amplification import amplification_share, amplifications, coordinated_accounts

    members = coordinated_accounts(demo)
    truth = {r[0] for r in demo.con.execute("SELECT account_id FROM accounts WHERE "
                                            "list_contains(labels, 'ground-truth:amplifier-network')").fetchall()}
    # ground-truth share per state account over the whole period, from the amplifying posts themselves
    amp = amplifications(demo).to_pyarrow().to_pylist()
    exp: dict[str, list[int]] = {}
    for r in amp:
        e = exp.setdefault(r["state_account_id"], [0, 0])
        e[0] += 1
        e[1] += r["account_id"] in truth
    got: dict[str, list[int]] = {}
    for r in amplification_share(demo, coordinated=members).to_pyarrow().to_pylist():
        if r["kind"] == "all":
            g = got.setdefault(r["state_account_id"], [0, 0, 0])
            g[0] += r["amplifications"]
            g[1] += r["from_coordinated"]
            g[2] += r["from_flagged"]
    assert set(got) == set(exp)
    for sid, (n, n_truth) in exp.items():
        assert got[sid][0] == n
        assert abs(got[sid][1] - n_truth) / n <= 0.05, sid
        assert abs(got[sid][2] - n_truth) / n <= 0.05, sid
    assert sum(e[1] for e in exp.values()) > 0  # the planted networks do amplify state accounts


def test_group_profiles_on_demo(demo):
    pytest.importorskip("igraph")
    from envoywatch.analysis.amplification import coordinated_accounts
    from envoywatch.analysis.group_profile import group_profiles

    members = coordinated_accounts(demo)
    profiles = group_profiles(demo, members, top=3)
    assert len(profiles) == len(set(members.values()))
    for p in profiles:
        assert p["members"] == sum(1 for g in members.values() if g == p["group"])
        assert p["active_from"] <= p["active_to"] and p["posts"] > 0
        assert 1 <= len(p["amplified"]) <= 3 and p["amplified"][0]["handle"]
        assert p["top_content"] and p["top_content"][0]["member_posts"] >= p["top_content"][-1]["member_posts"]


def _eval_module():
    spec = importlib.util.spec_from_file_location("inauthenticity_eval", ROOT / "benchmarks" / "inauthenticity_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_eval_script_on_real_data(tmp_path, demo):
    real = real_path("bots", "cresci2017_genuine_accounts_users.csv").parents[1]
    real_path("takedown", "china_082019_1_users_csv_hashed.csv")
    mod = _eval_module()
    results = mod.run(real, threshold=3.0, sample=300, fit=True, demo_db=Path(demo.path))
    by = {r["dataset"].split(" ")[0]: r for r in results if "dataset" in r}
    for name in ("cresci-2017", "China"):
        r = by[name]
        assert r["positives"] and r["n"] > r["positives"]
        assert r["score"]["auc"] is not None and 0.0 <= r["score"]["auc"] <= 1.0
        assert r["signals"]["creation_cluster"]["auc_fired"] is not None
        assert set(r["fitted_weights"]) >= {"no_description", "creation_cluster"}
    assert any(r["dataset"].startswith("botometer") and r.get("signals") for r in results)
    assert by["demo"]["score"]["auc"] is not None


def test_auc_helper():
    mod = _eval_module()
    assert mod.auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert mod.auc([1, 1, 0, 0], [True, False, True, False]) == 0.5
    assert mod.auc([1, 2], [True, True]) is None


def test_cli_amplification(amp_store):
    import json

    from tests.conftest import run_cli

    path = amp_store.path
    amp_store.close()
    res = run_cli("amplification", "--account", "s", "--no-coordination", "--format", "json", db=path)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [(r["period"], r["amplifications"]) for r in rows] == [("2020-01-01", 5), ("2020-02-01", 1)]
    res = run_cli("amplification", "--kind", "repost", "--freq", "week", "--no-coordination", "--format", "csv", db=path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0].startswith("period,platform,state_account_id,state_handle,kind,amplifications")
