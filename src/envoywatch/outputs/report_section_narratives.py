"""Report section: narratives (issue 5): share of posts per narrative over time, detected shifts, leaders, and
the uniform line vs tailored content of missions.

Discovered by name (report_section_*). The figures come from envoywatch.analysis.narratives (dynamics, lines)
over the cached assignments; when the cache lacks the report's posts, a writable store is filled here
(pattern assignment, text-identical shared lines), a read-only one gets a note naming the command.
docs/report.md ("Narratives") defines each figure.
"""

from __future__ import annotations

from datetime import timedelta

from envoywatch.errors import EnvoywatchError
from envoywatch.outputs.report import Chart, Para, Period, TableBlock, section
from envoywatch.outputs.report_caches import coverage, ensure_cache, writable
from envoywatch.outputs.report_sections import _cached, _cut, n, pct, points, totals, who
from envoywatch.store.db import table_exists

HISTORY_DAYS = 730         # the over-time chart: up to two years before the period's end
TOP_NARRATIVES = 6         # lines in the chart
MAX_SHIFTS = 20
MAX_LEADER_ROWS = 30
MAX_LINE_ROWS = 30
HOST_CATEGORIES = ("mission", "head_of_mission")


def history(ctx) -> Period:
    start = min(ctx.prev.start, ctx.period.end - timedelta(days=HISTORY_DAYS))
    return Period(start, ctx.period.end, f"{start:%Y-%m-%d} to {ctx.period.end - timedelta(seconds=1):%Y-%m-%d}")


def ensure_assignments(ctx, span: Period) -> tuple[bool, str | None]:
    """Make sure the group's posts of the span (with text) carry narratives. Returns (usable, note)."""
    def fill():
        from envoywatch.analysis.narratives.assign import assign_narratives

        r = assign_narratives(ctx.store, ("pattern",), f=ctx.f(span))
        return (f"Narratives were assigned for this report: {n(r['pattern']['scanned'])} posts of the group "
                "scanned by pattern (the store had not scanned them; the result is kept in the store).")
    return ensure_cache(
        ctx, "narrative assignments",
        lambda: coverage(ctx, span, lambda p: p.filter(p.text.notnull()), "post_narrative_scans",
                         label="narrative coverage"),
        fill,
        "No narrative assignment covers these posts, and the store is open read-only. Fill the cache with: "
        "envoywatch narratives assign (then build the report again).",
        lambda left, total: (f"{n(left)} of {n(total)} posts of the group in {span.label} are not scanned for "
                             "narratives (they count as posts without a narrative); run: envoywatch narratives assign."))


def _narrative_counts(ctx, period: Period) -> dict[str, int]:
    from envoywatch.analysis.narratives.dynamics import narrative_posts

    np_ = narrative_posts(ctx.tables, ctx.f(period))
    rows = ctx.run(np_.group_by("narrative").aggregate(n=np_.count()), "narrative counts")
    return {r["narrative"]: int(r["n"]) for r in rows}


