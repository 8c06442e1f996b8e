"""A small constructed store with known figures, for the report tests (see tests/test_report*.py).

Group CN (registry): EmbFR (mission, host FR) posts 3 in April 2021 and 6 in May (active in both, +3);
AmbDE (head of mission, host DE) posts 2 in April only (gone quiet, -2); ConsulUS (mission, host US) posts 4
in May only (new, +4). CN: April 5 -> May 10, change +5 = +3 + 4 - 2. Outside CN: MFARU (RU ministry) posts 3
in May (new), and an unregistered account posts once in each month. Hostile text sits in posts, a hashtag,
a handle and a URL.
"""

from __future__ import annotations

from datetime import datetime

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
           "[click](javascript:alert(1)) <a href=\"javascript:alert(1)\">x</a>"]
HOSTILE_TAG = "<b onmouseover=alert(1)>tag</b>"
HOSTILE_HANDLE = "evil<svg onload=alert(1)>"
HOSTILE_URL = "https://evil.example/<script>alert(1)</script>"


def build(store, simulated: bool = False) -> None:
    src = "test fixture"
    store.write("import_batches", [dict(batch_id=1, source_path="/data/fixture.jsonl", format="test", sha256="ab" * 32,
                                        started_at=datetime(2021, 6, 2), status="done", posts=0, simulated=simulated)])
    actors = [("cn-emb-fr", "Embassy of China in France", "CN", "mission", "FR"),
              ("cn-amb-de", "Ambassador of China to Germany", "CN", "head_of_mission", "DE"),
              ("cn-con-us", "Consulate of China in the US", "CN", "mission", "US"),
              ("ru-mfa", "Russian MFA", "RU", "ministry", None)]
    store.write("registry_actors", [dict(actor_id=a, name=n, actor_type="organisation", state=s, category=c,
                                         host_country=h, source=src, list_name="testlist") for a, n, s, c, h in actors])
    accs = [("1", "EmbFR", "cn-emb-fr"), ("2", "AmbDE", "cn-amb-de"), ("6", "ConsulUS", "cn-con-us"),
            ("3", "MFARU", "ru-mfa")]
    store.write("registry_accounts", [dict(platform="x", handle=h, actor_id=a, account_id=i, source=src)
                                      for i, h, a in accs])
    store.write("accounts", [dict(platform="x", account_id=i, handle=h, display_name=h) for i, h, _ in accs]
                + [dict(platform="x", account_id="4", handle=HOSTILE_HANDLE, display_name="someone")])
    posts, tags, urls, metrics = [], [], [], []

    def post(pid, acc, when, kind="post", text="hello", ref=None):
        posts.append(dict(platform="x", post_id=pid, account_id=acc, created_at=when, text=text, kind=kind, lang="en",
                          ref_account_id=ref, observed="primary", batch_id=1))

    # EmbFR: April 3 (posts), May 6 (2 posts with hostile text, 1 more post, 2 reposts of MFARU, 1 quote of EmbFR)
    for d in (3, 10, 20):
        post(f"a1{d}", "1", datetime(2021, 4, d, 12))
    post("m11", "1", datetime(2021, 5, 2, 9), text=HOSTILE[0])
    post("m12", "1", datetime(2021, 5, 3, 9), text=HOSTILE[1])
    post("m13", "1", datetime(2021, 5, 4, 9), text=HOSTILE[2])
    post("m14", "1", datetime(2021, 5, 5, 9), kind="repost", text="RT @MFARU: x", ref="3")
    post("m15", "1", datetime(2021, 5, 6, 9), kind="repost", text="RT @MFARU: y", ref="3")
    post("m16", "1", datetime(2021, 5, 31, 23, 59), kind="quote", text="see this", ref="1")
    # AmbDE: April 2 only
    post("a21", "2", datetime(2021, 4, 1, 0, 0))
    post("a22", "2", datetime(2021, 4, 30, 23, 59), kind="reply")
    # ConsulUS: May 4 only (one on the first second of May, which belongs to May)
    for i, d in enumerate((1, 8, 15, 22)):
        post(f"m6{i}", "6", datetime(2021, 5, d, 0, 0, 0) if d == 1 else datetime(2021, 5, d, 8))
    # MFARU (RU): May 3; unregistered: one in April, one in May; one CN post in June (outside the period)
    for d in (2, 12, 24):
        post(f"m3{d}", "3", datetime(2021, 5, d, 10))
    post("a41", "4", datetime(2021, 4, 15))
    post("m41", "4", datetime(2021, 5, 15), text=HOSTILE[0])
    post("j11", "1", datetime(2021, 6, 1, 0, 0))
    for pid, tag in (("m11", "covid19"), ("m12", "covid19"), ("m60", "covid19"), ("a110", "covid19"),
                     ("m13", HOSTILE_TAG), ("m61", "beltandroad"), ("a120", "beltandroad"), ("a21", "beltandroad")):
        tags.append(dict(platform="x", post_id=pid, tag=tag, tag_norm=tag.lower()))
    for pid, pos, u, dom in (("m11", 0, "https://cgtn.com/a", "cgtn.com"), ("m12", 0, "https://cgtn.com/b", "cgtn.com"),
                             ("m13", 0, HOSTILE_URL, "evil.example"), ("a13", 0, "https://cgtn.com/c", "cgtn.com")):
        urls.append(dict(platform="x", post_id=pid, position=pos, url=u, expanded_url=u, normalized_url=u, domain=dom,
                         host=dom))
    for pid, likes, rp in (("m11", 10, 5), ("m12", 20, 1), ("m13", 30, 9), ("m60", 4, 0), ("a110", 7, 2)):
        metrics.append(dict(platform="x", post_id=pid, captured_at=datetime(2021, 6, 2), likes=likes, reposts=rp,
                            replies=1, quotes=0))
    store.write("posts", posts)
    store.write("post_hashtags", tags)
    store.write("post_urls", urls)
    store.write("post_metrics", metrics)
    # followers: a snapshot at a boundary instant counts for the end of one period and the start of the next
    snaps = [("1", datetime(2021, 3, 15), 1000), ("1", datetime(2021, 4, 20), 1100), ("1", datetime(2021, 5, 1), 1200),
             ("1", datetime(2021, 5, 20), 1300), ("1", datetime(2021, 6, 1, 0, 0, 1), 9999),
             ("2", datetime(2021, 4, 1), 500), ("6", datetime(2021, 5, 10), 200), ("6", datetime(2021, 6, 1), 250)]
    store.write("account_snapshots", [dict(platform="x", account_id=a, captured_at=t, followers=f, following=1)
                                      for a, t, f in snaps])


# direct SQL over the store, independent of envoywatch's analyses: posts of a state's registered accounts
CN_POSTS_SQL = """
SELECT count(*) FROM posts p
JOIN registry_accounts ra ON ra.platform = p.platform AND ra.account_id = p.account_id
JOIN registry_actors a ON a.actor_id = ra.actor_id
WHERE a.state = ? AND p.created_at >= ? AND p.created_at < ?
"""
