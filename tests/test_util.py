"""URL normalization, registered domains and time parsing (offline, exact)."""

from datetime import datetime

import pytest

from envoywatch.errors import RecordError
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import hashtags_in_text, mentions_in_text, normalize_url, registered_domain, url_row, urls_in_text


@pytest.mark.parametrize("raw,expected", [
    ("https://www.globaltimes.cn/page/202003/1182385.shtml?utm_source=twitter&utm_medium=social", "https://globaltimes.cn/page/202003/1182385.shtml"),
    ("HTTP://News.CGTN.com/news/2020-03-01/x.html#comments", "https://news.cgtn.com/news/2020-03-01/x.html"),
    ("https://m.facebook.com/story?id=1&fbclid=abc", "https://facebook.com/story?id=1"),
    ("https://amp.theguardian.com/world/2020/mar/01/story", "https://theguardian.com/world/2020/mar/01/story"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.rt.com%2Fnews%2F1%2F%3Futm_campaign%3Dx&h=AT0", "https://rt.com/news/1"),
    ("https://www.google.com/url?q=https://sputniknews.com/a/&sa=D", "https://sputniknews.com/a"),
    ("https://example.com:443/a/", "https://example.com/a"),
    ("https://example.com/news/story/amp", "https://example.com/news/story"),
    ("t.co/abc", "https://t.co/abc"),
])
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


def test_normalize_keeps_meaningful_query_and_non_http():
    assert normalize_url("https://www.youtube.com/watch?v=abc&feature=share") == "https://youtube.com/watch?v=abc"
    assert normalize_url("mailto:press@mfa.gov.cn") == "mailto:press@mfa.gov.cn"
    assert normalize_url("") is None


@pytest.mark.parametrize("host,dom", [
    ("news.cgtn.com", "cgtn.com"), ("www.bbc.co.uk", "bbc.co.uk"), ("english.news.cn", "news.cn"),
    ("https://sputniknews.com/x", "sputniknews.com"), ("chinadaily.com.cn", "chinadaily.com.cn"),
    ("www.presstv.ir", "presstv.ir"),
])
def test_registered_domain_offline(host, dom):
    assert registered_domain(host) == dom


def test_url_row_uses_expanded_url():
    r = url_row("x", "1", 0, "https://t.co/Ab", "https://www.xinhuanet.com/english/2020-03/01/c_1.htm?utm_source=x")
    assert r["url"] == "https://t.co/Ab"
    assert r["normalized_url"] == "https://xinhuanet.com/english/2020-03/01/c_1.htm"
    assert (r["host"], r["domain"]) == ("xinhuanet.com", "xinhuanet.com")


def test_entities_in_text():
    text = "Read #COVID19 and #新冠肺炎 via @SpokespersonCHN https://t.co/abc. Not#tag, a@b.com, #123"
    assert hashtags_in_text(text) == ["COVID19", "新冠肺炎"]
    assert mentions_in_text(text) == ["SpokespersonCHN"]
    assert urls_in_text(text) == ["https://t.co/abc"]


@pytest.mark.parametrize("raw,expected", [
    ("2020-03-01T12:00:00.000Z", datetime(2020, 3, 1, 12)),
    ("2020-03-01T14:00:00+02:00", datetime(2020, 3, 1, 12)),
    ("Sun Mar 01 12:00:00 +0000 2020", datetime(2020, 3, 1, 12)),
    ("Sun Mar 01 13:30:00 +0130 2020", datetime(2020, 3, 1, 12)),
    (1583064000, datetime(2020, 3, 1, 12)),
    ("1583064000000", datetime(2020, 3, 1, 12)),
    ("2020-03-01 12:00", datetime(2020, 3, 1, 12)),
    ("2020-03-01", datetime(2020, 3, 1)),
])
def test_parse_time(raw, expected):
    assert parse_time(raw) == expected


def test_parse_time_errors_name_the_field():
    assert parse_time("") is None and parse_time(None) is None
    with pytest.raises(RecordError, match="tweet_time"):
        parse_time("yesterday at noon", "tweet_time")


def test_parse_int():
    assert parse_int("1,234") == 1234 and parse_int("") is None and parse_int(7) == 7
    with pytest.raises(RecordError, match="follower_count"):
        parse_int("many", "follower_count")


def test_url_parts_host_is_the_host_of_the_normalized_url():
    """url_parts takes the host the normalizer put in the URL instead of parsing the result again: it must be
    urlsplit(normalized).hostname for every link -- real links from the shared data and awkward ones."""
    import re
    from urllib.parse import urlsplit

    from envoywatch.util.urls import url_parts
    from tests.conftest import real_path

    links = set()
    for f in sorted(real_path("fixtures", "twitter_api_v2_twarc").iterdir())[:6]:
        links.update(re.findall(r'https?://[^\s"\\<>]+', f.read_text(encoding="utf-8", errors="ignore")))
    assert len(links) > 100
    links.update([
        "HTTPS://WWW.Example.COM:443/a/amp/?utm_source=x&b=2#f", "http://[::1]:8080/x", "http://user:pw@Host.com/p",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fnews.cgtn.com%2Fx", "//cdn.x.org/a", "www.bbc.co.uk/news/",
        "https://пример.рф/путь", "https://EXAMPLE.com./", "http://127.0.0.1:8000/x", "https://[bad/", "https://a_b.com/",
        "https://host:99999/", "https://lm.facebook.com/l.php?u=https://b.com&h=1", "https://href.li/?https://a.b/c",
        "https://m.facebook.com/l.php?u=https://a.com", "https://out.reddit.com/t3?url=http%3A%2F%2Fx.com%2F", "mailto:a@b.c",
    ])
    for link in sorted(links):
        norm, host, domain = url_parts(link)
        if norm and norm.startswith("https://"):
            try:
                expected = urlsplit(norm).hostname
            except ValueError:   # a malformed link keeps no host (and no longer raises)
                expected = None
        else:
            expected = None
        assert host == expected, link
        assert (domain is None) == (host is None), link


def test_short_path_of_link_normalization_equals_the_full_one():
    """_normalize_simple (string operations, for plain http(s) links) gives what the urlsplit-based
    normalizer gives, on the shared data's links and on variants of them (www., m., /amp, .amp.html,
    trailing slashes, tracking and other queries, upper case, ports, trailing dots)."""
    import re

    from envoywatch.util.urls import _normalize_full, _normalize_simple
    from tests.conftest import real_path

    links = set()
    for f in sorted(real_path("fixtures", "twitter_api_v2_twarc").iterdir()):
        links.update(re.findall(r'https?://[^\s"\\<>]+', f.read_text(encoding="utf-8", errors="ignore")))
    queries = ["", "?utm_source=twitter", "?utm_source=x&utm_medium=social", "?UTM_Source=x", "?fbclid=a&id=2",
               "?utm_source", "?&&utm_source=x&", "?utm%5Fsource=x", "?utm+source=x", "?=x", "?", "?amp",
               "?s=20", "?igshid=1;a=b", "?utm_source=x#f", "#top"]
    variants = set()
    for link in sorted(links)[:400]:
        bare = link.split("?")[0].split("#")[0]
        host = bare.split("/")[2] if bare.count("/") >= 2 else ""
        for v in (bare, bare.rstrip("/") + "/", bare + "/amp", bare + "/amp/", bare + ".amp.html", bare.upper(),
                  bare.replace("https://", "http://www.", 1), bare.replace("://", "://m.", 1),
                  bare.replace(host, host + ".", 1) if host else bare, bare.replace(host, host + ":80", 1) if host else bare):
            variants.update(v + q for q in queries)
    variants.update(["https://www./x", "https://www.www.a.com/", "https://m.com/x", "https://amp.a.b.c/amp", "http://a.com",
                     "https://a.com//b/", "https://./x", "https://www.google.com/url?q=https://rt.com/a", "https://href.li/?x"])
    taken = 0
    for v in sorted(variants):
        short = _normalize_simple(v)
        if short is not None:
            taken += 1
            assert short == _normalize_full(v), v
    assert taken > 1000 and taken < len(variants)   # both paths exercised
