"""Report section: coordination (issue 4): coordinated groups around the report's accounts, who is in them,
what they shared, whom they amplify, the amplification share of the registered accounts, and a drawing.

Discovered by name (report_section_*). Everything is computed by the coordination engine and the
inauthenticity / amplification analyses; this module only picks, caps and formats (docs/report.md,
"Coordination", defines each figure).
"""

from __future__ import annotations

from datetime import timedelta

import ibis

from envoywatch.errors import EnvoywatchError
from envoywatch.outputs.report import Chart, Figure, Figures, Para, Period, TableBlock, section
from envoywatch.outputs.report_sections import _cached, _cut, n, pct

LOOKBACK_DAYS = 182        # the network needs repeated co-actions: at least this many days up to the period's end
NETWORK_TYPES = ("co-repost", "co-link")
WINDOW_S = 60
MAX_GROUPS = 10            # groups shown (largest first)
MAX_MEMBERS = 25           # members listed per group
MAX_NODES = 200            # nodes in the drawing
MAX_EDGES = 800            # strongest edges in the drawing
MAX_EDGE_ROWS = 30         # edges listed under the drawing (and in Markdown)
MAX_ACCOUNTS = 20          # registered accounts in the amplification-share table


def _window(ctx) -> Period:
    end = ctx.period.end
    start = min(ctx.period.start, end - timedelta(days=LOOKBACK_DAYS))
    return Period(start, end, f"{start:%Y-%m-%d} to {end - timedelta(seconds=1):%Y-%m-%d}")


def compute_groups(ctx, win: Period) -> dict:
    """Groups of each network type over the window: {"groups": [...], "membership": {account: label},
    "edges": [(a, b, weight, label)]}; group labels are 'R1', 'R2' (co-repost), 'L1' (co-link)..."""
    from envoywatch.analysis.coordination import NetworkParams
    from envoywatch.analysis.coordination.groups import GroupParams, find_groups, describe_groups, thresholded_edges
    from envoywatch.analysis.coordination.inputs import from_store
    from envoywatch.analysis.coordination.network import compute_network

    gp = GroupParams()
    table = "_ew_report_coord_msgs"
    con = ctx.store.con
    out = {"groups": [], "membership": {}, "edges": [], "params": gp}
    try:
        from_store(ctx.store, table, since=win.start, until=win.end)
        for ntype in NETWORK_TYPES:
            net = compute_network(con, table, NetworkParams(type=ntype, window=WINDOW_S, min_weight=gp.min_weight),
                                  keep=True)
            try:
                edges = thresholded_edges(net, gp)
                summaries, membership = find_groups(edges, gp)
                summaries = describe_groups(net, summaries, membership)
            finally:
                net.drop()
            prefix = "R" if ntype == "co-repost" else "L"
            for s in summaries:
                s["label"], s["network"] = f"{prefix}{s['group']}", ntype
                out["groups"].append(s)
            for acc, gi in membership.items():
                out["membership"].setdefault(acc, f"{prefix}{gi}")
            for r in edges.to_pylist():
                ga, gb = membership.get(r["source"]), membership.get(r["target"])
                if ga is not None and ga == gb:
                    out["edges"].append((r["source"], r["target"], float(r["weight"]), f"{prefix}{ga}"))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return out


def _relevance(ctx, win: Period, membership: dict) -> tuple[dict, bool]:
    """Per group label: member posts in the window that repost / quote / reply to an account of the report's
    group; and whether the report has a group filter at all (without one every group is relevant)."""
    import pyarrow as pa

    f = ctx.f(win)
    filtered = any(getattr(f, k) for k in ("states", "categories", "platforms", "accounts", "host_countries",
                                           "kinds", "languages")) or f.registered_only
    from envoywatch.outputs import report_queries as Q

    grp_acc = Q.filtered_posts(ctx.tables, f).select(g_platform="platform", g_account_id="account_id").distinct().view()
    p = ctx.tables.table("posts")
    p = p.filter((p.created_at >= win.start) & (p.created_at < win.end) & p.kind.isin(("repost", "quote", "reply"))
                 & p.ref_post_id.notnull())
    o = ctx.tables.table("posts").view().select(o_platform="platform", o_post_id="post_id", o_author="account_id")
    j = p.left_join(o, (p.platform == o.o_platform) & (p.ref_post_id == o.o_post_id))
    j = j.select("platform", "account_id", target=ibis.coalesce(j.ref_account_id, j.o_author))
    mem = ibis.memtable(pa.table({"m_account_id": pa.array(list(membership), pa.string()),
                                  "label": pa.array(list(membership.values()), pa.string())}))
    j = j.join(mem, j.account_id == mem.m_account_id).view()
    j = j.join(grp_acc, (j.platform == grp_acc.g_platform) & (j.target == grp_acc.g_account_id))
    j = j.filter(j.account_id != j.target)
    rows = ctx.run(j.group_by("label").aggregate(n=j.count()), "coordination relevance") if membership else []
    return {r["label"]: int(r["n"]) for r in rows}, filtered


