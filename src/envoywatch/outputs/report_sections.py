"""The built-in sections of envoywatch report (registered in order; see report.py for the mechanism).

Each section runs analyses of the monitoring contract through ctx.run and returns blocks with raw values
formatted as strings; nothing here writes markup (the renderers escape everything). Results shared by
several sections are computed once and kept in ctx.cache (see _cached).
"""

from __future__ import annotations

from datetime import timedelta

import ibis

from envoywatch.outputs import report_charts as C
from envoywatch.outputs import report_queries as Q
from envoywatch.outputs.report import Chart, Figure, Figures, Para, Period, TableBlock, section


def n(v) -> str:
    return "n/a" if v is None else f"{int(v):,}"


def signed(v) -> str:
    if v is None:
        return "n/a"
    return "0" if int(v) == 0 else f"{int(v):+,}".replace("-", "\u2212")


def pct(part, whole) -> str:
    return "n/a" if not whole else f"{part / whole:.1%}"


def rel(cur, prev) -> str:
    if prev is None or cur is None:
        return "n/a"
    if prev == 0:
        return "new" if cur else "0"
    return f"{(cur - prev) / prev:+.1%}".replace("-", "\u2212")


def points(d: float) -> str:
    s = f"{d * 100:+.1f}"
    return "0.0" if s in ("+0.0", "-0.0") else s.replace("-", "\u2212")


def _cached(ctx, key, fn):
    if key not in ctx.cache:
        ctx.cache[key] = fn()
    return ctx.cache[key]


def who(row) -> str:
    return row.get("handle") or str(row.get("account_id"))


# --- shared results --------------------------------------------------------------------------------

def totals(ctx, period: Period) -> dict:
    """posts, originals, reposts, quotes, replies, accounts of the group in a period (one row)."""
    def go():
        p = Q.filtered_posts(ctx.tables, ctx.f(period))
        rows = ctx.run(p.aggregate(**Q.kind_counts(p)), "totals")
        return {k: int(v or 0) for k, v in rows[0].items()}
    return _cached(ctx, ("totals", period), go)


def decomposition(ctx) -> dict:
    def go():
        e = Q.growth_decomposition(ctx.tables, ctx.filters, ctx.prev.start, ctx.prev.end, ctx.period.start, ctx.period.end)
        return {k: int(v or 0) for k, v in ctx.run(e, "growth_decomposition")[0].items()}
    return _cached(ctx, "decomposition", go)


def by_account(ctx) -> list[dict]:
    def go():
        e = Q.growth_by_account(ctx.tables, ctx.filters, ctx.prev.start, ctx.prev.end, ctx.period.start, ctx.period.end)
        return ctx.run(e, "growth_by_account")
    return _cached(ctx, "by_account", go)


def followers(ctx) -> dict:
    """Per account: followers at the latest snapshot before the period's start and before its end."""
    def go():
        # a snapshot taken at a boundary instant (e.g. monthly captures at 00:00 on the 1st) is the state at
        # that instant: it counts for the end of one period and the start of the next
        s = Q.followers_over_time(ctx.tables, Q.window(ctx.filters, None, None))
        s = s.filter(s.captured_at <= ctx.period.end)
        before = s.captured_at <= ctx.period.start
        per = s.group_by(["platform", "account_id"]).aggregate(
            handle=s.handle.max(), f_end=s.followers.argmax(s.captured_at), t_end=s.captured_at.max(),
            f_start=s.followers.argmax(s.captured_at, where=before), t_start=s.captured_at.max(where=before))
        rows = ctx.run(per, "followers")
        start_from = ctx.period.end - timedelta(days=730)
        m = s.filter(s.captured_at >= start_from)
        m = m.mutate(month=m.captured_at.truncate("M").date())
        monthly = ctx.run(m.group_by(["platform", "account_id", "month"]).aggregate(
            followers=m.followers.argmax(m.captured_at)), "followers_monthly")
        return {"accounts": rows, "monthly": monthly}
    return _cached(ctx, "followers", go)


def entities(ctx, entity: str, top: int) -> list[dict]:
    return _cached(ctx, ("entities", entity), lambda: ctx.run(
        Q.top_entities(ctx.tables, ctx.f(), entity, n=top, previous=(ctx.prev.start, ctx.prev.end)), f"top {entity}"))


