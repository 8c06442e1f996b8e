"""Report section: tone over time (issue 5): the share of the group's posts that the tone model labels
propagandistic / confrontational, per month, overall and by state and category (envoywatch.analysis.tone).

Discovered by name (report_section_*). Scores are a cache (tone_scores); a writable store is scored here
where posts of the report's span lack a score, a read-only one gets a note naming the command.
docs/report.md ("Tone") defines each figure.
"""

from __future__ import annotations

from envoywatch.errors import EnvoywatchError
from envoywatch.outputs.report import Chart, Para, TableBlock, section
from envoywatch.outputs.report_caches import coverage, ensure_cache
from envoywatch.outputs.report_section_narratives import history
from envoywatch.outputs.report_sections import n, pct, points
from envoywatch.store.db import table_exists

MAX_GROUPS = 12


def ensure_scores(ctx, span, version: str) -> tuple[bool, str | None]:
    """Make sure the group's posts of the span (with text) carry a score of this model. Returns (usable, note)."""
    def fill():
        from envoywatch.analysis.tone.scores import score_store

        r = score_store(ctx.store, since=span.start)
        return (f"Tone scores were computed for this report ({n(r['scored'])} posts since "
                f"{span.start:%Y-%m-%d}, kept in the store).")
    return ensure_cache(
        ctx, "tone scores",
        lambda: coverage(ctx, span, lambda p: p.filter(p.text.notnull() & (p.text.strip().length() > 0)),
                         "tone_scores", lambda s: s.filter(s.model_version == version), label="tone coverage"),
        fill,
        "No tone score of this model covers these posts, and the store is open read-only. Fill the cache with: "
        "envoywatch tone store (then build the report again).",
        lambda left, total: (f"{n(left)} of {n(total)} posts of the group in {span.label} have no tone score of "
                             "this model and are left out; run: envoywatch tone store."))


@section("tone", "Tone", order=76)
def tone(ctx):
    from envoywatch.analysis.tone.model import default_model
    from envoywatch.analysis.tone.scores import tone_share
    from envoywatch.outputs import report_charts as C

    try:
        version = default_model().version
    except EnvoywatchError as exc:
        return [Para(f"Tone: the model could not be loaded: {exc}", "warn")]
    span = history(ctx)
    out = [Para(f"Tone model: {version} (TF-IDF word and character n-grams with logistic regression, trained on the "
                "DIPROMATS diplomats' tweets; its quality and limits: docs/analysis/tone.md). A post is labelled "
                "propagandistic when the model's score reaches its threshold. Share = labelled posts / scored posts of "
                "the group (posts with text) in the month; every kind of post counts (a repost carries its original's "
                "text).", "note")]
    try:
        ok, note = ensure_scores(ctx, span, version)
    except EnvoywatchError as exc:
        return out + [Para(f"Tone scores could not be computed: {exc}", "warn")]
    if note:
        out.append(Para(note, "note" if ok else "warn"))
    if not ok:
        return out
    if not table_exists(ctx.store.con, "tone_scores"):
        return out + [Para("No tone score in the store, and no post of the group to score in this span.", "note")]
    rows = ctx.run(tone_share(ctx.tables, ctx.f(span), freq="month", model_version=version), "tone_share")
    if not rows:
        out.append(Para("No scored post of the group in this span.", "note"))
        return out
    rows.sort(key=lambda r: r["period"])
    labels = [f"{r['period']:%Y-%m}" for r in rows]
    out.append(Chart(C.line_chart(labels, [("propagandistic posts (%)", [100 * r["share"] for r in rows])],
                                  "share of propagandistic posts per month"),
                     f"Share of the group's scored posts labelled propagandistic, per month, {span.label}.",
                     TableBlock(["month", "posts scored", "propagandistic", "share", "mean score"],
                                [[lab, n(r["posts_scored"]), n(r["propaganda_posts"]), f"{r['share']:.1%}",
                                  f"{r['mean_score']:.3f}"] for lab, r in zip(labels, rows)],
                                "Propagandistic share per month", numeric=(1, 2, 3, 4))))
    for by, title in (("state", "state"), ("category", "category")):
        cur = _by_group(ctx, by, ctx.f(), version)
        prev = {k: v for k, v in _by_group(ctx, by, ctx.f(ctx.prev), version).items()}
        if not cur:
            continue
        keys = sorted(cur, key=lambda k: (-cur[k][0], str(k)))[:MAX_GROUPS]
        out.append(TableBlock([title, "posts scored", "propagandistic", "share", "previous share", "change (points)"],
                              [[k or "(none)", n(cur[k][0]), n(cur[k][1]), pct(cur[k][1], cur[k][0]),
                                pct(prev[k][1], prev[k][0]) if k in prev else "n/a",
                                points(cur[k][1] / cur[k][0] - prev[k][1] / prev[k][0])
                                if k in prev and cur[k][0] and prev[k][0] else "n/a"] for k in keys],
                              f"Propagandistic share in this period by {title} (registry; none = unregistered "
                              "accounts)",
                              numeric=(1, 2, 3, 4, 5)))
    return out


def _by_group(ctx, by: str, f, version: str) -> dict:
    from envoywatch.analysis.tone.scores import tone_share

    t = tone_share(ctx.tables, f, freq="month", by=by, model_version=version)
    agg = t.group_by("group").aggregate(scored=t.posts_scored.sum(), prop=t.propaganda_posts.sum())
    return {r["group"]: (int(r["scored"]), int(r["prop"])) for r in ctx.run(agg, f"tone by {by}")}
