"""envoywatch report: figures equal direct SQL counts, the growth decomposition reconciles, periods parse.

The report's HTML and Markdown are read back (html.parser / pipe tables) and compared with SQL run straight
on the store, on a constructed store with known figures (tests/test_report_fixture.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser

import pytest

from envoywatch.errors import ConfigError
from envoywatch.outputs.report import build_report, parse_period, write_report
from envoywatch.outputs.report_queries import Filters
from tests.test_report_fixture import CN_POSTS_SQL, build

MAY = (datetime(2021, 5, 1), datetime(2021, 6, 1))
APRIL = (datetime(2021, 4, 1), datetime(2021, 5, 1))


class Tables(HTMLParser):
    """Every <table> of a page as {caption: [[cell, ...], ...]} (header row first), and the figures."""

    def __init__(self):
        super().__init__()
        self.tables, self.figures = {}, {}
        self._cap = self._rows = self._cell = None
        self._in_cap = False
        self._fig = None

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class", "")
        if tag == "table":
            self._rows, self._cap = [], ""
        elif tag == "caption":
            self._in_cap = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = ""
        elif tag == "div" and cls in ("label", "value", "detail"):
            self._fig = cls
            if cls == "label":
                self._label = ""
            elif cls == "value":
                self._value = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.tables.setdefault(self._cap, self._rows)
            self._rows = None
        elif tag == "caption":
            self._in_cap = False
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(self._cell.strip())
            self._cell = None
        elif tag == "div" and self._fig:
            if self._fig == "value":
                self.figures[self._label.strip()] = self._value.strip()
            self._fig = None

    def handle_data(self, data):
        if self._in_cap:
            self._cap += data
        elif self._cell is not None:
            self._cell += data
        elif self._fig == "label":
            self._label += data
        elif self._fig == "value":
            self._value += data


def html_tables(text: str) -> Tables:
    p = Tables()
    p.feed(text)
    return p


def md_table(text: str, caption: str) -> list[list[str]]:
    lines = text.splitlines()
    i = lines.index(f"**{caption}**")
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if not all(set(c) <= set("-: ") for c in cells):
            rows.append(cells)
    return rows


def num(s: str) -> int:
    return int(s.replace(",", "").replace("\u2212", "-").replace("+", ""))  # "0" for zero, "+3" / "\u22122" otherwise


@pytest.fixture
def fixture_store(store):
    build(store)
    return store


def sql_count(store, state, window):
    return store.con.execute(CN_POSTS_SQL, [state, *window]).fetchall()[0][0]


def test_figures_equal_direct_sql_counts_html(fixture_store, tmp_path):
    s = fixture_store
    out = tmp_path / "r.html"
    rep = write_report(s, out, Filters(states=("CN",)), "2021-05")
    assert (rep.period.start, rep.period.end) == MAY and (rep.previous.start, rep.previous.end) == APRIL
    t = html_tables(out.read_text())
    may, april = sql_count(s, "CN", MAY), sql_count(s, "CN", APRIL)
    assert (may, april) == (10, 5)
    assert num(t.figures["posts"]) == may
    kinds = {r[0]: r[1:] for r in t.tables["Posts by kind"][1:]}
    assert [num(kinds["all posts"][0]), num(kinds["all posts"][1]), num(kinds["all posts"][2])] == [april, may, may - april]
    reposts = s.con.execute("SELECT count(*) FROM posts WHERE kind='repost' AND account_id IN ('1','2','6') "
                            "AND created_at >= ? AND created_at < ?", list(MAY)).fetchall()[0][0]
    assert num(kinds["reposts"][1]) == reposts == 2
    assert num(kinds["active accounts"][1]) == 2 and num(kinds["active accounts"][0]) == 2
    dec = {r[0].split(" (")[0]: [num(c) for c in r[1:]] for r in t.tables["Growth decomposition"][1:]}
    assert dec["active in both periods"] == [1, 3, 6, 3]
    assert dec["new"] == [1, 0, 4, 4]
    assert dec["gone quiet"] == [1, 2, 0, -2]
    assert dec["total"] == [3, april, may, may - april]
    assert sum(v[3] for k, v in dec.items() if k != "total") == dec["total"][3]
    tags = {r[0]: r for r in t.tables["Hashtags"][1:]}
    covid_may = s.con.execute("SELECT count(*) FROM post_hashtags h JOIN posts p USING (platform, post_id) "
                              "WHERE tag_norm='covid19' AND p.account_id IN ('1','2','6') AND created_at >= ? "
                              "AND created_at < ?", list(MAY)).fetchall()[0][0]
    assert num(tags["#covid19"][1]) == covid_may == 3
    assert num(tags["#covid19"][4]) == 1 and tags["#covid19"][6] == "rising"
    assert tags["#beltandroad"][6] == "falling"     # 1 in May, 2 in April
    top = {r[0]: r for r in t.tables["The 20 accounts with the most posts in this period"][1:]}
    assert num(top["EmbFR"][6]) == 6 and num(top["ConsulUS"][6]) == 4 and "MFARU" not in top
    assert num(top["EmbFR"][11]) == 3
    domains = {r[0]: r for r in t.tables["Linked domains"][1:]}
    assert num(domains["cgtn.com"][1]) == 2 and num(domains["cgtn.com"][4]) == 1
    reposted = {r[0]: r for r in t.tables["Reposted accounts"][1:]}
    assert num(reposted["@MFARU"][1]) == 2
    # followers at the end of May: latest snapshot at or before June 1 00:00 (EmbFR 1300, AmbDE 500, ConsulUS 250
    # taken at June 1 00:00); gain = that minus the latest at or before May 1 00:00 (EmbFR 1200, AmbDE 500)
    end = s.con.execute("""SELECT sum(followers) FROM (SELECT arg_max(followers, captured_at) AS followers
                           FROM account_snapshots WHERE account_id IN ('1','2','6') AND captured_at <= '2021-06-01'
                           GROUP BY account_id)""").fetchall()[0][0]
    assert num(t.figures["followers at the end of the period"]) == end == 2050
    fol = {r[0]: r for r in t.tables["Accounts with the most followers (latest snapshot at or before the period's end)"][1:]}
    assert num(fol["EmbFR"][1]) == 1300 and num(fol["EmbFR"][3]) == 1200 and num(fol["EmbFR"][4]) == 100
    assert num(fol["ConsulUS"][1]) == 250 and fol["ConsulUS"][4] == "n/a" and num(fol["AmbDE"][4]) == 0


def test_markdown_has_the_same_figures(fixture_store, tmp_path):
    out = tmp_path / "r.md"
    write_report(fixture_store, out, Filters(states=("CN",)), "2021-05", fmt="md")
    text = out.read_text()
    assert text.startswith("# envoywatch brief")
    dec = {r[0].split(" (")[0]: [num(c) for c in r[1:]] for r in md_table(text, "Growth decomposition")[1:]}
    assert dec["total"] == [3, 5, 10, 5] and dec["new"][3] == 4 and dec["gone quiet"][3] == -2
    kinds = {r[0]: r for r in md_table(text, "Posts by kind")[1:]}
    assert num(kinds["all posts"][2]) == sql_count(fixture_store, "CN", MAY)
    assert "- **posts**: 10 " in text
    assert "Reconciliation: +3 + 4 \u2212 2 = +5 = 10 \u2212 5" in text


def test_unfiltered_report_counts_every_account(fixture_store):
    rep = build_report(fixture_store, Filters(), "2021-05")
    fig = {f.label: f.value for f in rep.sections[0].blocks[0].items}
    total = fixture_store.con.execute("SELECT count(*) FROM posts WHERE created_at >= ? AND created_at < ?",
                                      list(MAY)).fetchall()[0][0]
    assert num(fig["posts"]) == total == 14


def test_decomposition_reconciles_on_demo_data(tmp_path):
    from envoywatch.demo import build_demo
    from envoywatch.store import Store

    with Store(tmp_path / "demo.duckdb") as s:
        build_demo(s, scale="small", seed=7)
        rep = build_report(s, Filters(states=("CN",)), "2021-03")
        vol = next(x for x in rep.sections if x.key == "volume")
        dec = next(b for b in vol.blocks if b.type == "table" and b.caption == "Growth decomposition")
        rows = {r[0].split(" (")[0]: [num(c) for c in r[1:]] for r in dec.rows}
        both, new, gone = rows["active in both periods"][3], rows["new"][3], rows["gone quiet"][3]
        total = rows["total"][3]
        assert both + new + gone == total
        # the same parts, straight from SQL: per account posts in Feb and Mar 2021
        per = s.con.execute("""
            WITH cn AS (SELECT ra.platform, ra.account_id FROM registry_accounts ra JOIN registry_actors a USING (actor_id)
                        WHERE a.state = 'CN' AND ra.account_id IS NOT NULL),
            p AS (SELECT p.account_id,
                         count(*) FILTER (WHERE created_at >= '2021-02-01' AND created_at < '2021-03-01') AS a,
                         count(*) FILTER (WHERE created_at >= '2021-03-01' AND created_at < '2021-04-01') AS b
                  FROM posts p JOIN cn USING (platform, account_id) GROUP BY 1)
            SELECT sum(b - a) FILTER (WHERE a > 0 AND b > 0), sum(b) FILTER (WHERE a = 0 AND b > 0),
                   sum(a) FILTER (WHERE b = 0 AND a > 0), sum(b) - sum(a) FROM p""").fetchall()[0]
        assert (both, new, -gone, total) == tuple(int(v or 0) for v in per)
        assert rep.simulated is not None


@pytest.mark.parametrize("spec, start, end, prev_start", [
    ("2021-05", datetime(2021, 5, 1), datetime(2021, 6, 1), datetime(2021, 4, 1)),
    ("2021-03", datetime(2021, 3, 1), datetime(2021, 4, 1), datetime(2021, 2, 1)),
    ("2021-01", datetime(2021, 1, 1), datetime(2021, 2, 1), datetime(2020, 12, 1)),
    ("2021-W01", datetime(2021, 1, 4), datetime(2021, 1, 11), datetime(2020, 12, 28)),
    ("2020", datetime(2020, 1, 1), datetime(2021, 1, 1), datetime(2019, 1, 1)),
    ("last-month", datetime(2026, 10, 1), datetime(2026, 11, 1), datetime(2026, 9, 1)),
    ("last-week", datetime(2026, 11, 16), datetime(2026, 11, 23), datetime(2026, 11, 9)),
])
def test_period_specs(spec, start, end, prev_start):
    p = parse_period(spec, today=date(2026, 11, 26))
    assert (p.start, p.end, p.previous.start, p.previous.end) == (start, end, prev_start, start)


def test_since_until_compare_with_equal_length():
    p = parse_period(None, "2021-05-10", "2021-05-16")
    assert (p.start, p.end) == (datetime(2021, 5, 10), datetime(2021, 5, 17))
    assert (p.previous.start, p.previous.end) == (datetime(2021, 5, 3), datetime(2021, 5, 10))
    p = parse_period(None, "2021-05-10", None, latest=datetime(2021, 6, 30, 22, 1))
    assert p.end == datetime(2021, 7, 1)
    assert parse_period("latest-month", latest=datetime(2021, 6, 30, 22, 1)).start == datetime(2021, 6, 1)


@pytest.mark.parametrize("args", [("2021-13",), ("soon",), ("2021-05", "2021-01-01", None), (None, None, "2021-01-01"),
                                  (None, "2021-05-01", "2021-04-01"), (None, "May 1", None)])
def test_bad_periods_say_how_to_fix(args):
    with pytest.raises(ConfigError) as e:
        parse_period(*args)
    assert "Fix:" in e.value.one_line()


def test_empty_period_says_so(fixture_store):
    rep = build_report(fixture_store, Filters(states=("CN",)), "2019-01")
    head = rep.sections[0]
    assert any(b.type == "para" and "No post of this group" in b.text for b in head.blocks)


def test_sections_are_pluggable(fixture_store):
    from envoywatch.outputs import report as R
    from envoywatch.outputs.report_render import render_html, render_md

    R._load_sections()
    R.register_section("extra", "Extra <section>", lambda ctx: [R.Para(f"{ctx.period.label} <b>x</b>")], order=95)
    try:
        rep = build_report(fixture_store, Filters(), "2021-05")
        keys = [s.key for s in rep.sections]
        assert keys.index("extra") == keys.index("provenance") + 1
        html = render_html(rep)
        assert "<p class=\"p\">May 2021 &lt;b&gt;x&lt;/b&gt;</p>" in html and "Extra &lt;section&gt;" in html
        assert "## Extra &lt;section&gt;" in render_md(rep)
    finally:
        R.SECTIONS[:] = [s for s in R.SECTIONS if s.key != "extra"]
