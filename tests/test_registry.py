"""The starter registry, its verification against the shared lists, domain lookup, adding and exporting."""

from __future__ import annotations

import csv
import re

import pytest
import yaml

from envoywatch.errors import RegistryError
from envoywatch.registry import (add_account, add_actor, export_registry, install_starter, list_accounts,
                                 list_domains, lookup_domain)
from envoywatch.registry.model import CATEGORIES, iso_countries
from tests.conftest import REAL, real_path, table_snapshot

# what the public record around China's social-media diplomacy names (brief): name -> (state, category, host, X handle)
REQUIRED = {
    "Zhao Lijian": ("CN", "spokesperson", None, "zlj517"),
    "MFA Spokesperson's Office": ("CN", "spokesperson", None, "MFA_China"),
    "Ministry of Foreign Affairs of the People's Republic of China": ("CN", "ministry", None, None),
    "Liu Xiaoming": ("CN", "head_of_mission", "GB", "AmbLiuXiaoMing"),
    "Lin Songtian": ("CN", "head_of_mission", "ZA", None),
    "Cui Tiankai": ("CN", "head_of_mission", "US", "AmbCuiTiankai"),
    "Yang Wanming": ("CN", "head_of_mission", "BR", "WanmingYang"),
    "Li Xiaosi": ("CN", "head_of_mission", "AT", "li_xiaosi"),
    "Lu Shaye": ("CN", "head_of_mission", "FR", None),
    "Li Baorong": ("CN", "head_of_mission", "VE", "Li_Baorong"),
    "Zha Liyou": ("CN", "head_of_mission", "IN", "ZhaLiyou"),
    "Embassy of the People's Republic of China in Poland": ("CN", "mission", "PL", "ChinaEmbPoland"),
    "Embassy of the People's Republic of China in France": ("CN", "mission", "FR", "AmbassadeChine"),
    "Hu Xijin": ("CN", "state_media_staff", None, "HuXijin_GT"),
    "Chen Weihua": ("CN", "state_media_staff", None, "chenweihua"),
    "Global Times": ("CN", "state_media_outlet", None, "globaltimesnews"),
    "China Daily": ("CN", "state_media_outlet", None, "ChinaDaily"),
    "CGTN (China Global Television Network)": ("CN", "state_media_outlet", None, "CGTNOfficial"),
    "Xinhua News Agency": ("CN", "state_media_outlet", None, "XHNews"),
    "People's Daily": ("CN", "state_media_outlet", None, "PDChina"),
    "RT": ("RU", "state_media_outlet", None, "RT_com"),
    "Sputnik": ("RU", "state_media_outlet", None, "SputnikInt"),
    "Press TV": ("IR", "state_media_outlet", None, "PressTV"),
    "teleSUR": ("VE", "state_media_outlet", None, "teleSURtv"),
}
HANDLE_COLUMNS = ("twitter_handle", "username", "handle", "X (Twitter) handle")


def _rows(store, sql, params=()):
    cur = store.con.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture
def starter(store):
    install_starter(store)
    return store


def test_starter_contains_every_required_actor_with_citation_and_iso_state(starter):
    actors = {a["name"]: a for a in _rows(starter, "SELECT * FROM registry_actors WHERE parent_actor_id IS NULL "
                                                     "OR actor_id NOT LIKE '%/role-%'")}
    for name, (state, category, host, handle) in REQUIRED.items():
        a = actors.get(name)
        assert a, f"missing actor {name}"
        assert (a["state"], a["category"], a["host_country"]) == (state, category, host), name
        assert a["source"] and a["source_url"] and a["source_url"].startswith("http"), name
        if handle:
            acc = _rows(starter, "SELECT * FROM registry_accounts WHERE platform = 'x' AND handle = ?", [handle])
            assert acc and acc[0]["actor_id"] == a["actor_id"], handle
            assert acc[0]["source"], handle
    for a in _rows(starter, "SELECT * FROM registry_actors"):
        assert a["state"] in iso_countries() and len(a["state"]) == 2
        assert a["host_country"] is None or a["host_country"] in iso_countries()
        assert a["category"] in CATEGORIES
        assert a["source"]


