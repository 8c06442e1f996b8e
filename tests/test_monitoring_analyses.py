"""Monitoring analyses on a small constructed store with answers worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from envoywatch.analysis.filters import Filters

D = datetime


def _post(pid, acc, when, text, kind="post", lang="en", ref_account=None):
    return {"platform": "x", "post_id": pid, "account_id": acc, "created_at": when, "text": text, "lang": lang,
            "kind": kind, "ref_account_id": ref_account, "observed": "primary"}


@pytest.fixture
def tiny(store):
    actors = [
        ("cn-emb-gb", "Embassy in GB", "organisation", "CN", "mission", "GB"),
        ("cn-amb-pl", "Ambassador to PL", "person", "CN", "head_of_mission", "PL"),
        ("ru-rt", "RT", "organisation", "RU", "state_media_outlet", None),
        ("cn-emb-aq", "Station in AQ", "organisation", "CN", "mission", "AQ"),
        ("cn-emb-fr", "Embassy in FR", "organisation", "CN", "mission", "FR"),
    ]
    store.write("registry_actors", [{"actor_id": a, "name": n, "actor_type": t, "state": s, "category": c,
                                     "host_country": h, "source": "test"} for a, n, t, s, c, h in actors])
    accounts = [("a1", "EmbA_GB", "cn-emb-gb", D(2020, 12, 1)), ("a2", "AmbB_PL", "cn-amb-pl", D(2021, 2, 1)),
                ("a3", "RTnews", "ru-rt", None), ("a4", "random", None, None), ("a5", "StationAQ", "cn-emb-aq", None),
                ("a6", "GoneQuiet", "cn-emb-fr", None)]
    store.write("accounts", [{"platform": "x", "account_id": i, "handle": h, "created_at": c} for i, h, _, c in accounts])
    store.write("registry_accounts", [{"platform": "x", "handle": h, "actor_id": a, "account_id": i, "source": "test"}
                                      for i, h, a, _ in accounts if a])
    posts = [
        _post("p1", "a1", D(2021, 1, 5, 10), "Great meeting in London with British friends #Friendship #OldTag"),
        _post("p2", "a1", D(2021, 1, 20), "RT @RTnews: news", kind="repost", ref_account="a3"),
        _post("p3", "a1", D(2021, 2, 3), "中国驻英国大使馆发言人就有关问题答记者问", lang=None),
        _post("p4", "a1", D(2021, 2, 10), "Thanks, see you soon #NewTag #RiseTag", kind="reply"),
        _post("p5", "a2", D(2021, 2, 1), "Ambasada w Polsce zaprasza #RiseTag", lang="pl"),
        _post("p6", "a2", D(2021, 2, 2), "China and the world #Friendship #OldTag", lang=None),
        _post("p7", "a3", D(2021, 1, 10), "news https://www.rt.com/news/1 #OldTag #RiseTag"),
        _post("p8", "a3", D(2021, 2, 11), "look at this", kind="quote", ref_account="a1"),
        _post("p9", "a4", D(2021, 2, 15), "hello"),
        _post("p10", "a5", D(2021, 2, 20), "Antarctica rocks"),
        _post("p11", "a6", D(2021, 1, 15), "Bonjour la France"),
    ]
    store.write_many({
        "posts": posts,
        "post_hashtags": [{"platform": "x", "post_id": p["post_id"], "tag": t, "tag_norm": t.casefold()}
                          for p in posts for t in (w[1:] for w in p["text"].split() if w.startswith("#"))],
        "post_urls": [{"platform": "x", "post_id": "p7", "position": 0, "url": "https://t.co/x",
                       "expanded_url": "https://www.rt.com/news/1", "normalized_url": "https://rt.com/news/1",
                       "domain": "rt.com", "host": "rt.com"}],
        "post_mentions": [{"platform": "x", "post_id": "p2", "handle": "RTnews", "handle_norm": "rtnews"}],
    })
    m = [("p1", D(2021, 1, 6), 10, 1, 0, 0), ("p1", D(2021, 3, 1), 20, 3, 1, 1), ("p4", D(2021, 3, 1), 4, 1, 3, 0),
         ("p2", D(2021, 3, 1), 500, 90, 0, 0), ("p5", D(2021, 3, 1), 6, 2, 2, 2), ("p6", D(2021, 3, 1), 8, 0, 0, 0)]
    store.write("post_metrics", [{"platform": "x", "post_id": p, "captured_at": c, "likes": lk, "reposts": r,
                                  "replies": rp, "quotes": q} for p, c, lk, r, rp, q in m])
    store.write("account_snapshots", [
        {"platform": "x", "account_id": "a1", "captured_at": D(2021, 1, 1), "followers": 100, "following": 5},
        {"platform": "x", "account_id": "a1", "captured_at": D(2021, 3, 1), "followers": 200, "following": 6},
        {"platform": "x", "account_id": "a2", "captured_at": D(2021, 3, 1), "followers": 50, "following": 1}])
    return store


def rows(expr):
    return expr.to_pyarrow().to_pylist()


def test_filtered_posts_filters(tiny):
    from envoywatch.analysis.filters import filtered_posts

    def ids(f):
        return sorted(r["post_id"] for r in rows(filtered_posts(tiny, f)))

    assert len(ids(Filters())) == 11
    assert ids(Filters(states=("RU",))) == ["p7", "p8"]
    assert ids(Filters(categories=("head_of_mission",))) == ["p5", "p6"]
    assert ids(Filters(host_countries=("GB",), kinds=("post",))) == ["p1", "p3"]
    assert ids(Filters(accounts=("a4",))) == ["p9"]
    assert ids(Filters(languages=("pl",))) == ["p5"]
    assert ids(Filters(start="2021-02-11", end=D(2021, 2, 16))) == ["p8", "p9"]
    assert "p9" not in ids(Filters(registered_only=True)) and len(ids(Filters(registered_only=True))) == 10
    r = {x["post_id"]: x for x in rows(filtered_posts(tiny, Filters(accounts=("a1",))))}
    assert r["p1"]["handle"] == "EmbA_GB" and r["p1"]["state"] == "CN" and r["p1"]["host_country"] == "GB"


def test_activity_over_time(tiny):
    from envoywatch.analysis.activity import activity_over_time

    out = rows(activity_over_time(tiny, Filters(), freq="month"))
    assert [(r["period"], r["posts"], r["originals"], r["reposts"], r["quotes"], r["replies"], r["accounts"])
            for r in out] == [(date(2021, 1, 1), 4, 3, 1, 0, 0, 3), (date(2021, 2, 1), 7, 5, 0, 1, 1, 5)]
    assert all(r["group"] is None for r in out)
    by_state = {(r["period"], r["group"]): r["posts"] for r in rows(activity_over_time(tiny, Filters(), by="state"))}
    assert by_state == {(date(2021, 1, 1), "CN"): 3, (date(2021, 1, 1), "RU"): 1, (date(2021, 2, 1), "CN"): 5,
                        (date(2021, 2, 1), "RU"): 1, (date(2021, 2, 1), None): 1}
    # weeks start on Monday: 2021-01-05 (Tue) -> 2021-01-04
    weeks = rows(activity_over_time(tiny, Filters(accounts=("a1",)), freq="week"))
    assert [r["period"] for r in weeks] == [date(2021, 1, 4), date(2021, 1, 18), date(2021, 2, 1), date(2021, 2, 8)]
    days = rows(activity_over_time(tiny, Filters(accounts=("a2",)), freq="day", by="account"))
    assert [(r["period"], r["group"], r["posts"]) for r in days] == [(date(2021, 2, 1), "a2", 1), (date(2021, 2, 2), "a2", 1)]


def test_growth_decomposition_constructed(tiny):
    from envoywatch.analysis.activity import growth_by_account, growth_decomposition

    args = (D(2021, 1, 1), D(2021, 2, 1), D(2021, 2, 1), D(2021, 3, 1))
    g = rows(growth_decomposition(tiny, Filters(), *args))[0]
    # a: a1 2, a3 1, a6 1 = 4; b: a1 2, a2 2, a3 1, a4 1, a5 1 = 7
    assert g == {"posts_a": 4, "posts_b": 7, "change": 3, "both_change": 0, "new_posts": 4, "gone_posts": 1,
                 "accounts_both": 2, "accounts_new": 3, "accounts_gone": 1}
    assert g["change"] == g["both_change"] + g["new_posts"] - g["gone_posts"]
    by = {r["account_id"]: (r["posts_a"], r["posts_b"], r["status"]) for r in rows(growth_by_account(tiny, Filters(), *args))}
    assert by == {"a1": (2, 2, "both"), "a3": (1, 1, "both"), "a6": (1, 0, "gone"), "a2": (0, 2, "new"),
                  "a4": (0, 1, "new"), "a5": (0, 1, "new")}
    # strings for periods, and filters still apply
    g = rows(growth_decomposition(tiny, Filters(states=("CN",)), "2021-01", "2021-02", "2021-02", "2021-03"))[0]
    assert (g["posts_a"], g["posts_b"], g["change"], g["both_change"], g["new_posts"], g["gone_posts"]) == (3, 5, 2, 0, 3, 1)


def test_onboarding(tiny):
    from envoywatch.analysis.activity import onboarding

    out = {r["month"]: (r["accounts_created"], r["first_posts"]) for r in rows(onboarding(tiny, Filters()))}
    assert out == {date(2020, 12, 1): (1, 0), date(2021, 1, 1): (0, 3), date(2021, 2, 1): (1, 3)}
    out = {r["month"]: (r["accounts_created"], r["first_posts"]) for r in rows(onboarding(tiny, Filters(registered_only=True, start="2021-01")))}
    assert out == {date(2021, 1, 1): (0, 3), date(2021, 2, 1): (1, 2)}


def test_followers_and_engagement(tiny):
    from envoywatch.analysis.reach import engagement, followers_over_time, top_posts

    fo = rows(followers_over_time(tiny, Filters(states=("CN",))))
    assert [(r["account_id"], r["followers"]) for r in fo] == [("a1", 100), ("a1", 200), ("a2", 50)]
    e = {r["group"]: r for r in rows(engagement(tiny, Filters(), by="account"))}
    # reposts are left out (p2); latest snapshot of p1 is 20 likes; a1: p1 20, p4 4 -> median 12
    assert e["a1"]["posts"] == 2 and e["a1"]["median_likes"] == 12.0 and e["a1"]["median_replies"] == 2.0
    assert e["a1"]["likes_per_follower"] == pytest.approx(24 / 200)
    assert e["a2"]["median_likes"] == 7.0 and e["a2"]["likes_per_follower"] == pytest.approx(14 / 50)
    assert set(e) == {"a1", "a2"}
    allg = rows(engagement(tiny, Filters(), by=None))[0]
    assert allg["group"] is None and allg["posts"] == 4 and allg["median_likes"] == 7.0
    assert allg["likes_per_follower"] == pytest.approx(38 / 250)
    with_reposts = {r["group"]: r for r in rows(engagement(tiny, Filters(kinds=("post", "repost", "reply")), by="account"))}
    assert with_reposts["a1"]["posts"] == 3
    top = rows(top_posts(tiny, Filters(), n=2, metric="likes"))
    assert [r["post_id"] for r in top] == ["p1", "p6"] and top[0]["likes"] == 20 and top[0]["handle"] == "EmbA_GB"


def test_top_entities_trends(tiny):
    from envoywatch.analysis.shares import top_entities

    feb = Filters(start="2021-02", end="2021-03")
    out = {r["entity"]: r for r in rows(top_entities(tiny, feb, "hashtag"))}
    # previous window defaults to January (same length before the start)
    assert {k: (r["count"], r["prev_count"], r["change"], r["trend"]) for k, r in out.items()} == {
        "risetag": (2, 1, 1, "rising"), "friendship": (1, 1, 0, "steady"), "oldtag": (1, 2, -1, "falling"),
        "newtag": (1, 0, 1, "new")}
    order = [r["entity"] for r in rows(top_entities(tiny, feb, "hashtag", n=2))]
    assert order == ["risetag", "friendship"]
    explicit = rows(top_entities(tiny, feb, "hashtag", previous=(D(2020, 1, 1), D(2020, 2, 1))))
    assert all(r["trend"] == "new" for r in explicit)
    no_prev = rows(top_entities(tiny, Filters(), "hashtag"))
    assert no_prev[0]["entity"] == "oldtag" and no_prev[0]["count"] == 3 and no_prev[0]["posts"] == 3
    assert no_prev[0]["accounts"] == 3 and no_prev[0]["trend"] is None and no_prev[0]["prev_count"] is None
    assert [(r["entity"], r["count"]) for r in rows(top_entities(tiny, Filters(), "domain"))] == [("rt.com", 1)]
    assert [r["entity"] for r in rows(top_entities(tiny, Filters(), "url"))] == ["https://rt.com/news/1"]
    assert [r["entity"] for r in rows(top_entities(tiny, Filters(), "mention"))] == ["rtnews"]
    assert [r["entity"] for r in rows(top_entities(tiny, Filters(), "reposted_account"))] == ["RTnews"]
    assert [r["entity"] for r in rows(top_entities(tiny, Filters(), "quoted_account"))] == ["EmbA_GB"]


def test_language_mix_detects_missing_languages(tiny):
    from envoywatch.analysis.focus import LANG_CACHE, language_mix

    out = {(r["group"], r["language"]): (r["posts"], r["share"]) for r in rows(language_mix(tiny, Filters(), by="account"))}
    assert out[("a1", "en")] == (3, pytest.approx(0.75))
    assert out[("a1", "zh")] == (1, pytest.approx(0.25))   # p3 has no platform language: detected
    assert out[("a2", "en")][0] == 1 and out[("a2", "pl")][0] == 1
    assert tiny.count(LANG_CACHE) == 2                     # p3, p6 cached
    nodetect = {(r["group"], r["language"]) for r in rows(language_mix(tiny, Filters(accounts=("a1",)), detect=False))}
    assert (None, "und") in nodetect


def test_language_mix_read_only_store(tiny, tmp_path):
    from envoywatch.analysis.focus import language_mix
    from envoywatch.store import Store

    path = tiny.path
    tiny.close()
    with Store(path, read_only=True) as ro:
        out = {r["language"]: r["posts"] for r in rows(language_mix(ro, Filters(accounts=("a1",))))}
    assert out == {"en": 3, "zh": 1}


def test_host_focus_terms_in_several_languages(tiny):
    from envoywatch.analysis.focus import host_focus, host_pattern, host_terms_version

    out = {r["account_id"]: r for r in rows(host_focus(tiny, Filters()))}
    assert set(out) == {"a1", "a2", "a5", "a6"}                  # missions and heads of mission only
    # a1 (GB): p1 'London', 'British' (en); p3 '英国' (zh); p2 'RT @RTnews: news' and p4 no
    assert (out["a1"]["posts"], out["a1"]["posts_mentioning_host"]) == (4, 2)
    assert out["a1"]["share"] == pytest.approx(0.5)
    # a2 (PL): 'Polsce' (Polish, inflected) yes; 'China and the world' no
    assert (out["a2"]["posts_mentioning_host"], out["a2"]["share"]) == (1, pytest.approx(0.5))
    assert (out["a6"]["posts_mentioning_host"], out["a6"]["share"]) == (1, 1.0)   # 'France' (fr)
    # AQ has no terms: NULL share, with a note, never a guess
    assert out["a5"]["share"] is None and out["a5"]["posts_mentioning_host"] is None and "AQ" in out["a5"]["note"]
    assert out["a1"]["note"] is None
    assert host_terms_version() and host_pattern("AQ") is None


@pytest.mark.parametrize("country,text,hit", [
    ("US", "Let us talk", False), ("US", "The US and China", True), ("US", "美国", True),
    ("DE", "Gespräche in Berlin", True), ("DE", "Deutschlands Rolle", True), ("DE", "Germanium", True),
    ("FR", "Palais de l'Élysée", True), ("RU", "В Кремле", True), ("JP", "東京で会議", True),
    ("KR", "서울에서", True), ("IN", "Indiana Jones", False), ("TD", "chad said", False), ("TD", "au Tchad", True),
    ("ZA", "Suid-Afrika", True), ("BR", "no Brasil", True), ("AT", "in Wien", True), ("VE", "Caracas", True),
    ("PK", "پاکستان زندہ باد", True), ("EG", "القاهرة", True), ("GB", "UKraine", False),
])
def test_host_terms_match(country, text, hit):
    import duckdb

    from envoywatch.analysis.focus import host_pattern

    got = duckdb.connect().execute("SELECT regexp_matches(?, ?)", [text, host_pattern(country)]).fetchall()[0][0]
    assert got is hit


def test_host_terms_cover_registry_and_demo_hosts():
    from envoywatch.analysis.focus import host_terms

    need = {"GB", "US", "FR", "ZA", "BR", "AT", "VE", "IN", "PL", "PK", "DE", "CA", "AU", "JP", "KR", "RU", "IT",
            "ES", "MX", "AR", "NG", "KE", "EG"}
    countries = host_terms()["countries"]
    assert need <= set(countries)
    for code, entry in countries.items():
        assert "en" in entry and "zh" in entry, code


def test_bad_parameters_say_what_to_use(tiny):
    from envoywatch.analysis.activity import activity_over_time
    from envoywatch.analysis.filters import AnalysisParameterError
    from envoywatch.analysis.shares import top_entities

    with pytest.raises(AnalysisParameterError, match="day, week, month"):
        activity_over_time(tiny, Filters(), freq="year")
    with pytest.raises(AnalysisParameterError, match="hashtag"):
        top_entities(tiny, Filters(), "emoji")
    with pytest.raises(AnalysisParameterError, match="YYYY-MM"):
        Filters(start="last tuesday")
