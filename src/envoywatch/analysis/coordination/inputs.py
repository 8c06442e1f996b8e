"""Input adapters: turn the store, a CNT-layout CSV or a CooRTweet CSV into one messages table in DuckDB.

Every adapter creates the same temporary table (name given by the caller) on a DuckDB connection:

    message_id VARCHAR, account_id VARCHAR, handle VARCHAR, ts DOUBLE (epoch seconds),
    repost_id VARCHAR (the reposted object; NULL for non-reposts), reply_id VARCHAR, text VARCHAR,
    urls VARCHAR[] (links as given, empty strings dropped), urls_norm VARCHAR[] (normalized links),
    hashtags VARCHAR[] (case-folded), mentions VARCHAR[] (case-folded)

One row per message_id. CSV input keeps the FIRST row of a duplicated message_id, as CNT does (its
`insert or ignore`). Nothing goes through Python row by row: DuckDB reads the files itself; only the
distinct URLs of a CSV pass through envoywatch's URL normalizer (a scalar function), and only when a
network needs normalized links or domains.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from envoywatch.errors import EnvoywatchError

CNT_COLUMNS = ("message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls")
COORTWEET_COLUMNS = ("object_id", "account_id", "content_id", "timestamp_share")
LAYOUTS = ("cnt", "coortweet")

# hashtags and mentions found in text (CSV input; the store has its own tables for them)
_HASHTAG_RE = r"#([\p{L}\p{N}_]+)"
_MENTION_RE = r"@([\p{L}\p{N}_.]+)"


class CoordinationError(EnvoywatchError):
    """Coordination input or parameters are unusable."""


def _q(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _csv_header(path: Path) -> list[str]:
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [h.strip() for h in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError) as exc:
        raise CoordinationError(f"cannot read the CSV ({exc})", str(path),
                                "check the path and that the file is UTF-8 text") from None


def _check_columns(path: Path, header: list[str], wanted: tuple[str, ...], layout: str) -> None:
    missing = [c for c in wanted if c not in header]
    if missing:
        raise CoordinationError(
            f"not a {layout} layout CSV: missing column(s) {', '.join(missing)} (found: {', '.join(header[:12])})",
            str(path),
            f"give a header row with {','.join(wanted)}" + (" or use --layout coortweet" if layout == "cnt" else
                                                             " or use --layout cnt"),
        )


def _text_lists_sql(text: str) -> str:
    return (f"list_distinct(list_transform(regexp_extract_all({text}, '{_HASHTAG_RE}', 1), lambda x: lower(x))) AS hashtags, "
            f"list_distinct(list_transform(regexp_extract_all({text}, '{_MENTION_RE}', 1), lambda x: lower(x))) AS mentions")


def from_csv(con, path: str | Path, table: str, layout: str = "cnt") -> int:
    """Read a CNT-layout (default) or CooRTweet-layout CSV straight into `table`. Returns the message count."""
    path = Path(path)
    if layout not in LAYOUTS:
        raise CoordinationError(f"unknown CSV layout {layout!r}", "--layout", f"use one of: {', '.join(LAYOUTS)}")
    if not path.is_file():
        raise CoordinationError("file not found", str(path), "check the path given to --from-csv")
    header = _csv_header(path)
    _check_columns(path, header, CNT_COLUMNS if layout == "cnt" else COORTWEET_COLUMNS, layout)
    raw = f"{table}_raw"
    # all_varchar: ids stay strings exactly as written (no float rounding of long ids);
    # insertion order is kept, so rowid is the file order (first row of a duplicated id wins, as in CNT)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT * FROM read_csv({_q(path)}, header=true, "
                    f"all_varchar=true, quote='\"', escape='\"', strict_mode=false)")
    except Exception as exc:  # duckdb.Error subclasses; keep the first line only
        raise CoordinationError(f"DuckDB cannot parse the CSV ({str(exc).splitlines()[0]})", str(path),
                                "check the quoting and the header row") from None
    if layout == "cnt":
        select = f"""
            SELECT message_id, user_id AS account_id, nullif(username, '') AS handle,
                   CAST(timestamp AS DOUBLE) AS ts,
                   nullif(repost_id, '') AS repost_id, nullif(reply_id, '') AS reply_id,
                   coalesce(message, '') AS text,
                   -- CNT splits on single spaces; an empty URL string is not a URL (see docs)
                   list_filter(string_split(coalesce(urls, ''), ' '), lambda u: u <> '') AS urls,
                   {_text_lists_sql("coalesce(message, '')")}
            FROM {raw} WHERE message_id IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY rowid) = 1"""
    else:
        # CooRTweet: each row is one share of object_id by account_id; content_id is the share itself
        select = f"""
            SELECT content_id AS message_id, account_id, account_id AS handle,
                   CAST(timestamp_share AS DOUBLE) AS ts,
                   nullif(object_id, '') AS repost_id, CAST(NULL AS VARCHAR) AS reply_id, '' AS text,
                   CAST([] AS VARCHAR[]) AS urls, CAST([] AS VARCHAR[]) AS hashtags, CAST([] AS VARCHAR[]) AS mentions
            FROM {raw} WHERE content_id IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY content_id ORDER BY rowid) = 1"""
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    except Exception as exc:
        raise CoordinationError(f"bad values in the CSV ({str(exc).splitlines()[0]})", str(path),
                                "timestamps must be seconds since the epoch (numbers)") from None
    finally:
        con.execute(f"DROP TABLE IF EXISTS {raw}")
    con.execute(f"ALTER TABLE {table} ADD COLUMN urls_norm VARCHAR[]")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def fill_normalized_urls(con, table: str) -> None:
    """Fill urls_norm of a CSV-derived table with envoywatch's URL normalizer, once per distinct URL."""
    from envoywatch.util.urls import normalize_url

    if con.execute(f"SELECT count(*) FROM {table} WHERE urls_norm IS NOT NULL").fetchall()[0][0]:
        return
    urls = [r[0] for r in con.execute(f"SELECT DISTINCT unnest(urls) FROM {table}").fetchall()]
    import pyarrow as pa

    mapping = pa.table({"u": pa.array(urls, pa.string()),
                        "n": pa.array([normalize_url(u) or u for u in urls], pa.string())})
    con.register(f"{table}_urlmap", mapping)
    try:
        con.execute(f"""
            UPDATE {table} SET urls_norm = sub.norm FROM (
                SELECT m.message_id, list_distinct(list(coalesce(um.n, m.u))) AS norm
                FROM (SELECT message_id, unnest(urls) AS u FROM {table}) m
                LEFT JOIN {table}_urlmap um ON um.u = m.u GROUP BY m.message_id) sub
            WHERE {table}.message_id = sub.message_id""")
        con.execute(f"UPDATE {table} SET urls_norm = [] WHERE urls_norm IS NULL")
    finally:
        con.unregister(f"{table}_urlmap")


