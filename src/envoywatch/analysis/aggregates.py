"""Pre-aggregated posts per account and day: what the overview, account pages and report read at scale.

Two derived tables (listed in schema.DERIVED_CACHES; recomputable from the store's tables at any time):
  agg_accounts(acc, platform, account_id)
      a number per author (dense, given in order of appearance): the tables below carry it as `acc`, and the
      readers join the registry to these few rows, then them to the many rows by number (a string join and a
      DISTINCT over 'platform:account_id' per row were most of the time of a top-hashtags query at 10M posts)
  agg_account_day(platform, account_id, day, kind, posts, first_at, last_at, acc)
      posts per author, UTC day and kind, with the first and last posting time of that group
  agg_entity_day(entity_type, platform, account_id, day, kind, entity, n, posts, acc)
      per author, day, kind and entity: occurrences (n) and distinct posts. entity_type is hashtag
      (post_hashtags.tag_norm), mention (post_mentions.handle_norm), url (post_urls.normalized_url),
      domain (post_urls.domain), reposted_account / quoted_account (posts.ref_account_id of reposts /
      quotes: the id; the handle is looked up when read, so a renamed account shows its current handle)
  agg_account_month, agg_entity_month: the day tables summed per month (day = the first of the month);
  agg_entity_month_all: agg_entity_month with the kinds summed (read when there is no kind filter)
  agg_post_metrics(platform, post_id, account_id, created_at, kind, lang, likes, reposts, replies, quotes, views, prow)
      each post's latest post_metrics snapshot with the post columns the filters need, sorted by author:
      an account page's top posts read that account's rows instead of ranking every snapshot in the store;
      prow is the post's rowid in `posts` when computed (the dashboard fetches a page's texts by it, checked
      against the key: a rowid can move)
  agg_meta(key, value)
      what the tables were computed from (see `_fingerprint`): a reader uses them only when it still matches

Registry columns (state, category, host country) are not stored: they are joined when read (a registry
update moves no aggregate). A post's author, time and kind are required and never change on re-import;
child rows land only with a new post; ref_account_id can be filled later (NULL -> value), which the
refresh detects by count. So refreshing the (account, day) pairs of the posts new since the last refresh
keeps the tables exact; anything else (posts written by another path, a count that does not add up)
triggers a full rebuild.

Readers (`account_days`, `entity_days`) apply a Filters value like `filtered_posts` does. They serve a
filter only when `usable(tables, f)`: the tables are current, there is no language filter, and start / end
fall on midnight (day granularity). Otherwise the analyses read the posts (the same figures, slower);
tests/test_aggregates.py checks that both paths give identical rows.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from datetime import datetime

import ibis

from envoywatch.analysis.filters import ACCOUNT_COLUMNS, Filters, as_datetime, filter_post_rows, join_registry
from envoywatch.store.db import table_exists

VERSION = "5"
TABLES = ("agg_accounts", "agg_account_day", "agg_entity_day", "agg_account_month", "agg_entity_month",
          "agg_entity_month_all", "agg_post_metrics", "agg_meta")
# not url: links are nearly all distinct, an aggregate would be as large as post_urls (read the posts)
ENTITY_TYPES = ("hashtag", "mention", "reposted_account", "quoted_account", "domain")

_DDL = {
    "agg_accounts": "(acc INTEGER, platform VARCHAR, account_id VARCHAR)",
    "agg_account_day": "(platform VARCHAR, account_id VARCHAR, day DATE, kind VARCHAR, posts BIGINT, "
                       "first_at TIMESTAMP, last_at TIMESTAMP, acc INTEGER)",
    "agg_entity_day": "(entity_type VARCHAR, platform VARCHAR, account_id VARCHAR, day DATE, kind VARCHAR, "
                      "entity VARCHAR, n BIGINT, posts BIGINT, acc INTEGER)",
    "agg_post_metrics": "(platform VARCHAR, post_id VARCHAR, account_id VARCHAR, created_at TIMESTAMP, kind VARCHAR, "
                        "lang VARCHAR, likes BIGINT, reposts BIGINT, replies BIGINT, quotes BIGINT, views BIGINT, prow BIGINT)",
    "agg_meta": "(key VARCHAR, value VARCHAR)",
}
# the latest snapshot of each post ({scope}: '' for all, or a join that narrows the snapshots m0 to some posts)
_METRICS_SQL = """SELECT p.platform, p.post_id, p.account_id, p.created_at, p.kind, p.lang, m.likes, m.reposts, m.replies,
        m.quotes, m.views, p.rowid
    FROM (SELECT m0.* FROM post_metrics m0 {scope}
          QUALIFY row_number() OVER (PARTITION BY m0.platform, m0.post_id ORDER BY m0.captured_at DESC) = 1) m
    JOIN posts p ON p.platform = m.platform AND p.post_id = m.post_id"""
_DDL["agg_account_month"] = _DDL["agg_account_day"]
_DDL["agg_entity_month"] = _DDL["agg_entity_day"]
_DDL["agg_entity_month_all"] = ("(entity_type VARCHAR, platform VARCHAR, account_id VARCHAR, day DATE, entity VARCHAR, "
                                "n BIGINT, posts BIGINT, acc INTEGER)")
_MONTH_SQL = {   # the month tables: the day tables summed per month (day = first of the month)
    "agg_account_month": "SELECT platform, account_id, date_trunc('month', day)::DATE AS day, kind, sum(posts)::BIGINT, "
                         "min(first_at), max(last_at), acc FROM agg_account_day d WHERE {scope} GROUP BY ALL",
    "agg_entity_month": "SELECT entity_type, platform, account_id, date_trunc('month', day)::DATE AS day, kind, entity, "
                        "sum(n)::BIGINT, sum(posts)::BIGINT, acc FROM agg_entity_day d WHERE {scope} GROUP BY ALL",
    # all kinds together: what a window without a kind filter reads (about half the rows of hashtags and links)
    "agg_entity_month_all": "SELECT entity_type, platform, account_id, date_trunc('month', day)::DATE AS day, entity, "
                            "sum(n)::BIGINT, sum(posts)::BIGINT, acc FROM agg_entity_day d WHERE {scope} GROUP BY ALL",
}

# entity_type -> SQL selecting (platform, post_id, entity) occurrences
_ENTITY_SQL = {
    "hashtag": "SELECT platform, post_id, tag_norm AS entity FROM post_hashtags WHERE tag_norm IS NOT NULL",
    "mention": "SELECT platform, post_id, handle_norm AS entity FROM post_mentions WHERE handle_norm IS NOT NULL",
    "domain": "SELECT platform, post_id, domain AS entity FROM post_urls WHERE domain IS NOT NULL",
}
_REF_KINDS = {"reposted_account": "repost", "quoted_account": "quote"}

# connection -> the aggregates are current (read-only stores cannot change). Weak keys: an entry goes with its
# connection (keyed by id(con), a new connection given a closed one's id inherited its answer)
_current: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_current_lock = threading.Lock()


# --- state -----------------------------------------------------------------------------------------------

def _fingerprint(con) -> dict:
    """What the aggregates depend on, cheaply: row counts (DuckDB keeps them), the newest batch, and the
    number of reposts / quotes with a known ref_account_id (the one column a re-import can fill later)."""
    n, batch = con.execute("SELECT count(*), coalesce(max(batch_id), -1) FROM posts").fetchall()[0]
    refs = con.execute("SELECT count(*) FROM posts WHERE kind IN ('repost', 'quote') AND ref_account_id IS NOT NULL"
                       ).fetchall()[0][0]
    out = {"version": VERSION, "posts": str(n), "max_batch": str(batch), "refs": str(refs)}
    for t in ("post_hashtags", "post_mentions", "post_urls"):
        out[t] = str(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0])
    m, mbatch = con.execute("SELECT count(*), coalesce(max(batch_id), -1) FROM post_metrics").fetchall()[0]
    out["metrics"], out["metrics_max_batch"] = str(m), str(mbatch)
    return out


def _meta(con) -> dict:
    if not table_exists(con, "agg_meta", temporary=False):
        return {}
    return dict(con.execute("SELECT key, value FROM agg_meta").fetchall())


def is_current(tables) -> bool:
    """True when the aggregate tables exist and match the store. Checked once per connection for read-only
    stores (they cannot change), on every call otherwise (a few cheap queries)."""
    con = getattr(tables, "con", None)
    if con is None:          # another backend (Spark): read the posts
        return False
    read_only = getattr(tables, "read_only", False)
    if read_only and con in _current:
        return _current[con]
    lock = getattr(tables, "query_lock", None) or threading.RLock()
    with lock:
        meta = _meta(con)
        ok = bool(meta) and all(meta.get(k) == v for k, v in _fingerprint(con).items())
    if read_only:
        with _current_lock:
            _current[con] = ok
    return ok


def _midnight(t) -> bool:
    t = as_datetime(t)
    return t is None or (t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0)


def usable(tables, f: Filters) -> bool:
    """May the aggregates answer for f? (current, no language filter, start / end at midnight)"""
    return not f.languages and _midnight(f.start) and _midnight(f.end) and is_current(tables)


# --- refresh (writers) -------------------------------------------------------------------------------------

def _add_accounts(con, src: str) -> None:
    """Number the authors of the posts in table `src` that agg_accounts does not know yet."""
    con.execute(f"""INSERT INTO agg_accounts
        SELECT (SELECT coalesce(max(acc), 0) FROM agg_accounts) + row_number() OVER (ORDER BY platform, account_id),
               platform, account_id
        FROM (SELECT DISTINCT platform, account_id FROM {src}) s
        WHERE NOT EXISTS (SELECT 1 FROM agg_accounts a WHERE a.platform = s.platform AND a.account_id = s.account_id)""")


def _insert_sql(src: str, ordered: bool = False) -> list[str]:
    """Two INSERT statements computing the aggregates of the posts in table `src` (`posts` for all of them),
    rows sorted by day and author when `ordered` (a full build: time-window filters then skip whole row groups
    by DuckDB's zone maps); the posts' authors must be in agg_accounts (`_add_accounts`).

    The author's number is joined to the aggregated rows, never inside the join of posts and their child rows:
    there, on rows not yet committed (no statistics), DuckDB joined the child rows to agg_accounts first, on the
    platform alone (every mention of the demo times every account: the statement never ended)."""
    def numbered(sql: str) -> str:
        return (f"SELECT g.*, a.acc AS acc FROM ({sql}) g "
                "JOIN agg_accounts a ON a.platform = g.platform AND a.account_id = g.account_id")

    order = " ORDER BY day, acc" if ordered else ""
    account = "INSERT INTO agg_account_day " + numbered(f"""
        SELECT platform, account_id, created_at::DATE AS day, kind, count(*), min(created_at), max(created_at)
        FROM {src} GROUP BY ALL""") + order
    parts = []
    for et, child in _ENTITY_SQL.items():
        # a post has a hashtag or a mention once (the store's keys): distinct posts = rows; a domain can repeat
        posts = "count(DISTINCT p.post_id)" if et == "domain" else "count(*)"
        parts.append(numbered(f"""SELECT '{et}' AS entity_type, p.platform, p.account_id, p.created_at::DATE AS day,
                   p.kind, c.entity, count(*) AS n, {posts} AS posts
            FROM ({child}) c JOIN {src} p ON p.platform = c.platform AND p.post_id = c.post_id
            GROUP BY ALL"""))
    for et, kind in _REF_KINDS.items():
        parts.append(numbered(f"""SELECT '{et}' AS entity_type, platform, account_id, created_at::DATE AS day, kind,
                   ref_account_id AS entity, count(*) AS n, count(*) AS posts
            FROM {src} WHERE kind = '{kind}' AND ref_account_id IS NOT NULL GROUP BY ALL"""))
    entity = "INSERT INTO agg_entity_day SELECT * FROM (" + " UNION ALL ".join(parts) + f"){order}"
    return [account, entity]


def _rebuild(con) -> None:
    for name, cols in _DDL.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} {cols}")
    _add_accounts(con, "posts")
    for sql in _insert_sql("posts", ordered=True):
        con.execute(sql)
    for name, sql in _MONTH_SQL.items():
        con.execute(f"INSERT INTO {name} {sql.format(scope='TRUE')} ORDER BY day, acc")
    con.execute(f"INSERT INTO agg_post_metrics {_METRICS_SQL.format(scope='')} ORDER BY p.platform, p.account_id, p.created_at")


def refresh_aggregates(store, full: bool = False) -> str:
    """Bring the aggregate tables up to date; returns 'current', 'incremental' or 'rebuilt'.

    Call it inside the transaction that wrote the posts (importers, demo) so that both land together, or on
    its own (`with store.transaction(): refresh_aggregates(store)`). Incremental: the (account, day) pairs
    of the posts whose batch is newer than the last refresh are recomputed from the posts."""
    con = store.con
    meta = _meta(con)
    now = _fingerprint(con)
    if not full and meta and all(meta.get(k) == v for k, v in now.items()):
        return "current"
    how = "rebuilt"
    if full or not meta or meta.get("version") != VERSION or not all(table_exists(con, t, temporary=False) for t in TABLES):
        _rebuild(con)
    else:
        last = int(meta.get("max_batch", -1))
        new, new_refs = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE kind IN ('repost', 'quote') AND ref_account_id IS NOT NULL) "
            "FROM posts WHERE batch_id > ?", [last]).fetchall()[0]
        mlast = int(meta.get("metrics_max_batch", -1))
        new_metrics = con.execute("SELECT count(*) FROM post_metrics WHERE batch_id > ?", [mlast]).fetchall()[0][0]
        if (int(meta["posts"]) + new != int(now["posts"]) or int(meta["refs"]) + new_refs != int(now["refs"])
                or int(now["max_batch"]) < last or int(meta["metrics"]) + new_metrics != int(now["metrics"])
                or int(now["metrics_max_batch"]) < mlast):
            _rebuild(con)   # rows written without a batch, or refs filled on known posts: recompute all
        else:
            con.execute(f"""CREATE OR REPLACE TEMP TABLE _ew_agg_scope AS
                SELECT DISTINCT platform, account_id, created_at::DATE AS day FROM posts WHERE batch_id > {last}""")
            try:
                for name in ("agg_account_day", "agg_entity_day"):
                    con.execute(f"DELETE FROM {name} a USING _ew_agg_scope s WHERE a.platform = s.platform "
                                "AND a.account_id = s.account_id AND a.day = s.day")
                # the posts of those pairs, read once (the child tables then join this small table)
                con.execute("""CREATE OR REPLACE TEMP TABLE _ew_agg_posts AS
                    SELECT p.platform, p.post_id, p.account_id, p.created_at, p.kind, p.ref_account_id
                    FROM posts p SEMI JOIN _ew_agg_scope s ON s.platform = p.platform
                         AND s.account_id = p.account_id AND s.day = p.created_at::DATE""")
                _add_accounts(con, "_ew_agg_posts")
                for sql in _insert_sql("_ew_agg_posts"):
                    con.execute(sql)
                con.execute("""CREATE OR REPLACE TEMP TABLE _ew_agg_months AS
                    SELECT DISTINCT platform, account_id, date_trunc('month', day)::DATE AS day FROM _ew_agg_scope""")
                months = ("EXISTS (SELECT 1 FROM _ew_agg_months s WHERE s.platform = d.platform AND "
                          "s.account_id = d.account_id AND s.day = date_trunc('month', d.day)::DATE)")
                for name, sql in _MONTH_SQL.items():
                    con.execute(f"DELETE FROM {name} a USING _ew_agg_months s WHERE a.platform = s.platform "
                                "AND a.account_id = s.account_id AND a.day = s.day")
                    con.execute(f"INSERT INTO {name} {sql.format(scope=months)}")
                # latest metrics: the posts with a new snapshot, and the new posts (their snapshots may have come first)
                con.execute(f"""CREATE OR REPLACE TEMP TABLE _ew_agg_mposts AS
                    SELECT platform, post_id FROM post_metrics WHERE batch_id > {mlast}
                    UNION SELECT platform, post_id FROM posts WHERE batch_id > {last}""")
                con.execute("DELETE FROM agg_post_metrics a USING _ew_agg_mposts s "
                            "WHERE a.platform = s.platform AND a.post_id = s.post_id")
                scope = "SEMI JOIN _ew_agg_mposts s ON s.platform = m0.platform AND s.post_id = m0.post_id"
                con.execute(f"INSERT INTO agg_post_metrics {_METRICS_SQL.format(scope=scope)}")
            finally:
                for tmp in ("_ew_agg_scope", "_ew_agg_months", "_ew_agg_posts", "_ew_agg_mposts"):
                    con.execute(f"DROP TABLE IF EXISTS {tmp}")
            how = "incremental"
    con.execute("DELETE FROM agg_meta")
    con.executemany("INSERT INTO agg_meta VALUES (?, ?)",
                    list({**now, "built_at": datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}.items()))
    _current.pop(con, None)
    return how


# --- readers (Ibis) ---------------------------------------------------------------------------------------

def _table(tables, name: str) -> ibis.Table:
    """Ibis table of an aggregate table, memoized on the backend: looking a schema up is a query, and the
    aggregate tables' schemas are fixed (_DDL)."""
    be = tables.ibis()
    memo = be.__dict__.setdefault("_envoywatch_agg_tables", {})
    t = memo.get(name)
    if t is None:
        lock = getattr(tables, "query_lock", None) or contextlib.nullcontext()
        with lock:   # Ibis looks the schema up on the (shared) connection
            t = memo[name] = be.table(name)
    return t


def _add_months(d, n: int):
    m = d.month - 1 + n
    return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)


