"""A small store for the analysis pages of the dashboard (coordination, narratives, sources, tone).

build_analysis_store(path) = tests.test_web_api.build_store (hostile post text, a CN mission and RT) plus
- two more CN missions (KE, NG) that post narrative texts and one identical line within a day (a shared line);
- a planted coordinated group: BOTS accounts (created the same day, no bio, one with a hostile handle) that
  repost the same 10 originals of the CN mission within 40 s of each other;
- ORGANIC accounts that repost the same originals hours apart (no coordination at a 60 s window);
then the caches the dashboard reads, filled by the real library calls (`envoywatch narratives assign`,
`narratives lines`, `tone store`): assign_narratives, find_shared_lines, score_store.
build_analysis_store(path, caches=False) leaves the caches out (the pages must then say which command fills them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from envoywatch.store import Store
from tests.test_web_api import build_store

HOSTILE_HANDLE = "evil<script>alert(1)</script>"
BOTS = [f"40{i}" for i in range(6)]
ORGANIC = [f"50{i}" for i in range(6)]
MISSIONS = {"100": ("EmbFR", "FR"), "110": ("EmbKE", "KE"), "120": ("EmbNG", "NG")}
LINE = "Multilateralism is the right answer to the challenges of our time, say all partners!"
NARRATIVE_TEXTS = ["The US must open Fort Detrick to investigation.",
                   "China sent masks and ventilators as pandemic aid to our partners.",
                   "Western media spread fake news and lies about Xinjiang, a smear campaign by liars."]
SRC = "test fixture (constructed in tests/web_analysis_store.py)"


def _post(pid, acc, at, text, kind="post", ref_post_id=None, ref_account_id=None):
    return dict(platform="x", post_id=str(pid), account_id=acc, created_at=at, text=text, lang="en", kind=kind,
                observed="primary", ref_post_id=ref_post_id, ref_account_id=ref_account_id,
                url=f"https://x.com/i/status/{pid}")


def build_analysis_store(path, caches: bool = True) -> None:
    build_store(path)
    s = Store(path)
    s.write("registry_actors", [
        dict(actor_id=f"t-cn-{h.lower()}", name=f"Embassy of China ({cc}, test)", actor_type="organisation", state="CN",
             category="mission", host_country=cc, source=SRC, list_name="test")
        for acc, (h, cc) in MISSIONS.items() if acc != "100"])
    s.write("registry_accounts", [dict(platform="x", handle=h, actor_id=f"t-cn-{h.lower()}", account_id=acc, source=SRC)
                                  for acc, (h, _) in MISSIONS.items() if acc != "100"])
    accounts = [dict(platform="x", account_id=acc, handle=h, display_name=f"Embassy {cc}", created_at=datetime(2015, 1, 1),
                     description="Official account") for acc, (h, cc) in MISSIONS.items() if acc != "100"]
    for i, acc in enumerate(BOTS):
        accounts.append(dict(platform="x", account_id=acc, handle=HOSTILE_HANDLE if i == 0 else f"patriot{i}_{acc}",
                             display_name=f"<img src=x onerror=alert({i})>", created_at=datetime(2020, 12, 1, 3 + i),
                             description=""))
    for i, acc in enumerate(ORGANIC):
        accounts.append(dict(platform="x", account_id=acc, handle=f"reader{i}", display_name=f"Reader {i}",
                             created_at=datetime(2012 + i, 3, 1), description="I read the news"))
    s.write("accounts", accounts)

    posts, urls = [], []
    pid = 50000
    # the originals the group amplifies: the CN mission's (account 100) ten January posts (ids 1001-1010)
    originals = s.con.execute("SELECT post_id, created_at FROM posts WHERE account_id = '100' AND kind = 'post' "
                              "AND created_at < '2021-02-01' ORDER BY created_at").fetchall()
    assert len(originals) == 10
    for k, (orig, at) in enumerate(originals):
        base = at + timedelta(hours=1, minutes=k)
        for i, acc in enumerate(BOTS):            # within 40 s of each other: coordinated
            pid += 1
            posts.append(_post(pid, acc, base + timedelta(seconds=8 * i), f"RT {orig}", "repost", orig, "100"))
        for i, acc in enumerate(ORGANIC):         # hours apart: not coordinated at a 60 s window
            pid += 1
            posts.append(_post(pid, acc, base + timedelta(hours=2 + 3 * i), f"RT {orig}", "repost", orig, "100"))
    # the missions: narrative texts over three months, a link to RT (state media of RU), and one shared line
    for m, (acc, (h, cc)) in enumerate(MISSIONS.items()):
        for month in (1, 2, 3):
            for j, text in enumerate(NARRATIVE_TEXTS[: month]):
                pid += 1
                posts.append(_post(pid, acc, datetime(2021, month, 10 + j, 9 + m), f"{text} ({h} {month})"))
                if j == 0:
                    urls.append(dict(platform="x", post_id=str(pid), position=0, url="https://rt.com/news/1",
                                     normalized_url="https://rt.com/news/1", domain="rt.com", host="rt.com"))
        pid += 1
        posts.append(_post(pid, acc, datetime(2021, 2, 20, 8) + timedelta(hours=3 * m), LINE))
        pid += 1
        posts.append(_post(pid, acc, datetime(2021, 2, 22, 8), f"Our ambassador met local partners in {cc} today."))
    with s.transaction():
        s.write_many({"posts": posts, "post_urls": urls})
    if caches:
        from envoywatch.analysis.narratives import assign_narratives, find_shared_lines
        from envoywatch.analysis.tone.scores import score_store

        assign_narratives(s, methods=("pattern",))
        find_shared_lines(s, days=3, min_accounts=3)
        score_store(s)
    s.con.execute("CHECKPOINT")
    s.close()
