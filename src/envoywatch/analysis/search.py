"""Full-text search over posts: our own inverted index in the store, BM25 ranking in SQL.

DuckDB's fts extension cannot be installed offline, so the index is tables this module creates on demand
and refreshes when posts change (new posts are appended; see `ensure_index`):
  search_tokens(token, doc_id, acc, ts, kind, tf, dl)
      the postings: one row per distinct token of a post, written sorted by token so that DuckDB's zone
      maps skip the row groups of other tokens (a query reads only its terms' postings). tf: the token's
      count in the post, dl: the post's length in tokens; the query computes BM25's term-frequency part
      from them, tf*(k1+1) / (tf + k1*(1 - b + b*dl/avgdl)) (avgdl of the last full build, in search_meta;
      `_weight_sql`), so indexing needs no pass over all posts for avgdl first. acc (account number),
      ts (created_at) and kind let the account, time and kind filters and the tie-break run on the
      postings alone
  search_docs(doc_id, platform, post_id, account_id, acc, created_at, kind, lang, len, prow)   one row per post;
      prow is the post's rowid in `posts` (a page's texts are fetched by rowid, checked against the key)
  search_accounts(acc, platform, account_id)   account numbers
  search_meta(key, value)   what the index was built from (posts count, texts, max batch), avgdl, docs
Tokens: text lower-cased, links removed; words are runs of letters, marks and digits; Chinese and Japanese
(Han, kana) runs are indexed as overlapping character bigrams (a single character alone). The query is
tokenized by the same SQL expression, so index and query always agree.
Ranking: BM25 (k1=1.2, b=0.75): score = sum over the query's tokens of idf * w, idf = ln(1 + (N - df + 0.5) /
(df + 0.5)); every token must occur (AND, postings joined rarest first); "quoted phrases" must also appear
verbatim (case-insensitive; checked on the post text, so slower). Ties: newer first, then later indexed.
The importers and the demo keep the index current at the end of each batch's transaction (`refresh_index`);
`envoywatch search --reindex` rebuilds it. A read-only store (the dashboard) never rebuilds a stored index:
a stale one is searched as indexed (results say `stale`); a missing one is indexed into TEMP tables only for
small stores (READ_ONLY_TEMP_MAX posts), otherwise the search says how to build it.
Snippets are plain text with match offsets; renderers escape them (post text is hostile input).
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
import weakref

from envoywatch.analysis import analysis
from envoywatch.analysis.filters import Filters, as_datetime, group_accounts
from envoywatch.errors import EnvoywatchError
from envoywatch.store.db import table_exists

INDEX_VERSION = "5"   # 5: tf and dl in the postings instead of the precomputed weight w
K1, B = 1.2, 0.75
SNIPPET_CHARS = 200
MAX_TERMS = 16
_CHECK_EVERY_S = 5.0
_last_check: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # store -> time of the last check
_ACC_SQL = "_envoywatch_search_acc_sql"   # per Ibis backend (= connection): see _account_filter_sql

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
# words: anything but CJK, white space, punctuation, symbols, separators and controls
_WORD_RX = rf"[{_CJK}]+|[^{_CJK}\s\p{{P}}\p{{S}}\p{{Z}}\p{{C}}]+"
_CJK_RUN_RX = rf"^[{_CJK}]+$"
_TABLES = ("search_tokens", "search_docs", "search_accounts", "search_meta")


class SearchError(EnvoywatchError):
    pass


def _tokens_sql(expr: str) -> str:
    """SQL: the list of tokens of the text expression `expr` (duplicates kept). An ASCII text (as many bytes
    as characters) takes a shorter path with the same result: its words are the runs of [a-z0-9] (every other
    ASCII character is white space, punctuation, a symbol or a control) and it has no CJK runs to split
    (a third less time to index; tests/test_monitoring_search.py compares the two on every ASCII character)."""
    text = f"coalesce({expr}, '')"
    return f"CASE WHEN strlen({text}) = length({text}) THEN {_ascii_tokens_sql(expr)} ELSE {_unicode_tokens_sql(expr)} END"


def _clean_sql(expr: str) -> str:
    return f"regexp_replace(lower(coalesce({expr}, '')), 'https?://[^\\s]+', ' ', 'g')"


def _ascii_tokens_sql(expr: str) -> str:
    return f"regexp_extract_all({_clean_sql(expr)}, '[a-z0-9]+')"


def _unicode_tokens_sql(expr: str) -> str:
    words = f"regexp_extract_all({_clean_sql(expr)}, '{_WORD_RX}')"
    bigrams = ("CASE WHEN length(w) < 2 THEN [w] ELSE list_transform(range(1, length(w)), "
               "lambda i: substr(w, i::INTEGER, 2)) END")
    return (f"flatten(list_transform({words}, lambda w: CASE WHEN regexp_matches(w, '{_CJK_RUN_RX}') "
            f"THEN {bigrams} ELSE [w] END))")


def _posts_state(con) -> dict:
    n, texts, batch = con.execute("SELECT count(*), count(text), coalesce(max(batch_id), -1) FROM posts").fetchall()[0]
    return {"posts": str(n), "texts": str(texts), "max_batch": str(batch), "version": INDEX_VERSION}


def _meta(con) -> dict:
    if not table_exists(con, "search_meta"):
        return {}
    return dict(con.execute("SELECT key, value FROM search_meta").fetchall())


def _create(con, temp: str) -> None:
    con.execute(f"CREATE OR REPLACE {temp}TABLE search_docs (doc_id BIGINT, platform VARCHAR, post_id VARCHAR, "
                "account_id VARCHAR, acc INTEGER, created_at TIMESTAMP, kind VARCHAR, lang VARCHAR, len INTEGER, "
                "prow BIGINT)")
    con.execute(f"CREATE OR REPLACE {temp}TABLE search_tokens (token VARCHAR, doc_id BIGINT, acc INTEGER, "
                "ts TIMESTAMP, kind VARCHAR, tf INTEGER, dl INTEGER)")
    con.execute(f"CREATE OR REPLACE {temp}TABLE search_accounts (acc INTEGER, platform VARCHAR, account_id VARCHAR)")
    con.execute(f"CREATE OR REPLACE {temp}TABLE search_meta (key VARCHAR, value VARCHAR)")


SLICE_POSTS = 200_000   # posts tokenized per statement: bounds the memory of building the index


def _weight_sql(tf: str, dl: str, avgdl: float) -> str:
    """SQL: BM25's term-frequency part (REAL) of the postings columns `tf`, `dl`, bit for bit the weight index
    version 4 stored, so scores, and hence ranking and ties, are identical. Version 4 computed
    (tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / AVGDL)))::REAL with tf, dl BIGINT and the literal AVGDL:
    DECIMAL arithmetic, each DECIMAL cast to DOUBLE as value / 10^scale. This is the same sequence of DOUBLE
    operations written out (tf * 22 / 10 is that cast of the exact DECIMAL tf * 2.2, and so on), about twice
    as fast per posting as the DECIMAL form; tests/test_monitoring_search.py compares the two."""
    assert (K1, B) == (1.2, 0.75), "the DOUBLE form below spells out k1 = 1.2 and b = 0.75"
    a = _avgdl_double(float(avgdl))
    return (f"(({tf})::DOUBLE * 22 / 10 / (({tf})::DOUBLE + 1.2e0 * (0.25e0 + ({dl})::DOUBLE * 75 / 100 / "
            f"CAST('{a!r}' AS DOUBLE))))::REAL")


@functools.lru_cache(maxsize=64)
def _avgdl_double(avgdl: float) -> float:
    """avgdl as version 4's SQL read it: the literal f'{avgdl}' (a DECIMAL when written with a point), cast to
    DOUBLE by DuckDB (for 17 significant digits that is not always the float itself)."""
    with _tok_lock:
        return float(_tokenizer_con().execute(f"SELECT ({avgdl})::DOUBLE").fetchall()[0][0])


def _weight_sql_v4(tf: str, dl: str, avgdl: float) -> str:
    """Version 4's expression (DECIMAL arithmetic), kept for the test that `_weight_sql` equals it."""
    return f"({tf} * {K1 + 1} / ({tf} + {K1} * (1 - {B} + {B} * {dl} / {avgdl})))::REAL"