def test_starter_history_roles_and_dates(starter):
    zhao = {r["actor_id"]: r for r in _rows(starter, "SELECT * FROM registry_actors WHERE actor_id LIKE 'cn-mfa-zhao-lijian%'")}
    roles = sorted((r for k, r in zhao.items() if "/role-" in k), key=lambda r: r["actor_id"])
    assert [r["category"] for r in roles] == ["other_official", "spokesperson", "other_official"]
    assert roles[0]["host_country"] == "PK"                      # deputy head of mission in Pakistan
    assert roles[1]["valid_from"].year == 2020 and roles[1]["valid_to"].year == 2023
    assert roles[2]["valid_from"].year == 2023
    acc = _rows(starter, "SELECT * FROM registry_accounts WHERE handle = 'zlj517'")[0]
    assert acc["opened"].year == 2010
    liu = _rows(starter, "SELECT * FROM registry_actors WHERE actor_id = 'cn-amb-gb-liu-xiaoming'")[0]
    cui = _rows(starter, "SELECT * FROM registry_actors WHERE actor_id = 'cn-amb-us-cui-tiankai'")[0]
    assert liu["valid_to"].year == 2021 and cui["valid_to"].year == 2021


def test_install_starter_is_idempotent(store):
    first = install_starter(store)
    snap = table_snapshot(store)
    second = install_starter(store)
    assert table_snapshot(store) == snap
    assert first["added"]["actors"] > 20 and first["added"]["accounts"] > 20
    assert all(v == 0 for v in second["added"].values())
    from importlib import resources

    data = yaml.safe_load(resources.files("envoywatch.registry").joinpath("data/starter_actors.yaml").read_text("utf-8"))
    assert first["version"] == str(data["version"])


def _find_file(name: str):
    hits = list((REAL / "account_lists").rglob(name))
    return hits[0] if hits else None


def test_every_starter_handle_is_verified_by_a_list_that_holds_it_or_flagged_unverified(starter):
    real_path("account_lists")
    accounts = _rows(starter, "SELECT * FROM registry_accounts")
    assert accounts
    unverified = []
    for acc in accounts:
        if not acc["verified_by"]:
            unverified.append(acc["handle"])
            continue
        for entry in acc["verified_by"].split(";"):
            m = re.search(r"(\S+\.csv)", entry)
            assert m, f"{acc['handle']}: verified_by entry names no list file: {entry!r}"
            path = _find_file(m.group(1))
            assert path, f"{acc['handle']}: {m.group(1)} is not a list in shared/"
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.DictReader(fh))
            found = [r for r in rows if any((r.get(c) or "").strip().lstrip("@").lower() == acc["handle"].lower()
                                            for c in HANDLE_COLUMNS)]
            assert found, f"{acc['handle']} not found in {path.name}"
            ids = {(r.get("user_id") or "").strip() for r in found} - {"", "NA"}
            if acc["account_id"] and ids and all(i.isdigit() for i in ids):
                assert acc["account_id"] in ids, f"{acc['handle']}: account id differs from {path.name}"
    # the unverified ones are exactly the handles no shared list holds, and the API says so
    listed = list_accounts(starter, verified=False).column("handle").to_pylist()
    assert sorted(listed) == sorted(unverified)
    assert set(unverified) == {"RT_com", "SputnikInt", "PressTV", "teleSURtv", "telesurenglish"}