def engagement_rows(ctx, period: Period) -> list[dict]:
    return _cached(ctx, ("engagement", period), lambda: ctx.run(
        Q.engagement(ctx.tables, ctx.f(period), by="platform"), "engagement"))


# --- sections --------------------------------------------------------------------------------------

@section("headline", "Headline figures", order=10)
def headline(ctx):
    cur, prev = totals(ctx, ctx.period), totals(ctx, ctx.prev)
    d = decomposition(ctx)
    fl = followers(ctx)["accounts"]
    f_end = sum(r["f_end"] or 0 for r in fl)
    gain = sum((r["f_end"] or 0) - r["f_start"] for r in fl if r["f_start"] is not None)
    tags = entities(ctx, "hashtag", 15)
    doms = entities(ctx, "domain", 15)
    items = [
        Figure("posts", n(cur["posts"]), f"previous period {n(prev['posts'])} ({rel(cur['posts'], prev['posts'])})"),
        Figure("active accounts", n(cur["accounts"]), f"previous period {n(prev['accounts'])}"),
        Figure("change in posts", signed(d["change"]),
               f"active in both {signed(d['both_change'])}, new {signed(d['new_posts'])}, "
               f"gone quiet {signed(-d['gone_posts'])}"),
        Figure("new / gone-quiet accounts", f"{n(d['accounts_new'])} / {n(d['accounts_gone'])}",
               "active only in this period / only in the previous one"),
        Figure("originals", pct(cur["originals"], cur["posts"]),
               f"reposts {pct(cur['reposts'], cur['posts'])}, quotes {pct(cur['quotes'], cur['posts'])}, "
               f"replies {pct(cur['replies'], cur['posts'])}"),
        Figure("followers at the end of the period", n(f_end) if fl else "n/a",
               f"{signed(gain)} during the period ({n(len(fl))} accounts with snapshots)" if fl else "no snapshots"),
    ]
    if tags:
        items.append(Figure("top hashtag", "#" + str(tags[0]["entity"]), f"{n(tags[0]['count'])} uses"))
    if doms:
        items.append(Figure("top linked domain", str(doms[0]["entity"]), f"{n(doms[0]['count'])} links"))
    out = [Figures(items)]
    if cur["posts"] == 0:
        out.append(Para("No post of this group falls in this period: check the filters and the period "
                        "(the store's data may cover other dates).", "warn"))
    return out


def _freq(days: float) -> str:
    return "day" if days <= 62 else "week" if days <= 366 else "month"


