"""Search: ranking, filters, pagination, snippet offsets, phrases, index refresh, hostile text kept raw."""

from __future__ import annotations

from datetime import datetime

import pytest

from envoywatch.analysis.filters import Filters

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> <a href="javascript:alert(2)">vaccine</a>'


def _post(pid, acc, when, text, kind="post", lang="en"):
    return {"platform": "x", "post_id": pid, "account_id": acc, "created_at": when, "text": text, "lang": lang,
            "kind": kind, "observed": "primary"}


@pytest.fixture
def sstore(store):
    return _fill(store)


def _fill(store):
    store.write("registry_actors", [
        {"actor_id": "cn-a", "name": "A", "actor_type": "organisation", "state": "CN", "category": "mission",
         "host_country": "GB", "source": "t"},
        {"actor_id": "ru-b", "name": "B", "actor_type": "organisation", "state": "RU", "category": "state_media_outlet",
         "source": "t"}])
    store.write("accounts", [{"platform": "x", "account_id": "a", "handle": "EmbA"},
                             {"platform": "x", "account_id": "b", "handle": "MediaB"}])
    store.write("registry_accounts", [{"platform": "x", "handle": "EmbA", "actor_id": "cn-a", "account_id": "a", "source": "t"},
                                      {"platform": "x", "handle": "MediaB", "actor_id": "ru-b", "account_id": "b", "source": "t"}])
    store.write_many({"posts": [
        _post("1", "a", datetime(2021, 1, 1), "Vaccine vaccine: the vaccine arrives"),
        _post("2", "a", datetime(2021, 1, 2), "A long post about many things, and somewhere in it a vaccine, "
                                              "and also cooperation and friendship between our peoples for years"),
        _post("3", "b", datetime(2021, 1, 3), "Vaccine cooperation with partners", kind="repost"),
        _post("4", "b", datetime(2021, 2, 1), "Nothing to see here"),
        _post("5", "a", datetime(2021, 2, 2), HOSTILE),
        _post("6", "a", datetime(2021, 2, 3), "中国疫苗援助抵达", lang="zh"),
        _post("7", "b", datetime(2021, 2, 4), "Cooperation on vaccines https://example.com/vaccine"),
    ]})
    return store


def test_ranking_and_all_terms_required(sstore):
    from envoywatch.analysis.search import search_posts

    r = search_posts(sstore, "vaccine", Filters())
    assert r["total"] == 4 and [x["post_id"] for x in r["rows"]][0] == "1"   # three times in a short post
    assert r["rows"][-1]["post_id"] == "2"                                  # once, in a long post
    scores = [x["score"] for x in r["rows"]]
    assert scores == sorted(scores, reverse=True)
    # 'vaccines' is another word; the link's 'vaccine' is not indexed (links are removed)
    assert "7" not in {x["post_id"] for x in r["rows"]}
    both = search_posts(sstore, "Vaccine COOPERATION", Filters())
    assert {x["post_id"] for x in both["rows"]} == {"2", "3"} and both["query_tokens"] == ["vaccine", "cooperation"]
    assert search_posts(sstore, "vaccine nonexistentword", Filters())["total"] == 0
    assert search_posts(sstore, "   ", Filters())["total"] == 0


