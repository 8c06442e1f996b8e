"""The analysis pages in real headless Chromium (as tests/test_web_browser.py does for the monitoring pages).

`envoywatch serve` (the real CLI) over the store of tests/web_analysis_store.py; opens /coordination: the
network view (static/network.js) draws the planted group's nodes, a click on a node shows its handle (the
hostile one as text), dragging and zooming work; changes a coordination parameter through the form; opens
/narratives: the charts, the uniform-line table, the heat matrix and the tone chart; downloads a CSV.
Every request must stay on 127.0.0.1, no dialog may fire, no console error or CSP violation may appear.
Screenshots go to test-artifacts/web/. Skips without chromium/playwright, fails under CI=true.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.test_web_browser import ARTIFACTS, browser, download, serve  # noqa: F401  (browser: a fixture)
from tests.web_analysis_store import BOTS, HOSTILE_HANDLE, LINE, build_analysis_store

pytest.importorskip("igraph", reason="pip install 'envoywatch[coordination]'")


@pytest.fixture(scope="module")
def analysis_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser-analysis") / "store.duckdb"
    build_analysis_store(db)
    yield from serve(db, "--no-warm-up")


def test_analysis_pages_end_to_end(analysis_server, browser, tmp_path):  # noqa: F811
    server = analysis_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    requests, dialogs, console, errors = [], [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(str(e)))

    # /coordination from the navigation bar; the network view draws the planted group
    page.goto(server + "/")
    with page.expect_navigation():
        page.click("nav >> text=Coordination")
    assert page.url.startswith(server + "/coordination")
    page.wait_for_selector("#network[data-ready='1']", timeout=30000)
    circles = page.locator("#network svg circle.node")
    assert circles.count() == len(BOTS)
    assert page.locator("#network svg line").count() == len(BOTS) * (len(BOTS) - 1) // 2
    # the layout spread the nodes out: distinct positions inside the drawing area
    pos = page.evaluate("""() => Array.from(document.querySelectorAll('#network circle.node'))
        .map(c => { const r = c.getBoundingClientRect(); return [Math.round(r.x), Math.round(r.y)]; })""")
    box = page.locator("#network").bounding_box()
    assert len({tuple(p) for p in pos}) == len(BOTS)
    assert all(box["x"] - 5 <= x <= box["x"] + box["width"] and box["y"] - 5 <= y <= box["y"] + box["height"]
               for x, y in pos)
    page.screenshot(path=str(ARTIFACTS / "5-coordination.png"), full_page=True)

    # hovering a node shows its details
    page.locator(f"#network circle.node[data-id='{BOTS[2]}']").hover()
    assert page.locator("#net-info").get_attribute("data-id") == BOTS[2]
    assert "@patriot2_" in page.locator("#net-info .handle").inner_text()
    # a click on the node of the hostile handle shows it as text, with its group, score and signals
    node = page.locator(f"#network circle.node[data-id='{BOTS[0]}']")
    node.click()
    info = page.locator("#net-info")
    assert info.get_attribute("data-id") == BOTS[0]
    text = info.inner_text()
    assert "@" + HOSTILE_HANDLE in text and "creation cluster" in text and "flagged" in text
    assert page.locator("#net-info script, #net-info img").count() == 0
    assert info.locator("a").get_attribute("href") == f"/accounts/x/{BOTS[0]}"
    assert "selected" in (node.get_attribute("class") or "")
    # drag a node: it moves and stays; the wheel zooms (the view transform changes)
    before = node.bounding_box()
    page.mouse.move(before["x"] + before["width"] / 2, before["y"] + before["height"] / 2)
    page.mouse.down()
    page.mouse.move(before["x"] + 80, before["y"] + 60, steps=5)
    page.mouse.up()
    after = node.bounding_box()        # the node's centre follows the pointer
    assert abs(after["x"] + after["width"] / 2 - (before["x"] + 80)) < 3
    assert abs(after["y"] + after["height"] / 2 - (before["y"] + 60)) < 3
    page.wait_for_timeout(200)
    assert node.bounding_box() == after                                 # and stays there
    t0 = page.locator("#network g.view").get_attribute("transform")
    box = page.locator("#network").bounding_box()                      # the page may have scrolled
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(100)
    assert page.locator("#network g.view").get_attribute("transform") != t0
    # hovering another node (with one selected) keeps the selected one's details; clicking switches
    page.locator(f"#network circle.node[data-id='{BOTS[1]}']").click()
    assert page.locator("#net-info").get_attribute("data-id") == BOTS[1]
    page.screenshot(path=str(ARTIFACTS / "6-coordination-selected.png"), full_page=True)

    # the members table lists the planted accounts; the hostile handle is text
    assert page.locator("#members-table tbody tr").count() == len(BOTS)
    assert "@" + HOSTILE_HANDLE in page.locator("#members-table").inner_text()

    # change a parameter through the form: a stricter weight leaves no group (and the network says so)
    page.fill("#c-min-weight", "11")
    with page.expect_navigation():
        page.click("#coord-go")
    assert "min_weight=11" in page.url
    page.wait_for_selector("#network[data-ready='1']", timeout=30000)
    assert page.locator("#network svg circle.node").count() == 0
    assert "no group" in page.locator("#groups").inner_text()

    # /narratives: charts, the uniform line table, the matrix (heat cells), tone over time; then a CSV download
    with page.expect_navigation():
        page.click("nav >> text=Narratives")
    assert page.url.startswith(server + "/narratives")
    for sec in ("#narratives-share", "#narratives-lines", "#sources-matrix", "#tone"):
        assert page.locator(f"{sec} svg.chart").count() >= 1, sec
    assert "covid origin us" in page.locator("#share-table").inner_text().lower()
    assert "EmbKE" in page.locator("#lines-table").inner_text()
    assert LINE in page.locator("#shared-lines-table").inner_text()
    heat = page.locator("#matrix-table td[class*='heat-']")
    assert heat.count() >= 1
    assert "RU" in page.locator("#matrix-table thead").inner_text()
    assert page.locator("#tone-table tbody tr").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "7-narratives.png"), full_page=True)
    # grouping by host country through the page's own links
    with page.expect_navigation():
        page.click("p.pagefreq a:has-text('host country')")
    assert "by=host_country" in page.url and page.locator("#share-table").count() == 1

    content = download(page, "#sources-matrix h2 .dl a:has-text('CSV') >> nth=0", tmp_path, "sources-matrix.csv")
    assert content.startswith("period,from_group,to_state,to_kind,items,posts,accounts,share")
    assert "CN,RU,state_media" in content

    # nothing left 127.0.0.1, no dialog, no script error, no CSP violation
    hosts = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert dialogs == [] and errors == []
    assert not [m for m in console if m.startswith("error") or "Content Security Policy" in m or "Refused" in m], console
    ctx.close()


def test_pages_work_without_javascript(analysis_server, browser):  # noqa: F811
    """With JavaScript off, /coordination still shows the groups and members (the network view says it needs JS)."""
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(analysis_server + "/coordination")
    assert page.locator("#groups-table tbody tr").count() == 1
    assert page.locator("#members-table tbody tr").count() == len(BOTS)
    assert page.locator("#network svg").count() == 0
    page.goto(analysis_server + "/narratives")
    assert page.locator("#matrix-table").count() == 1
    ctx.close()
