"""envoywatch report: self-contained (no external reference), hostile text escaped, SIMULATED marked, CLI works."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from envoywatch.outputs.report import write_report
from envoywatch.outputs.report_queries import Filters
from tests.conftest import real_path, run_cli
from tests.test_report_fixture import HOSTILE, HOSTILE_HANDLE, HOSTILE_TAG, HOSTILE_URL, build

URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "data", "poster", "srcset", "background",
             "cite", "longdesc", "manifest", "ping", "codebase", "archive", "profile", "usemap", "lowsrc", "dynsrc"}
ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "img", "link", "form", "base", "applet", "audio",
               "video", "source", "track", "input", "button", "foreignobject", "image", "use", "animate", "set"}


class Audit(HTMLParser):
    """Collects every tag, every URL-bearing attribute, event handlers, and the text of <style>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.refs, self.handlers, self.styles, self.meta_refresh = [], [], [], [], []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            k = k.lower()
            if k in URL_ATTRS:
                self.refs.append((tag, k, v or ""))
            if k.startswith("on"):
                self.handlers.append((tag, k, v))
            if k == "style":
                self.styles.append(v or "")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.meta_refresh.append(attrs)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def audit(html: str) -> Audit:
    a = Audit()
    a.feed(html)
    a.close()
    return a


def assert_self_contained_and_inert(html: str) -> None:
    a = audit(html)
    assert not set(a.tags) & ACTIVE_TAGS, set(a.tags) & ACTIVE_TAGS
    assert a.handlers == []
    assert a.meta_refresh == []
    for tag, attr, value in a.refs:   # only in-page anchors
        assert value.startswith("#"), (tag, attr, value)
    for css in a.styles:
        assert "url(" not in css.lower() and "@import" not in css.lower() and "expression(" not in css.lower()
    assert "javascript:" not in " ".join(v for _, _, v in a.refs).lower()
    # the only http(s) inside a tag is the SVG namespace declaration
    for tag_text in re.findall(r"<[a-zA-Z][^>]*>", html):
        for url in re.findall(r"https?://[^\s\"'>]+", tag_text):
            assert url == "http://www.w3.org/2000/svg", (url, tag_text[:200])


@pytest.fixture
def hostile_store(store):
    build(store)
    return store


def test_html_is_self_contained_and_escapes_hostile_text(hostile_store, tmp_path):
    out = tmp_path / "r.html"
    write_report(hostile_store, out, Filters(), "2021-05")
    html = out.read_text()
    assert html.lower().startswith("<!doctype html>")
    assert_self_contained_and_inert(html)
    for raw in HOSTILE + [HOSTILE_TAG, HOSTILE_HANDLE, HOSTILE_URL]:
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;a href=&#34;javascript:alert(1)&#34;&gt;x&lt;/a&gt;" in html
    assert "#&lt;b onmouseover=alert(1)&gt;tag&lt;/b&gt;" in html
    assert "evil&lt;svg onload=alert(1)&gt;" in html
    assert "https://evil.example/&lt;script&gt;" in html
    # a Content-Security-Policy forbids loading or running anything, should markup ever slip through
    assert "default-src 'none'" in html and "script-src" not in html


def test_markdown_escapes_hostile_text(hostile_store, tmp_path):
    out = tmp_path / "r.md"
    write_report(hostile_store, out, Filters(), "2021-05", fmt="md")
    text = out.read_text()
    for raw in HOSTILE + [HOSTILE_TAG, HOSTILE_HANDLE, HOSTILE_URL]:
        assert raw not in text
    assert "<" not in text and ">" not in text   # no raw angle bracket at all (no block quote either: real data)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "\\[click\\](javascript:alert(1))" in text and not re.search(r"(?<!\\)\]\(", text)
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", text)   # no unescaped [..]( link anywhere


def test_no_simulated_banner_for_real_only_data(store, tmp_path):
    from envoywatch.importers.run import import_paths

    f = real_path("state_media", "canis_x_graphql", "usertweets", "AmbassadorLei-1.json")
    import_paths(store, [f])
    assert store.con.execute("SELECT count(*) FROM import_batches WHERE simulated").fetchall()[0][0] == 0
    out = tmp_path / "real.html"
    rep = write_report(store, out)
    html = out.read_text()
    assert rep.simulated is None
    body = html[html.index("<body"):]
    assert "SIMULATED" not in body.upper() and "simulated-banner" not in body
    posts = store.con.execute("SELECT count(*) FROM posts WHERE created_at >= ? AND created_at < ?",
                              [rep.period.start, rep.period.end]).fetchall()[0][0]
    assert posts > 0
    from tests.test_report import html_tables, num

    assert num(html_tables(html).figures["posts"]) == posts
    assert_self_contained_and_inert(html)
    md = tmp_path / "real.md"
    write_report(store, md)
    assert "SIMULATED" not in md.read_text().upper()


def test_simulated_banner_is_impossible_to_miss(store, tmp_path):
    build(store, simulated=True)
    out = tmp_path / "sim.html"
    write_report(store, out, Filters(states=("CN",)), "2021-05")
    html = out.read_text()
    assert "<title>[SIMULATED DATA]" in html
    body = html[html.index("<body"):]
    assert body.index('id="simulated-banner"') < body.index("<h1>")   # first thing on the page
    assert "position: sticky" in html                                  # stays on screen while scrolling
    assert html.count("SIMULATED") >= 10                               # title, banner, every section, footer
    md = tmp_path / "sim.md"
    write_report(store, md, Filters(states=("CN",)), "2021-05")
    lines = md.read_text().splitlines()
    assert lines[0].startswith("# [SIMULATED DATA]") and "SIMULATED DATA" in lines[2]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    r = run_cli("demo", "--scale", "small", "--no-progress", db=db)
    assert r.returncode == 0, r.stderr
    return db


def test_cli_writes_html_for_demo_data(demo_db, tmp_path):
    out = tmp_path / "brief.html"
    r = run_cli("report", "--state", "CN", "--category", "mission,head_of_mission", "--period", "2021-05",
                "--out", str(out), db=demo_db)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert f"wrote {out}" in r.stdout and "SIMULATED" in r.stdout
    html = out.read_text()
    assert 'id="simulated-banner"' in html and "<title>[SIMULATED DATA]" in html
    assert "state CN; category mission, head_of_mission" in html
    assert_self_contained_and_inert(html)
    for key in ("headline", "volume", "accounts", "reach", "shares", "focus", "provenance", "methodology"):
        assert f'<section id="{key}">' in html


def test_cli_markdown_and_filters(demo_db, tmp_path):
    out = tmp_path / "brief.txt"
    r = run_cli("report", "--format", "md", "--account", "SpokespersonCHN", "--since", "2021-05-01",
                "--until", "2021-05-31", "--out", str(out), db=demo_db)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert text.startswith("# [SIMULATED DATA] envoywatch brief: account SpokespersonCHN")
    assert "2021-05-01 to 2021-05-31" in text and "## Growth decomposition" not in text
    assert "**Growth decomposition**" in text


@pytest.mark.parametrize("args, says", [
    (("--period", "2021-13"), "--period '2021-13' is not understood"),
    (("--account", "no_such_account"), "no account with id or handle"),
    (("--since", "2021-05-01", "--until", "2021-04-01"), "is empty"),
])
def test_cli_errors_are_one_line(demo_db, tmp_path, args, says):
    r = run_cli("report", *args, "--out", str(tmp_path / "x.html"), db=demo_db)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and says in r.stderr and "Fix:" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()