@section("narratives", "Narratives", order=72)
def narratives(ctx):
    from envoywatch.analysis.narratives.dynamics import (SHIFT_ALPHA, SHIFT_BASELINE, SHIFT_MIN_CHANGE,
                                                         SHIFT_MIN_POSTS, narrative_leaders, narrative_share,
                                                         narrative_shifts)
    from envoywatch.outputs import report_charts as C

    span = history(ctx)
    try:
        ok, note = ensure_assignments(ctx, span)
    except EnvoywatchError as exc:
        return [Para(f"Narratives could not be assigned: {exc}", "warn")]
    out = [Para("A post carries a narrative when a keyword or pattern of that narrative in the registry "
                "(envoywatch narratives list) occurs in its text, or (method embedding, where it was run) when it is "
                "close to one of the narrative's examples; a post can carry several. Share = posts of the group with "
                "the narrative / all posts of the group in the period (every kind).", "note")]
    if note:
        out.append(Para(note, "warn" if not ok else "note"))
    if not ok or not table_exists(ctx.store.con, "post_narratives"):   # the shared lines do not depend on them
        if ok:
            out.append(Para("No narrative assignment in the store, and no post of the group in this span.", "note"))
        return out + _uniform_vs_tailored(ctx)
    cur, prev = _narrative_counts(ctx, ctx.period), _narrative_counts(ctx, ctx.prev)
    tc, tp = totals(ctx, ctx.period)["posts"], totals(ctx, ctx.prev)["posts"]
    names = sorted(set(cur) | set(prev), key=lambda k: (-cur.get(k, 0), -prev.get(k, 0), k))
    if names:
        out.append(TableBlock(["narrative", "posts", "share", "previous posts", "previous share", "change (points)"],
                              [[k, n(cur.get(k, 0)), pct(cur.get(k, 0), tc), n(prev.get(k, 0)), pct(prev.get(k, 0), tp),
                                points(cur.get(k, 0) / tc - prev.get(k, 0) / tp) if tc and tp else "n/a"]
                               for k in names],
                              f"Narratives in this period ({n(tc)} posts) and the previous one ({n(tp)} posts)",
                              numeric=(1, 2, 3, 4, 5)))
    else:
        out.append(Para("No post of the group in this period or the previous one carries a narrative.", "note"))
    share = ctx.run(narrative_share(ctx.tables, ctx.f(span), freq="month"), "narrative_share")
    if share:
        months = sorted({r["period"] for r in share})
        by = {(r["period"], r["narrative"]): r for r in share}
        tot = {}
        for r in share:
            tot[r["narrative"]] = tot.get(r["narrative"], 0) + r["n"]
        top = sorted(tot, key=lambda k: (-tot[k], k))[:TOP_NARRATIVES]
        labels = [f"{m:%Y-%m}" for m in months]
        series = [(k, [100 * by[(m, k)]["share"] if (m, k) in by else None for m in months]) for k in top]
        posts_m = {r["period"]: r["posts"] for r in share}
        out.append(Chart(C.line_chart(labels, series, "narrative share per month (%)"),
                         f"Share of the group's posts per month (%) for the {len(top)} narratives with the most posts "
                         f"from {span.label}.",
                         TableBlock(["month", "posts"] + [f"{k} (posts, share)" for k in top],
                                    [[lab, n(posts_m[m])] + [f"{n(by[(m, k)]['n'])} ({by[(m, k)]['share']:.1%})"
                                                             if (m, k) in by else "0" for k in top]
                                     for lab, m in zip(labels, months)], "Narrative share per month", numeric=(1,))))
    shifts = ctx.run(narrative_shifts(ctx.tables, ctx.f(span), freq="week").filter(lambda t: t.onset),
                     "narrative_shifts")
    shifts.sort(key=lambda r: (r["period"], r["narrative"]), reverse=True)
    crit = (f"Shift: a week whose share differs from the {SHIFT_BASELINE} weeks before it pooled (two-proportion "
            f"z-test, Bonferroni over every tested week and narrative of {span.label}: adjusted p < {SHIFT_ALPHA:g}, "
            f"change \u2265 {SHIFT_MIN_CHANGE * 100:g} points, \u2265 {SHIFT_MIN_POSTS} posts in the week and in the "
            "baseline); only onsets are listed (the first week of a run of significant weeks in one direction).")
    if shifts:
        out.append(TableBlock(["narrative", "week of", "direction", "baseline share", "share", "change (points)",
                               "adjusted p", "in this period"],
                              [[r["narrative"], f"{r['period']:%Y-%m-%d}", r["direction"], f"{r['baseline_share']:.1%}",
                                f"{r['share']:.1%}", points(r["change"]), f"{r['p_adjusted']:.2g}",
                                "yes" if ctx.period.start.date() <= r["period"] < ctx.period.end.date() else ""]
                               for r in shifts[:MAX_SHIFTS]],
                              "Detected shifts (latest first"
                              + (f", the {MAX_SHIFTS} latest of {len(shifts)})" if len(shifts) > MAX_SHIFTS else ")"),
                              numeric=(3, 4, 5, 6)))
        out.append(Para(crit, "note"))
    else:
        out.append(Para("No shift detected. " + crit, "note"))
    lead = ctx.run(narrative_leaders(ctx.tables, ctx.f(), freq="month", n=3), "narrative_leaders")
    lead.sort(key=lambda r: (-cur.get(r["narrative"], 0), r["narrative"], r["period"], r["rank"]))
    if lead:
        out.append(TableBlock(["narrative", "month", "rank", "account", "first post (UTC)", "hours after the first",
                               "posts"],
                              [[r["narrative"], f"{r['period']:%Y-%m}", str(r["rank"]), who(r),
                                f"{r['first_at']:%Y-%m-%d %H:%M}", f"{r['lag_hours']:.1f}", n(r["posts"])]
                               for r in lead[:MAX_LEADER_ROWS]],
                              "Leaders: the first three accounts of the group to post each narrative in each month of "
                              "this period", numeric=(2, 5, 6)))
    out += _uniform_vs_tailored(ctx)
    return out