def test_filters_and_pagination(sstore):
    from envoywatch.analysis.search import search_posts

    assert {x["post_id"] for x in search_posts(sstore, "vaccine", Filters(states=("RU",)))["rows"]} == {"3"}
    assert {x["post_id"] for x in search_posts(sstore, "vaccine", Filters(kinds=("post",)))["rows"]} == {"1", "2", "5"}
    assert {x["post_id"] for x in search_posts(sstore, "vaccine", Filters(start="2021-01-02", end="2021-02"))["rows"]} == {"2", "3"}
    assert {x["post_id"] for x in search_posts(sstore, "vaccine", Filters(categories=("mission",), accounts=("a",)))["rows"]} == {"1", "2", "5"}
    full = [x["post_id"] for x in search_posts(sstore, "vaccine", Filters(), per_page=10)["rows"]]
    pages = [search_posts(sstore, "vaccine", Filters(), page=p, per_page=1) for p in (1, 2, 3, 4, 5)]
    assert [p["rows"][0]["post_id"] for p in pages[:4]] == full
    assert pages[4]["rows"] == [] and pages[4]["total"] == 4 and pages[1]["page"] == 2 and pages[1]["per_page"] == 1
    # with a filter (counted and ranked in one statement): the same total on every page, past the end too
    kp = [search_posts(sstore, "vaccine", Filters(kinds=("post",)), page=p, per_page=1) for p in (1, 2, 3, 4)]
    assert [p["total"] for p in kp] == [3, 3, 3, 3] and kp[3]["rows"] == []
    assert [p["rows"][0]["post_id"] for p in kp[:3]] == [x for x in full if x in {"1", "2", "5"}]


def test_snippet_offsets_and_hostile_text_raw(sstore):
    from envoywatch.analysis.search import make_snippet, search_posts

    r = search_posts(sstore, "vaccine", Filters())
    for row in r["rows"]:
        assert row["offsets"]
        for s, e in row["offsets"]:
            assert row["snippet"][s:e].lower() == "vaccine"
    hostile = next(x for x in r["rows"] if x["post_id"] == "5")
    assert hostile["text"] == HOSTILE and hostile["snippet"] == HOSTILE       # raw: renderers escape
    assert hostile["handle"] == "EmbA" and hostile["account_id"] == "a" and hostile["kind"] == "post"
    long = "word " * 100 + "target here " + "word " * 100
    snip, offs = make_snippet(long, ["target"])
    assert snip.startswith("…") and snip.endswith("…") and len(offs) == 1
    assert snip[offs[0][0]:offs[0][1]] == "target"


def test_cjk_bigrams_and_phrases(sstore):
    from envoywatch.analysis.search import search_posts

    r = search_posts(sstore, "疫苗", Filters())
    assert [x["post_id"] for x in r["rows"]] == ["6"]
    s, e = r["rows"][0]["offsets"][0]
    assert r["rows"][0]["snippet"][s:e] == "疫苗"
    assert search_posts(sstore, "中国疫苗", Filters())["total"] == 1
    assert search_posts(sstore, "疫苗 中国", Filters())["total"] == 1          # words in any order
    assert search_posts(sstore, "疫苗中国", Filters())["total"] == 0          # its bigram 苗中 is not in the post
    assert search_posts(sstore, '"vaccine arrives"', Filters())["total"] == 1
    assert search_posts(sstore, '"arrives vaccine"', Filters())["total"] == 0


def test_index_refreshes_when_posts_change(sstore):
    from envoywatch.analysis import search

    assert search.search_posts(sstore, "zebra", Filters())["total"] == 0
    sstore.write_many({"posts": [_post("8", "a", datetime(2021, 3, 1), "A zebra crossing")]})
    search._last_check.clear()
    assert search.search_posts(sstore, "zebra", Filters())["total"] == 1
    assert sstore.count("search_docs") == 8


def test_read_only_store_without_index(sstore):
    from envoywatch.analysis import search
    from envoywatch.store import Store

    path = sstore.path
    sstore.close()
    search._last_check.clear()
    with Store(path, read_only=True) as ro:
        assert search.search_posts(ro, "vaccine", Filters())["total"] == 4


def test_index_built_in_slices_equals_one_statement(sstore, monkeypatch):
    """Big builds tokenize in slices (bounded memory): the index must be the same as from one statement."""
    from envoywatch.analysis import search as S

    def snapshot():
        S.refresh_index(sstore, force=True)
        con = sstore.con
        toks = con.execute("""SELECT t.token, d.platform, d.post_id, t.tf, t.dl FROM search_tokens t
                              JOIN search_docs d USING (doc_id) ORDER BY ALL""").fetchall()
        docs = con.execute("SELECT platform, post_id, len FROM search_docs ORDER BY ALL").fetchall()
        avgdl = con.execute("SELECT value FROM search_meta WHERE key = 'avgdl'").fetchall()
        ids = con.execute("SELECT count(DISTINCT doc_id), count(*) FROM search_docs").fetchall()[0]
        return toks, docs, avgdl, ids, S.search_posts(sstore, "vaccine cooperation", Filters())["rows"]

    whole = snapshot()
    monkeypatch.setattr(S, "SLICE_POSTS", 2)    # 7 posts -> 4 slices
    sliced = snapshot()
    assert whole[0] and sliced == whole
    assert sliced[3][0] == sliced[3][1] == 7    # every post once, doc ids unique