def from_store(store, table: str, platform: str | None = None, since: datetime | None = None,
               until: datetime | None = None) -> int:
    """Build the messages table from the store's posts (+ post_urls, post_hashtags, post_mentions).

    A repost's shared object is ref_post_id where kind = 'repost'; a reply's is reply_to_post_id.
    Links: the expanded URL where the platform gave one, else the URL as given; urls_norm holds the
    store's normalized_url. Accounts and messages are keyed by platform when the store holds several.
    """
    con = store.con
    where = ["TRUE"]
    params: list = []
    if platform:
        where.append("p.platform = ?")
        params.append(platform)
    if since:
        where.append("p.created_at >= ?")
        params.append(since)
    if until:
        where.append("p.created_at < ?")
        params.append(until)
    n_platforms = con.execute("SELECT count(DISTINCT platform) FROM posts").fetchall()[0][0]
    key = "p.platform || ':' || " if (n_platforms > 1 and not platform) else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH sel AS (SELECT * FROM posts p WHERE {' AND '.join(where)}),
        u AS (SELECT platform, post_id, list(coalesce(expanded_url, url) ORDER BY position) AS urls,
                     list(normalized_url ORDER BY position) FILTER (WHERE normalized_url IS NOT NULL) AS urls_norm
              FROM post_urls WHERE coalesce(expanded_url, url) <> '' GROUP BY ALL),
        h AS (SELECT platform, post_id, list(DISTINCT tag_norm) AS hashtags FROM post_hashtags GROUP BY ALL),
        m AS (SELECT platform, post_id, list(DISTINCT handle_norm) AS mentions FROM post_mentions GROUP BY ALL)
        SELECT {key}p.post_id AS message_id, {key}p.account_id AS account_id, a.handle,
               epoch_us(p.created_at) / 1e6 AS ts,
               CASE WHEN p.kind = 'repost' THEN {key}p.ref_post_id END AS repost_id,
               {key}p.reply_to_post_id AS reply_id, coalesce(p.text, '') AS text,
               coalesce(u.urls, []) AS urls, coalesce(u.urls_norm, []) AS urls_norm,
               coalesce(h.hashtags, []) AS hashtags, coalesce(m.mentions, []) AS mentions
        FROM sel p
        LEFT JOIN accounts a USING (platform, account_id)
        LEFT JOIN u USING (platform, post_id)
        LEFT JOIN h USING (platform, post_id)
        LEFT JOIN m USING (platform, post_id)""", params)
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