def ensure_lines(ctx) -> str | None:
    """Compute the shared lines (text method) when the store has none and is writable; a note otherwise."""
    def go():
        con = ctx.store.con
        if table_exists(con, "narrative_lines") and con.execute("SELECT count(*) FROM narrative_lines").fetchall()[0][0]:
            return None
        if not writable(ctx):
            return ("The store has no shared lines yet and is open read-only: fill them with "
                    "envoywatch narratives lines (then build the report again).")
        from envoywatch.analysis.narratives.lines import find_shared_lines

        r = find_shared_lines(ctx.store)
        return (f"Shared lines were computed for this report (text-identical method over the registered accounts' "
                f"original posts: {n(r['lines'])} lines, kept in the store).")
    return _cached(ctx, "narrative lines", go)


def _uniform_vs_tailored(ctx) -> list:
    from envoywatch.analysis.narratives.lines import line_share, shared_lines
    from envoywatch.outputs import report_queries as Q

    out = [Para("Uniform line vs tailoring. A shared line is a message that at least 3 registered accounts posted "
                "near-identically within 3 days (text identical after folding case, links, mentions, '#' and "
                "punctuation; or translated, where the embedding method was run: envoywatch narratives lines). Per "
                "mission and head of mission: the share of its own posts (kind post or quote) in this period that "
                "belong to a shared line, next to the share that mentions its host country (the focus section).",
                "note")]
    try:
        note = ensure_lines(ctx)
    except EnvoywatchError as exc:
        return out + [Para(f"Shared lines could not be computed: {exc}", "warn")]
    if note:
        out.append(Para(note, "warn" if "read-only" in note else "note"))
        if "read-only" in note:
            return out
    f = ctx.f()
    ls = ctx.run(line_share(ctx.tables, f, by="account"), "line_share")
    hf = {}
    if Q.host_focus is not None:
        hf = {(r["platform"], r["account_id"]): r for r in ctx.run(Q.host_focus(ctx.tables, f), "host_focus")}
    missions = [r for r in ls if (r["platform"], r["account_id"]) in hf or r.get("host_country")]
    if missions:
        orig = sum(r["originals"] for r in missions)
        line = sum(r["line_posts"] for r in missions)
        missions.sort(key=lambda r: (-r["line_share"], -r["originals"], who(r)))
        body = []
        for r in missions:
            h = hf.get((r["platform"], r["account_id"]), {})
            body.append([who(r), r.get("host_country") or h.get("host_country") or "", n(r["originals"]),
                         n(r["line_posts"]), f"{r['line_share']:.1%}", f"{r['local_share']:.1%}",
                         f"{h['share']:.1%}" if h.get("share") is not None else "n/a"])
        shown = body if len(body) <= MAX_LINE_ROWS else body[:MAX_LINE_ROWS // 2] + body[-MAX_LINE_ROWS // 2:]
        out.append(TableBlock(["account", "host country", "own posts", "in a shared line", "shared-line share",
                               "local share", "mentions the host country"], shown,
                              f"Uniform line vs local content per mission / head of mission (all together: "
                              f"{pct(line, orig)} of {n(orig)} own posts in a shared line)"
                              + ("" if len(body) <= MAX_LINE_ROWS else
                                 f"; the {MAX_LINE_ROWS // 2} most and least uniform of {len(body)}"),
                              numeric=(2, 3, 4, 5, 6)))
    else:
        out.append(Para("No mission or head of mission of the group has own posts in this period.", "note"))
    lines = ctx.run(shared_lines(ctx.tables, f).limit(10), "shared_lines")
    if lines:
        out.append(TableBlock(["first posted (UTC)", "accounts", "posts", "languages", "span (hours)", "text"],
                              [[f"{r['first_at']:%Y-%m-%d %H:%M}", n(r["accounts"]), n(r["posts"]), r["languages"],
                                f"{r['span_hours']:.1f}", _cut(r["text"], 200)] for r in lines],
                              "The most widely posted shared lines of this period (by accounts)", numeric=(1, 2, 4)))
    return out

