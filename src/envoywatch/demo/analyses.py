"""The cached analyses that `envoywatch demo` runs before writing its report: pattern narrative assignment,
shared lines (text-identical) and tone scores. Each one fills a cache table of the store, the same way the
commands `envoywatch narratives assign`, `envoywatch narratives lines` and `envoywatch tone store` do, so that
the report's narratives, uniform-line and tone sections have data. Re-running does only what is missing.

    from envoywatch.demo.analyses import run_demo_analyses
    run_demo_analyses(store, progress=lambda what, frac: print(what, frac))
"""

from __future__ import annotations

import time
from typing import Callable


def run_demo_analyses(store, progress: Callable[[str, float], None] | None = None) -> dict:
    """Run the three steps; returns {step: {"seconds": s, ...counts}}."""
    from envoywatch.analysis.narratives.assign import assign_narratives
    from envoywatch.analysis.narratives.lines import find_shared_lines
    from envoywatch.analysis.tone.scores import score_store

    step = progress or (lambda what, frac: None)
    out: dict = {}
    t0 = time.perf_counter()
    step("narratives (pattern)", 0.0)
    r = assign_narratives(store, ("pattern",),
                          progress=lambda method, done, total: step("narratives (pattern)", done / max(total, 1)))
    out["narratives"] = {"seconds": time.perf_counter() - t0, **r["pattern"]}

    t0 = time.perf_counter()
    step("shared lines", 0.0)
    has = store.con.execute("SELECT count(*) FROM narrative_lines").fetchall()[0][0]
    if has:
        out["lines"] = {"seconds": time.perf_counter() - t0, "lines": None, "skipped": "already in the store"}
    else:
        out["lines"] = {**find_shared_lines(store), "seconds": time.perf_counter() - t0}
    step("shared lines", 1.0)

    t0 = time.perf_counter()
    step("tone scores", 0.0)
    total = store.con.execute("SELECT count(*) FROM posts WHERE text IS NOT NULL AND length(trim(text)) > 0"
                              ).fetchall()[0][0]
    r = score_store(store, progress=lambda done: step("tone scores", done / max(total, 1)))
    out["tone"] = {"seconds": time.perf_counter() - t0, **r}
    step("tone scores", 1.0)
    return out
