"""Report sections that read caches of the store (narrative assignments, tone scores, shared lines): how much
of the report's span a cache covers, and filling it where the store is writable. A read-only store (what
`envoywatch report` opens) is never written: the section gets a note naming the command that fills it.
"""

from __future__ import annotations

from typing import Callable

from envoywatch.outputs.report_sections import _cached
from envoywatch.store.db import table_exists


def writable(ctx) -> bool:
    return not getattr(ctx.store, "read_only", False)


def coverage(ctx, span, posts: Callable, cache: str, rows: Callable | None = None,
             label: str = "cache coverage") -> tuple[int, int]:
    """(posts of the group in the span that `posts` keeps, of them with no row in table `cache`, narrowed by
    `rows`). Without the table every post is uncovered."""
    from envoywatch.outputs import report_queries as Q

    p = posts(Q.filtered_posts(ctx.tables, ctx.f(span)))
    total = int(ctx.run(p.aggregate(n=p.count()), label)[0]["n"])
    if not table_exists(ctx.store.con, cache):
        return total, total
    s = ctx.store.ibis().table(cache)
    s = (rows(s) if rows else s).select("platform", "post_id")
    left = p.anti_join(s, ["platform", "post_id"])
    return total, int(ctx.run(left.aggregate(n=left.count()), label)[0]["n"])


def ensure_cache(ctx, key: str, counts: Callable, fill: Callable, none_note: str,
                 partial_note: Callable) -> tuple[bool, str | None]:
    """(usable, note), once per report: counts() -> (total, uncovered); a writable store with uncovered posts is
    filled (fill() -> note); a read-only one gets none_note when nothing is covered (unusable), else
    partial_note(left, total)."""
    def go():
        total, left = counts()
        if left and writable(ctx):
            return True, fill()
        if left == total and total:
            return False, none_note
        if left:
            return True, partial_note(left, total)
        return True, None
    return _cached(ctx, key, go)
