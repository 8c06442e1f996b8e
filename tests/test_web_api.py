"""envoywatch serve: pages and REST API over a small constructed store and the demo store.

Figures are compared with direct SQL counts; downloads with the API; hostile post text (script, img onerror,
javascript: links, spreadsheet formulas) must come out as text in HTML, JSON and CSV.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from datetime import datetime, timedelta
from html import unescape

import pytest

pytest.importorskip("fastapi", reason="pip install fastapi uvicorn jinja2 httpx")
warnings.filterwarnings("ignore", message=".*httpx.*")

from fastapi.testclient import TestClient  # noqa: E402

from envoywatch.store import Store  # noqa: E402
from envoywatch.web.app import create_app  # noqa: E402
from envoywatch.web.render import csv_cell  # noqa: E402

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JSLINK = "javascript:alert(1)"
FORMULA = '=HYPERLINK("http://evil.example","x")'
HOSTILE_TEXTS = [f"Look {SCRIPT} hostile", f"Photo {IMG} hostile", f"click {JSLINK} now hostile", FORMULA + " hostile"]


def build_store(path) -> None:
    """3 accounts of 2 states plus an unregistered one, posts over Jan-Mar 2021, hostile text in a few posts."""
    s = Store(path)
    s.write("registry_actors", [
        dict(actor_id="t-cn-emb-fr", name="Embassy of China in France (test)", actor_type="organisation", state="CN",
             category="mission", host_country="FR", languages=["fr"], source="Test citation: embassy list 2024",
             source_url="https://example.org/list javascript:alert(1)", list_name="test"),
        dict(actor_id="t-ru-rt", name="RT (test)", actor_type="organisation", state="RU", category="state_media_outlet",
             languages=["en"], source="Test citation: RT", list_name="test"),
    ])
    s.write("registry_accounts", [
        dict(platform="x", handle="EmbFR", actor_id="t-cn-emb-fr", account_id="100", source="test registry entry",
             status="active"),
        dict(platform="x", handle="RT_com", actor_id="t-ru-rt", account_id="200", source="test registry entry"),
    ])
    s.write("registry_domains", [dict(domain="rt.com", state="RU", kind="state_media", outlet="RT", source="test")])
    s.write("accounts", [
        dict(platform="x", account_id="100", handle="EmbFR", display_name="Ambassade de Chine", created_at=datetime(2019, 1, 1),
             url="javascript:alert(1)", description=f"bio {SCRIPT}"),
        dict(platform="x", account_id="200", handle="RT_com", display_name="RT", url="https://www.rt.com/"),
        dict(platform="x", account_id="300", handle="someone", display_name=IMG),
    ])
    posts, tags, urls, metrics, snaps = [], [], [], [], []
    n = 0
    plan = [("100", 1, 10, "post"), ("100", 2, 6, "post"), ("100", 2, 4, "repost"), ("100", 3, 5, "quote"),
            ("200", 1, 8, "post"), ("200", 3, 12, "post"), ("300", 2, 3, "repost"), ("300", 3, 2, "reply")]
    for acc, month, count, kind in plan:
        for i in range(count):
            n += 1
            pid = str(1000 + n)
            text = f"cooperation message {n} from {acc}"
            if n <= len(HOSTILE_TEXTS) and acc == "100":
                text = HOSTILE_TEXTS[n - 1]
            posts.append(dict(platform="x", post_id=pid, account_id=acc, created_at=datetime(2021, month, 1 + i, 12),
                              text=text, lang="en", kind=kind, observed="primary",
                              ref_account_id="200" if kind in ("repost", "quote") else None,
                              ref_post_id="1" if kind != "post" else None,
                              url=JSLINK if n == 2 else f"https://x.com/i/status/{pid}"))
            tags.append(dict(platform="x", post_id=pid, tag="Coop", tag_norm="coop"))
            if n % 3 == 0:
                tags.append(dict(platform="x", post_id=pid, tag="<b>x</b>", tag_norm="<b>x</b>"))
            if acc == "200" or kind == "repost":
                urls.append(dict(platform="x", post_id=pid, position=0, url="https://rt.com/a", normalized_url="https://rt.com/a",
                                 domain="rt.com", host="rt.com"))
            metrics.append(dict(platform="x", post_id=pid, captured_at=datetime(2021, 4, 1), likes=n, reposts=n % 7,
                                replies=1, quotes=0))
    with s.transaction():
        s.write_many({"posts": posts, "post_hashtags": tags, "post_urls": urls})
        s.write("post_metrics", metrics)
    for acc, base in (("100", 1000), ("200", 50000)):
        snaps += [dict(platform="x", account_id=acc, captured_at=datetime(2021, 1, 1) + timedelta(days=30 * k),
                       followers=base + 100 * k, following=10) for k in range(4)]
    s.write("account_snapshots", snaps)
    s.close()


def app_client(path):
    """(TestClient of the app over the store at `path` opened read-only, that store); closed afterwards."""
    store = Store(path, read_only=True)
    yield TestClient(create_app(path, store=store)), store
    store.close()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "small.duckdb"
    build_store(path)
    yield from app_client(path)


def sql1(store, q, params=None):
    return store.con.execute(q, params or []).fetchall()[0][0]


def fig(html: str, name: str) -> int:
    m = re.search(rf'id="fig-{name}">([\d,]+)<', html)
    assert m, f"figure {name} not on the page"
    return int(m.group(1).replace(",", ""))


def assert_no_markup(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert 'href="javascript:' not in html.lower()
    assert "<b>x</b>" not in html


# --- pages ---------------------------------------------------------------------------------------------

def test_every_page_returns_200_with_security_headers(small):
    c, _ = small
    for url in ("/", "/accounts", "/accounts/x/100", "/accounts/x/300", "/search?q=cooperation", "/api",
                "/?state=CN&start=2021-02-01&end=2021-03-01&freq=week", "/static/style.css", "/favicon.svg"):
        r = c.get(url)
        assert r.status_code == 200, url
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    assert c.get("/accounts/x/999").status_code == 404
    assert c.get("/?start=notadate").status_code == 400
    assert c.get("/api/overview?start=2021-03-01&end=2021-01-01").status_code == 400


def test_overview_figures_equal_sql_and_filters_change_them(small):
    c, store = small
    html = c.get("/").text
    assert fig(html, "posts") == sql1(store, "SELECT count(*) FROM posts") == 50
    assert fig(html, "accounts") == sql1(store, "SELECT count(DISTINCT account_id) FROM posts") == 3
    assert fig(html, "registered") == 2
    html = c.get("/?state=CN").text
    assert fig(html, "posts") == sql1(store, "SELECT count(*) FROM posts WHERE account_id = '100'") == 25
    html = c.get("/?start=2021-02-01&end=2021-03-01").text
    assert fig(html, "posts") == sql1(store, "SELECT count(*) FROM posts WHERE created_at >= '2021-02-01' "
                                             "AND created_at < '2021-03-01'") == 13
    html = c.get("/?platform=x&category=state_media_outlet").text
    assert fig(html, "posts") == 20
    body = c.get("/api/overview?state=RU&state=CN").json()
    assert body["figures"]["posts"] == 45 and body["filters"]["states"] == ["RU", "CN"]
    assert c.get("/api/overview?state=RU,CN").json()["figures"]["posts"] == 45


def test_activity_growth_and_tops_agree_with_sql(small):
    c, store = small
    act = c.get("/api/activity?freq=month").json()["rows"]
    want = dict(store.con.execute("SELECT strftime(date_trunc('month', created_at), '%Y-%m-%d'), count(*) "
                                  "FROM posts GROUP BY 1").fetchall())
    assert {r["period"]: r["posts"] for r in act} == want
    g = c.get("/api/growth").json()
    row = g["rows"][0]
    assert g["a_start"].startswith("2021-02-01") and g["b_start"].startswith("2021-03-01")
    assert (row["posts_a"], row["posts_b"]) == (13, 19)
    assert row["change"] == row["both_change"] + row["new_posts"] - row["gone_posts"]
    top = c.get("/api/top/hashtag").json()["rows"]
    assert top[0]["entity"] == "coop" and top[0]["count"] == sql1(store, "SELECT count(*) FROM post_hashtags WHERE tag_norm='coop'")
    amp = c.get("/api/top/reposted_account").json()["rows"]
    assert amp[0]["entity"] == "RT_com" and amp[0]["count"] == 7
    trend = c.get("/api/top/hashtag?start=2021-03-01&end=2021-04-01").json()
    assert trend["previous"][0].startswith("2021-01-29") and trend["rows"][0]["trend"] in ("rising", "falling", "steady")


def test_account_page_shows_profile_registry_followers_and_amplified(small):
    c, _ = small
    html = c.get("/accounts/x/100").text
    assert "Ambassade de Chine" in html and "Test citation: embassy list 2024" in html
    assert 'href="https://example.org/list"' in html            # citation URL linked; the javascript: one is not
    assert "Followers over time" in html and "<polyline" in html
    assert "RT_com" in html and "rt.com" in html                # what it amplifies: reposted account, domain
    assert_no_markup(html)
    d = c.get("/api/accounts/x/100").json()
    assert d["registry"]["state"] == "CN" and d["actor"]["host_country"] == "FR"
    assert d["posts"]["posts"] == 25 and d["latest_snapshot"]["followers"] == 1300
    fol = c.get("/api/followers?account=100").json()["rows"]
    assert [r["followers"] for r in fol] == [1000, 1100, 1200, 1300]
    html = c.get("/accounts/x/300").text
    assert "not in the registry" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_search_highlights_escaped_matches_and_paginates(small):
    c, _ = small
    html = c.get("/search?q=alert").text
    assert "<mark>alert</mark>(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=<mark>alert</mark>(1)&gt;" in html
    assert_no_markup(html)
    r = c.get("/api/search?q=cooperation&per_page=10&page=2").json()
    assert r["total"] == 46 and len(r["rows"]) == 10 and r["page"] == 2
    hit = r["rows"][0]
    assert all(hit["snippet"][s:e].lower() == "cooperation" for s, e in hit["matches"])
    assert 'rel="next"' in c.get("/search?q=cooperation").text
    assert c.get("/api/search?q=cooperation&state=RU").json()["total"] == 20


# --- downloads and API -------------------------------------------------------------------------------------

def _csv_rows(text: str):
    return list(csv.reader(io.StringIO(text)))


def _assert_csv_equals_json(c, url_csv: str):
    r = c.get(url_csv)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), url_csv
    assert "attachment" in r.headers.get("content-disposition", "")
    j = c.get(url_csv.replace("format=csv", "format=json")).json()
    rows = _csv_rows(r.text)
    assert rows[0] == j["columns"], url_csv
    assert rows[1:] == [[csv_cell(row.get(col)) for col in j["columns"]] for row in j["rows"]], url_csv
    return j


def test_every_table_on_every_page_has_csv_and_json_downloads_equal_to_the_api(small):
    c, _ = small
    for page in ("/", "/?state=CN&start=2021-01-01&end=2021-04-01", "/accounts", "/accounts/x/100", "/search?q=cooperation"):
        html = c.get(page).text
        sections = re.findall(r'<section class="card[^"]*"[^>]*>(.*?)</section>', html, re.S)
        for sec in sections:
            if "<table" in sec or "<svg" in sec or "<ol" in sec:
                assert "format=csv" in sec and "format=json" in sec, (page, sec[:200])
        links = [unescape(h) for h in re.findall(r'href="(/api/[^"]*format=csv[^"]*)"', html)]
        assert len(links) >= 1
        for link in links:
            j = _assert_csv_equals_json(c, link)
            api = c.get(link.replace("format=csv", "format=json").replace("&download=1", ""))
            assert api.json() == j


def test_openapi_lists_the_endpoints(small):
    c, _ = small
    spec = c.get("/openapi.json").json()
    for p in ("/api/overview", "/api/activity", "/api/growth", "/api/top/{entity}", "/api/accounts",
              "/api/accounts/{platform}/{account_id}", "/api/followers", "/api/top-posts", "/api/search", "/api/kinds"):
        assert p in spec["paths"], p
    params = {p["name"] for p in spec["paths"]["/api/overview"]["get"]["parameters"]}
    assert {"state", "category", "platform", "start", "end", "format"} <= params
    assert c.get("/docs").status_code == 404          # Swagger UI would load from a CDN: off


def test_hostile_text_is_text_in_html_json_and_csv(small):
    c, _ = small
    for url in ("/", "/accounts/x/100", "/accounts/x/300", "/search?q=hostile", "/accounts"):
        assert_no_markup(c.get(url).text)
    html = c.get("/search?q=hostile").text
    assert "&lt;script&gt;" in html and "javascript:alert(1)" in html
    # JSON: <, > and & are \u-escaped in the body; decoded, the text is exactly what was posted
    r = c.get("/api/search?q=hostile&per_page=50")
    assert "<script>" not in r.text and "<img" not in r.text and "\\u003cscript\\u003e" in r.text
    texts = {row["text"] for row in r.json()["rows"]}
    assert set(HOSTILE_TEXTS) <= texts
    top = c.get("/api/top-posts?n=50").text
    assert "<script>" not in top and JSLINK in top
    # CSV: the text is there verbatim (text/csv, nosniff); a formula gets a leading apostrophe
    r = c.get("/api/search?q=hostile&per_page=50&format=csv")
    assert SCRIPT in r.text and IMG in r.text and r.headers["x-content-type-options"] == "nosniff"
    cells = {cell for row in _csv_rows(r.text) for cell in row}
    assert "'" + FORMULA + " hostile" in cells and FORMULA + " hostile" not in cells
    # the javascript: permalink and profile link are shown as text, never as links
    html = c.get("/accounts/x/100").text
    assert 'href="javascript' not in html and "javascript:alert(1)" in html
    # hostile hashtag in SVG/table labels is escaped
    assert "&lt;b&gt;x&lt;/b&gt;" in c.get("/").text


def test_store_is_opened_read_only(small):
    _, store = small
    assert store.read_only
    with pytest.raises(Exception):
        store.con.execute("CREATE TABLE t_should_fail (x INT)")


# --- the demo store ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from envoywatch.demo import build_demo

    path = tmp_path_factory.mktemp("webdemo") / "demo.duckdb"
    s = Store(path)
    build_demo(s, scale="small", seed=7)
    s.close()
    yield from app_client(path)


def test_demo_store_pages_and_figures(demo):
    c, store = demo
    html = c.get("/").text
    assert fig(html, "posts") == sql1(store, "SELECT count(*) FROM posts")
    cn = c.get("/api/overview?state=CN").json()["figures"]["posts"]
    want = sql1(store, "SELECT count(*) FROM posts p JOIN accounts ac USING (platform, account_id) WHERE EXISTS ("
                       "SELECT 1 FROM registry_accounts ra JOIN registry_actors a USING (actor_id) WHERE a.state = 'CN' "
                       "AND ra.platform = p.platform AND (ra.account_id = p.account_id OR lower(ra.handle) = lower(ac.handle)))")
    assert cn == want and 0 < cn < fig(html, "posts")
    acc = c.get("/api/accounts?n=1").json()["rows"][0]
    assert c.get(f"/accounts/{acc['platform']}/{acc['account_id']}").status_code == 200
    assert acc["posts"] == sql1(store, "SELECT count(*) FROM posts WHERE account_id = ?", [acc["account_id"]])
    g = c.get("/api/growth").json()["rows"][0]
    assert g["change"] == g["both_change"] + g["new_posts"] - g["gone_posts"]
    assert c.get("/search?q=vaccine").status_code == 200
    # search matches words (the analysis tokenizes), so compare with a whole-word count
    assert c.get("/api/search?q=vaccine").json()["total"] == sql1(
        store, r"SELECT count(*) FROM posts WHERE regexp_matches(lower(text), '\bvaccine\b')")


def test_serve_command_is_registered():
    from click.testing import CliRunner

    from envoywatch.cli.main import cli

    r = CliRunner().invoke(cli, ["serve", "--help"])
    assert r.exit_code == 0 and "--host" in r.output and "127.0.0.1" in r.output


def test_charts_are_well_formed_svg_with_escaped_labels():
    import xml.etree.ElementTree as ET

    from envoywatch.outputs.charts import bar_chart, hbar_chart, line_chart, nice_ticks

    hostile = ["<script>alert(1)</script>", IMG, "a&b"]
    charts = [line_chart(hostile, [(SCRIPT, [1, None, 3]), ("b", [0, 2, 2])], SCRIPT),
              bar_chart(hostile, [5, 0, 2.5], IMG), hbar_chart(hostile, [3, 2, 1], "t", total=6),
              line_chart([], [], "empty"), bar_chart([], [], "empty")]
    for svg in charts:
        s = str(svg)
        assert "<script" not in s and "<img" not in s
        ET.fromstring(s)                                   # well-formed XML: every label was escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in str(charts[0]) and "no data" in str(charts[3])
    assert nice_ticks(1234)[-1] >= 1234 and nice_ticks(0) == [0.0, 1.0] and nice_ticks(0.37)[-1] >= 0.37


def test_results_are_cached_until_the_store_file_changes(tmp_path):
    from envoywatch.web.data import Data, Filters

    path = tmp_path / "s.duckdb"
    build_store(path)
    s = Store(path)                      # writable here, to change the store under the cache
    d = Data(s)
    assert d.figures(Filters()).rows[0]["posts"] == 50
    assert d.figures(Filters()) is d.figures(Filters())          # answered from the cache
    s.write_many({"posts": [dict(platform="x", post_id="9999", account_id="300", created_at=datetime(2021, 3, 9),
                                 kind="post", text="late post", observed="primary")]})
    s.con.execute("CHECKPOINT")
    assert d.figures(Filters()).rows[0]["posts"] == 51           # the file changed: recomputed
    s.close()


def test_warm_up_compiles_the_page_shapes_for_other_windows_and_accounts(tmp_path):
    """After the start-up warm-up, an overview of another state and window of a warmed kind, and another
    account's page, are computed from compiled SQL templates: nothing new is compiled."""
    from envoywatch.web.app import warm_up

    db = tmp_path / "w.duckdb"
    build_store(db)
    s = Store(db)
    try:
        from envoywatch.analysis.aggregates import refresh_aggregates

        with s.transaction():
            refresh_aggregates(s)
    finally:
        s.close()
    app = create_app(db)
    data = app.state.data
    warm_up(data)
    compiled = len(data._templates)
    assert compiled >= 10 and len(data.cache) > 10
    c = TestClient(app)
    # a window of the same kinds as a warmed one (first of a month .. midnight), another state, never seen
    assert c.get("/?state=RU&start=2021-02-01&end=2021-03-17").status_code == 200
    assert c.get("/accounts/x/200").status_code == 200
    assert len(data._templates) == compiled