def _fmt_time(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, (int, float)):
        from datetime import datetime, timezone

        v = datetime.fromtimestamp(float(v), timezone.utc).replace(tzinfo=None)
    return f"{v:%Y-%m-%d %H:%M}"


@section("coordination", "Coordination", order=70)
def coordination(ctx):
    win = _window(ctx)
    try:
        res = _cached(ctx, "coordination", lambda: compute_groups(ctx, win))
    except EnvoywatchError as exc:
        return [Para(f"Coordination could not be computed: {exc}", "warn")]
    gp = res["params"]
    out = [Para(
        f"Coordination networks over {win.label} (the period, extended to at least {LOOKBACK_DAYS} days before its "
        "end, because coordination shows in repeated co-actions). Two accounts are linked when both reposted the same "
        f"original (co-repost) or posted the same normalized link (co-link) within {WINDOW_S} seconds of each other; "
        f"the edge weight is the number of distinct shared items. Groups: connected components of the edges with "
        f"weight \u2265 {gp.min_weight} and overlap \u2265 {gp.min_overlap:g} (the weight over the shared-item count "
        f"of the less active account), {gp.min_size} accounts or more. Engine: envoywatch.analysis.coordination "
        "(every account of the store, not only the report's group, takes part)."
        , "note")]
    groups, membership = res["groups"], res["membership"]
    rel, filtered = _relevance(ctx, win, membership)
    in_group = set()
    if filtered and membership:
        from envoywatch.outputs import report_queries as Q

        ids = {r["account_id"] for r in ctx.run(Q.filtered_posts(ctx.tables, ctx.f(win)).select("account_id")
                                                 .distinct(), "coordination group accounts")}
        in_group = {membership[a] for a in ids if a in membership}
    shown = [g for g in groups if not filtered or rel.get(g["label"]) or g["label"] in in_group]
    shown.sort(key=lambda g: (-g["size"], g["label"]))
    total = len(shown)
    shown = shown[:MAX_GROUPS]
    out.append(Figures([
        Figure("coordinated groups", n(total), f"{n(len(groups))} in the whole store over the window"
               + ("; shown: those that amplify the report's accounts or include one" if filtered else "")),
        Figure("accounts in them", n(sum(g["size"] for g in shown)),
               "in the groups shown" + (f" (the {MAX_GROUPS} largest)" if total > MAX_GROUPS else "")),
    ]))
    if not shown:
        out.append(Para("No coordinated group in this window" + (" amplifies or includes the report's accounts."
                                                                  if filtered else "."), "note"))
    else:
        out += _groups_blocks(ctx, shown, membership, rel, total)
    out += _amplification_blocks(ctx, win, membership)
    return out


