"""Narratives: a versioned registry of narratives (package data + the users' own), their assignment to posts
(patterns and multilingual semantic similarity, cached in the store), discovery of new topics, dynamics (share
over time, shift detection, leaders and followers) and the uniform line vs tailored content.

Library API (the CLI `envoywatch narratives ...` calls exactly these):

    all_narratives(store) / add_narratives(store, path) / package_narratives()
    assign_narratives(store, methods=("pattern", "embedding"), f=Filters(...))
    discover_topics(store, f, ...) -> [Cluster]; promote(cluster, name) -> Narrative
    find_shared_lines(store, f, days=3, method="text"|"embedding"|"both")
    analyses (Ibis, registered by name): narratives.posts, narratives.share, narratives.shifts,
    narratives.leaders, narratives.followers, narratives.lines, narratives.line_share

See docs/analysis/narratives.md.
"""

from envoywatch.analysis.narratives.assign import METHODS, assign_narratives, match_text
from envoywatch.analysis.narratives.definitions import (LANGUAGES, Narrative, NarrativeError, add_narratives,
                                                        all_narratives, load_file, package_narratives,
                                                        remove_narrative, to_yaml)
from envoywatch.analysis.narratives.discover import Cluster, discover_topics, promote
from envoywatch.analysis.narratives.dynamics import (narrative_followers, narrative_leaders, narrative_posts,
                                                     narrative_share, narrative_shifts)
from envoywatch.analysis.narratives.lines import find_shared_lines, line_share, normalize_text, shared_lines

__all__ = [
    "LANGUAGES", "METHODS", "Cluster", "Narrative", "NarrativeError", "add_narratives", "all_narratives",
    "assign_narratives", "discover_topics", "find_shared_lines", "line_share", "load_file", "match_text",
    "narrative_followers", "narrative_leaders", "narrative_posts", "narrative_share", "narrative_shifts",
    "normalize_text", "package_narratives", "promote", "remove_narrative", "shared_lines", "to_yaml",
]
