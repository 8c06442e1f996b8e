"""The store's tables: one definition that drives the DDL, the writers, Parquet exchange and docs/schema.md.

Types are chosen to be portable between DuckDB and Spark (and so Ibis on either):
timestamps are UTC without time zone (TIMESTAMP), lists are VARCHAR[] (Spark array<string>),
identifiers are VARCHAR (platform ids overflow or are hashed strings in takedown data).
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 1

POST_KINDS = ("post", "repost", "quote", "reply")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # how a re-import of a row with an existing key is applied:
    #   "ignore"   - keep the stored row (snapshots, facts that do not change)
    #   "coalesce" - fill stored NULLs from the new row, never overwrite a value (profiles, posts)
    on_conflict: str = "ignore"
    group: str = "data"
    # child tables of posts: rows land only with a post that is new to the store, so their key is
    # enforced by the writer (cheaper than a PRIMARY KEY index on every row), not by a constraint
    parent: str | None = None
    # False: the key is kept by the writer (anti-join against the table) instead of a PRIMARY KEY index.
    # Used for the big tables (posts and everything per post): an index there costs ~2 us per row on
    # insert and memory proportional to the table; an anti-join costs one scan of the key columns per flush.
    constraint: bool = True

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def C(name: str, type_: str, doc: str, required: bool = False) -> Column:
    return Column(name, type_, doc, required)


TABLES: dict[str, Table] = {}


def _t(table: Table) -> Table:
    TABLES[table.name] = table
    return table


_t(Table("accounts", "One row per account on a platform (latest known profile; values are filled, never overwritten by NULL).", (
    C("platform", "VARCHAR", "platform slug: x, bluesky, mastodon, telegram, youtube, facebook, ...", True),
    C("account_id", "VARCHAR", "the platform's stable id (X user id, Bluesky DID, Mastodon account URL/id, hashed id in takedown data)", True),
    C("handle", "VARCHAR", "screen name / handle as last seen, without @"),
    C("display_name", "VARCHAR", "display name"),
    C("description", "VARCHAR", "profile description / bio"),
    C("created_at", "TIMESTAMP", "account creation time (UTC)"),
    C("location", "VARCHAR", "self-reported location"),
    C("url", "VARCHAR", "profile URL or the website on the profile"),
    C("lang", "VARCHAR", "account language where the platform gives one"),
    C("verified", "BOOLEAN", "platform verification flag"),
    C("verified_type", "VARCHAR", "X verified_type (blue, business, government) or similar"),
    C("protected", "BOOLEAN", "protected / private account"),
    C("labels", "VARCHAR[]", "platform labels, e.g. 'China state-affiliated media', 'Russia government organization'"),
    C("profile_image_url", "VARCHAR", "avatar URL; NULL or default image is an inauthenticity signal"),
    C("first_batch_id", "BIGINT", "import batch that first brought this account"),
), key=("platform", "account_id"), on_conflict="coalesce"))

_t(Table("account_snapshots", "Counts of an account at a capture time. Never overwritten: one row per (account, captured_at).", (
    C("platform", "VARCHAR", "platform slug", True),
    C("account_id", "VARCHAR", "account id", True),
    C("captured_at", "TIMESTAMP", "when the counts were observed (UTC); the file's capture time where the format gives none", True),
    C("followers", "BIGINT", "followers"),
    C("following", "BIGINT", "accounts followed"),
    C("posts_count", "BIGINT", "posts (statuses) count shown on the profile"),
    C("listed_count", "BIGINT", "lists the account is on"),
    C("batch_id", "BIGINT", "import batch"),
), key=("platform", "account_id", "captured_at")))

_t(Table("posts", "One row per post (platform, post_id), whether collected from the account's timeline or embedded as a referenced post.", (
    C("platform", "VARCHAR", "platform slug", True),
    C("post_id", "VARCHAR", "the platform's post id (tweet id, at:// URI, status id)", True),
    C("account_id", "VARCHAR", "author's account id", True),
    C("created_at", "TIMESTAMP", "posting time (UTC)", True),
    C("text", "VARCHAR", "full text as given (for reposts: the platform's text, e.g. 'RT @x: ...')"),
    C("lang", "VARCHAR", "language as given by the platform (BCP 47 / ISO 639-1)"),
    C("kind", "VARCHAR", "post | repost | quote | reply (a repost wins over quote, a quote over reply)", True),
    C("ref_post_id", "VARCHAR", "the post that the kind refers to: reposted, quoted or replied-to post"),
    C("ref_account_id", "VARCHAR", "author of ref_post_id where known"),
    C("reply_to_post_id", "VARCHAR", "post replied to (also kept for quotes that are replies)"),
    C("reply_to_account_id", "VARCHAR", "author replied to"),
    C("quoted_post_id", "VARCHAR", "quoted post (also kept for replies that quote)"),
    C("conversation_id", "VARCHAR", "conversation / thread root id"),
    C("client", "VARCHAR", "client application (source) where given"),
    C("url", "VARCHAR", "permalink where given or derivable"),
    C("observed", "VARCHAR", "how it reached the store: 'primary' (the author's own timeline / the file's rows) or 'referenced' (embedded in another post)"),
    C("batch_id", "BIGINT", "import batch that first brought this post"),
), key=("platform", "post_id"), on_conflict="coalesce", constraint=False))

_t(Table("post_metrics", "Engagement counts of a post at a capture time (snapshots, never overwritten).", (
    C("platform", "VARCHAR", "platform slug", True),
    C("post_id", "VARCHAR", "post id", True),
    C("captured_at", "TIMESTAMP", "when the counts were observed (UTC)", True),
    C("likes", "BIGINT", "likes / favourites / reactions"),
    C("reposts", "BIGINT", "reposts / retweets / shares / boosts"),
    C("replies", "BIGINT", "replies / comments"),
    C("quotes", "BIGINT", "quotes"),
    C("views", "BIGINT", "views / impressions where given"),
    C("batch_id", "BIGINT", "import batch"),
), key=("platform", "post_id", "captured_at"), constraint=False))

_t(Table("post_urls", "Links in a post: as given, expanded where the platform gives it, normalized, registered domain.", (
    C("platform", "VARCHAR", "platform slug", True),
    C("post_id", "VARCHAR", "post id", True),
    C("position", "INTEGER", "0-based order of the link in the post", True),
    C("url", "VARCHAR", "URL as given (e.g. t.co)", True),
    C("expanded_url", "VARCHAR", "expanded URL as given by the platform (never fetched live here)"),
    C("normalized_url", "VARCHAR", "lower-case scheme/host, no tracking parameters or fragment, mobile/AMP hosts folded"),
    C("domain", "VARCHAR", "registered domain of the normalized URL (public suffix list bundled, offline)"),
    C("host", "VARCHAR", "full host name of the normalized URL"),
), key=("platform", "post_id", "position"), parent="posts", constraint=False))

_t(Table("post_hashtags", "Hashtags in a post (one row per distinct tag, case-folded).", (
    C("platform", "VARCHAR", "platform slug", True),
    C("post_id", "VARCHAR", "post id", True),
    C("tag", "VARCHAR", "hashtag as written, without '#'", True),
    C("tag_norm", "VARCHAR", "case-folded tag", True),
), key=("platform", "post_id", "tag_norm"), parent="posts", constraint=False))

_t(Table("post_mentions", "Accounts mentioned in a post.", (
    C("platform", "VARCHAR", "platform slug", True),
    C("post_id", "VARCHAR", "post id", True),
    C("handle", "VARCHAR", "mentioned handle as written, without '@'", True),
    C("handle_norm", "VARCHAR", "case-folded handle", True),
    C("account_id", "VARCHAR", "mentioned account id where the platform gives it"),
), key=("platform", "post_id", "handle_norm"), parent="posts", constraint=False))

_t(Table("post_media", "Media attached to a post.", (
    C("platform", "VARCHAR", "platform slug", True),
    C("post_id", "VARCHAR", "post id", True),
    C("position", "INTEGER", "0-based order", True),
    C("media_type", "VARCHAR", "photo | video | animated_gif | external | other"),
    C("url", "VARCHAR", "media URL or preview URL"),
    C("media_key", "VARCHAR", "platform media key / id"),
    C("alt_text", "VARCHAR", "alt text where given"),
), key=("platform", "post_id", "position"), parent="posts", constraint=False))

_t(Table("account_follows", "Follow edges observed at a capture time (e.g. the accounts a state account follows).", (
    C("platform", "VARCHAR", "platform slug", True),
    C("account_id", "VARCHAR", "follower", True),
    C("target_account_id", "VARCHAR", "followed account", True),
    C("captured_at", "TIMESTAMP", "capture time", True),
    C("batch_id", "BIGINT", "import batch"),
), key=("platform", "account_id", "target_account_id", "captured_at")))

_t(Table("import_batches", "One row per file import: provenance and counts.", (
    C("batch_id", "BIGINT", "batch id", True),
    C("source_path", "VARCHAR", "absolute path of the file as imported", True),
    C("format", "VARCHAR", "detected or forced format", True),
    C("detected", "BOOLEAN", "true when the format was detected, false when forced with --format"),
    C("sha256", "VARCHAR", "sha256 of the file's bytes (as stored, before gunzip)", True),
    C("size_bytes", "BIGINT", "file size"),
    C("started_at", "TIMESTAMP", "start (UTC)", True),
    C("finished_at", "TIMESTAMP", "end (UTC)"),
    C("status", "VARCHAR", "done | done_with_rejects | skipped (a non-post file, reason in note); live collection also: running | failed | interrupted"),
    C("records_read", "BIGINT", "records read from the file"),
    C("posts", "BIGINT", "post rows written (new)"),
    C("accounts", "BIGINT", "account rows written (new)"),
    C("rejects", "BIGINT", "records set aside in rejects"),
    C("simulated", "BOOLEAN", "true for data generated by envoywatch demo (never real observations)"),
    C("note", "VARCHAR", "what was skipped and why, and other remarks"),
    C("tool_version", "VARCHAR", "envoywatch version"),
), key=("batch_id",), group="provenance"))

_t(Table("rejects", "Records set aside with --skip-bad, with where they were and why.", (
    C("batch_id", "BIGINT", "batch", True),
    C("source_path", "VARCHAR", "file", True),
    C("line", "BIGINT", "1-based line (JSONL, CSV row's first line) or array index + 1 (JSON arrays)", True),
    C("reason", "VARCHAR", "why it was rejected", True),
    C("raw_excerpt", "VARCHAR", "the first 500 characters of the raw record"),
), key=("batch_id", "line"), group="provenance"))

# --- registry of state-affiliated actors (owned by envoywatch.registry) -------------------------

_t(Table("registry_actors", "Persons and organisations attributed to a state.", (
    C("actor_id", "VARCHAR", "stable slug, e.g. cn-mfa-zhao-lijian", True),
    C("name", "VARCHAR", "name in English", True),
    C("name_local", "VARCHAR", "name in the state's language"),
    C("actor_type", "VARCHAR", "person | organisation", True),
    C("state", "VARCHAR", "ISO 3166-1 alpha-2 of the state the actor is affiliated with", True),
    C("category", "VARCHAR", "ministry | spokesperson | head_of_mission | mission | state_media_outlet | state_media_staff | other_official", True),
    C("host_country", "VARCHAR", "ISO 3166-1 alpha-2 of the host country (missions, heads of mission)"),
    C("languages", "VARCHAR[]", "languages the actor publishes in"),
    C("parent_actor_id", "VARCHAR", "parent organisation (e.g. outlet of a staff member)"),
    C("source", "VARCHAR", "attribution source (citation)", True),
    C("source_url", "VARCHAR", "where the attribution can be checked"),
    C("valid_from", "DATE", "affiliation valid from"),
    C("valid_to", "DATE", "affiliation valid to (NULL = current)"),
    C("list_name", "VARCHAR", "which list brought it: starter, canis, schliebs, user, ..."),
    C("notes", "VARCHAR", "free text"),
), key=("actor_id",), on_conflict="coalesce", group="registry"))

_t(Table("registry_accounts", "Accounts of registered actors per platform.", (
    C("platform", "VARCHAR", "platform slug", True),
    C("handle", "VARCHAR", "handle without @ (case as published)", True),
    C("actor_id", "VARCHAR", "registry actor", True),
    C("account_id", "VARCHAR", "platform id where known"),
    C("verified_by", "VARCHAR", "the list(s) confirming the handle; NULL = unverified"),
    C("status", "VARCHAR", "active | renamed | suspended | deleted | unknown"),
    C("opened", "DATE", "account opened (created) where known"),
    C("valid_from", "DATE", "affiliation valid from"),
    C("valid_to", "DATE", "affiliation valid to"),
    C("source", "VARCHAR", "attribution source (citation)", True),
), key=("platform", "handle"), on_conflict="coalesce", group="registry"))

_t(Table("registry_history", "Changes of registered accounts: renamed, suspended, deleted, relabelled.", (
    C("platform", "VARCHAR", "platform slug", True),
    C("handle", "VARCHAR", "handle the change applies to", True),
    C("changed_at", "DATE", "date of the change (or when it was observed)", True),
    C("change", "VARCHAR", "renamed | suspended | deleted | reinstated | labelled | unlabelled", True),
    C("old_value", "VARCHAR", "value before (old handle, old label)"),
    C("new_value", "VARCHAR", "value after"),
    C("source", "VARCHAR", "how it is known", True),
), key=("platform", "handle", "changed_at", "change"), group="registry"))

_t(Table("registry_domains", "Web domains of state media and influence operations, by state.", (
    C("domain", "VARCHAR", "registered domain or host (lower case)", True),
    C("state", "VARCHAR", "ISO 3166-1 alpha-2 of the state", True),
    C("kind", "VARCHAR", "state_media | influence_operation | official", True),
    C("outlet", "VARCHAR", "outlet or operation name"),
    C("actor_id", "VARCHAR", "registry actor where known"),
    C("match_type", "VARCHAR", "domain (host and its subdomains) | host (exact) | url_prefix"),
    C("source", "VARCHAR", "attribution source (citation)", True),
    C("source_url", "VARCHAR", "report link"),
    C("notes", "VARCHAR", "free text"),
), key=("domain", "state", "kind"), on_conflict="coalesce", group="registry"))

# --- live collection (issue: live collection) -----------------------------------------------------

_t(Table("collection_cursors", "Per-account incremental collection cursors (live collection).", (
    C("platform", "VARCHAR", "platform slug", True),
    C("account_id", "VARCHAR", "account id or handle", True),
    C("endpoint", "VARCHAR", "which endpoint the cursor is for", True),
    C("cursor", "VARCHAR", "since_id / cursor / max_id"),
    C("updated_at", "TIMESTAMP", "last update (UTC)"),
), key=("platform", "account_id", "endpoint"), group="collection"))


DATA_TABLES = [t for t in TABLES.values() if t.group == "data"]

# Caches that analyses create themselves (CREATE TABLE IF NOT EXISTS) when they first run on a writable
# store: derived, recomputable from the tables above, never exported as observations. name -> (module, what)
DERIVED_CACHES = {
    "post_languages_detected": ("analysis/focus.py", "offline-detected language of posts whose platform gave none"),
    "tone_scores": ("analysis/tone/scores.py", "tone (propaganda) score, label and reasons per post and model version "
                    "(platform, post_id, model_version, score, label, reasons JSON, scored_at)"),
    "narrative_defs": ("analysis/narratives/definitions.py", "user-added narrative definitions (YAML as JSON)"),
    "post_narratives": ("analysis/narratives/cache.py", "narratives assigned to posts, by method, with score and evidence"),
    "post_narrative_scans": ("analysis/narratives/cache.py", "which posts were scanned with which definitions (hash)"),
    "narrative_lines": ("analysis/narratives/cache.py", "shared-line clusters: posts of several official accounts"),
    "url_resolutions": ("analysis/sources.py", "optional live resolution of shortened links (off by default), cached"),
    "search_tokens": ("analysis/search.py", "full-text index: one row per distinct token per post, BM25 length part"),
    "search_docs": ("analysis/search.py", "full-text index: one row per post"),
    "search_accounts": ("analysis/search.py", "full-text index: account numbering"),
    "search_meta": ("analysis/search.py", "full-text index: what the index covers (for refreshes)"),
    "agg_accounts": ("analysis/aggregates.py", "a number per author (acc) that the aggregate tables carry: readers "
                     "join the registry to these rows, then the aggregate rows to them by number"),
    "agg_account_day": ("analysis/aggregates.py", "posts per author, UTC day and kind, with first / last posting "
                        "time (platform, account_id, day, kind, posts, first_at, last_at); refreshed by every import"),
    "agg_entity_day": ("analysis/aggregates.py", "per author, day, kind and entity (hashtag, mention, domain, "
                       "reposted / quoted account id): occurrences n and distinct posts"),
    "agg_account_month": ("analysis/aggregates.py", "agg_account_day summed per month (day = first of the month)"),
    "agg_entity_month": ("analysis/aggregates.py", "agg_entity_day summed per month (day = first of the month)"),
    "agg_entity_month_all": ("analysis/aggregates.py", "agg_entity_month with the kinds summed (no kind filter)"),
    "agg_post_metrics": ("analysis/aggregates.py", "each post's latest post_metrics snapshot with its author, time, kind, "
                         "language and rowid in posts, sorted by author (top posts and engagement read it)"),
    "agg_meta": ("analysis/aggregates.py", "what the aggregates were computed from (posts count, newest batch, "
                 "child-table counts): readers use them only while it matches"),
}


def ddl(table: Table) -> str:
    cols = []
    for c in table.columns:
        null = " NOT NULL" if c.required else ""
        cols.append(f'"{c.name}" {c.type}{null}')
    if table.key and table.constraint:
        cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in table.key) + ")")
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" (\n  ' + ",\n  ".join(cols) + "\n)"


def schema_markdown() -> str:
    """docs/schema.md is generated from this module (a test keeps them equal)."""
    out = [
        "# envoywatch store schema",
        "",
        f"Schema version: **{SCHEMA_VERSION}**. Generated from `src/envoywatch/schema.py` "
        "(`python -m envoywatch.schema > docs/schema.md`); a test keeps this page and the code equal.",
        "",
        "Conventions: timestamps are UTC `TIMESTAMP` (no time zone) so that DuckDB and Spark read them alike; "
        "ids are strings; lists are `VARCHAR[]`. Posts are identified by `(platform, post_id)`; "
        "importing the same data again changes nothing. Counts (followers, likes) are snapshots with a "
        "capture time and are never overwritten. The version is kept in `schema_meta`, migrations in "
        "`src/envoywatch/store/migrations.py`.",
        "",
    ]
    for t in TABLES.values():
        out.append(f"## `{t.name}`")
        out.append("")
        out.append(t.doc)
        out.append("")
        if t.key:
            if t.parent:
                out.append(f"Key: `({', '.join(t.key)})`, kept by the writer: rows land only together with a "
                           f"new `{t.parent}` row, so re-imports add nothing.")
            elif not t.constraint:
                out.append(f"Key: `({', '.join(t.key)})`, kept by the writer (no index); on re-import: {t.on_conflict}.")
            else:
                out.append(f"Key: `({', '.join(t.key)})`; on re-import: {t.on_conflict}.")
            out.append("")
        out.append("| column | type | required | meaning |")
        out.append("| --- | --- | --- | --- |")
        for c in t.columns:
            out.append(f"| `{c.name}` | {c.type} | {'yes' if c.required else ''} | {c.doc} |")
        out.append("")
    out.append("## Analysis caches")
    out.append("")
    out.append("Created by the analyses themselves on first use (derived and recomputable; not part of the migrations):")
    out.append("")
    out.append("| table | created by | holds |")
    out.append("| --- | --- | --- |")
    for name, (module, what) in DERIVED_CACHES.items():
        out.append(f"| `{name}` | `{module}` | {what} |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(schema_markdown())