@section("volume", "Volume and growth", order=20)
def volume(ctx):
    cur, prev = totals(ctx, ctx.period), totals(ctx, ctx.prev)
    span = Period(ctx.prev.start, ctx.period.end, "")
    freq = _freq(ctx.period.days)
    rows = ctx.run(Q.activity_over_time(ctx.tables, ctx.f(span), freq=freq), "activity_over_time")
    rows.sort(key=lambda r: r["period"])
    labels = [str(r["period"]) for r in rows]
    colors = [C.ACCENT if str(r["period"]) >= f"{ctx.period.start:%Y-%m-%d}" else C.PREV for r in rows]
    if rows:
        chart = C.bar_chart(labels, [r["posts"] for r in rows], f"posts per {freq}", colors,
                            legend=[("previous period", C.PREV), ("this period", C.ACCENT)])
        data = TableBlock([freq, "posts", "accounts"], [[lab, n(r["posts"]), n(r["accounts"])]
                                                        for lab, r in zip(labels, rows)], numeric=(1, 2))
        out = [Chart(chart, f"Posts per {freq} (UTC), previous period ({ctx.prev.label}) in grey, this period in "
                            "blue.", data)]
    else:
        out = [Para("No post of the group in either period.", "note")]
    kinds = [("all posts", "posts"), ("originals", "originals"), ("reposts", "reposts"), ("quotes", "quotes"),
             ("replies", "replies"), ("active accounts", "accounts")]
    out.append(TableBlock(["", f"previous ({ctx.prev.label}, {ctx.prev.days:g} days)",
                           f"this period ({ctx.period.label}, {ctx.period.days:g} days)", "change", "change %"],
                          [[lab, n(prev[k]), n(cur[k]), signed(cur[k] - prev[k]), rel(cur[k], prev[k])] for lab, k in kinds],
                          "Posts by kind", numeric=(1, 2, 3, 4)))
    d = decomposition(ctx)
    ok = d["change"] == d["both_change"] + d["new_posts"] - d["gone_posts"] and \
        d["change"] == d["posts_b"] - d["posts_a"]
    out.append(Chart(C.diverging_bars(["active in both periods", "new accounts", "gone-quiet accounts", "total change"],
                                      [d["both_change"], d["new_posts"], -d["gone_posts"], d["change"]],
                                      "growth decomposition"),
                     f"Where the change in posts ({n(d['posts_a'])} \u2192 {n(d['posts_b'])}) comes from: accounts "
                     "active in both periods, accounts active only in this period (new), accounts active only in the "
                     "previous period (gone quiet)."))
    out.append(TableBlock(["part", "accounts", "posts, previous", "posts, this period", "contribution to the change"], [
        ["active in both periods", n(d["accounts_both"]), n(d["posts_a"] - d["gone_posts"]),
         n(d["posts_b"] - d["new_posts"]), signed(d["both_change"])],
        ["new (active only in this period)", n(d["accounts_new"]), "0", n(d["new_posts"]), signed(d["new_posts"])],
        ["gone quiet (active only in the previous period)", n(d["accounts_gone"]), n(d["gone_posts"]), "0",
         signed(-d["gone_posts"])],
        ["total", n(d["accounts_both"] + d["accounts_new"] + d["accounts_gone"]), n(d["posts_a"]), n(d["posts_b"]),
         signed(d["change"])]], "Growth decomposition", numeric=(1, 2, 3, 4)))
    out.append(Para(f"Reconciliation: {signed(d['both_change'])} + {n(d['new_posts'])} \u2212 {n(d['gone_posts'])} "
                    f"= {signed(d['change'])} = {n(d['posts_b'])} \u2212 {n(d['posts_a'])}"
                    + ("" if ok else "  DOES NOT RECONCILE: report this as a bug."), "note" if ok else "warn"))
    acc = sorted(by_account(ctx), key=lambda r: (-abs(int(r["posts_b"]) - int(r["posts_a"])), who(r)))[:15]
    if acc:
        out.append(TableBlock(["account", "status", "previous", "this period", "change"],
                              [[who(r), r["status"], n(r["posts_a"]), n(r["posts_b"]), signed(r["posts_b"] - r["posts_a"])]
                               for r in acc], "Largest changes by account", numeric=(2, 3, 4)))
    hist = ctx.run(Q.activity_over_time(ctx.store, ctx.f(Period(ctx.period.end - timedelta(days=1096), ctx.period.end, "")),
                                        freq="month"), "activity_monthly")
    hist.sort(key=lambda r: r["period"])
    if len(hist) > 1:
        months = [f"{r['period']:%Y-%m}" for r in hist]
        first, last = f"{ctx.period.start:%Y-%m}", f"{ctx.period.end - timedelta(seconds=1):%Y-%m}"
        out.append(Chart(C.bar_chart(months, [r["posts"] for r in hist], "posts per month",
                                     [C.ACCENT if first <= m <= last else C.PREV for m in months]),
                         "Context: posts per month over up to three years before the period's end "
                         "(months of this period in blue).",
                         TableBlock(["month", "posts", "accounts"], [[m, n(r["posts"]), n(r["accounts"])]
                                                                     for m, r in zip(months, hist)], numeric=(1, 2))))
    return out


@section("accounts", "Top accounts", order=30)
def top_accounts(ctx):
    p = Q.filtered_posts(ctx.tables, ctx.f())
    e = (p.group_by(["platform", "account_id"])
         .aggregate(handle=p.handle.max(), name=ibis.coalesce(p.actor_name.max(), p.display_name.max()),
                    state=p.state.max(), category=p.category.max(), host=p.host_country.max(), **Q.kind_counts(p))
         .order_by([ibis.desc("posts"), "account_id"]).limit(20))
    rows = ctx.run(e, "top_accounts")
    if not rows:
        return [Para("No account of the group posted in this period.")]
    prev = {(r.get("platform"), r["account_id"]): r["posts_a"] for r in by_account(ctx)}
    prev.update({(None, r["account_id"]): r["posts_a"] for r in by_account(ctx)})
    body = []
    for r in rows:
        pa = prev.get((r["platform"], r["account_id"]), prev.get((None, r["account_id"]), 0))
        body.append([who(r), r["name"] or "", r["state"] or "", r["category"] or "", r["host"] or "", r["platform"],
                     n(r["posts"]), n(r["originals"]), n(r["reposts"]), n(r["quotes"]), n(r["replies"]), n(pa),
                     signed(r["posts"] - int(pa))])
    return [TableBlock(["account", "name (registry or profile)", "state", "category", "host", "platform", "posts",
                        "originals", "reposts", "quotes", "replies", "previous", "change"], body,
                       "The 20 accounts with the most posts in this period", numeric=tuple(range(6, 13)))]


