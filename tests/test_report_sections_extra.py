"""The report's coordination, narratives, amplified-sources and tone sections on a constructed store.

The store (built with the store's own writer, as importers do) plants: 5 unregistered accounts that repost
the same 8 posts of a Chinese mission within seconds (a coordinated group) next to 2 organic reposters; Chinese
missions posting a narrative ("Fort Detrick") in known numbers per month; one message posted by 3 missions
within a day (a shared line); links to RU / CN state media and reposts of a RU state-media account; hostile
text in posts and a handle. Every checked figure is recounted here in plain Python or SQL straight from the
store's tables, not through envoywatch's analyses.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from envoywatch.outputs.report import write_report
from envoywatch.outputs.report_queries import Filters
from envoywatch.store import Store
from tests.test_report import html_tables
from tests.test_report_safety import assert_self_contained_and_inert

HOSTILE_TEXT = "<script>alert(1)</script> Fort Detrick <img src=x onerror=alert(2)>"
HOSTILE_BOT = "bot<img src=x onerror=alert(3)>"
BOTS = [("b1", "bot_one11111"), ("b2", "bot_two22222"), ("b3", "bot_three333"), ("b4", "bot_four4444"),
        ("b5", HOSTILE_BOT)]
ORGANIC = [("o1", "organic_anna"), ("o2", "organic_ben")]
MISSIONS = [("m1", "EmbA", "cn-a", "FR"), ("m2", "EmbB", "cn-b", "DE"), ("m3", "EmbC", "cn-c", "US")]
SHARED_LINE = "Win-win cooperation is the only right choice for our two great peoples today"


def build(store) -> None:
    src = "test fixture"
    store.write("import_batches", [dict(batch_id=1, source_path="/data/extra.jsonl", format="test", sha256="cd" * 32,
                                        started_at=datetime(2021, 6, 2), status="done", posts=0, simulated=False)])
    actors = [(a, f"Embassy {h}", "CN", "mission", host) for _, h, a, host in MISSIONS] + \
        [("ru-rt", "RT", "RU", "state_media_outlet", None)]
    store.write("registry_actors", [dict(actor_id=a, name=nm, actor_type="organisation", state=s, category=c,
                                         host_country=h, source=src, list_name="testlist") for a, nm, s, c, h in actors])
    store.write("registry_accounts", [dict(platform="x", handle=h, actor_id=a, account_id=i, source=src)
                                      for i, h, a, _ in MISSIONS] +
                [dict(platform="x", handle="RTnews", actor_id="ru-rt", account_id="rt", source=src)])
    store.write("registry_domains", [dict(domain="rt.com", state="RU", kind="state_media", outlet="RT", source=src),
                                     dict(domain="cgtn.com", state="CN", kind="state_media", outlet="CGTN", source=src)])
    store.write("accounts", [dict(platform="x", account_id=i, handle=h, display_name=h) for i, h, _, _ in MISSIONS]
                + [dict(platform="x", account_id="rt", handle="RTnews", display_name="RT")]
                + [dict(platform="x", account_id=i, handle=h, display_name=h, created_at=datetime(2021, 1, 1))
                   for i, h in BOTS + ORGANIC])
    posts, urls = [], []

    def post(pid, acc, when, text="An ordinary day at the embassy.", kind="post", ref=None, ref_acc=None):
        posts.append(dict(platform="x", post_id=pid, account_id=acc, created_at=when, text=text, kind=kind, lang="en",
                          ref_post_id=ref, ref_account_id=ref_acc, observed="primary", batch_id=1))

    # EmbA: 8 originals in May, each reposted by the 5 bots within 2-10 s (coordinated) and by 2 organic accounts
    # hours later; 3 of them carry the narrative
    for k in range(8):
        t = datetime(2021, 5, 2 + 3 * k, 10)
        text = f"Where did the virus come from? Open Fort Detrick, says post {k}" if k < 3 else f"Embassy news number {k}"
        post(f"a{k}", "m1", t, text)
        for j, (bid, _) in enumerate(BOTS):
            post(f"a{k}-r{bid}", bid, t + timedelta(seconds=2 + 2 * j), f"RT @EmbA: {text}", "repost", f"a{k}", "m1")
        if k < 4:
            for j, (oid, _) in enumerate(ORGANIC):
                post(f"a{k}-r{oid}", oid, t + timedelta(hours=3 + 5 * j), f"RT @EmbA: {text}", "repost", f"a{k}", "m1")
    # narrative posts of EmbB and EmbC: April 2 of 6 posts (EmbB), May (EmbC) 1 hostile narrative post of 3
    for d in range(6):
        post(f"b4-{d}", "m2", datetime(2021, 4, 3 + d, 9), "Fort Detrick must be investigated" if d < 2 else "Hello")
    post("c5-0", "m3", datetime(2021, 5, 4, 9), HOSTILE_TEXT)
    post("c5-1", "m3", datetime(2021, 5, 5, 9), "Consular hours change next week")
    post("c5-2", "m3", datetime(2021, 5, 6, 9), "Visa office closed on Friday")
    # a shared line: the same message by the 3 missions within a day (May 20)
    for i, (mid, _, _, _) in enumerate(MISSIONS):
        post(f"line-{mid}", mid, datetime(2021, 5, 20, 8 + i), SHARED_LINE)
    # sources: EmbB links to rt.com twice and cgtn.com once, to an ordinary site once; reposts RTnews twice and
    # EmbA once (May)
    post("rt1", "rt", datetime(2021, 5, 1, 6), "RT report")
    for i, (dom, u) in enumerate([("rt.com", "https://www.rt.com/a"), ("rt.com", "https://www.rt.com/b"),
                                  ("cgtn.com", "https://news.cgtn.com/c"), ("example.org", "https://example.org/d")]):
        post(f"lk{i}", "m2", datetime(2021, 5, 10 + i, 12), f"Read this {u}")
        urls.append(dict(platform="x", post_id=f"lk{i}", position=0, url=u, expanded_url=u, normalized_url=u,
                         domain=dom, host=u.split("/")[2]))
    post("rp1", "m2", datetime(2021, 5, 15, 12), "RT @RTnews: RT report", "repost", "rt1", "rt")
    post("rp2", "m2", datetime(2021, 5, 16, 12), "RT @RTnews: RT report", "repost", "rt1", "rt")
    post("rp3", "m2", datetime(2021, 5, 17, 12), "RT @EmbA: Embassy news number 5", "repost", "a5", "m1")
    store.write("posts", posts)
    store.write("post_urls", urls)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("extra")
    path = d / "extra.duckdb"
    with Store(path) as s:
        build(s)
    ro = d / "readonly.duckdb"
    with Store(ro) as s:        # the same data, never reported on writable: caches stay absent
        build(s)
    with Store(path) as s:
        html = write_report(s, d / "r.html", Filters(states=("CN",)), "2021-05").path.read_text()
        md = write_report(s, d / "r.md", Filters(states=("CN",)), "2021-05").path.read_text()
    return {"path": path, "ro": ro, "html": html, "md": md, "dir": d}


def section_html(html: str, key: str) -> str:
    m = re.search(rf'<section id="{key}">(.*?)</section>', html, re.S)
    assert m, f"section {key} missing"
    return m.group(1)


def sql(path, q, params=()):
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(q, list(params)).fetchall()
    finally:
        con.close()


def test_coordination_lists_planted_members_and_amplification_share(built):
    sec = section_html(built["html"], "coordination")
    t = html_tables(sec).tables
    members = next(rows for cap, rows in t.items() if cap.startswith("Members"))
    listed = {r[1] for r in members[1:]}
    assert listed == {h for _, h in BOTS}                      # the planted five, organic accounts not
    groups = next(rows for cap, rows in t.items() if cap.startswith("Coordinated groups"))
    assert len(groups) == 2 and groups[1][2] == "5"             # one group of 5
    drawing = re.search(r'<svg[^>]*aria-label="coordination network".*?</svg>', sec, re.S).group(0)
    assert drawing.count("<circle") == 5                        # the drawing: one dot per member
    # amplification share of EmbA in May: reposts by the bots / all reposts of EmbA's posts (recounted)
    total, coord = sql(built["path"], """SELECT count(*), count(*) FILTER (WHERE account_id LIKE 'b%')
        FROM posts WHERE kind = 'repost' AND ref_account_id = 'm1' AND account_id <> 'm1'
        AND created_at >= '2021-05-01' AND created_at < '2021-06-01'""")[0]
    share = next(rows for cap, rows in t.items() if cap.startswith("Amplification share in this period"))
    row = next(r for r in share if r[0] == "EmbA")
    assert row[1] == str(total) and row[4] == str(coord) and row[5] == f"{coord / total:.1%}"
    assert total == 5 * 8 + 2 * 4 + 1 and coord == 40


def _independent_narrative_share(path, month_start, month_end):
    rows = sql(path, """SELECT p.text FROM posts p JOIN registry_accounts ra USING (platform, account_id)
                        JOIN registry_actors a USING (actor_id) WHERE a.state = 'CN' AND p.created_at >= ?
                        AND p.created_at < ?""", [month_start, month_end])
    hits = sum("fort detrick" in (r[0] or "").lower() for r in rows)
    return hits, len(rows)


def test_narrative_share_per_month_equals_independent_count(built):
    t = html_tables(section_html(built["html"], "narratives")).tables
    monthly = t["Narrative share per month"]
    head = monthly[0]
    col = head.index("covid_origin_us (posts, share)")
    by_month = {r[0]: r for r in monthly[1:]}
    for month, (a, b) in {"2021-04": ("2021-04-01", "2021-05-01"), "2021-05": ("2021-05-01", "2021-06-01")}.items():
        hits, total = _independent_narrative_share(built["path"], a, b)
        assert hits > 0
        assert by_month[month][1] == str(total)
        assert by_month[month][col] == f"{hits} ({hits / total:.1%})"
    cur = next(rows for cap, rows in t.items() if cap.startswith("Narratives in this period"))
    row = next(r for r in cur if r[0] == "covid_origin_us")
    hits, total = _independent_narrative_share(built["path"], "2021-05-01", "2021-06-01")
    assert row[1] == str(hits) and row[2] == f"{hits / total:.1%}"


def test_uniform_line_share_per_mission(built):
    t = html_tables(section_html(built["html"], "narratives")).tables
    rows = next(rows for cap, rows in t.items() if cap.startswith("Uniform line vs local content"))
    for mid, handle, _, host in MISSIONS:
        own = sql(built["path"], "SELECT count(*) FROM posts WHERE account_id = ? AND kind IN ('post', 'quote') "
                                 "AND created_at >= '2021-05-01' AND created_at < '2021-06-01'", [mid])[0][0]
        r = next(r for r in rows[1:] if r[0] == handle)
        assert r[1] == host and r[2] == str(own) and r[3] == "1"    # exactly the planted line
        assert r[4] == f"{1 / own:.1%}"


def test_matrix_cells_equal_independent_count(built):
    t = html_tables(section_html(built["html"], "sources")).tables
    m = next(rows for cap, rows in t.items() if cap.startswith("Cross-state amplification matrix"))
    head, cn = m[0], next(r for r in m[1:] if r[0] == "CN")
    # independent: CN accounts' links (by domain) and reposts/quotes (by the reposted account) in May
    links = sql(built["path"], """SELECT u.domain FROM post_urls u JOIN posts p USING (platform, post_id)
        JOIN registry_accounts ra ON ra.account_id = p.account_id WHERE p.created_at >= '2021-05-01'
        AND p.created_at < '2021-06-01'""")
    reps = sql(built["path"], """SELECT p.ref_account_id FROM posts p JOIN registry_accounts ra USING (platform, account_id)
        WHERE p.kind IN ('repost', 'quote') AND p.created_at >= '2021-05-01' AND p.created_at < '2021-06-01'""")
    denom = len(links) + len(reps)
    ru = sum(d == "rt.com" for (d,) in links) + sum(a == "rt" for (a,) in reps)
    cn_media = sum(d == "cgtn.com" for (d,) in links)
    cn_off = sum(a in {"m1", "m2", "m3"} for (a,) in reps)
    assert (ru, cn_media, cn_off) == (4, 1, 1)
    assert cn[head.index("RU state_media")] == f"{ru} ({ru / denom:.1%})"
    assert cn[head.index("CN state_media")] == f"{cn_media} ({cn_media / denom:.1%})"
    assert cn[head.index("CN official")] == f"{cn_off} ({cn_off / denom:.1%})"


def test_tone_over_time_present_and_counts_scored_posts(built):
    from envoywatch.analysis.tone import default_model, score_texts

    sec = section_html(built["html"], "tone")
    assert default_model().version in sec                       # the model is named
    t = html_tables(sec).tables
    monthly = next(rows for cap, rows in t.items() if cap.startswith("Propagandistic share per month"))
    by = {r[0]: r for r in monthly[1:]}
    for month, (a, b) in {"2021-04": ("2021-04-01", "2021-05-01"), "2021-05": ("2021-05-01", "2021-06-01")}.items():
        texts = [r[0] for r in sql(built["path"], """SELECT p.text FROM posts p JOIN registry_accounts ra
            USING (platform, account_id) JOIN registry_actors a USING (actor_id) WHERE a.state = 'CN'
            AND p.created_at >= ? AND p.created_at < ?""", [a, b])]
        labelled = sum(r.label for r in score_texts(texts))
        assert by[month][1] == str(len(texts)) and by[month][2] == str(labelled)


def test_hostile_text_escaped_in_new_sections(built):
    html, md = built["html"], built["md"]
    assert_self_contained_and_inert(html)
    for key in ("coordination", "narratives", "sources", "tone"):
        sec = section_html(html, key)
        assert "<script" not in sec and "<img" not in sec
    coord = section_html(html, "coordination")
    assert "bot&lt;img src=x onerror=alert(3)&gt;" in coord      # the hostile handle, shown as text
    assert "<img" not in md and "<script" not in md
    assert "&lt;img src=x onerror=alert(3)&gt;" in md


def test_read_only_store_without_caches_names_the_commands(built):
    with Store(built["ro"], read_only=True) as s:
        rep = write_report(s, built["dir"] / "ro.md", Filters(states=("CN",)), "2021-05")
        text = rep.path.read_text()
    assert "envoywatch narratives assign" in text
    assert "envoywatch tone store" in text
    assert "envoywatch narratives lines" in text
    keys = [s.key for s in rep.sections]
    assert {"coordination", "narratives", "sources", "tone"} <= set(keys)
    # nothing was written: the caches are still absent
    names = {r[0] for r in sql(built["ro"], "SELECT table_name FROM information_schema.tables")}
    assert not names & {"post_narratives", "tone_scores", "narrative_lines"}