def month_floor(d):
    """The first day of d's month (a date or datetime: the same type back, at midnight)."""
    return d.replace(day=1, **({"hour": 0, "minute": 0, "second": 0, "microsecond": 0} if isinstance(d, datetime) else {}))


def month_ceil(d):
    """The first day of the month at or after d (d itself when it is the first of a month at midnight)."""
    f = month_floor(d)
    return f if f == d else _add_months(f, 1)


def _pieces(f: Filters, months: bool) -> list[tuple[str, object, object]]:
    """[(grain, lo, hi)] covering [start, end): the month table for the whole months inside, the day table
    for the days before the first and after the last whole month (or for everything when months=False).

    The structure depends only on which ends are given, never on the dates: with s, e the ends, m0 the first
    whole month (month_ceil(s)) and m1 the end of the last (month_floor(e)), the pieces are days
    [s, least(m0, e)), months [m0, m1), days [greatest(m1, least(m0, e)), e), and the ones that do not apply
    come out empty (a window inside one month: the month piece has m0 > m1). So an expression compiled for
    one window is the SQL of every window of the same shape with other dates (web/data.py relies on it);
    lo / hi are Ibis values (LEAST / GREATEST of date literals, which DuckDB folds before pruning)."""
    s = as_datetime(f.start).date() if f.start is not None else None
    e = as_datetime(f.end).date() if f.end is not None else None
    if not months:
        return [("day", s, e)]
    m0 = None if s is None else month_ceil(s)
    m1 = None if e is None else month_floor(e)
    out = [("month", m0, m1)]
    if s is not None:
        cut = m0 if e is None else ibis.least(ibis.literal(m0), ibis.literal(e))
        out.append(("day", s, cut))
    if e is not None:
        lo = m1 if s is None else ibis.greatest(ibis.literal(m1), ibis.least(ibis.literal(m0), ibis.literal(e)))
        out.append(("day", lo, e))
    return out