def _groups_blocks(ctx, shown: list[dict], membership: dict, rel: dict, total: int) -> list:
    from envoywatch.analysis.group_profile import enrich_groups
    from envoywatch.analysis.inauthenticity import DEFAULT_THRESHOLD, node_attributes

    out = []
    labels = [g["label"] for g in shown]
    sub = {a: lab for a, lab in membership.items() if lab in labels}
    num = {lab: i for i, lab in enumerate(labels, start=1)}
    prof = enrich_groups(ctx.tables, [dict(group=num[g["label"]]) for g in shown],
                         {a: num[lab] for a, lab in sub.items()})
    prof = {p["group"]: p for p in prof}
    handles = dict(ctx.sql("SELECT account_id, any_value(handle) FROM accounts GROUP BY 1", name="handles")) \
        if len(sub) > 5000 else dict(ctx.sql(
            f"SELECT account_id, any_value(handle) FROM accounts WHERE account_id IN ({', '.join('?' for _ in sub)}) "
            "GROUP BY 1", list(sub), name="handles")) if sub else {}
    attrs = node_attributes(ctx.tables, list(sub)) if sub else {}
    rows = []
    for g in shown:
        p = prof.get(num[g["label"]], {})
        amp = "; ".join(f"@{a['handle'] or a['account_id']} {n(a['member_posts'])} ({a['share_of_group_posts']:.0%})"
                        for a in p.get("amplified", []))
        doms = ", ".join(f"{d['domain']} {n(d['posts'])}" for d in p.get("top_domains", []))
        content = " | ".join(f"@{c['author'] or '?'}: {_cut(c['text'] or c['post_id'], 80)} ({n(c['member_posts'])})"
                             for c in p.get("top_content", [])[:3])
        rows.append([f"group {num[g['label']]}", g["network"], n(g["size"]), f"{g['density']:.2f}", n(g.get("items")),
                     f"{_fmt_time(g.get('active_from'))} to {_fmt_time(g.get('active_to'))}", n(p.get("posts")),
                     n(rel.get(g["label"], 0)), amp, doms, content])
    out.append(TableBlock(
        ["group", "network", "members", "density", "shared items", "active (co-actions)", "member posts (all time)",
         "amplifications of the report's accounts", "registered state accounts amplified (member posts, share)",
         "top domains (posts)", "top content (member posts)"], rows,
        f"Coordinated groups (largest first; {len(shown)} of {total} shown)", numeric=(2, 3, 4, 6, 7)))
    mrows = []
    for g in shown:
        mem = sorted((a for a, lab in sub.items() if lab == g["label"]),
                     key=lambda a: (-(attrs.get(a, {}).get("score") or 0), handles.get(a) or a))
        for a in mem[:MAX_MEMBERS]:
            at = attrs.get(a, {})
            mrows.append([f"group {num[g['label']]}", handles.get(a) or a, f"{at.get('score', 0) or 0:g}",
                          "yes" if at.get("flagged") else "no", (at.get("signals_fired") or "").replace(" ", ", ")])
        if len(mem) > MAX_MEMBERS:
            mrows.append([f"group {num[g['label']]}", f"\u2026 and {len(mem) - MAX_MEMBERS} more", "", "", ""])
    out.append(TableBlock(["group", "account", "inauthenticity score", "flagged", "signals fired"], mrows,
                          f"Members (highest score first; at most {MAX_MEMBERS} per group). Flagged: score \u2265 "
                          f"{DEFAULT_THRESHOLD:g} and not in the registry.", numeric=(2,)))
    out.append(_drawing(ctx, shown, num, sub, handles, attrs))
    return out


