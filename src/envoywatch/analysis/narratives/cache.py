"""Cache tables of the narrative analyses, created by this package (not in schema.TABLES yet: see the issue note).

- post_narratives(platform, post_id, narrative, method, score, evidence): one row per post, narrative and
  method ('pattern' | 'embedding'); score 1.0 for a pattern hit, the cosine similarity for an embedding hit;
  evidence: the matched phrase, or the closest example.
- post_narrative_scans(platform, post_id, method, defs_hash): posts already scanned with a method and the
  definitions of that hash, so that `assign_narratives` only looks at new posts (or all after a change).
- narrative_lines(platform, post_id, line_id, method, accounts): posts that belong to a shared line
  (near-identical or translated-identical messages of several accounts within days).
"""

from __future__ import annotations

from envoywatch.analysis.narratives.definitions import ensure_defs_table
from envoywatch.store.db import table_exists

DDL = {
    "post_narratives": """CREATE TABLE IF NOT EXISTS post_narratives (
        platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, narrative VARCHAR NOT NULL, method VARCHAR NOT NULL,
        score DOUBLE, evidence VARCHAR, PRIMARY KEY (platform, post_id, narrative, method))""",
    "post_narrative_scans": """CREATE TABLE IF NOT EXISTS post_narrative_scans (
        platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, method VARCHAR NOT NULL, defs_hash VARCHAR NOT NULL,
        PRIMARY KEY (platform, post_id, method))""",
    "narrative_lines": """CREATE TABLE IF NOT EXISTS narrative_lines (
        platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, line_id VARCHAR NOT NULL, method VARCHAR,
        accounts INTEGER, PRIMARY KEY (platform, post_id))""",
}


def ensure_tables(con) -> None:
    ensure_defs_table(con)
    for sql in DDL.values():
        con.execute(sql)


def cache_table(tables, name: str):
    """Ibis accessor for a cache table; works on a Store (creating the table when absent) and on any object
    whose .table(name) knows it (a Spark accessor)."""
    con = getattr(tables, "con", None)
    if con is not None and hasattr(tables, "ibis"):
        if not table_exists(con, name) and not getattr(tables, "read_only", False):
            ensure_tables(con)
        if not table_exists(con, name):
            from envoywatch.analysis.narratives.definitions import NarrativeError

            raise NarrativeError(f"the store has no {name} table yet", str(getattr(tables, "path", "")),
                                 "run `envoywatch narratives assign` (or `narratives lines`) first")
        return tables.ibis().table(name)
    return tables.table(name)
