"""Columnar fast reader for `takedown-tweets` (X transparency takedown tweets CSV).

The file is streamed with Arrow's CSV reader (all columns as strings, one record batch of ~16 MB at a
time: memory does not grow with the file) and each batch becomes Arrow tables for the store with
pyarrow.compute; Python runs only per distinct value where the record-by-record reader's exact string
semantics matter (list cells via `split_cell`, URL normalization, case folding) and per row only for
rows that list mentions (handles come from the text with the same regex).

It produces exactly what `takedown._read_tweets` produces. Whenever a file is not plain (a row Arrow and
Python's csv module might read differently, a value the strict vectorized parsers do not accept, a
repeated tweet id in one batch, a field over the size limit...), it raises UseSlowPath and the runner
reads the file again record by record.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from envoywatch.importers.base import ArrowBatch, UseSlowPath
from envoywatch.util.urls import mentions_in_text, url_parts

PLATFORM = "x"
CHUNK_BYTES = 16 << 20
# a conservative bound: a longer field (in bytes) sends the file to the exact reader, which knows the limits
MAX_FAST_FIELD_BYTES = 100_000

_USED = ("tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
         "user_profile_description", "user_profile_url", "follower_count", "following_count",
         "account_creation_date", "account_language", "tweet_language", "tweet_text", "tweet_time",
         "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid",
         "is_retweet", "retweet_userid", "retweet_tweetid", "quote_count", "reply_count", "like_count",
         "retweet_count", "hashtags", "urls", "user_mentions")
_INT_RE = r"^-?[0-9]{1,18}$"
_TIME_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"
TS = pa.timestamp("us")


# --- helpers shared with the flat v2 fast reader ---------------------------------------------------

def map_distinct(arr, fn, out_type):
    """fn applied once per distinct value of a string array (nulls stay null)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    d = arr.dictionary_encode()
    vals = [fn(v) for v in d.dictionary.to_pylist()]
    return pa.array(vals, type=out_type).take(d.indices)


