"""Importing the real lists: counts equal an independent csv count, a second import changes nothing."""

from __future__ import annotations

import csv
import re

import pytest

from envoywatch.errors import RegistryError
from envoywatch.registry import import_list, install_starter, lookup_domain
from tests.conftest import real_path, table_snapshot

pytestmark = pytest.mark.realdata
AL = "account_lists"
SD = (AL, "schliebs_disinfo")


def _csv(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _h(v):
    v = (v or "").strip()
    return "" if v.upper() == "NA" else v


def _fb(v):
    v = _h(v)
    m = re.match(r"^profile\.php\?id=(\d+)", v)
    return m.group(1) if m else v.split("?")[0].strip("/")


def _count(store, table, where="TRUE"):
    return store.con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchall()[0][0]


def test_canis_counts_per_platform_and_idempotent(store):
    path = real_path(AL, "canis_prc_state_media_on_social_media_2023-11-03.csv")
    rows = _csv(path)
    cols = {"x": "X (Twitter) handle", "facebook": "Facebook page", "instagram": "Instragram page",
            "threads": "Threads account", "youtube": "YouTube account", "tiktok": "TikTok account"}
    expected = {}
    for platform, col in cols.items():
        clean = _fb if platform == "facebook" else (lambda v: _h(v).strip("/").lstrip("@"))
        expected[platform] = len({clean(r[col]).lower() for r in rows if clean(r[col])})
    assert expected["x"] == len({r["X (Twitter) handle"].strip().lower() for r in rows if r["X (Twitter) handle"].strip()})
    counts = import_list(store, path)
    assert counts["kind"] == "canis"
    assert counts["accounts_by_platform"] == expected
    for platform, n in expected.items():
        assert _count(store, "registry_accounts", f"platform = '{platform}'") == n
    entities = sum(1 for r in rows if r["Name (English)"].strip() and any(_h(r[c]) for c in cols.values()))
    assert counts["actors"] == _count(store, "registry_actors") == entities
    snap = table_snapshot(store)
    again = import_list(store, path)
    assert table_snapshot(store) == snap and all(v == 0 for v in again["added"].values())
    zhao = store.con.execute("SELECT a.category, a.state FROM registry_accounts r JOIN registry_actors a USING (actor_id) "
                             "WHERE r.handle = 'zlj517'").fetchall()
    assert zhao == [("other_official", "CN")]     # CANIS does not say he was a spokesperson; MFA person
    assert store.con.execute("SELECT category FROM registry_actors WHERE name = 'Chinese Embassy in France'").fetchall()[0][0] == "mission"
    assert store.con.execute("SELECT category FROM registry_actors WHERE name = 'China Daily'").fetchall()[0][0] == "state_media_outlet"


@pytest.mark.parametrize("state", ["cn", "ru"])
def test_schliebs_latest_counts(store, state):
    path = real_path(*SD, f"{state}_diplomats_twitter_latest.csv")
    rows = _csv(path)
    handles = {r["twitter_handle"].strip().lower() for r in rows if r["twitter_handle"].strip()}
    deleted = {r["twitter_handle"].strip().lower() for r in rows if r["deleted"] == "TRUE"}
    counts = import_list(store, path)
    assert counts["kind"] == "schliebs-latest"
    assert counts["accounts"] == len(handles) == _count(store, "registry_accounts")
    assert counts["history"] == len(deleted) == _count(store, "registry_history", "change = 'deleted'")
    assert _count(store, "registry_actors", f"state = '{state.upper()}'") == len(handles)
    with_id = {r["twitter_handle"].strip().lower() for r in rows if r["user_id"].strip().isdigit()}
    assert _count(store, "registry_accounts", "account_id IS NOT NULL") == len(with_id)
    snap = table_snapshot(store)
    import_list(store, path)
    assert table_snapshot(store) == snap


@pytest.mark.parametrize("state", ["cn", "ru"])
def test_schliebs_historical_counts(store, state):
    path = real_path(*SD, f"{state}_diplomats_twitter_historical.csv")
    rows = _csv(path)
    handles = {r["twitter_handle"].strip().lower() for r in rows if r["twitter_handle"].strip()}
    changes = set()
    for r in rows:
        remark, end = r.get("remarks", ""), r.get("ended_post", "").strip()
        kind = ("renamed" if re.search(r"renam|changed name|newer handle", remark, re.I)
                else "suspended" if "suspend" in remark.lower() else None)
        if kind and r["twitter_handle"].strip() and re.match(r"^\d", end):
            changes.add((r["twitter_handle"].strip().lower(), end, kind))
    counts = import_list(store, path)
    assert counts["kind"] == "schliebs-historical"
    assert counts["accounts"] == len(handles) == _count(store, "registry_accounts")
    assert counts["history"] == len(changes) == _count(store, "registry_history")
    snap = table_snapshot(store)
    import_list(store, path)
    assert table_snapshot(store) == snap
    if state == "cn":   # Cui Tiankai's US post ended 22/06/2021 per the list
        assert str(store.con.execute("SELECT valid_to FROM registry_accounts WHERE handle = 'AmbCuiTiankai'").fetchall()[0][0]) == "2021-06-22"


@pytest.mark.parametrize("state", ["cn", "ru"])
def test_schliebs_v2_users_give_account_ids(store, state):
    path = real_path(*SD, f"twitter_{state}_dips.csv")
    rows = _csv(path)
    users = {r["username"].strip().lower(): r["user_id"].strip() for r in rows if _h(r["username"])}
    counts = import_list(store, path)
    assert counts["kind"] == "schliebs-users"
    assert counts["accounts"] == len(users) == _count(store, "registry_accounts")
    got = dict(store.con.execute("SELECT lower(handle), account_id FROM registry_accounts").fetchall())
    assert got == {h: (i if i.isdigit() else None) for h, i in users.items()}
    snap = table_snapshot(store)
    import_list(store, path)
    assert table_snapshot(store) == snap


@pytest.mark.parametrize("parts,state", [((*SD, "platform_labels_twitter_cn_dips.csv"), "CN"),
                                         ((*SD, "platform_labels_twitter_ru_dips.csv"), "RU"),
                                         ((*SD, "twitter_labels_23032022.csv"), "RU")])
def test_twitter_labels_give_labelled_history(store, parts, state):
    path = real_path(*parts)
    rows = _csv(path)
    labelled = {(r["handle"].strip().lower(), r["date_scraped"]) for r in rows if _h(r["gov_label"]) and _h(r["handle"])}
    counts = import_list(store, path)
    assert counts["kind"] == "twitter-labels"
    assert counts["history"] == len(labelled) == _count(store, "registry_history", "change = 'labelled'")
    assert counts["accounts"] == len({h for h, _ in labelled})
    assert _count(store, "registry_actors", f"state <> '{state}'") == 0
    media = {r["handle"].strip().lower() for r in rows if "state-affiliated media" in r["gov_label"]}
    got_media = {h.lower() for (h,) in store.con.execute(
        "SELECT r.handle FROM registry_accounts r JOIN registry_actors a USING (actor_id) "
        "WHERE a.category = 'state_media_outlet'").fetchall()}
    assert got_media == media
    snap = table_snapshot(store)
    import_list(store, path)
    assert table_snapshot(store) == snap


@pytest.mark.parametrize("name,states", [("cn_statemedia_domains.csv", {"CN"}), ("vaxx-url-targets.csv", {"CN", "RU"})])
def test_statemedia_domain_lists(store, name, states):
    path = real_path(*SD, name)
    rows = _csv(path)
    expected = set()
    for r in rows:
        ident = (r.get("lang_identifier") or "").strip().lower()
        if ident:
            expected.add((ident.removeprefix("www."), {"china": "CN", "russia": "RU"}[r["country"].strip().lower()]))
    counts = import_list(store, path)
    assert counts["domains"] == len(expected) == _count(store, "registry_domains")
    assert {s for (s,) in store.con.execute("SELECT DISTINCT state FROM registry_domains").fetchall()} == states
    assert lookup_domain(store, "newsus.cgtn.com")[:2] == ("CN", "state_media")
    snap = table_snapshot(store)
    import_list(store, path)
    assert table_snapshot(store) == snap


def test_dima_domains_are_influence_operations_with_report_links(store):
    path = real_path(AL, "dima_io_operation_domains.csv")
    rows = _csv(path)
    accepted = {}
    for r in rows:
        d = r["domain"].strip().lower().removeprefix("www.")
        if r["matchType"] == "exact" or (r["matchType"] == "contains" and "." in d and d != "m.youtube.com"):
            accepted.setdefault((d, "CN" if "Chine" in [t.strip() for t in r["tags"].split(";")] else "RU"), r)
    counts = import_list(store, path)
    assert counts["kind"] == "dima"
    assert counts["domains"] == len(accepted) == _count(store, "registry_domains", "kind = 'influence_operation'")
    assert _count(store, "registry_domains", "source_url IS NULL OR source_url NOT LIKE 'http%'") == 0
    pravda = next(r for r in rows if r["operation_file"] == "Pravda" and r["matchType"] == "exact")
    state, kind, outlet = lookup_domain(store, pravda["domain"])
    assert (state, kind) == ("RU", "influence_operation") and "Pravda" in outlet.split("; ")
    assert lookup_domain(store, "www." + pravda["domain"])[:2] == ("RU", "influence_operation")
    snap = table_snapshot(store)
    import_list(store, path)
    assert table_snapshot(store) == snap


def test_lists_confirm_the_starter_without_duplicating_it(store):
    install_starter(store)
    before = store.con.execute("SELECT actor_id FROM registry_accounts WHERE handle = 'zlj517'").fetchall()[0][0]
    import_list(store, real_path(*SD, "cn_diplomats_twitter_latest.csv"))
    import_list(store, real_path(AL, "canis_prc_state_media_on_social_media_2023-11-03.csv"))
    row = store.con.execute("SELECT actor_id, verified_by FROM registry_accounts WHERE lower(handle) = 'zlj517'").fetchall()
    assert len(row) == 1 and row[0][0] == before
    assert row[0][1].count("cn_diplomats_twitter_latest.csv") == 1      # verified_by is a set, not appended twice
    assert store.con.execute("SELECT category FROM registry_actors WHERE actor_id = ?", [before]).fetchall()[0][0] == "spokesperson"


def test_a_file_that_is_no_known_list_is_a_registry_error(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(RegistryError) as e:
        import_list(store, bad)
    assert str(bad) in e.value.one_line() and "Fix:" in e.value.one_line()
    with pytest.raises(RegistryError, match="lacks the columns"):
        import_list(store, bad, kind="canis")
    unknown_state = tmp_path / "diplomats_latest.csv"
    unknown_state.write_text("country,ISO2,cat,twitter_handle,user_id,username,data_scraped\nX,DE,E,h,1,h,2024-01-01\n")
    with pytest.raises(RegistryError, match="--state"):
        import_list(store, unknown_state)
    assert import_list(store, unknown_state, state="CN")["accounts"] == 1
    with pytest.raises(RegistryError, match="not found"):
        import_list(store, tmp_path / "missing.csv")