def _index_rows(con, where: str) -> int:
    """Tokenize the posts selected by `where` (SQL over posts p) into the index; returns the number of posts.

    Posts are indexed in slices of about SLICE_POSTS (by a hash of their key), one statement each: one
    statement over 1M posts held every token list and the whole (token, doc) sort at once (peak RSS 1.7 GB,
    measured); the slices bound it. Each post is tokenized once (BM25's avgdl is not needed here: the query
    weighs the postings, see `_weight_sql`)."""
    con.execute(f"""INSERT INTO search_accounts
        SELECT (SELECT coalesce(max(acc), 0) FROM search_accounts) + row_number() OVER (ORDER BY platform, account_id),
               platform, account_id
        FROM (SELECT DISTINCT platform, account_id FROM posts p WHERE {where}) n
        ANTI JOIN search_accounts USING (platform, account_id)""")
    total = con.execute(f"SELECT count(*) FROM posts p WHERE {where}").fetchall()[0][0]
    k = max(1, -(-int(total) // SLICE_POSTS))
    for i in range(k):
        part = where if k == 1 else f"({where}) AND hash(p.platform, p.post_id) % {k} = {i}"
        _index_slice(con, part)
    return int(total)


def _index_slice(con, where: str) -> None:
    first = int(con.execute("SELECT coalesce(max(doc_id), -1) + 1 FROM search_docs").fetchall()[0][0])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _ew_new_docs AS
        SELECT p.platform, p.post_id, p.account_id, a.acc,
               p.created_at, p.kind, p.lang, p.rowid AS prow, {_tokens_sql('p.text')} AS toks
        FROM posts p JOIN search_accounts a USING (platform, account_id) WHERE {where}""")
    # doc ids: `first` + the row's position in the temp table, in the order the join gave the posts (as
    # row_number() OVER () in this statement numbered them before: that window cost a quarter of it). The
    # position is the rowid less the first rowid (DuckDB numbers a new table's rows consecutively, from an
    # offset inside a transaction); checked, else numbered by a window over the rowids.
    lo, hi, n = con.execute("SELECT min(rowid), max(rowid), count(*) FROM _ew_new_docs").fetchall()[0]
    doc_id = (f"({first - int(lo)} + rowid)" if n and int(hi) - int(lo) + 1 == n
              else f"({first} - 1 + row_number() OVER (ORDER BY rowid))")
    con.execute(f"""INSERT INTO search_docs SELECT {doc_id}, platform, post_id, account_id, acc, created_at,
                   kind, lang, len(toks)::INTEGER, prow FROM _ew_new_docs""")
    # tf per post from a histogram of its token list (cheaper than a GROUP BY over all (token, doc) pairs);
    # sorted by token alone (the zone maps need nothing more, and results do not depend on the physical
    # order: the query orders by score, ts, doc_id; a second sort key cost ~20% of this statement)
    con.execute(f"""INSERT INTO search_tokens
        SELECT e.key, doc_id, acc, created_at, kind, e.value::INTEGER, dl::INTEGER
        FROM (SELECT {doc_id} AS doc_id, acc, created_at, kind, len(toks) AS dl,
                     unnest(map_entries(list_aggregate(toks, 'histogram'))) AS e FROM _ew_new_docs)
        ORDER BY e.key""")
    # no `finally`: a failed statement aborts the caller's transaction, whose ROLLBACK drops the temp table
    # (a DROP here would fail too and hide the error)
    con.execute("DROP TABLE _ew_new_docs")


READ_ONLY_TEMP_MAX = 100_000   # a read-only store without an index is indexed in memory only up to this size


class SearchIndexMissing(SearchError):
    """A read-only store without a (current-version) search index, too big to index in memory per process."""


def ensure_index(store, force: bool = False) -> dict:
    """Build or refresh the search index; returns its meta. Cheap when nothing changed (one count of posts,
    at most every few seconds per store).

    A read-only store never rebuilds a stored index: a stale one is searched as indexed (meta 'stale'); a
    missing one (or one of an older version) is built in TEMP tables of the connection when the store has at
    most READ_ONLY_TEMP_MAX posts, else SearchIndexMissing says how to build it."""
    con = store.con
    now = time.monotonic()
    if not force and store in _last_check and now - _last_check[store][0] < _CHECK_EVERY_S:
        return _last_check[store][1]
    state = _posts_state(con)
    meta = _meta(con)
    if not force and meta and all(meta.get(k) == v for k, v in state.items()):
        _last_check[store] = (now, meta)
        return meta
    read_only = getattr(store, "read_only", False)
    has_temp = table_exists(con, "search_docs", temporary=True)
    if read_only and not has_temp:
        if meta and meta.get("version") == INDEX_VERSION:
            # a read-only store cannot refresh its stored index, and rebuilding a big one per process would take
            # minutes: search what is indexed and say so (refresh: envoywatch search --reindex on a writable store)
            meta = {**meta, "stale": "1"}
            _last_check[store] = (now, meta)
            return meta
        if int(state["texts"]) > READ_ONLY_TEMP_MAX:
            raise SearchIndexMissing(
                f"the store has no search index{' of this version' if meta else ''} "
                f"({int(state['texts']):,} posts with text), and it is opened read-only", str(store.path),
                "build it once with: envoywatch --db STORE search --reindex (stop the dashboard first; "
                "imports keep it current afterwards)")
    con.execute("BEGIN TRANSACTION")
    try:
        meta = refresh_index(store, force=force, _state=state)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _last_check[store] = (time.monotonic(), meta)
    return meta


def refresh_index(store, force: bool = False, build: bool = True, _state: dict | None = None) -> dict:
    """Bring the index up to date inside the caller's transaction (importers call it in a transaction right
    after a file's, the demo inside its own): new posts are appended; a missing index (or one of
    another version) is built when `build`, else left missing. Returns the index meta ({} when none)."""
    con = store.con
    state = _state or _posts_state(con)
    meta = _meta(con)
    if not force and meta and all(meta.get(k) == v for k, v in state.items()):
        return meta
    read_only = getattr(store, "read_only", False)
    has_temp = table_exists(con, "search_docs", temporary=True)
    rebuild = force or not meta or meta.get("version") != INDEX_VERSION or (read_only and not has_temp)
    if rebuild and not build:
        return meta
    if rebuild:
        # read-only without a stored index: build one in TEMP tables of this connection
        _create(con, "TEMP " if read_only else "")
        _index_rows(con, "p.text IS NOT NULL")
        # BM25's mean document length over all posts (len::BIGINT: the same average as of the token lists)
        avgdl = float(con.execute("SELECT coalesce(avg(len::BIGINT), 0) FROM search_docs").fetchall()[0][0]) or 1.0
    else:
        # new posts, and posts whose text arrived later (a re-import filled a NULL): not indexed yet; avgdl
        # stays the last full build's (a query weighs old and new postings alike)
        avgdl = float(meta.get("avgdl") or 1.0)
        _index_rows(con, "p.text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM search_docs d "
                         "WHERE d.platform = p.platform AND d.post_id = p.post_id)")
    n = con.execute("SELECT count(*) FROM search_docs").fetchall()[0][0]
    meta = {**state, "docs": str(n), "avgdl": repr(avgdl),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    con.execute("DELETE FROM search_meta")
    con.executemany("INSERT INTO search_meta VALUES (?, ?)", list(meta.items()))
    _last_check.pop(store, None)
    return meta


def parse_query(store, query: str) -> tuple[list[str], list[str]]:
    """(distinct tokens, phrases) of a query: every token is required; "quoted text" must appear verbatim."""
    phrases = [p.strip() for p in re.findall(r'"([^"]+)"', query or "") if p.strip()]
    out = list(_query_tokens(query or ""))
    if len(out) > MAX_TERMS:
        raise SearchError(f"the query has {len(out)} words", "search", f"use at most {MAX_TERMS} words")
    return out, phrases


_tok_lock = threading.Lock()


@functools.lru_cache(maxsize=1024)
def _query_tokens(query: str) -> tuple[str, ...]:
    """The query's distinct tokens, by the index's own SQL tokenizer on a private in-memory connection."""
    with _tok_lock:
        con = _tokenizer_con()
        toks = con.execute(f"SELECT {_tokens_sql('$1')}", [query]).fetchall()[0][0] or []
    return tuple(dict.fromkeys(toks))


@functools.lru_cache(maxsize=1)
def _tokenizer_con():
    import duckdb

    return duckdb.connect()


def _account_filter_sql(store, f: Filters) -> str | None:
    """SQL selecting the account numbers (acc) the account-level filters allow; None when there are none.
    The Ibis compilation is cached: it costs more than the query. The cache lives on the store's Ibis backend,
    i.e. per connection: the SQL names the registry view that accounts_registry creates on that connection
    only (a process-wide cache handed another store's connection SQL naming a view it does not have)."""
    key = (f.states, f.categories, f.host_countries, f.registered_only, f.platforms, f.accounts)
    if not any(key):
        return None
    be = store.ibis()
    _acc_sql_cache = getattr(be, _ACC_SQL, None)
    if _acc_sql_cache is None:
        _acc_sql_cache = {}
        setattr(be, _ACC_SQL, _acc_sql_cache)
    if key not in _acc_sql_cache:
        acc = group_accounts(store, Filters(states=f.states, categories=f.categories, host_countries=f.host_countries,
                                            registered_only=f.registered_only, platforms=f.platforms,
                                            accounts=f.accounts))
        if f.states or f.categories or f.host_countries or f.registered_only:
            sql = be.compile(acc.select("platform", "account_id"))
            _acc_sql_cache[key] = (f"SELECT acc FROM search_accounts WHERE (platform, account_id) IN "
                                   f"(SELECT platform, account_id FROM ({sql}))")
        else:  # platform / account filters alone: no registry needed (accounts without an accounts row too)
            conds = []
            if f.platforms:
                conds.append("platform IN (" + ", ".join(_lit(v) for v in f.platforms) + ")")
            if f.accounts:
                conds.append("account_id IN (" + ", ".join(_lit(v) for v in f.accounts) + ")")
            _acc_sql_cache[key] = "SELECT acc FROM search_accounts WHERE " + " AND ".join(conds)
        if len(_acc_sql_cache) > 256:
            _acc_sql_cache.pop(next(iter(_acc_sql_cache)))
    return _acc_sql_cache[key]


def _lit(v: str) -> str:
    return "'" + str(v).replace("'", "''") + "'"


@analysis("search_posts")
def search_posts(store, query: str, f: Filters = Filters(), page: int = 1, per_page: int = 20) -> dict:
    """Ranked, filtered, paginated full-text search. Returns {total, page, per_page, rows, query_tokens, stale};
    rows are dicts with platform, post_id, account_id, handle, created_at, kind, lang, text (raw), score,
    snippet (plain text) and offsets [(start, end), ...] of the matches in the snippet."""
    page, per_page = max(1, int(page)), max(1, min(int(per_page), 500))
    meta = ensure_index(store)
    tokens, phrases = parse_query(store, query)
    empty = {"total": 0, "page": page, "per_page": per_page, "rows": [], "query_tokens": tokens,
             "stale": meta.get("stale") == "1"}
    if not tokens:
        return empty
    con = store.con
    df = dict(con.execute(" UNION ALL ".join("SELECT ?, count(*) FROM search_tokens WHERE token = ?" for _ in tokens),
                          [x for t in tokens for x in (t, t)]).fetchall())
    if min(df.values()) == 0:
        return empty
    n_docs = float(meta.get("docs") or 0)
    avgdl = float(meta.get("avgdl") or 1.0)
    order = sorted(tokens, key=lambda t: (df[t], t))           # rarest first: the smallest join input
    idf = {t: math.log(1 + (n_docs - df[t] + 0.5) / (df[t] + 0.5)) for t in tokens}
    conds, params = ["t0.token = ?"], [order[0]]
    acc_sql = _account_filter_sql(store, f)
    if acc_sql:
        # resolved first: a few thousand numbers at most, and a literal list plans better than a subquery
        accs = [r[0] for r in con.execute(acc_sql).fetchall()]
        if not accs:
            return empty
        conds.append(f"t0.acc IN ({', '.join(str(int(a)) for a in accs)})")
    if f.start is not None:
        conds.append("t0.ts >= ?")
        params.append(as_datetime(f.start))
    if f.end is not None:
        conds.append("t0.ts < ?")
        params.append(as_datetime(f.end))
    joins, score = [], [f"{_weight_sql('t0.tf', 't0.dl', avgdl)} * {idf[order[0]]!r}"]
    for i, t in enumerate(order[1:], 1):
        joins.append(f"JOIN (SELECT doc_id, tf, dl FROM search_tokens WHERE token = ?) t{i} ON t{i}.doc_id = t0.doc_id")
        score.append(f"{_weight_sql(f't{i}.tf', f't{i}.dl', avgdl)} * {idf[t]!r}")
    jparams = order[1:]
    doc_conds, dparams = [], []
    if f.kinds:
        conds.append(f"t0.kind IN ({', '.join('?' for _ in f.kinds)})")
        params.extend(f.kinds)
    for col, values in (("lang", f.languages),):
        if values:
            doc_conds.append(f"d.{col} IN ({', '.join('?' for _ in values)})")
            dparams.extend(values)
    for ph in phrases:
        doc_conds.append("contains(lower(p.text), ?)")
        dparams.append(ph.lower())
    djoin = ""
    if doc_conds:
        djoin = "JOIN search_docs d ON d.doc_id = t0.doc_id"
        if phrases:
            djoin += " JOIN posts p ON p.platform = d.platform AND p.post_id = d.post_id"
    matches = (f"SELECT t0.doc_id, t0.ts, {' + '.join(score)} AS score FROM search_tokens t0 {' '.join(joins)} "
               f"{djoin} WHERE {' AND '.join(conds + doc_conds)}")
    all_params = [*jparams, *params, *dparams]
    page_sql = f"ORDER BY score DESC, ts DESC, doc_id DESC LIMIT {per_page} OFFSET {(page - 1) * per_page}"
    if len(tokens) == 1 and len(conds) == 1 and not doc_conds:
        total = df[tokens[0]]
        hits = con.execute(f"SELECT * FROM ({matches}) {page_sql}", all_params).fetchall()
    else:   # the matches joined once: counted and ranked from one materialized result
        rows = con.execute(f"WITH m AS MATERIALIZED ({matches}) SELECT (SELECT count(*) FROM m), * FROM "
                           f"(SELECT * FROM m {page_sql})", all_params).fetchall()
        if not rows:   # no row on this page: the count alone
            total = con.execute(f"SELECT count(*) FROM ({matches})", all_params).fetchall()[0][0]
        else:
            total = rows[0][0]
        hits = [r[1:] for r in rows]
    if not total:
        return empty
    if not hits:
        return {**empty, "total": total}
    docs = {r[0]: r[1:] for r in con.execute(
        "SELECT doc_id, platform, post_id, account_id, created_at, kind, lang, prow FROM search_docs "
        "WHERE doc_id IN (SELECT unnest(?))", [[h[0] for h in hits]]).fetchall()}
    texts = _texts(con, list(docs.values()))
    handles = {(r[0], r[1]): r[2] for r in con.execute(
        "SELECT platform, account_id, handle FROM accounts WHERE account_id IN (SELECT unnest(?))",
        [sorted({d[2] for d in docs.values()})]).fetchall()}
    rows = []
    for doc_id, _ts, sc in hits:
        platform, post_id, account_id, created_at, kind, lang, _prow = docs[doc_id]
        text, handle = texts.get((platform, post_id)), handles.get((platform, account_id))
        snippet, offsets = make_snippet(text or "", tokens, phrases)
        rows.append({"platform": platform, "post_id": post_id, "account_id": account_id, "handle": handle,
                     "created_at": created_at, "kind": kind, "lang": lang, "text": text, "score": float(sc),
                     "snippet": snippet, "offsets": offsets})
    return {**empty, "total": total, "rows": rows}


def _texts(con, docs: list) -> dict:
    """{(platform, post_id): text} for a page of search_docs rows: by rowid (fast), checked against the key;
    posts whose rowid moved are looked up by key."""
    out = {}
    for rowid, platform, post_id, text in con.execute(
            "SELECT rowid, platform, post_id, text FROM posts WHERE rowid IN (SELECT unnest(?))",
            [[d[6] for d in docs]]).fetchall():
        out[(platform, post_id)] = text
    missing = [d for d in docs if (d[0], d[1]) not in out]
    if missing:
        for platform, post_id, text in con.execute(
                "SELECT platform, post_id, text FROM posts WHERE post_id IN (SELECT unnest(?))",
                [[d[1] for d in missing]]).fetchall():
            out.setdefault((platform, post_id), text)
    return out


# --- snippets ---------------------------------------------------------------------------------------

_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TEXT_WORD = re.compile(r"[^\W_]+(?:[\u0300-\u036f\u0900-\u0dff]*[^\W_]*)*", re.U)


def match_spans(text: str, tokens: list[str], phrases: list[str] = ()) -> list[tuple[int, int]]:
    """(start, end) character offsets in text of the words equal to a query token, of the query's CJK
    bigrams, and of the quoted phrases; merged and sorted."""
    low = text.lower()
    spans = []
    words = {t for t in tokens if not _CJK_CHAR.search(t)}
    if words:
        for m in _TEXT_WORD.finditer(low):
            seg = m.group(0)
            if _CJK_CHAR.search(seg):
                continue
            if seg in words:
                spans.append((m.start(), m.end()))
    for t in tokens:
        if _CJK_CHAR.search(t):
            i = low.find(t)
            while i >= 0:
                spans.append((i, i + len(t)))
                i = low.find(t, i + 1)
    for ph in phrases:
        p = ph.lower()
        i = low.find(p)
        while i >= 0 and p:
            spans.append((i, i + len(p)))
            i = low.find(p, i + 1)
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def make_snippet(text: str, tokens: list[str], phrases: list[str] = (),
                 width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """A plain-text window of the text around its first match, and the match offsets inside the window.
    Cut ends are marked with '…' (the offsets account for it). Never HTML."""
    spans = match_spans(text, tokens, phrases)
    if len(text) <= width:
        return text, spans
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 4, len(text) - width))
    end = min(len(text), start + width)
    pre = "…" if start > 0 else ""
    post = "…" if end < len(text) else ""
    shift = len(pre) - start
    inside = [(max(s, start) + shift, min(e, end) + shift) for s, e in spans if s < end and e > start]
    return pre + text[start:end] + post, inside
