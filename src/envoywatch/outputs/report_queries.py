"""The analyses the report runs: those of the monitoring contract (docs/analysis/monitoring-contract.md).

The report calls the registered analyses by these names. Every function returns an Ibis expression.
"""

from __future__ import annotations

from envoywatch.analysis.activity import activity_over_time, growth_by_account, growth_decomposition, kind_counts
from envoywatch.analysis.filters import Filters, filtered_posts, window
from envoywatch.analysis.focus import host_focus, language_mix
from envoywatch.analysis.reach import engagement, followers_over_time, top_posts
from envoywatch.analysis.shares import top_entities

__all__ = ["Filters", "filtered_posts", "window", "kind_counts", "activity_over_time", "growth_by_account",
           "growth_decomposition", "engagement", "followers_over_time", "top_posts", "top_entities",
           "language_mix", "host_focus"]