def test_two_stores_in_one_process_with_the_same_filter(sstore, tmp_path):
    """The account filter's compiled SQL names a view of its own connection: a second store must not get it."""
    from envoywatch.analysis.search import search_posts
    from envoywatch.store import Store

    f = Filters(states=("CN",))
    first = search_posts(sstore, "vaccine", f)
    with Store(tmp_path / "second.duckdb") as other:
        _fill(other)
        second = search_posts(other, "vaccine", f)
    assert first["total"] == second["total"] == 3          # posts 1, 2 and 5 of the CN mission
    assert [r["post_id"] for r in first["rows"]] == [r["post_id"] for r in second["rows"]]


def test_query_time_weight_equals_the_stored_weight_of_version_4():
    """The postings keep tf and dl; the query computes BM25's weight in DOUBLE arithmetic. It must be bit for
    bit the DECIMAL expression whose result version 4 stored (else scores, ranking and ties would move)."""
    import random

    import duckdb

    from envoywatch.analysis import search as S

    con = duckdb.connect()
    con.execute("CREATE TABLE g AS SELECT tf::BIGINT AS tf, dl::BIGINT AS dl FROM range(1, 60) a(tf), "
                "range(0, 3000) b(dl) WHERE tf <= greatest(dl, 1)")
    rnd = random.Random(5)
    avgdls = [5.5, 1.0, 35.239583333333336, 35.69245971419885, 12.345678901234567, 1 / 3, 7.000000000000001]
    avgdls += [rnd.uniform(1, 300) for _ in range(6)]
    for avgdl in avgdls:
        new, old = S._weight_sql("tf", "dl", avgdl), S._weight_sql_v4("tf", "dl", avgdl)
        assert new.endswith("::REAL") and old.endswith("::REAL")
        differ = con.execute(f"SELECT count(*) FILTER (WHERE {new[:-6]} IS DISTINCT FROM {old[:-6]}), "
                             f"count(*) FILTER (WHERE {new} IS DISTINCT FROM {old}), count(*) FROM g").fetchall()[0]
        assert differ[:2] == (0, 0) and differ[2] > 100_000, (avgdl, differ)


def test_ascii_tokens_equal_the_unicode_tokenizer():
    """The ASCII path of the tokenizer gives the tokens of the general one: every ASCII character between and
    around words, runs of them, URLs and case."""
    import duckdb

    from envoywatch.analysis.search import _ascii_tokens_sql, _tokens_sql, _unicode_tokens_sql

    texts = [f"ab{chr(c)}cd {chr(c)}x{chr(c)}" for c in range(1, 128)]
    texts += ["", "   ", "MiXeD Case 42 x1y2", "see https://t.co/AbC?x=1&y=2, then HTTP://X.COM/y z",
              "tabs\tand\nnew\rlines", "~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./", "a" * 300]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS v", [texts])
    rows = con.execute(f"SELECT v, {_ascii_tokens_sql('v')}, {_unicode_tokens_sql('v')}, {_tokens_sql('v')} FROM t").fetchall()
    assert len(rows) == len(texts)
    for v, fast, full, chosen in rows:
        assert fast == full == chosen, repr(v)
    # a non-ASCII text takes the general path (CJK bigrams)
    assert con.execute(f"SELECT {_tokens_sql('$1::VARCHAR')}", ["新闻 News"]).fetchall()[0][0] == ["新闻", "news"]