def explode(lists):
    """A list array -> (parent row index, position in the list, flattened values)."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    total = int(lengths.sum())
    parents = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    return parents, pos, lists.flatten()


def nullify_empty(a):
    """`value or None` for a string column."""
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)


def all_true(mask) -> bool:
    return bool(pc.all(mask, skip_nulls=False).as_py() or False) if len(mask) else True


def any_true(mask) -> bool:
    return bool(pc.any(mask).as_py() or False) if len(mask) else False


def const(value, n, type_):
    return pc.fill_null(pa.nulls(n, type_), pa.scalar(value, type_))


def strict_ints(a, what: str):
    """'' -> NULL, '-?[0-9]{1,18}' -> int64; anything else (e.g. '1,234', '12.0') -> UseSlowPath."""
    empty = pc.equal(a, "")
    ok = pc.or_(empty, pc.match_substring_regex(a, _INT_RE))
    if not all_true(ok):
        raise UseSlowPath(f"{what} holds a value the fast reader does not parse")
    return pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), a), pa.int64())


def strict_times(a, what: str):
    """'' -> NULL; 'YYYY-MM-DD[ HH:MM[:SS]]' -> timestamp (as datetime.fromisoformat reads it)."""
    empty = pc.equal(a, "")
    ok = pc.or_(empty, pc.match_substring_regex(a, _TIME_RE))
    if not all_true(ok):
        raise UseSlowPath(f"{what} holds a time the fast reader does not parse")
    try:
        return pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), a), TS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise UseSlowPath(f"{what} holds an invalid date") from None


def pipelined(items, depth: int = 1):
    """Run an iterator in a background thread, `depth` items ahead: its Arrow/numpy work (which releases
    the GIL) overlaps with the consumer's (the runner's DuckDB writes). Exceptions come through in order."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(msg) -> bool:
        while not stop.is_set():
            try:
                q.put(msg, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # noqa: BLE001  (handed to the consumer)
            put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()

    th = threading.Thread(target=run, name="envoywatch-fast-read", daemon=True)
    th.start()
    try:
        while True:
            kind, val = q.get()
            if kind == "item":
                yield val
            elif kind == "end":
                return
            else:
                raise val
    finally:
        stop.set()
        th.join(timeout=30)


# --- takedown tweets -------------------------------------------------------------------------------

def fast_read_tweets(source):
    """The batches are built in a background thread while the runner writes the previous one."""
    return pipelined(_tweet_batches(source))


def _tweet_batches(source):
    import pyarrow.csv as pcsv

    from envoywatch.importers.takedown import _capture_time, operation_label, split_cell

    label = operation_label(source.name)
    cap = _capture_time(source)
    seen_users: set = set()
    url_cache: dict = {}
    tag_cache: dict = {}
    with source.open_binary() as fh:
        first = fh.readline()
        if first.startswith(b"\xef\xbb\xbf"):
            first = first[3:]
        try:
            first_text = first.decode("utf-8")
        except UnicodeDecodeError:
            raise UseSlowPath("the header is not UTF-8") from None
        if not first_text.strip() or '"' in first_text or "\r" in first_text.rstrip("\r\n"):
            raise UseSlowPath("an unusual header line")
        delim = "\t" if first_text.count("\t") > first_text.count(",") else ","
        header = [h.strip() for h in next(csv.reader([first_text], delimiter=delim))]
        if len(set(header)) != len(header) or any(c not in header for c in _USED):
            raise UseSlowPath("the header lacks columns the fast reader needs (or repeats one)")
        opts = (
            pcsv.ReadOptions(column_names=header, use_threads=False, block_size=CHUNK_BYTES * 2),
            pcsv.ParseOptions(delimiter=delim, newlines_in_values=True, ignore_empty_lines=True),
            pcsv.ConvertOptions(column_types={c: pa.string() for c in header}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False, include_columns=list(_USED), check_utf8=True))
        parsed = pipelined(_parse_csv(c, opts) for c in _row_chunks(fh))
        for t in parsed:
            if t.num_rows:
                tables = _tweet_tables(t, label, cap, seen_users, split_cell, url_cache, tag_cache)
                yield ArrowBatch(tables, t.num_rows)


def _row_chunks(fh):
    """Chunks of whole CSV rows (~CHUNK_BYTES): cut after a newline preceded by an even number of quotes
    (a newline inside a quoted field follows an odd number). A quote inside an unquoted field breaks the
    count: the cut then falls inside a quoted field and Arrow fails on the chunk (UseSlowPath)."""
    rest = b""
    while True:
        data = fh.read(CHUNK_BYTES)
        if not data:
            if rest:
                yield rest
            return
        data = rest + data if rest else data
        arr = np.frombuffer(data, dtype=np.uint8)
        nl = np.flatnonzero(arr == 10)
        quotes = np.flatnonzero(arr == 34)
        even = nl[(np.searchsorted(quotes, nl) & 1) == 0]
        if not len(even):
            rest = data
            continue
        cut = int(even[-1]) + 1
        yield data[:cut]
        rest = data[cut:]


def _parse_csv(chunk: bytes, opts):
    """Checks Arrow cannot make (CR not ending a line, NUL, UTF-8 in unused columns), then parse."""
    import pyarrow.csv as pcsv

    if b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n"):
        raise UseSlowPath("a carriage return that does not end a line")
    if b"\x00" in chunk:
        raise UseSlowPath("NUL bytes")
    if not chunk.isascii():
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            raise UseSlowPath("invalid UTF-8") from None
    if not chunk.strip(b"\r\n"):
        return pa.table({c: pa.array([], pa.string()) for c in _USED})
    try:
        return pcsv.read_csv(io.BytesIO(chunk), read_options=opts[0], parse_options=opts[1], convert_options=opts[2])
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise UseSlowPath(f"Arrow cannot read the CSV ({str(exc)[:200]})") from None


def _tweet_tables(t: pa.Table, label: str, cap, seen_users: set, split_cell, url_cache, tag_cache) -> dict:
    n = t.num_rows
    col = {c: t.column(c).combine_chunks() for c in _USED}
    for c, a in col.items():
        if (pc.max(pc.binary_length(a)).as_py() or 0) > MAX_FAST_FIELD_BYTES:
            raise UseSlowPath(f"a very long {c} field")
    pid, uid = col["tweetid"], col["userid"]
    if any_true(pc.equal(pid, "")) or any_true(pc.equal(uid, "")):
        raise UseSlowPath("a row without tweetid or userid")
    if not all_true(pc.string_is_ascii(pid)):
        raise UseSlowPath("a non-ASCII tweetid")
    if pc.count_distinct(pid).as_py() != n:
        raise UseSlowPath("a tweet id repeated within one batch")
    created = strict_times(col["tweet_time"], "tweet_time")
    if created.null_count:
        raise UseSlowPath("a row without tweet_time")
    acc_created = strict_times(col["account_creation_date"], "account_creation_date")
    followers = strict_ints(col["follower_count"], "follower_count")
    following = strict_ints(col["following_count"], "following_count")
    likes = strict_ints(col["like_count"], "like_count")
    reposts = strict_ints(col["retweet_count"], "retweet_count")
    replies = strict_ints(col["reply_count"], "reply_count")
    quotes = strict_ints(col["quote_count"], "quote_count")

    s_null = pa.scalar(None, pa.string())
    platform = const(PLATFORM, n, pa.string())
    reply_to = nullify_empty(col["in_reply_to_tweetid"])
    reply_user = nullify_empty(col["in_reply_to_userid"])
    quoted = nullify_empty(col["quoted_tweet_tweetid"])
    is_rt = pc.fill_null(pc.match_substring_regex(col["is_retweet"], "^[Tt1]"), False)
    has_q = pc.is_valid(quoted)
    has_r = pc.is_valid(reply_to)
    kind = pc.if_else(is_rt, "repost", pc.if_else(has_q, "quote", pc.if_else(has_r, "reply", "post")))
    ref = pc.if_else(is_rt, nullify_empty(col["retweet_tweetid"]),
                     pc.if_else(has_q, quoted, pc.if_else(has_r, reply_to, s_null)))
    ref_author = pc.if_else(is_rt, nullify_empty(col["retweet_userid"]),
                            pc.if_else(has_q, s_null, pc.if_else(has_r, reply_user, s_null)))
    not_rt = pc.invert(is_rt)
    posts = pa.table({
        "platform": platform, "post_id": pid, "account_id": uid, "created_at": created,
        "text": col["tweet_text"], "lang": nullify_empty(col["tweet_language"]), "kind": kind,
        "ref_post_id": ref, "ref_account_id": ref_author,
        "reply_to_post_id": pc.if_else(not_rt, reply_to, s_null),
        "reply_to_account_id": pc.if_else(not_rt, reply_user, s_null),
        "quoted_post_id": pc.if_else(not_rt, quoted, s_null),
        "client": nullify_empty(col["tweet_client_name"]),
        "url": pc.if_else(pc.match_substring_regex(pid, "^[0-9]+$"),
                          pc.binary_join_element_wise("https://x.com/i/status/", pid, ""), s_null),
        "observed": const("primary", n, pa.string()),
    })
    cap_col = const(cap, n, TS)
    metrics = pa.table({"platform": platform, "post_id": pid, "captured_at": cap_col, "likes": likes,
                        "reposts": reposts, "replies": replies, "quotes": quotes})

    # the author once per file: the first row of each user
    idx = pa.array(np.arange(n, dtype=np.int64))
    firsts = pa.table({"u": uid, "i": idx}).group_by("u").aggregate([("i", "min")])
    keep = [i for u, i in zip(firsts.column("u").to_pylist(), firsts.column("i_min").to_pylist())
            if u not in seen_users]
    seen_users.update(firsts.column("u").to_pylist())
    keep.sort()
    rows = pa.array(keep, pa.int64())
    m = len(keep)
    accounts = pa.table({
        "platform": const(PLATFORM, m, pa.string()), "account_id": uid.take(rows),
        "handle": nullify_empty(col["user_screen_name"].take(rows)),
        "display_name": nullify_empty(col["user_display_name"].take(rows)),
        "description": nullify_empty(col["user_profile_description"].take(rows)),
        "created_at": acc_created.take(rows),
        "location": nullify_empty(col["user_reported_location"].take(rows)),
        "url": nullify_empty(col["user_profile_url"].take(rows)),
        "lang": nullify_empty(col["account_language"].take(rows)),
        "labels": pa.array([[label]] * m, pa.list_(pa.string())),
    })
    snaps = pa.table({"platform": const(PLATFORM, m, pa.string()), "account_id": uid.take(rows),
                      "captured_at": const(cap, m, TS), "followers": followers.take(rows),
                      "following": following.take(rows)})

    out = {"accounts": accounts, "account_snapshots": snaps, "posts": posts, "post_metrics": metrics}

    # links: split each distinct cell once (split_cell itself), normalize each distinct URL once
    cells = col["urls"]
    if any_true(pc.not_equal(cells, "[]")) and any_true(pc.not_equal(cells, "")):
        lists = map_distinct(cells, split_cell, pa.list_(pa.string()))
        parents, pos, vals = explode(lists)
        if len(vals):
            def parts(u):
                r = url_cache.get(u)
                if r is None:
                    if len(url_cache) > 200_000:
                        url_cache.clear()
                    r = url_cache[u] = url_parts(u)
                return r
            pt = map_distinct(vals, parts, pa.struct([("n", pa.string()), ("h", pa.string()), ("d", pa.string())]))
            k = len(vals)
            out["post_urls"] = pa.table({
                "platform": const(PLATFORM, k, pa.string()), "post_id": pid.take(pa.array(parents)),
                "position": pa.array(pos.astype(np.int32)), "url": vals,
                "expanded_url": pa.nulls(k, pa.string()), "normalized_url": pt.field("n"),
                "domain": pt.field("d"), "host": pt.field("h"),
            })
    cells = col["hashtags"]
    if any_true(pc.not_equal(cells, "[]")) and any_true(pc.not_equal(cells, "")):
        def tags(v):
            r = tag_cache.get(v)
            if r is None:
                seen, r = set(), []
                for tag in split_cell(v):
                    tag = tag.lstrip("#")
                    norm = tag.casefold()
                    if tag and norm not in seen:
                        seen.add(norm)
                        r.append((tag, norm))
                if len(tag_cache) > 200_000:
                    tag_cache.clear()
                tag_cache[v] = r
            return r
        lists = map_distinct(cells, tags, pa.list_(pa.struct([("t", pa.string()), ("n", pa.string())])))
        parents, pos, vals = explode(lists)
        if len(vals):
            k = len(vals)
            out["post_hashtags"] = pa.table({
                "platform": const(PLATFORM, k, pa.string()), "post_id": pid.take(pa.array(parents)),
                "tag": vals.field("t"), "tag_norm": vals.field("n")})
    cells = col["user_mentions"]
    has = pc.and_(pc.not_equal(cells, ""), pc.not_equal(cells, "[]"))
    if any_true(has):
        sel = pc.indices_nonzero(has)
        rows_out = []
        for p, cell, text in zip(pid.take(sel).to_pylist(), cells.take(sel).to_pylist(),
                                 col["tweet_text"].take(sel).to_pylist()):
            ids = split_cell(cell)
            handles = mentions_in_text(text)
            pair = len(handles) == len(ids)
            seen = set()
            for i, h in enumerate(handles):
                norm = h.lower()
                if norm not in seen:
                    seen.add(norm)
                    rows_out.append((p, h, norm, ids[i] if pair else None))
        if rows_out:
            k = len(rows_out)
            ps, hs, ns, ids = zip(*rows_out)
            out["post_mentions"] = pa.table({
                "platform": const(PLATFORM, k, pa.string()), "post_id": pa.array(ps, pa.string()),
                "handle": pa.array(hs, pa.string()), "handle_norm": pa.array(ns, pa.string()),
                "account_id": pa.array(ids, pa.string())})
    return out
