"""envoywatch demo: bookkeeping, labels, growth decomposition, planted networks, determinism, idempotence, CLI."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest

from envoywatch.demo import build_demo, scale_factor, truth_path_for
from envoywatch.errors import ConfigError, RegistryError, StoreError
from envoywatch.store import Store
from tests.conftest import run_cli, table_snapshot

CHILD_AND_DATA = ("accounts", "posts", "post_urls", "post_hashtags", "post_mentions", "post_metrics", "account_snapshots")


def fake_registry(store) -> None:
    """A few registry rows of our own, so that these tests do not depend on the starter list's contents."""
    actors = [
        ("t-cn-mfa", "Ministry (test)", "CN", "ministry", None, "MFA_China", date(2019, 10, 1)),
        ("t-cn-spox", "Spokesperson (test)", "CN", "spokesperson", None, "zlj517", date(2010, 5, 1)),
        ("t-cn-emb-us", "Embassy (test)", "CN", "mission", "US", "ChineseEmbinUS", None),
        ("t-cn-cgtn", "CGTN (test)", "CN", "state_media_outlet", None, "CGTNOfficial", None),
        ("t-cn-gt", "Global Times (test)", "CN", "state_media_outlet", None, "globaltimesnews", None),
        ("t-ru-rt", "RT (test)", "RU", "state_media_outlet", None, "RT_com", None),
    ]
    store.write("registry_actors", [dict(actor_id=a, name=n, actor_type="organisation", state=s, category=c,
                                         host_country=h, languages=["en"], source="test", list_name="test")
                                    for a, n, s, c, h, _, _ in actors])
    store.write("registry_accounts", [dict(platform="x", handle=hd, actor_id=a, source="test", opened=o)
                                      for a, _, _, _, _, hd, o in actors])
    store.write("registry_domains", [dict(domain="cgtn.com", state="CN", kind="state_media", outlet="CGTN", source="test")])


