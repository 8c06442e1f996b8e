"""Amplified sources: classification of domains and accounts, the cross-state matrix, top sources, live resolution
of shorteners against a loopback server, and an independent count on the real CANIS GraphQL files."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from envoywatch.analysis.filters import Filters
from envoywatch.analysis.sources import (ShortenerResolver, SourcesError, amplification_matrix, classified_sources,
                                         resolve_shortened_urls, source_accounts, source_domains, source_links,
                                         sources_by_account, top_sources)
from envoywatch.util.urls import url_row
from tests.conftest import real_path
from tests.test_narratives import SRC, add_account, post

CANIS = ("state_media", "canis_x_graphql")


def _domains(store):
    store.write("registry_domains", [
        {"domain": "cgtn.com", "state": "CN", "kind": "state_media", "outlet": "CGTN", "source": SRC},
        {"domain": "rt.com", "state": "RU", "kind": "state_media", "outlet": "RT", "source": SRC},
        {"domain": "fmprc.gov.cn", "state": "CN", "kind": "official", "outlet": "MFA", "source": SRC},
        {"domain": "fake-news.example", "state": "RU", "kind": "influence_operation", "outlet": "IO", "source": SRC},
        {"domain": "special.example.org", "state": "IR", "kind": "state_media", "outlet": "Host only",
         "match_type": "host", "source": SRC},
        {"domain": "example.net/statemedia", "state": "VE", "kind": "state_media", "outlet": "Prefix",
         "match_type": "url_prefix", "source": SRC},
    ])


@pytest.fixture
def sstore(store):
    """CN missions in KE and NG, a CN state-media account, an RU state-media account, an unregistered account."""
    _domains(store)
    add_account(store, "ke", "ChinaEmbKE", "CN", "mission", "KE")
    add_account(store, "ng", "ChinaEmbNG", "CN", "mission", "NG")
    add_account(store, "cgtn", "CGTNOfficial", "CN", "state_media_outlet", name="CGTN")
    add_account(store, "rt", "RT_com", "RU", "state_media_outlet", name="RT")
    add_account(store, "joe", "joe_blogs")
    t0 = datetime(2021, 1, 10)
    t1 = datetime(2021, 2, 10)
    posts = [
        post(1, "ke", t0, "see"), post(2, "ke", t0, "see"), post(3, "ng", t1, "see"),
        post(4, "ke", t0, "RT @RT_com: x", kind="repost", ref_account_id="rt"),
        post(5, "ke", t1, "RT @RT_com: y", kind="repost", ref_account_id="rt"),
        post(6, "ng", t0, "RT @CGTNOfficial: z", kind="repost", ref_account_id="cgtn"),
        post(7, "ng", t0, "look", kind="quote", ref_account_id="joe"),
        post(8, "joe", t0, "my blog"),
    ]
    urls = [
        url_row("x", "1", 0, "https://t.co/a", "https://www.rt.com/news/1?utm_source=tw"),
        url_row("x", "1", 1, "https://t.co/b", "https://news.cgtn.com/a"),
        url_row("x", "2", 0, "https://t.co/c", "https://m.rt.com/news/2"),
        url_row("x", "2", 1, "https://t.co/d", "https://special.example.org/x"),
        url_row("x", "2", 2, "https://t.co/e", "https://other.example.org/x"),
        url_row("x", "3", 0, "https://t.co/f", "https://example.net/statemedia/item"),
        url_row("x", "3", 1, "https://t.co/g", "https://example.net/other"),
        url_row("x", "3", 2, "https://t.co/h", "https://www.fake-news.example/story"),
        url_row("x", "8", 0, "https://t.co/i", "https://www.fmprc.gov.cn/eng/"),
    ]
    store.write_many({"posts": posts, "post_urls": urls})
    return store


def test_domain_classification_suffix_host_and_prefix_rules(sstore):
    rows = {(r["post_id"], r["position"]): (r["domain"], r["source_kind"], r["source_state"], r["outlet"])
            for r in source_links(sstore).to_pyarrow().to_pylist()}
    assert rows == {
        ("1", 0): ("rt.com", "state_media", "RU", "RT"),
        ("1", 1): ("cgtn.com", "state_media", "CN", "CGTN"),
        ("2", 0): ("rt.com", "state_media", "RU", "RT"),                       # m. host folded
        ("2", 1): ("example.org", "state_media", "IR", "Host only"),           # exact host entry
        ("2", 2): ("example.org", "unregistered", None, None),                 # other host of that domain
        ("3", 0): ("example.net", "state_media", "VE", "Prefix"),              # url prefix
        ("3", 1): ("example.net", "unregistered", None, None),
        ("3", 2): ("fake-news.example", "influence_operation", "RU", "IO"),
        ("8", 0): ("fmprc.gov.cn", "official", "CN", "MFA"),
    }
    d = {r["domain"]: r for r in source_domains(sstore, Filters(registered_only=True)).to_pyarrow().to_pylist()
         if r["source_kind"] != "unregistered"}
    assert d["rt.com"]["items"] == 2 and d["rt.com"]["accounts"] == 1 and "fmprc.gov.cn" not in d


def test_account_classification(sstore):
    got = {r["source_handle"]: (r["relation"], r["source_kind"], r["source_state"], r["items"], r["accounts"])
           for r in source_accounts(sstore).to_pyarrow().to_pylist()}
    assert got == {"RT_com": ("repost", "state_media", "RU", 2, 1), "CGTNOfficial": ("repost", "state_media", "CN", 1, 1),
                   "joe_blogs": ("quote", "unregistered", None, 1, 1)}
    per = {(r["account_id"], r["source_type"], r["source_kind"], r["source_state"]): (r["items"], r["share"])
           for r in sources_by_account(sstore).to_pyarrow().to_pylist()}
    assert per[("ke", "account", "state_media", "RU")] == (2, 1.0)
    assert per[("ng", "account", "state_media", "CN")] == (1, 0.5)


def test_cross_state_matrix_on_a_constructed_case(sstore):
    m = amplification_matrix(sstore, Filters(states=("CN",), categories=("mission",)), freq="month",
                             by="state_category").to_pyarrow().to_pylist()
    got = {(str(r["period"]), r["from_group"], r["to_state"], r["to_kind"]): (r["items"], r["accounts"], r["share"])
           for r in m}
    # January: KE links rt.com x2 (posts 1, 2), cgtn.com, special (IR), other (unregistered), reposts RT;
    #          NG reposts CGTN and quotes joe (unregistered)   -> 8 items in CN/mission
    assert got[("2021-01-01", "CN/mission", "RU", "state_media")] == (3, 1, 3 / 8)
    assert got[("2021-01-01", "CN/mission", "CN", "state_media")] == (2, 2, 2 / 8)
    assert got[("2021-01-01", "CN/mission", "IR", "state_media")] == (1, 1, 1 / 8)
    # February: NG prefix VE, unregistered example.net, IO fake-news; KE reposts RT -> 4 items
    assert got[("2021-02-01", "CN/mission", "VE", "state_media")] == (1, 1, 0.25)
    assert got[("2021-02-01", "CN/mission", "RU", "influence_operation")] == (1, 1, 0.25)
    assert got[("2021-02-01", "CN/mission", "RU", "state_media")] == (1, 1, 0.25)
    assert not [k for k in got if k[3] == "unregistered"]
    allm = amplification_matrix(sstore, Filters(states=("CN",)), freq=None, by="state", source_type="account",
                                include_unregistered=True).to_pyarrow().to_pylist()
    assert sum(r["items"] for r in allm) == 4 and abs(sum(r["share"] for r in allm) - 1.0) < 1e-9


def test_top_sources_per_account_and_period(sstore):
    t = top_sources(sstore, Filters(accounts=("ke",)), freq="month", n=1).to_pyarrow().to_pylist()
    assert [(str(r["period"]), r["source"], r["items"], r["rank"]) for r in t] == [
        ("2021-01-01", "rt.com", 2, 1), ("2021-02-01", "RT_com", 1, 1)]


# --- live resolution (loopback only) -----------------------------------------------------------------------

class _Redirects(BaseHTTPRequestHandler):
    hits: list = []

    def _answer(self):
        _Redirects.hits.append(self.path)
        if self.path == "/s/abc":
            self.send_response(301)
            self.send_header("Location", "/hop/1")
        elif self.path == "/hop/1":
            self.send_response(302)
            self.send_header("Location", "https://www.rt.com/news/99?utm_source=short")   # never fetched
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
        else:
            self.send_response(404)
        self.end_headers()

    do_HEAD = _answer
    do_GET = _answer

    def log_message(self, *a):
        pass


@pytest.fixture
def loopback():
    srv = HTTPServer(("127.0.0.1", 0), _Redirects)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    _Redirects.hits = []
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_live_resolution_is_off_by_default(sstore):
    with pytest.raises(SourcesError, match="--live"):
        resolve_shortened_urls(sstore)


def test_live_resolution_follows_shortener_redirects_on_loopback_cached_and_rate_limited(sstore, loopback):
    add_account(sstore, "za", "ChinaEmbZA", "CN", "mission", "ZA")
    sstore.write_many({"posts": [post(20, "za", datetime(2021, 1, 5), "short"), post(21, "za", datetime(2021, 1, 6), "x")],
                       "post_urls": [url_row("x", "20", 0, f"{loopback}/s/abc"), url_row("x", "21", 0, f"{loopback}/loop"),
                                     url_row("x", "21", 1, f"{loopback}/missing")]})
    before = {r["post_id"]: r["source_kind"] for r in source_links(sstore).to_pyarrow().to_pylist()
              if r["post_id"] == "20"}
    assert before == {"20": "unregistered"}
    res = ShortenerResolver(hosts={"127.0.0.1"}, min_interval=0.05, max_hops=3)
    t = datetime.now()
    out = resolve_shortened_urls(sstore, live=True, resolver=res)
    assert out["candidates"] == 3 and out["resolved"] == 1 and out["failed"] == 2
    assert (datetime.now() - t) >= timedelta(seconds=0.05 * 5)        # 6 requests to one host, spaced
    assert "/s/abc" in _Redirects.hits and not any("news/99" in h for h in _Redirects.hits)
    rows = dict(sstore.con.execute("SELECT url, status FROM url_resolutions").fetchall())
    assert rows[f"{loopback}/s/abc"] == "resolved" and rows[f"{loopback}/loop"] == "too_many_hops"
    assert rows[f"{loopback}/missing"].startswith("error:http 404")
    after = {r["post_id"]: (r["domain"], r["source_kind"], r["source_state"])
             for r in source_links(sstore).to_pyarrow().to_pylist() if r["post_id"] == "20"}
    assert after == {"20": ("rt.com", "state_media", "RU")}
    n = len(_Redirects.hits)
    again = resolve_shortened_urls(sstore, live=True, resolver=res)                 # cached: nothing asked again
    assert again["candidates"] == 0 and len(_Redirects.hits) == n


# --- independent count on the real CANIS GraphQL files ----------------------------------------------------

def _unwrap(res):
    if res and res.get("__typename") == "TweetWithVisibilityResults":
        res = res["tweet"]
    return res if res and "legacy" in res and res.get("__typename", "Tweet") == "Tweet" else None


def _entries(doc):
    res = doc["data"]["user"]["result"]
    tl = (res.get("timeline_v2") or res.get("timeline"))["timeline"]
    out = []
    for ins in tl["instructions"]:
        if ins["type"] == "TimelinePinEntry":
            out.append(ins["entry"])
        elif ins["type"] == "TimelineAddEntries":
            out.extend(ins["entries"])
    return out


def _own_tweets(root):
    """The timelines' own tweets (tweet-* / profile-conversation-* entries and the pinned one, no ads),
    once each, read with plain json."""
    seen = {}
    for p in sorted((root / "usertweets").glob("*.json")):
        for e in _entries(json.loads(p.read_text(encoding="utf-8"))):
            if not e["entryId"].startswith(("tweet-", "profile-conversation-")):
                continue
            c = e["content"]
            ics = [c["itemContent"]] if "itemContent" in c else [i["item"]["itemContent"] for i in c.get("items", [])]
            for ic in ics:
                if ic.get("promotedMetadata"):
                    continue
                tw = _unwrap((ic.get("tweet_results") or {}).get("result"))
                if tw:
                    seen.setdefault(tw["rest_id"], tw)
    return list(seen.values())


def _user(tw):
    u = tw["core"]["user_results"]["result"]
    return u["rest_id"], u["legacy"]["screen_name"]


@pytest.fixture(scope="module")
def canis_store(tmp_path_factory):
    from envoywatch.importers.run import import_paths
    from envoywatch.registry import install_starter
    from envoywatch.store import Store

    root = real_path(*CANIS)
    s = Store(tmp_path_factory.mktemp("canis_sources") / "store.duckdb")
    install_starter(s)
    import_paths(s, [root])
    yield s, root
    s.close()


@pytest.mark.realdata
def test_sources_agree_with_an_independent_count_of_the_canis_files(canis_store):
    import tldextract

    store, root = canis_store
    ext = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def reg(url):
        r = ext(url)
        return getattr(r, "top_domain_under_public_suffix", None) or r.registered_domain or r.domain

    # the registry as input data (plain SQL rows), matched here with plain suffix rules
    reg_domains = store.con.execute("SELECT domain, state, kind, coalesce(match_type, 'domain') FROM registry_domains"
                                    ).fetchall()
    reg_accounts = store.con.execute("""SELECT lower(r.handle), r.account_id, a.state, a.category
        FROM registry_accounts r JOIN registry_actors a USING (actor_id)""").fetchall()
    by_handle = {h: (s, c) for h, _, s, c in reg_accounts}
    by_id = {i: (s, c) for _, i, s, c in reg_accounts if i}

    def domain_class(url):
        host = (ext(url).fqdn or "").lower().removeprefix("www.").removeprefix("m.")
        hits = [(len(d), k, s) for d, s, k, mt in reg_domains if mt == "domain" and (host == d or host.endswith("." + d))]
        return (max(hits)[1], max(hits)[2]) if hits else ("unregistered", None)

    def account_class(uid, handle):
        hit = by_id.get(uid) or by_handle.get(handle.lower())
        if not hit:
            return ("unregistered", None)
        return ("state_media" if hit[1] in ("state_media_outlet", "state_media_staff") else "official", hit[0])

    exp_domains, exp_accounts = Counter(), Counter()
    exp_dclass, exp_aclass = Counter(), Counter()
    for tw in _own_tweets(root):
        author, _ = _user(tw)
        leg = tw["legacy"]
        note = (((tw.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result") or {})
        ent = note.get("entity_set") or leg.get("entities") or {}
        for u in ent.get("urls") or []:
            if not u.get("url"):
                continue
            link = u.get("expanded_url") or u["url"]
            exp_domains[(author, reg(link))] += 1
            exp_dclass[(author,) + domain_class(link)] += 1
        rt = _unwrap((leg.get("retweeted_status_result") or {}).get("result"))
        qt = _unwrap((tw.get("quoted_status_result") or {}).get("result"))
        src = rt or (qt if leg.get("quoted_status_id_str") else None)
        if src:
            sid, shandle = _user(src)
            exp_accounts[(author, "repost" if rt else "quote", sid)] += 1
            exp_aclass[(author,) + account_class(sid, shandle)] += 1

    links = source_links(store, observed="primary").to_pyarrow().to_pylist()
    got_domains = Counter((r["account_id"], r["domain"]) for r in links)
    got_dclass = Counter((r["account_id"], r["source_kind"], r["source_state"]) for r in links)
    reps = classified_sources(store, observed="primary")
    reps = reps.filter(reps.source_type == "account").to_pyarrow().to_pylist()
    raw = store.con.execute("""SELECT account_id, kind, ref_account_id FROM posts
        WHERE observed = 'primary' AND kind IN ('repost', 'quote') AND ref_account_id IS NOT NULL""").fetchall()
    got_accounts = Counter(raw)
    got_aclass = Counter((r["account_id"], r["source_kind"], r["source_state"]) for r in reps)

    by_class = Counter()
    for k, v in exp_dclass.items():
        by_class[k[1:]] += v
    print(f"independent count: {sum(exp_domains.values())} links to {len({d for _, d in exp_domains})} domains "
          f"by class {dict(by_class)}; {sum(exp_accounts.values())} reposts/quotes of "
          f"{len({a for _, _, a in exp_accounts})} accounts by class {dict(sum((Counter({k[1:]: v}) for k, v in exp_aclass.items()), Counter()))}")
    assert sum(exp_domains.values()) > 300 and sum(exp_accounts.values()) > 50
    assert got_domains == exp_domains
    assert got_accounts == exp_accounts
    assert got_dclass == exp_dclass
    assert got_aclass == exp_aclass
    # the per-source totals of the analyses add up to the same figures
    assert sum(r["items"] for r in source_domains(store, observed="primary").to_pyarrow().to_pylist()) == \
        sum(exp_domains.values())
    assert sum(r["items"] for r in source_accounts(store, observed="primary").to_pyarrow().to_pylist()) == \
        sum(exp_accounts.values())
    state_media = sum(v for k, v in exp_dclass.items() if k[1] == "state_media")
    assert state_media > 0


def test_resolve_cli_refuses_without_live(db_path):
    from tests.conftest import run_cli

    r = run_cli("sources", "resolve", db=db_path)
    assert r.returncode != 0 and "--live" in r.stderr


@pytest.mark.realdata
def test_narrative_figures_agree_with_an_independent_count_of_the_canis_files(canis_store):
    """A narrative of two keywords, counted per account over the timelines' own tweets with plain `re` on the
    JSON text (note tweet text where there is one), equals narratives.share per account."""
    import re

    from envoywatch.analysis.narratives import add_narratives, assign_narratives, narrative_share
    from envoywatch.analysis.narratives.definitions import narrative_from_dict

    store, root = canis_store
    add_narratives(store, [narrative_from_dict({"name": "check_xinjiang_tibet",
                                                "keywords": {"en": ["Xinjiang", "Tibet"], "zh": ["新疆", "西藏"]}},
                                               "test", "user")], replace=True)
    assign_narratives(store, f=Filters())
    rx = re.compile(r"(?<!\w)(?:xinjiang|tibet)(?!\w)|新疆|西藏", re.I)
    exp_posts, exp_hits = Counter(), Counter()
    for tw in _own_tweets(root):
        author, _ = _user(tw)
        note = (((tw.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result") or {})
        text = note.get("text") or tw["legacy"].get("full_text") or ""
        exp_posts[author] += 1
        if rx.search(text):
            exp_hits[author] += 1
    t = narrative_share(store, Filters(), freq="month", by="account", narratives=["check_xinjiang_tibet"])
    # the share analysis counts every stored post of the author; restrict to the timelines' own posts
    from envoywatch.analysis.narratives import narrative_posts

    np_ = narrative_posts(store, Filters(), narratives=["check_xinjiang_tibet"])
    got = Counter(r["account_id"] for r in np_.filter(np_.observed == "primary").to_pyarrow().to_pylist())
    print(f"independent narrative count: {sum(exp_hits.values())} of {sum(exp_posts.values())} own tweets "
          f"of {len(exp_hits)} accounts")
    assert sum(exp_hits.values()) > 20
    assert got == exp_hits
    assert t.to_pyarrow().num_rows > 0