def test_lookup_domain_matches_subdomains(starter):
    assert lookup_domain(starter, "news.cgtn.com") == ("CN", "state_media", "CGTN")
    assert lookup_domain(starter, "https://www.globaltimes.cn/page/1.html")[:2] == ("CN", "state_media")
    assert lookup_domain(starter, "francais.rt.com")[:2] == ("RU", "state_media")
    assert lookup_domain(starter, "presstv.ir") == ("IR", "state_media", "Press TV")
    assert lookup_domain(starter, "notcgtn.com") is None
    assert lookup_domain(starter, "cgtn.com.evil.example") is None
    assert lookup_domain(starter, "") is None
    rows = list_domains(starter).to_pylist()
    assert lookup_domain(rows, "espanol.cgtn.com")[0] == "CN"     # works on rows too


def test_lookup_domain_host_and_prefix_entries():
    rows = [{"domain": "a.example", "state": "RU", "kind": "influence_operation", "outlet": "op", "match_type": "host"},
            {"domain": "b.example/news", "state": "CN", "kind": "state_media", "outlet": "b", "match_type": "url_prefix"}]
    assert lookup_domain(rows, "a.example") == ("RU", "influence_operation", "op")
    assert lookup_domain(rows, "x.a.example") is None
    assert lookup_domain(rows, "https://b.example/news/1") == ("CN", "state_media", "b")
    assert lookup_domain(rows, "b.example/sport") is None


def test_add_actor_and_account_validate_and_mark_unverified(store):
    add_actor(store, actor_id="cn-emb-xx", name="Test embassy", state="CN", category="mission",
              host_country="DE", source="test citation")
    add_account(store, platform="x", handle="@TestEmb", actor_id="cn-emb-xx", source="test citation")
    row = list_accounts(store, host_country="DE").to_pylist()[0]
    assert row["handle"] == "TestEmb" and row["verified"] is False and row["verified_by"] is None
    with pytest.raises(RegistryError, match="ISO 3166-1"):
        add_actor(store, actor_id="x1", name="X", state="China!", category="mission", source="s")
    with pytest.raises(RegistryError, match="category"):
        add_actor(store, actor_id="x2", name="X", state="CN", category="embassy", source="s")
    with pytest.raises(RegistryError, match="not in the registry"):
        add_account(store, platform="x", handle="h", actor_id="nobody", source="s")


def test_export_yaml_and_csv(starter, tmp_path):
    c = export_registry(starter, tmp_path / "reg.yaml", "yaml")
    doc = yaml.safe_load((tmp_path / "reg.yaml").read_text())
    assert len(doc["accounts"]) == c["accounts"] == starter.count("registry_accounts")
    assert len(doc["actors"]) == starter.count("registry_actors")
    c = export_registry(starter, tmp_path / "csvout", "csv")
    with open(tmp_path / "csvout" / "registry_domains.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == starter.count("registry_domains") == c["domains"]
    with pytest.raises(RegistryError):
        export_registry(starter, tmp_path / "x.json", "json")


def test_registered_accounts_view_sees_the_starter(starter):
    """analysis/accounts_view matches a store account to the registry by id or handle."""
    from envoywatch.analysis.accounts_view import registered_accounts

    starter.write("accounts", [{"platform": "x", "account_id": "141627220", "handle": "zlj517"},
                               {"platform": "x", "account_id": "999", "handle": "rt_com"}])
    out = {r["handle"]: r for r in registered_accounts(starter).to_pyarrow().to_pylist()}
    assert out["zlj517"]["state"] == "CN" and out["zlj517"]["category"] == "spokesperson"
    assert out["rt_com"]["state"] == "RU"


def test_docs_starter_table_matches_the_data_files():
    from pathlib import Path

    from envoywatch.registry.starter import starter_table_markdown

    doc = (Path(__file__).resolve().parents[1] / "docs" / "registry.md").read_text(encoding="utf-8")
    table = doc.split("<!-- starter-table:begin -->")[1].split("<!-- starter-table:end -->")[0]
    assert table.strip() == starter_table_markdown().strip(), "regenerate the starter table in docs/registry.md"
    for cmd in ("list", "add", "import", "export", "domains", "starter"):
        assert f"envoywatch registry {cmd}" in doc