def _drawing(ctx, shown, num, sub, handles, attrs) -> Chart:
    from envoywatch.outputs.network_svg import network_svg

    edges = [e for e in _cached(ctx, "coordination", lambda: None)["edges"] if e[3] in num]
    nodes_all = sorted(sub, key=lambda a: (num[sub[a]], a))
    nodes = set(nodes_all[:MAX_NODES])
    edges = sorted([e for e in edges if e[0] in nodes and e[1] in nodes], key=lambda e: (-e[2], e[0], e[1]))
    per_group = max(1, MAX_EDGES // max(len(num), 1))    # the strongest edges of each group, so that every group shows
    drawn, kept = [], {}
    for e in edges:
        if kept.get(e[3], 0) < per_group:
            kept[e[3]] = kept.get(e[3], 0) + 1
            drawn.append(e)
    cut_edges = len(drawn) < len(edges)
    spec = {a: {"label": handles.get(a) or a, "group": num[sub[a]], "flagged": bool(attrs.get(a, {}).get("flagged"))}
            for a in nodes}
    svg = network_svg(spec, [(a, b, w) for a, b, w, _ in drawn], "coordination network",
                      layout_edges=[(a, b, w) for a, b, w, _ in edges])
    caps = []
    if len(nodes_all) > MAX_NODES:
        caps.append(f"the first {MAX_NODES} of {len(nodes_all)} accounts")
    if cut_edges:
        caps.append(f"the {per_group} strongest edges of each group ({len(drawn)} of {len(edges)})")
    data = TableBlock(["account", "account", "weight (shared items)", "group"],
                      [[handles.get(a) or a, handles.get(b) or b, n(w), f"group {num[lab]}"]
                       for a, b, w, lab in edges[:MAX_EDGE_ROWS]],
                      "Strongest edges" + (f" ({MAX_EDGE_ROWS} of {len(edges)})" if len(edges) > MAX_EDGE_ROWS else ""),
                      numeric=(2,))
    return Chart(svg, "The groups above as a network: one dot per account, coloured by group (dark outline: flagged); "
                      "lines are edges that pass the thresholds, darker and thicker with weight. Each group in "
                      "its own box; layout: Fruchterman-Reingold with a fixed seed (the same data gives the same picture)."
                 + (f" Drawn: {', '.join(caps)}." if caps else ""), data)


def _amplification_blocks(ctx, win: Period, membership: dict) -> list:
    from envoywatch.analysis.amplification import amplification_share
    from envoywatch.analysis.inauthenticity import DEFAULT_THRESHOLD
    from envoywatch.outputs import report_charts as C
    from envoywatch.outputs import report_queries as Q

    out = []
    a = amplification_share(ctx.tables, freq="month", coordinated=list(membership))
    a = a.filter((a.kind == "all") & (a.period >= win.start.date()) & (a.period < win.end.date()))
    grp = {(r["platform"], r["account_id"]) for r in ctx.run(
        Q.filtered_posts(ctx.tables, ctx.f(win)).select("platform", "account_id").distinct(), "group accounts")}
    rows = [r for r in ctx.run(a, "amplification_share") if (r["platform"], r["state_account_id"]) in grp]
    if not rows:
        return [Para("Amplification share: no repost, quote or reply of a registered account of the report's group in "
                     "the window.", "note")]
    cur_start = ctx.period.start.date()
    per_acc: dict = {}
    monthly: dict = {}
    for r in rows:
        m = monthly.setdefault(r["period"], [0, 0, 0, 0])
        m[0] += r["amplifications"]
        m[1] += r["from_flagged"]
        m[2] += r["from_coordinated"]
        m[3] += r["from_either"]
        if r["period"] >= cur_start:
            s = per_acc.setdefault(r["state_handle"] or r["state_account_id"], [0, 0, 0, 0])
            s[0] += r["amplifications"]
            s[1] += r["from_flagged"]
            s[2] += r["from_coordinated"]
            s[3] += r["from_either"]
    months = sorted(monthly)
    labels = [f"{m:%Y-%m}" for m in months]
    out.append(Chart(C.line_chart(labels, [("from flagged or coordinated accounts (%)",
                                            [100 * monthly[m][3] / monthly[m][0] for m in months])],
                                  "amplification share per month"),
                     "Amplification share of the group's registered accounts per month: of all reposts, quotes and "
                     "replies of their posts by other accounts, the percentage that comes from flagged accounts "
                     f"(inauthenticity score \u2265 {DEFAULT_THRESHOLD:g}) or members of the coordinated groups above "
                     "(all groups of the window, not only those shown).",
                     TableBlock(["month", "amplifications", "from flagged", "from coordinated", "from either", "share"],
                                [[lab, n(monthly[m][0]), n(monthly[m][1]), n(monthly[m][2]), n(monthly[m][3]),
                                  pct(monthly[m][3], monthly[m][0])] for lab, m in zip(labels, months)],
                                "Amplification share per month", numeric=(1, 2, 3, 4, 5))))
    top = sorted(per_acc.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
    if top:
        out.append(TableBlock(
            ["registered account", "amplifications", "from flagged", "share", "from coordinated", "share",
             "from either", "share"],
            [[str(k), n(v[0]), n(v[1]), pct(v[1], v[0]), n(v[2]), pct(v[2], v[0]), n(v[3]), pct(v[3], v[0])]
             for k, v in top[:MAX_ACCOUNTS]],
            f"Amplification share in this period per registered account of the group (the {MAX_ACCOUNTS} most "
            f"amplified of {len(top)})", numeric=tuple(range(1, 8))))
    return out
