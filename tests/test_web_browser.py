"""End to end in real headless Chromium (Debian `chromium`, driven by Playwright with executable_path).

Starts `envoywatch serve` (the real CLI, uvicorn) on 127.0.0.1 on a free port, opens the dashboard,
changes a filter, opens an account page, searches, downloads a CSV; records every request the page makes
(none may leave 127.0.0.1) and every dialog (none may fire: hostile post text is text). Screenshots are
kept under test-artifacts/web/. Skips when chromium or playwright is absent, fails under CI=true.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import IN_CI, ROOT
from tests.test_web_api import IMG, SCRIPT, build_store

CHROMIUM = os.environ.get("ENVOYWATCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "web"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def _need(ok: bool, msg: str) -> None:
    if not ok:
        if IN_CI:
            pytest.fail(msg + " -- under CI=true the browser test must run")
        pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def download(page, selector: str, tmp_path, name: str) -> str:
    """Click the download link `selector`; the file's text (also kept as test-artifacts/web/NAME)."""
    with page.expect_download() as dl:
        page.click(selector)
    target = tmp_path / name
    dl.value.save_as(target)
    content = target.read_text(encoding="utf-8")
    (ARTIFACTS / name).write_text(content, encoding="utf-8")
    return content


def serve(db, *args: str):
    """Run `envoywatch --db DB serve` (the real CLI, uvicorn) on a free loopback port; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "envoywatch.cli.main", "--db", str(db), "serve", "--port", str(port),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"), text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"envoywatch serve exited: {proc.stdout.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("envoywatch serve did not listen within 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "store.duckdb"
    build_store(db)
    yield from serve(db)


@pytest.fixture(scope="module")
def browser():
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} not found (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright not installed (pip install playwright)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_dashboard_end_to_end(server, browser, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    requests, dialogs, console = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))

    # overview, then a filter change through the form
    page.goto(server + "/")
    assert page.locator("#fig-posts").inner_text() == "50"
    page.screenshot(path=str(ARTIFACTS / "1-overview.png"), full_page=True)
    page.select_option("#f-state", "CN")
    with page.expect_navigation():
        page.click("#apply")
    assert "state=CN" in page.url
    assert page.locator("#fig-posts").inner_text() == "25"
    assert page.locator("svg.chart").count() >= 2
    page.screenshot(path=str(ARTIFACTS / "2-overview-state-CN.png"), full_page=True)

    # an account page, from the top accounts table
    with page.expect_navigation():
        page.click("#accounts-table a:has-text('@EmbFR')")
    assert "/accounts/x/100" in page.url
    assert "Ambassade de Chine" in page.locator("h1").inner_text()
    assert "Test citation: embassy list 2024" in page.locator("#registry").inner_text()
    assert "<script>" in page.locator("#profile").inner_text()          # the hostile bio, as text
    page.screenshot(path=str(ARTIFACTS / "3-account.png"), full_page=True)

    # search: hostile text visible as text, matches highlighted
    with page.expect_navigation():
        page.click("nav >> text=Search")
    page.fill("#q", "hostile")
    with page.expect_navigation():
        page.click("#search-go")
    assert "q=hostile" in page.url
    hits = page.locator("li.hit .text")
    texts = [hits.nth(i).inner_text() for i in range(hits.count())]
    assert any(SCRIPT in t for t in texts) and any(IMG in t for t in texts), texts
    assert page.locator("li.hit mark").count() >= 4
    assert page.locator("li.hit img").count() == 0 and page.locator("main script").count() == 0
    page.screenshot(path=str(ARTIFACTS / "4-search.png"), full_page=True)

    # download the search results as CSV
    content = download(page, "section.card .dl a:has-text('CSV')", tmp_path, "search.csv")
    assert content.startswith("platform,post_id,account_id,handle")
    assert SCRIPT in content and content.count("\n") == 5          # header + 4 hostile posts

    # nothing left 127.0.0.1, no dialog fired, no CSP violation reported
    hosts = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert dialogs == []
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
    ctx.close()