def _rows(tables, f: Filters, what: str, months: bool, entity_type: str | None = None) -> ibis.Table:
    parts = []
    all_kinds = what == "entity" and not f.kinds   # entity rows without a kind filter: no kind column
    for grain, lo, hi in _pieces(f, months):
        t = _table(tables, f"agg_{what}_{grain}" + ("_all" if all_kinds and grain == "month" else ""))
        if all_kinds and "kind" in t.columns:
            t = t.drop("kind")
        if entity_type is not None:
            t = t.filter(t.entity_type == entity_type)
        if lo is not None:
            t = t.filter(t.day >= lo)
        if hi is not None:
            t = t.filter(t.day < hi)
        parts.append(t)
    out = parts[0]
    for t in parts[1:]:
        out = out.union(t, distinct=False)
    return out


def _with_accounts(tables, t: ibis.Table, f: Filters) -> ibis.Table:
    """t (platform, account_id, day, kind, ..., acc; time already cut) filtered like filtered_posts, with the
    registry columns. The registry is joined to the authors (agg_accounts: one row each) and the account-level
    filters cut those few rows; the aggregate rows then join them by number."""
    if f.kinds:
        t = t.filter(t.kind.isin(list(f.kinds)))
    a = _table(tables, "agg_accounts")
    for col, values in (("platform", f.platforms), ("account_id", f.accounts)):
        if values:
            a = a.filter(a[col].isin(list(values)))
    a = join_registry(tables, a, f).rename(a_acc="acc")
    r = t.drop("platform", "account_id")
    j = r.join(a, r.acc == a.a_acc)
    return j.select(*t.columns, *ACCOUNT_COLUMNS)