@section("reach", "Reach and engagement", order=40)
def reach(ctx):
    out = []
    fl = followers(ctx)
    if fl["accounts"]:
        months = sorted({r["month"] for r in fl["monthly"]})
        last: dict = {}
        per = {}
        for r in fl["monthly"]:
            per.setdefault(r["month"], []).append(r)
        totals_m = []
        for m in months:
            for r in per[m]:
                last[(r["platform"], r["account_id"])] = r["followers"] or 0
            totals_m.append(sum(last.values()))
        labels = [f"{m:%Y-%m}" for m in months]
        out.append(Chart(C.line_chart(labels, [("followers (group total)", totals_m)], "followers over time"),
                         "Followers of the group's accounts: per month, the sum over accounts of each account's "
                         "latest snapshot so far (carried forward until the next one).",
                         TableBlock(["month", "followers"], [[lab, n(v)] for lab, v in zip(labels, totals_m)],
                                    numeric=(1,))))
        top = sorted(fl["accounts"], key=lambda r: (-(r["f_end"] or 0), who(r)))[:15]
        out.append(TableBlock(["account", "followers at the end", "captured", "at the start", "gain in period"],
                              [[who(r), n(r["f_end"]), f"{r['t_end']:%Y-%m-%d}",
                                n(r["f_start"]) if r["f_start"] is not None else "n/a",
                                signed(r["f_end"] - r["f_start"]) if r["f_start"] is not None and r["f_end"] is not None
                                else "n/a"] for r in top],
                              "Accounts with the most followers (latest snapshot at or before the period's end)",
                              numeric=(1, 3, 4)))
    else:
        out.append(Para("No follower snapshot of the group's accounts at or before the period's end.", "note"))
    cur, prev = engagement_rows(ctx, ctx.period), engagement_rows(ctx, ctx.prev)
    pv = {r["group"]: r for r in prev}
    rows = []
    for r in cur:
        p = pv.get(r["group"], {})
        rows.append([r["group"] or "all", n(r["posts"]), _f(r["median_likes"]), _f(p.get("median_likes")),
                     _f(r["median_reposts"]), _f(p.get("median_reposts")), _f(r["median_replies"]),
                     _f(r["median_quotes"]), _f(r.get("likes_per_follower"), 4)])
    if rows:
        out.append(TableBlock(["platform", "posts with metrics", "median likes", "previous", "median reposts",
                               "previous", "median replies", "median quotes", "likes per follower"], rows,
                              "Engagement per post (latest metrics snapshot of each post)", numeric=tuple(range(1, 9))))
    tp = ctx.run(Q.top_posts(ctx.tables, ctx.f(), n=10, metric="reposts"), "top_posts")
    if tp:
        out.append(TableBlock(["account", "posted (UTC)", "reposts", "likes", "replies", "quotes", "text", "link"],
                              [[who(r), f"{r['created_at']:%Y-%m-%d %H:%M}", n(r["reposts"]), n(r["likes"]),
                                n(r["replies"]), n(r["quotes"]), _cut(r.get("text")), r.get("url") or ""] for r in tp],
                              "Most reposted posts of this period", numeric=(2, 3, 4, 5)))
    return out


def _f(v, digits: int = 1) -> str:
    return "n/a" if v is None else f"{float(v):,.{digits}f}"


def _cut(s, k: int = 280) -> str:
    s = " ".join(str(s or "").split())
    return s if len(s) <= k else s[: k - 1] + "\u2026"


_ENTITIES = [("hashtag", "Hashtags", 15), ("domain", "Linked domains", 15), ("reposted_account", "Reposted accounts", 15),
             ("quoted_account", "Quoted accounts", 10), ("mention", "Mentioned accounts", 10), ("url", "Linked URLs", 10)]