def _build(path, seed=42, scale="small", own_registry=True):
    store = Store(path)
    if own_registry:
        fake_registry(store)
    res = build_demo(store, scale=scale, seed=seed, install_registry=not own_registry)
    return store, res


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store, res = _build(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    yield store, res
    store.close()


def test_counts_match_the_generators_bookkeeping(demo):
    store, res = demo
    assert not res.already
    for t in CHILD_AND_DATA:
        assert store.count(t) == res.counts[t], t
    sim = store.con.execute("SELECT count(*) FROM registry_accounts ra JOIN registry_actors a USING (actor_id) "
                            "WHERE a.list_name = 'simulated'").fetchall()[0][0]
    assert sim == res.counts["registry_accounts(simulated)"]
    b = store.con.execute("SELECT posts, accounts, records_read, status FROM import_batches").fetchall()
    assert b == [(res.counts["posts"], res.counts["accounts"], res.counts["posts"], "done")]
    # about 135 Chinese diplomatic accounts, as the brief of the simulation says
    n = store.con.execute("SELECT count(*) FROM registry_actors WHERE state = 'CN' AND category IN "
                          "('ministry','spokesperson','head_of_mission','mission','other_official')").fetchall()[0][0]
    assert n == 135


def test_everything_is_labelled_simulated(demo):
    store, res = demo
    rows = store.con.execute("SELECT handle, description, labels FROM accounts").fetchall()
    assert rows and all("simulated" in labels for _, _, labels in rows)
    assert all(desc.startswith("[SIMULATED]") for _, desc, _ in rows)
    starter = {h.lower() for (h,) in store.con.execute(
        "SELECT handle FROM registry_accounts ra JOIN registry_actors a USING (actor_id) WHERE a.list_name <> 'simulated'").fetchall()}
    generated = [h for h, _, _ in rows if h.lower() not in starter]
    assert generated and all(h.lower().startswith("sim") for h in generated)
    assert store.con.execute("SELECT format, simulated FROM import_batches").fetchall() == [("envoywatch-demo", True)]
    assert store.con.execute("SELECT count(*) FROM registry_actors WHERE list_name = 'simulated' AND "
                             "(name NOT LIKE '[SIMULATED]%' OR source NOT LIKE '[SIMULATED]%')").fetchall()[0][0] == 0


def test_growth_decomposition_adds_up_on_demo_data(demo):
    from envoywatch.demo.report import headline

    store, _ = demo
    h = headline(store)
    g = h.growth
    months = h.monthly.to_pylist()
    assert g["start_posts"] == months[0]["posts"] and g["end_posts"] == months[-1]["posts"]
    assert g["change"] == g["end_posts"] - g["start_posts"]
    assert g["both_change"] + g["new_posts"] - g["gone_posts"] == g["change"]
    assert g["new_accounts"] > 10 and g["gone_accounts"] >= 2 and g["both_accounts"] > 10
    assert g["end_posts"] > 3 * g["start_posts"]      # growth ~4,000 -> ~17,000 a month (x 0.05 at small)
    assert 150 <= g["start_posts"] <= 260 and 700 <= g["end_posts"] <= 1000


def test_growth_decomposition_tiny_constructed_case(store):
    from envoywatch.analysis.headline import growth_decomposition

    store.write("registry_actors", [dict(actor_id=a, name=a, actor_type="organisation", state="CN", category="mission",
                                         source="t") for a in "ABCDE"])
    store.write("registry_accounts", [dict(platform="x", handle=f"h{a}", actor_id=a, account_id=a, source="t") for a in "ABCDE"])
    store.write("accounts", [dict(platform="x", account_id=a, handle=f"h{a}") for a in "ABCDEZ"])
    # A: 3 -> 5 (both), B: 0 -> 4 (new), C: 2 -> 0 (gone), D: posts only in between, E: none; Z unregistered
    plan = {"A": (3, 5), "B": (0, 4), "C": (2, 0), "Z": (7, 9)}
    posts = []
    for a, (s, e) in plan.items():
        posts += [dict(platform="x", post_id=f"{a}s{i}", account_id=a, created_at=datetime(2020, 1, 5 + i), kind="post") for i in range(s)]
        posts += [dict(platform="x", post_id=f"{a}e{i}", account_id=a, created_at=datetime(2020, 3, 5 + i), kind="post") for i in range(e)]
    posts.append(dict(platform="x", post_id="D1", account_id="D", created_at=datetime(2020, 2, 1), kind="post"))
    store.write("posts", posts)
    g = growth_decomposition(store, date(2020, 1, 1), date(2020, 3, 1)).to_pyarrow().to_pylist()[0]
    assert g == {"start_posts": 5, "end_posts": 9, "change": 4, "both_accounts": 1, "both_change": 2,
                 "new_accounts": 1, "new_posts": 4, "gone_accounts": 1, "gone_posts": 2}
    assert g["both_change"] + g["new_posts"] - g["gone_posts"] == g["change"]


def test_planted_groups_have_the_claimed_properties(demo):
    store, res = demo
    truth = json.loads(truth_path_for(store).read_text())
    assert truth["SIMULATED"] is True and len(truth["groups"]) == 3
    total = 0
    for g in truth["groups"]:
        ids = [m["account_id"] for m in g["members"]]
        rows = store.con.execute(
            "SELECT handle, description, profile_image_url, created_at, labels FROM accounts WHERE account_id IN "
            f"({','.join('?' * len(ids))})", ids).fetchall()
        assert len(rows) == len(ids) >= 12
        created = [r[3] for r in rows]
        assert (max(created) - min(created)).total_seconds() <= 3 * 86400          # created within days
        for handle, desc, avatar, _, labels in rows:
            assert re.search(r"\d{8}$", handle) and desc == "[SIMULATED]" and "default_profile" in avatar
            assert f"ground-truth:amplifier-network:{g['group']}" in labels
        # every targeted post: the members' reposts come 3-105 s after it, within 15 s of each other
        spread = store.con.execute(
            "SELECT r.ref_post_id, min(epoch(r.created_at) - epoch(o.created_at)), max(epoch(r.created_at) - epoch(o.created_at)), "
            "max(epoch(r.created_at)) - min(epoch(r.created_at)), count(*) FROM posts r JOIN posts o ON o.post_id = r.ref_post_id "
            f"WHERE r.kind = 'repost' AND r.account_id IN ({','.join('?' * len(ids))}) GROUP BY 1", ids).fetchall()
        assert len(spread) == g["target_posts"] > 0
        assert all(lo >= 3 and hi <= 105 and within <= 15 for _, lo, hi, within, _ in spread)
        assert sum(r[4] for r in spread) == g["reposts"]
        total += g["reposts"]
    from envoywatch.analysis.headline import network_repost_share

    share = network_repost_share(store).to_pyarrow().to_pylist()[0]
    assert share["from_network"] == total and 0 < share["share"] < 1


def test_same_seed_same_rows_other_seed_other_rows(tmp_path):
    def snap(path, seed):
        store, _ = _build(path, seed=seed)
        s = table_snapshot(store)
        s["import_batches"] = [r[:6] + r[8:] for r in store.con.execute(   # drop started_at / finished_at
            "SELECT * FROM import_batches").fetchall()]
        truth = truth_path_for(store).read_text()
        store.close()
        return s, truth

    for d in "abc":
        (tmp_path / d).mkdir()
    a, ta = snap(tmp_path / "a" / "demo.duckdb", 7)
    b, tb = snap(tmp_path / "b" / "demo.duckdb", 7)
    assert a == b and ta == tb
    c, _ = snap(tmp_path / "c" / "demo.duckdb", 8)
    assert c["posts"] != a["posts"]


def test_with_the_starter_registry_same_seed_same_rows(tmp_path):
    pytest.importorskip("envoywatch.registry", reason="the registry package is not there yet")
    snaps = []
    for d in "ab":
        (tmp_path / d).mkdir()
        store, res = _build(tmp_path / d / "demo.duckdb", seed=11, own_registry=False)
        assert store.count("posts") == res.counts["posts"] > 0
        s = table_snapshot(store)
        s.pop("import_batches")
        snaps.append(s)
        store.close()
    assert snaps[0] == snaps[1]


def test_running_twice_changes_nothing_and_another_seed_is_refused(tmp_path):
    store, first = _build(tmp_path / "s.duckdb", seed=3)
    before = table_snapshot(store)
    again = build_demo(store, scale="small", seed=3, install_registry=False)
    assert again.already and again.batch_id == first.batch_id
    assert table_snapshot(store) == before
    with pytest.raises(StoreError, match="already holds another demo"):
        build_demo(store, scale="small", seed=4, install_registry=False)
    assert table_snapshot(store) == before
    store.close()


def test_empty_registry_fails_clearly(store):
    with pytest.raises(RegistryError, match="registry holds no accounts on platform x"):
        build_demo(store, scale="small", install_registry=False)
    assert store.count("posts") == 0 and store.count("import_batches") == 0


def test_refuses_to_mix_into_a_store_with_real_data(store):
    fake_registry(store)
    store.write("posts", [dict(platform="x", post_id="1", account_id="a", created_at=datetime(2020, 1, 1), kind="post")])
    before = table_snapshot(store)
    with pytest.raises(StoreError, match="real \\(not simulated\\) data"):
        build_demo(store, scale="small", install_registry=False)
    assert table_snapshot(store) == before


def test_scale_option():
    assert scale_factor("small")[:2] == ("small", 0.05)
    assert scale_factor("default")[1] == 1.0
    name, factor, groups = scale_factor("84000")
    assert name == "84000" and abs(factor - 0.2) < 1e-9 and groups >= 3
    with pytest.raises(ConfigError):
        scale_factor("huge")
    with pytest.raises(ConfigError):
        scale_factor("10")


def test_cli_demo_small(tmp_path):
    db = tmp_path / "cli.duckdb"
    r = run_cli("demo", "--scale", "small", db=db)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Traceback" not in out + r.stderr
    for text in ("SIMULATED", "state-affiliated accounts", "posts per month", "accounts active in both months",
                 "new accounts", "gone quiet", "top hashtags", "top linked domains", "GROUND TRUTH", str(db),
                 "demo-truth.json", "envoywatch stats"):
        assert text in out, text
    assert any(line.startswith("SIMULATED DATA") for line in out.splitlines())
    # the demo ends with the report written and how to open the dashboard
    report = db.with_name(db.stem + "-report.html")
    assert report.exists() and "SIMULATED" in report.read_text()
    assert str(report.resolve()) in out and "serve" in out.splitlines()[-1]
    r2 = run_cli("demo", "--scale", "small", db=db)
    assert r2.returncode == 0 and "nothing changed" in r2.stdout
    r3 = run_cli("demo", "--scale", "small", "--seed", "5", db=db)
    assert r3.returncode == 2 and r3.stderr.startswith("error:") and "Traceback" not in r3.stderr
    r4 = run_cli("demo", "--scale", "bogus", db=tmp_path / "other.duckdb")
    assert r4.returncode == 2 and "unknown demo scale" in r4.stderr and not (tmp_path / "other.duckdb").exists()
