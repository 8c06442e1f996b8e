"""The analyses the report runs: those of the monitoring contract (docs/analysis/monitoring-contract.md).

The report calls the registered analyses by these names; where a contract module is not importable (a
partial installation), a local stand-in with the same signature and columns is used so that the report
still renders, and the methodology section lists the stand-ins. Every function returns an Ibis expression.
"""

from __future__ import annotations

import importlib

import ibis

from envoywatch.analysis.activity import activity_over_time, growth_by_account, growth_decomposition, kind_counts
from envoywatch.analysis.filters import Filters, filtered_posts, group_expr, window
from envoywatch.analysis.reach import engagement, followers_over_time, top_posts
from envoywatch.analysis.shares import top_entities

__all__ = ["Filters", "filtered_posts", "window", "kind_counts", "activity_over_time", "growth_by_account",
           "growth_decomposition", "engagement", "followers_over_time", "top_posts", "top_entities",
           "language_mix", "host_focus", "STAND_INS"]

STAND_INS: list[str] = []    # contract analyses replaced by a stand-in below (for the methodology)


def _contract(module: str, name: str):
    try:
        return getattr(importlib.import_module(f"envoywatch.analysis.{module}"), name)
    except (ImportError, AttributeError):
        STAND_INS.append(f"{module}.{name}")
        return None


# --- language and focus ------------------------------------------------------------------------------

def _language_mix(tables, f, by=None) -> ibis.Table:
    p = filtered_posts(tables, f)
    p = p.mutate(group=group_expr(p, by), language=p.lang.fill_null("und"))
    g = p.group_by(["group", "language"]).aggregate(posts=p.count())
    tot = g.posts.sum().over(group_by=g.group)
    return g.mutate(share=g.posts / tot).order_by(["group", ibis.desc("posts"), "language"])


language_mix = _contract("focus", "language_mix") or _language_mix
host_focus = _contract("focus", "host_focus")   # no stand-in: the section says it is not available