@section("shares", "What they share", order=50)
def shares(ctx):
    out = [Para(f"Counts in this period, with the change against the previous period ({ctx.prev.label}). "
                "Trend: new (absent before), rising, falling or steady.", "note")]
    reg = {}
    for dom, state, kind, outlet in ctx.sql("SELECT domain, min(state), min(kind), min(outlet) FROM registry_domains "
                                            "GROUP BY domain", name="registry_domains"):
        reg[dom] = f"{kind} {state}" + (f" ({outlet})" if outlet else "")
    for entity, title, top in _ENTITIES:
        rows = entities(ctx, entity, top)
        if not rows:
            continue
        cols = [title.lower().split()[-1][:-1] if entity != "domain" else "domain", "count", "posts", "accounts",
                "previous", "change", "trend"]
        body = []
        for r in rows:
            ent = str(r["entity"])
            label = "#" + ent if entity == "hashtag" else "@" + ent if entity.endswith("account") or entity == "mention" \
                else ent
            row = [label, n(r["count"]), n(r["posts"]), n(r["accounts"]), n(r["prev_count"]), signed(r["change"]), r["trend"]]
            if entity == "domain":
                row.append(reg.get(ent, ""))
            body.append(row)
        if entity == "domain":
            cols.append("registry")
        out.append(TableBlock(cols, body, title, numeric=(1, 2, 3, 4, 5)))
    return out


@section("focus", "Language and host-country focus", order=60)
def focus(ctx):
    cur = ctx.run(Q.language_mix(ctx.tables, ctx.f()), "language_mix")
    prev = {r["language"]: r for r in ctx.run(Q.language_mix(ctx.tables, ctx.f(ctx.prev)), "language_mix")}
    cur.sort(key=lambda r: (-r["posts"], str(r["language"])))
    out = []
    if cur:
        top = cur[:12]
        out.append(Chart(C.hbar_chart([str(r["language"]) for r in top], [r["posts"] for r in top], "language mix",
                                      width=760, total=sum(r["posts"] for r in cur)),
                         "Share of posts by language (the platform's language tag; detected offline where absent)."))
        out.append(TableBlock(["language", "posts", "share", "previous share", "change (points)"],
                              [[str(r["language"]), n(r["posts"]), f"{r['share']:.1%}",
                                f"{prev[r['language']]['share']:.1%}" if r["language"] in prev else "n/a",
                                points(r["share"] - prev.get(r["language"], {}).get("share", 0))]
                               for r in cur], "Language mix", numeric=(1, 2, 3, 4)))
    if Q.host_focus is None:
        out.append(Para("Host-country focus: the analysis (envoywatch.analysis.focus.host_focus) is not available "
                        "in this installation.", "note"))
        return out
    hf = ctx.run(Q.host_focus(ctx.tables, ctx.f()), "host_focus")
    hf = [r for r in hf if r.get("posts")]
    if not hf:
        out.append(Para("Host-country focus: no mission or head of mission of the group posted in this period.", "note"))
        return out
    shares_ = sorted(float(r["share"] or 0) for r in hf)
    bands = [sum(s < 0.10 for s in shares_), sum(0.10 <= s < 0.30 for s in shares_), sum(s >= 0.30 for s in shares_)]
    med = shares_[len(shares_) // 2] if len(shares_) % 2 else (shares_[len(shares_) // 2 - 1] + shares_[len(shares_) // 2]) / 2
    out.append(Figures([Figure("missions and heads of mission", n(len(hf)), "with posts in this period"),
                        Figure("median share mentioning the host country", f"{med:.1%}"),
                        Figure("uniform line (< 10%)", n(bands[0]), "accounts that rarely address their host country"),
                        Figure("mixed (10-30%)", n(bands[1])),
                        Figure("tailored (\u2265 30%)", n(bands[2]), "accounts that address their host country often")]))
    hf.sort(key=lambda r: (-float(r["share"] or 0), -int(r["posts"]), who(r)))
    body = [[who(r), r.get("host_country") or "", n(r["posts"]), n(r["posts_mentioning_host"]),
             f"{float(r['share'] or 0):.1%}"] for r in hf]
    shown = body if len(body) <= 30 else body[:15] + body[-15:]
    out.append(TableBlock(["account", "host country", "posts", "mentioning the host country", "share"], shown,
                          "Host-country focus per mission / head of mission" +
                          ("" if len(body) <= 30 else " (the 15 most and the 15 least focused)"), numeric=(2, 3, 4)))
    return out
