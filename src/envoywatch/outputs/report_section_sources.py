"""Report section: amplified sources (issue 5): the cross-state amplification matrix (this period and over time)
and the top amplified sources, classified by the registry (envoywatch.analysis.sources).

Discovered by name (report_section_*). docs/report.md ("Amplified sources") defines each figure.
"""

from __future__ import annotations

from envoywatch.outputs.report import Para, TableBlock, section
from envoywatch.outputs.report_section_narratives import history
from envoywatch.outputs.report_sections import n, who

MAX_CELLS_OVER_TIME = 8    # (from, to) pairs followed month by month
MAX_SOURCES = 15
MAX_ACCOUNTS = 15


def target_label(r) -> str:
    """'RU state_media', 'CN official', 'influence_operation' (no state), 'unregistered'."""
    return f"{r['to_state']} {r['to_kind']}" if r.get("to_state") else str(r["to_kind"])


@section("sources", "Amplified sources", order=74)
def sources(ctx):
    from envoywatch.analysis.sources import amplification_matrix, source_accounts, source_domains, top_sources

    out = [Para("Sources are the domains the group links to (the platform's expanded URL, normalized) and the accounts "
                "it reposts or quotes, classified by the registry: state media or official account of a state, "
                "influence-operation domain lists imported into the registry, else unregistered. Matrix cell = links, "
                "reposts and quotes by the group's accounts of one state (rows) to sources of one state and class "
                "(columns), with the cell's share of all that row's sources (unregistered included in the "
                "denominator).", "note")]
    cur = ctx.run(amplification_matrix(ctx.tables, ctx.f(), freq=None, by="state"), "sources matrix")
    if cur:
        rows_ = sorted({r["from_group"] or "(no state)" for r in cur})
        cols_ = {}
        for r in cur:
            cols_[target_label(r)] = cols_.get(target_label(r), 0) + r["items"]
        cols = sorted(cols_, key=lambda c: (-cols_[c], c))
        cell = {((r["from_group"] or "(no state)"), target_label(r)): r for r in cur}
        body = [[fg] + [f"{n(cell[(fg, c)]['items'])} ({cell[(fg, c)]['share']:.1%})" if (fg, c) in cell else "0"
                        for c in cols] for fg in rows_]
        out.append(TableBlock(["from (state of the amplifying accounts)"] + cols, body,
                              "Cross-state amplification matrix, this period: items (share of the row's sources)",
                              numeric=tuple(range(1, len(cols) + 1))))
    else:
        out.append(Para("No link, repost or quote of a registered source by the group in this period.", "note"))
    span = history(ctx)
    hist = ctx.run(amplification_matrix(ctx.tables, ctx.f(span), freq="month", by="state"), "sources matrix monthly")
    if hist:
        pair_tot = {}
        for r in hist:
            k = (r["from_group"] or "(no state)", target_label(r))
            pair_tot[k] = pair_tot.get(k, 0) + r["items"]
        pairs = sorted(pair_tot, key=lambda k: (-pair_tot[k], k))[:MAX_CELLS_OVER_TIME]
        months = sorted({r["period"] for r in hist})
        cell = {(r["period"], r["from_group"] or "(no state)", target_label(r)): r for r in hist}
        out.append(TableBlock(["month"] + [f"{a} \u2192 {b}" for a, b in pairs],
                              [[f"{m:%Y-%m}"] + [f"{n(cell[(m, a, b)]['items'])} ({cell[(m, a, b)]['share']:.0%})"
                                                 if (m, a, b) in cell else "0" for a, b in pairs] for m in months],
                              f"The matrix over time ({span.label}): the {len(pairs)} largest cells of the span, month by month: items "
                              "(share of the row's sources that month)", numeric=tuple(range(1, len(pairs) + 1))))
    doms = ctx.run(source_domains(ctx.tables, ctx.f()).limit(MAX_SOURCES), "source_domains")
    if doms:
        out.append(TableBlock(["domain", "class", "state", "outlet", "links", "posts", "accounts"],
                              [[r["domain"], r["source_kind"], r["source_state"] or "", r["outlet"] or "",
                                n(r["items"]),
                                n(r["posts"]), n(r["accounts"])] for r in doms],
                              f"Top {MAX_SOURCES} linked domains of this period", numeric=(4, 5, 6)))
    accs = ctx.run(source_accounts(ctx.tables, ctx.f()).limit(MAX_SOURCES), "source_accounts")
    if accs:
        out.append(TableBlock(["account", "relation", "class", "state", "registry name", "items", "accounts"],
                              [["@" + str(r["source_handle"] or r["source_account_id"]), r["relation"],
                                r["source_kind"],
                                r["source_state"] or "", r["outlet"] or "", n(r["items"]), n(r["accounts"])]
                               for r in accs],
                              f"Top {MAX_SOURCES} reposted / quoted accounts of this period", numeric=(5, 6)))
    top = ctx.run(top_sources(ctx.tables, ctx.f(), freq=None, n=3, registered_only=True), "top_sources")
    if top:
        per = {}
        for r in top:
            per.setdefault((r["platform"], r["account_id"]), []).append(r)
        ranked = sorted(per.values(), key=lambda rs: (-sum(x["items"] for x in rs), who(rs[0])))[:MAX_ACCOUNTS]
        out.append(TableBlock(["account", "rank", "source", "type", "class", "state", "items"],
                              [[who(r), str(r["rank"]), r["source"], r["source_type"], r["source_kind"],
                                r["source_state"] or "", n(r["items"])] for rs in ranked for r in rs],
                              f"Top 3 registered sources per account (the {len(ranked)} accounts amplifying registered "
                              "sources most)", numeric=(1, 6)))
    return out