def account_days(tables, f: Filters, months: bool = True) -> ibis.Table:
    """Aggregate rows (platform, account_id, day, kind, posts, first_at, last_at) that f selects, with handle,
    display_name, actor_id, actor_name, state, category, host_country (as filtered_posts adds them). Sum
    `posts` to count posts. months=True mixes month rows (day = first of the month) for the whole months
    of the window with day rows for its ends: right for totals and monthly series; months=False gives day
    rows only (daily and weekly series)."""
    return _with_accounts(tables, _rows(tables, f, "account", months), f)


def entity_days(tables, f: Filters, entity_type: str) -> ibis.Table:
    """Aggregate entity rows of one entity type that f selects (entity: for reposted / quoted accounts the
    handle where the store knows the account, else its id, as shares.entity_rows gives it). Rows of whole
    months and of single days mixed (see account_days); without a kind filter the rows have no `kind`
    column (the months come from agg_entity_month_all, all kinds summed)."""
    j = _with_accounts(tables, _rows(tables, f, "entity", True, entity_type), f)
    if entity_type in _REF_KINDS:
        acc = tables.table("accounts").select(a_platform="platform", a_account_id="account_id", a_handle="handle")
        k = j.left_join(acc, (j.platform == acc.a_platform) & (j.entity == acc.a_account_id))
        j = k.select(*[c for c in j.columns if c != "entity"], entity=ibis.coalesce(k.a_handle, k.entity))
    return j


def latest_metrics_posts(tables, f: Filters) -> ibis.Table:
    """agg_post_metrics rows (each post's latest snapshot with platform, post_id, account_id, created_at, kind,
    lang) that f selects, filtered as filtered_posts filters posts (exact times: any window), with the
    registry columns. Only when `is_current(tables)`."""
    return join_registry(tables, filter_post_rows(_table(tables, "agg_post_metrics"), f), f)


def refresh_derived(store) -> None:
    """What a writer calls after writing a batch (importers: in a transaction right after the batch's; the demo:
    inside its own): the aggregates and the search index brought up to date with the posts just written (both
    incremental; built when missing; seen as stale until then)."""
    from envoywatch.analysis.search import refresh_index

    refresh_aggregates(store)
    refresh_index(store)
