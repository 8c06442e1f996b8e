"""Columnar fast reader for `x-v2-flat` (twarc2-flattened X API v2 tweets, one per line).

The file is read in chunks of whole lines (32 MB: memory does not grow with the file); each chunk is
parsed by Arrow's JSON reader against an explicit schema of the fields the record-by-record normalizer
(`normalize.flat_tweet`) reads, down to the depth twarc inlines referenced tweets (a tweet, its
referenced tweets, theirs; the next level must be bare references). The rows it produces are those of
`flat_tweet`, in the same order semantics: within a chunk, every table's rows are ordered as the
record-by-record reader emits them (line, then the depth-first order of flat_tweet), and repeats of a
key are merged as the store merges them (posts and accounts: first non-NULL value per column, 'primary'
wins; snapshots, metrics and child rows: first row). Users are emitted once per (id, capture time) per
file, as flat_tweet's `users_seen` does.

Anything the columnar code does not cover raises UseSlowPath and the runner reads the file again
record by record: a line that is not a JSON object, invalid UTF-8, blank lines, a field of another type,
NaN or Infinity,
a deeper inlined tweet, a reference without id or of an unknown type, two references of one type,
public_metrics without the known counts, and lines long enough to hold an over-long field.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from envoywatch.importers.base import MAX_FIELD_CHARS, ArrowBatch, UseSlowPath
from envoywatch.importers.takedown_fast import all_true, any_true, const, map_distinct, pipelined
from envoywatch.util.urls import url_parts

PLATFORM = "x"
CHUNK_BYTES = 32 << 20
TS = pa.timestamp("us")
S, I, B = pa.string(), pa.int64(), pa.bool_()

_USER_FIELDS = [
    ("id", S), ("username", S), ("name", S), ("description", S), ("created_at", S), ("location", S),
    ("url", S), ("verified", B), ("verified_type", S), ("protected", B), ("profile_image_url", S),
    ("public_metrics", pa.struct([("followers_count", I), ("following_count", I), ("tweet_count", I),
                                  ("listed_count", I)])),
    ("entities", pa.struct([("url", pa.struct([("urls", pa.list_(pa.struct([("expanded_url", S)])))]))])),
]
USER = pa.struct(_USER_FIELDS)
_ANY_LIST = pa.list_(pa.struct([("start", I)]))
ENT = pa.struct([
    ("urls", pa.list_(pa.struct([("url", S), ("expanded_url", S)]))),
    ("hashtags", pa.list_(pa.struct([("tag", S)]))),
    ("mentions", pa.list_(USER)),
    ("annotations", _ANY_LIST), ("cashtags", _ANY_LIST),
])
PM = pa.struct([("like_count", I), ("retweet_count", I), ("reply_count", I), ("quote_count", I),
                ("impression_count", I)])
MEDIA = pa.list_(pa.struct([("type", S), ("url", S), ("preview_image_url", S), ("media_key", S), ("alt_text", S)]))
BARE_REF = pa.struct([("type", S), ("id", S), ("author_id", S), ("created_at", S)])


def _tweet_type(depth: int) -> pa.DataType:
    fields = [("id", S), ("type", S), ("author_id", S), ("created_at", S), ("text", S), ("lang", S),
              ("conversation_id", S), ("source", S), ("in_reply_to_user_id", S), ("author", USER),
              ("in_reply_to_user", USER), ("public_metrics", PM), ("entities", ENT),
              ("note_tweet", pa.struct([("text", S), ("entities", ENT)])),
              ("attachments", pa.struct([("media", MEDIA)])),
              ("referenced_tweets", pa.list_(_tweet_type(depth + 1) if depth < 2 else BARE_REF))]
    if depth == 0:
        fields.append(("__twarc", pa.struct([("retrieved_at", S)])))
    return pa.struct(fields)


SCHEMA = pa.schema(list(_tweet_type(0)))
_REF_TYPES = ("retweeted", "quoted", "replied_to")
_ISO_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3}|\.[0-9]{6})?Z$"
_NAME_NULL = re.compile(rb'"name"\s*:\s*null')
_NAN = re.compile(rb'[:,\[]\s*-?(NaN|Infinity)')
# order of a node's rows in flat_tweet: author, referenced subtrees, in_reply_to_user, mentions, the post
SLOT_AUTHOR, SLOT_IRU, SLOT_MENTION, SLOT_POST = 0, 1500, 1600, 4095
MAX_REFS, MAX_MENTIONS = 1000, SLOT_POST - SLOT_MENTION - 1


def _truthy(a):
    """`bool(value)` for a string column (NULL and '' are false)."""
    return pc.fill_null(pc.not_equal(a, ""), False)


def _idx(mask):
    return pc.indices_nonzero(mask)


def _scatter(n: int, at: np.ndarray, values: pa.Array) -> pa.Array:
    """An array of n values: values[j] at position at[j] (the last one where at repeats), NULL elsewhere."""
    pos = np.full(n, -1, dtype=np.int64)
    pos[at] = np.arange(len(at), dtype=np.int64)
    return values.take(pa.array(pos, mask=pos < 0))


def _explode(lists):
    """list array -> (parent index, position, flat values); NULL elements -> UseSlowPath."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    parents = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
    vals = lists.flatten()
    if vals.null_count:
        raise UseSlowPath("a list holds a null element")
    return parents, pos, vals


def _iso(a, what):
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    ok = pc.or_kleene(pc.is_null(a), pc.match_substring_regex(a, _ISO_RE))
    if not all_true(ok):
        raise UseSlowPath(f"{what} in a form the fast reader does not parse")
    try:
        return pc.cast(pc.utf8_slice_codeunits(a, 0, -1), TS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise UseSlowPath(f"an invalid {what}") from None


def _metrics_present(st, names, what):
    """flat_tweet's `if pm:` for a struct column: valid with a known count; a valid struct without any
    known count is {} or unknown keys only, which Arrow cannot tell apart: UseSlowPath."""
    valid = pc.is_valid(st)
    anyf = pc.is_valid(st.field(names[0]))
    for nm in names[1:]:
        anyf = pc.or_(anyf, pc.is_valid(st.field(nm)))
    if any_true(pc.and_(valid, pc.invert(anyf))):
        raise UseSlowPath(f"{what} without any known count")
    return pc.fill_null(pc.and_(valid, anyf), False)


class _Ctx:
    def __init__(self, default_cap):
        self.default_cap = default_cap
        self.cap_ids: dict = {}
        self.cap_values: list = []
        self.cap_of_string: dict = {}
        self.users_seen: set = set()
        self.url_cache: dict = {}

    def cap_id(self, s):
        from envoywatch.platforms.x.normalize import capture_time

        c = self.cap_of_string.get(s)
        if c is None:
            t = capture_time({"__twarc": {"retrieved_at": s}}, self.default_cap) if s else self.default_cap
            c = self.cap_ids.get(t)
            if c is None:
                c = self.cap_ids[t] = len(self.cap_values)
                self.cap_values.append(t)
            if len(self.cap_of_string) < 1_000_000:
                self.cap_of_string[s] = c
        return c


def _chunks(source):
    """Whole-line chunks of the file (BOM dropped)."""
    with source.open_binary() as fh:
        rest = b""
        first = True
        while True:
            data = fh.read(CHUNK_BYTES)
            if not data:
                if rest:
                    yield rest
                break
            data = rest + data if rest else data
            if first:
                first = False
                if data.startswith(b"\xef\xbb\xbf"):
                    data = data[3:]
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            yield data[:cut + 1]
            rest = data[cut + 1:]


def fast_read_flat(source):
    """Three stages in step: a thread reads and parses chunk k+2 (Arrow, without the GIL), another checks
    its bytes and builds the tables of chunk k+1, while the runner writes chunk k."""
    ctx = _Ctx(source.captured_at)
    parsed = pipelined(_parsed_chunks(source))
    return pipelined(ArrowBatch(_tables(_checked(t, chunk), ctx), t.num_rows) for t, chunk in parsed)


def _short_lines(chunk: bytes) -> bool:
    """True when every line of the chunk is surely shorter than MAX_FIELD_CHARS: each aligned window of
    MAX_FIELD_CHARS // 2 bytes holds a newline (a run of MAX_FIELD_CHARS bytes without one would contain a
    whole window). A few memchr calls instead of locating every newline (numpy: ~40 ms per 32 MB chunk);
    when False, the exact check decides."""
    h = MAX_FIELD_CHARS // 2
    return all(chunk.find(b"\n", i, i + h) >= 0 for i in range(0, len(chunk), h))


def _check_bytes(chunk: bytes) -> int:
    """Line count of a chunk, after the checks that JSON reading by Arrow cannot make."""
    nl = chunk.count(b"\n")
    lines = nl + (0 if chunk.endswith(b"\n") else 1)
    if not chunk.isascii():
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            raise UseSlowPath("invalid UTF-8") from None
    if len(chunk) > MAX_FIELD_CHARS and not _short_lines(chunk):
        arr = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(arr == 10)
        if len(ends) and (np.diff(ends).max(initial=0) > MAX_FIELD_CHARS or ends[0] > MAX_FIELD_CHARS
                          or len(chunk) - ends[-1] > MAX_FIELD_CHARS):
            raise UseSlowPath("a line long enough to hold an over-long field")
        if not len(ends):
            raise UseSlowPath("a line long enough to hold an over-long field")
    if (b"NaN" in chunk or b"Infinity" in chunk) and _NAN.search(chunk):
        raise UseSlowPath("NaN/Infinity (not JSON)")
    if b"null" in chunk and _NAME_NULL.search(chunk):
        raise UseSlowPath('"name": null (flat_tweet tells it from an absent name)')
    return lines


def _parsed_chunks(source):
    """(table, chunk) per chunk of lines; the bytes are checked in the next stage (`_checked`), which has
    less to do than this one (parsing is most of the reader's time)."""
    for chunk in _chunks(source):
        yield _parse(chunk), chunk


def _checked(t: pa.Table, chunk: bytes) -> pa.Table:
    if t.num_rows != _check_bytes(chunk):
        raise UseSlowPath("blank lines or several JSON values on one line")
    return t


def _parse(chunk: bytes) -> pa.Table:
    """The chunk's lines as a table of SCHEMA. (DuckDB's read_json is no faster once its lenient scalar
    conversions are undone: measured 0.27 against Arrow's 0.25 CPU-s per 32 MB; see docs/developing.md.)"""
    import pyarrow.json as pj

    try:
        return pj.read_json(io.BytesIO(chunk),
                            read_options=pj.ReadOptions(use_threads=False, block_size=len(chunk) + 1),
                            parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        raise UseSlowPath(f"Arrow cannot read a line ({str(exc)[:200]})") from None


# --- the tree of inlined tweets --------------------------------------------------------------------

def _one(col):
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _nodes(t: pa.Table, ctx: _Ctx):
    """Per depth: the tweets (struct array), their line, order key base and the shift of their slots."""
    n = t.num_rows
    cols = [_one(t.column(f.name)) for f in SCHEMA]
    top = pa.StructArray.from_arrays(cols, fields=list(SCHEMA))
    tw = cols[SCHEMA.get_field_index("__twarc")].field("retrieved_at")
    caps_d = tw.dictionary_encode()
    ids = [ctx.cap_id(s) for s in caps_d.dictionary.to_pylist()]
    cap_idx = pa.array(ids, pa.int64()).take(caps_d.indices)
    if cap_idx.null_count:
        cap_idx = pc.fill_null(cap_idx, ctx.cap_id(None))
    line = np.arange(n, dtype=np.int64)
    levels = [(top, line, line << 36, 24)]
    arr, lns, base, shift = top, line, line << 36, 24
    for depth in (1, 2, 3):
        parents, pos, vals = _explode(arr.field("referenced_tweets"))
        if len(pos) and pos.max() >= MAX_REFS:
            raise UseSlowPath("a tweet with very many references")
        _check_refs(vals, parents, len(arr))
        if depth == 3:
            deep = pc.and_(_truthy(vals.field("author_id")), _truthy(vals.field("created_at")))
            if any_true(deep):
                raise UseSlowPath("referenced tweets inlined deeper than the fast reader reads")
            break
        # flat_tweet recurses into a reference that has author_id and created_at
        inc = pc.and_(_truthy(vals.field("author_id")), _truthy(vals.field("created_at")))
        keep = np.asarray(inc.to_numpy(zero_copy_only=False), dtype=bool)
        child_base = base[parents] | ((pos + 1) << shift)
        sel = pa.array(np.flatnonzero(keep))
        arr = vals.take(sel)
        lns = lns[parents][keep]
        base = child_base[keep]
        shift -= 12
        levels.append((arr, lns, base, shift))
        if not len(arr):
            break
    return levels, cap_idx


def _check_refs(vals, parents, n_parents):
    if not len(vals):
        return
    typ, rid = vals.field("type"), vals.field("id")
    if not all_true(pc.is_in(typ, pa.array(_REF_TYPES))) or not all_true(_truthy(rid)):
        raise UseSlowPath("a reference without id or of an unknown type")
    code = pc.index_in(typ, pa.array(_REF_TYPES)).to_numpy(zero_copy_only=False).astype(np.int64)
    key = parents * 4 + code
    if len(np.unique(key)) != len(key):
        raise UseSlowPath("two references of one type in one tweet")


def _kinds(arr):
    """(kind, ref, reply_to, quoted, ref_author) of each tweet, as _refs and _flat_into compute them."""
    n = len(arr)
    s_null = pa.scalar(None, S)
    parents, pos, vals = _explode(arr.field("referenced_tweets"))
    typ, rid = vals.field("type"), vals.field("id")
    by = {}
    for name in _REF_TYPES:
        m = np.asarray(pc.equal(typ, name).to_numpy(zero_copy_only=False), dtype=bool) if len(vals) else np.zeros(0, bool)
        by[name] = _scatter(n, parents[m], rid.filter(pa.array(m))) if m.any() else pa.nulls(n, S)
    rt, q, r = by["retweeted"], by["quoted"], by["replied_to"]
    has_rt, has_q, has_r = pc.is_valid(rt), pc.is_valid(q), pc.is_valid(r)
    kind = pc.if_else(has_rt, "repost", pc.if_else(has_q, "quote", pc.if_else(has_r, "reply", "post")))
    ref = pc.if_else(has_rt, rt, pc.if_else(has_q, q, r))
    reply_to = pc.if_else(has_rt, s_null, r)
    quoted = pc.if_else(has_rt, s_null, q)
    # ref_author: author_id of the last reference whose id is the kind's reference
    if len(vals):
        match = pc.fill_null(pc.equal(rid, ref.take(pa.array(parents))), False)
        m = np.asarray(match.to_numpy(zero_copy_only=False), dtype=bool)
        ref_author = _scatter(n, parents[m], vals.field("author_id").filter(pa.array(m))) if m.any() else pa.nulls(n, S)
        # a matching reference without author_id gives None: _scatter puts its NULL
    else:
        ref_author = pa.nulls(n, S)
    iru_id = arr.field("in_reply_to_user_id")
    ref_author = pc.if_else(pc.and_(pc.is_null(ref_author), pc.equal(kind, "reply")), iru_id, ref_author)
    return kind, ref, reply_to, quoted, ref_author


def _first_elem(lists, field):
    """lists[i][0][field] or NULL (for user.entities.url.urls[0].expanded_url)."""
    parents, pos, vals = _explode(lists)
    m = pos == 0
    return _scatter(len(lists), parents[m], vals.field(field).filter(pa.array(m)))


def _nz(a):
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, a.type), a)


def _user_rows(u, key, cap_idx):
    """v2_user_into for a struct array of user objects (rows without id dropped)."""
    ok = _truthy(u.field("id"))
    sel = _idx(ok)
    u = u.take(sel)
    key = pa.array(np.asarray(key)).take(sel)
    cap_idx = cap_idx.take(sel)
    url = _nz(u.field("url"))
    exp = _first_elem(u.field("entities").field("url").field("urls"), "expanded_url")
    url = pc.if_else(_truthy(exp), exp, url)
    created = u.field("created_at")
    pm = u.field("public_metrics")
    has_pm = _metrics_present(pm, ["followers_count", "following_count", "tweet_count", "listed_count"],
                              "a user's public_metrics")
    return pa.table({
        "key": key, "cap": cap_idx, "account_id": u.field("id"), "handle": u.field("username"),
        "display_name": u.field("name"), "description": _nz(u.field("description")),
        "created_at": _iso(pc.if_else(_truthy(created), created, pa.scalar(None, S)), "user created_at"),
        "location": _nz(u.field("location")), "url": url, "verified": u.field("verified"),
        "verified_type": _nz(u.field("verified_type")), "protected": u.field("protected"),
        "profile_image_url": _nz(u.field("profile_image_url")),
        "has_pm": has_pm, "followers": pm.field("followers_count"), "following": pm.field("following_count"),
        "posts_count": pm.field("tweet_count"), "listed_count": pm.field("listed_count"),
    })


def _codes(a) -> np.ndarray:
    """Integer codes of a column's values (equal values, equal codes; NULL has its own code)."""
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if pa.types.is_integer(a.type):
        return np.asarray(a.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64) + 1
    d = a.dictionary_encode()
    return np.asarray(d.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64) + 1


def _first_idx(*codes) -> np.ndarray:
    """Positions of the first row of each distinct key (codes of the key's columns), ascending."""
    key = codes[0].astype(np.int64)
    for c in codes[1:]:
        key = key * (int(c.max()) + 1 if len(c) else 1) + c
    _, first = np.unique(key, return_index=True)
    first.sort()
    return first


def _first_rows(t: pa.Table, keys: list[str]) -> pa.Table:
    """The first row (by t's order) of each distinct key, in t's order."""
    if not t.num_rows:
        return t
    first = _first_idx(*[_codes(t.column(k)) for k in keys])
    if len(first) == t.num_rows:
        return t
    return t.take(pa.array(first))


def _coalesce_first(t: pa.Table, keys: list[str], cols: list[str], primary_col: str | None = None) -> pa.Table:
    """Merge repeats of a key: first non-NULL value of each column (t in emit order)."""
    aggs = [(c, "first") for c in cols if c != primary_col]
    if primary_col:
        aggs.append((primary_col, "min"))  # 'primary' < 'referenced'
    g = t.group_by(keys, use_threads=False).aggregate(aggs)
    ren = {f"{c}_first": c for c in cols}
    if primary_col:
        ren[f"{primary_col}_min"] = primary_col
    return g.rename_columns([ren.get(c, c) for c in g.column_names])


def _tables(t: pa.Table, ctx: _Ctx) -> dict:
    levels, cap_idx_lines = _nodes(t, ctx)
    if not all_true(_truthy(levels[0][0].field("id"))) or not all_true(_truthy(levels[0][0].field("author_id"))) \
            or not all_true(_truthy(levels[0][0].field("created_at"))):
        raise UseSlowPath("a tweet without id, author_id or created_at")
    users, posts, metrics, urls, tags, ments, media = [], [], [], [], [], [], []
    srcs: list = []

    def add_users(u, keys, caps):
        """Candidates: (order key, id, capture time, where the object is); rows are built for the chosen."""
        ok = _truthy(u.field("id"))
        sel = _idx(ok)
        if not len(sel):
            return
        srcs.append(u)
        users.append(pa.table({"key": pa.array(np.asarray(keys)).take(sel), "account_id": u.field("id").take(sel),
                               "cap": caps.take(sel), "src": const(len(srcs) - 1, len(sel), pa.int32()),
                               "idx": sel.cast(pa.int64())}))

    for depth, (arr, lns, base, shift) in enumerate(levels):
        if not len(arr):
            continue
        if not all_true(_truthy(arr.field("id"))):
            raise UseSlowPath("a referenced tweet without id")
        cap_idx = cap_idx_lines.take(pa.array(lns))
        slot = lambda s: base | (np.int64(s) << shift)  # noqa: E731
        # users: author, in_reply_to_user, mentioned users that flatten inlined (id and a name)
        add_users(arr.field("author"), slot(SLOT_AUTHOR), cap_idx)
        add_users(arr.field("in_reply_to_user"), slot(SLOT_IRU), cap_idx)
        note = arr.field("note_tweet")
        note_text = note.field("text")
        use_note = _truthy(note_text)
        text = pc.if_else(use_note, note_text, arr.field("text"))
        note_ent = note.field("entities")
        ne_any = pc.is_valid(note_ent.field("urls"))
        for f in ("hashtags", "mentions", "annotations", "cashtags"):
            ne_any = pc.or_(ne_any, pc.is_valid(note_ent.field(f)))
        if any_true(pc.and_(use_note, pc.and_(pc.is_valid(note_ent), pc.invert(ne_any)))):
            raise UseSlowPath("note_tweet.entities without known keys")
        use_ne = pc.fill_null(pc.and_(use_note, ne_any), False)
        ent = arr.field("entities")

        def ent_list(name):
            return pc.if_else(use_ne, note_ent.field(name), ent.field(name))

        # mentions: users (those with id and name), then mention rows
        # mentioned users come from the tweet's own entities (_flat_into), even where a note_tweet's
        # entities give the mention rows (v2_tweet_into)
        upar_, upos_, uvals_ = _explode(ent.field("mentions"))
        if len(upos_) and upos_.max() >= MAX_MENTIONS:
            raise UseSlowPath("a tweet with very many mentions")
        if len(uvals_):
            mkey = base[upar_] | ((SLOT_MENTION + upos_) << shift)
            inl = pc.and_(_truthy(uvals_.field("id")), pc.is_valid(uvals_.field("name")))
            isel = _idx(inl)
            add_users(uvals_.take(isel), mkey[np.asarray(isel)], cap_idx.take(pa.array(upar_)).take(isel))
        mpar, mpos, mvals = _explode(ent_list("mentions"))
        kind, ref, reply_to, quoted, ref_author = _kinds(arr)
        pid = arr.field("id")
        author = arr.field("author")
        handle = pc.if_else(pc.is_valid(author), author.field("username"), pa.scalar(None, S))
        url = pc.if_else(_truthy(handle),
                         pc.binary_join_element_wise("https://x.com/", handle, "/status/", pid, ""),
                         pc.binary_join_element_wise("https://x.com/i/status/", pid, ""))
        n = len(arr)
        pkey = slot(SLOT_POST)
        posts.append(pa.table({
            "key": pkey, "post_id": pid, "account_id": arr.field("author_id"),
            "created_at": _iso(arr.field("created_at"), "created_at"), "text": text, "lang": arr.field("lang"),
            "kind": kind, "ref_post_id": ref, "ref_account_id": ref_author, "reply_to_post_id": reply_to,
            "reply_to_account_id": arr.field("in_reply_to_user_id"), "quoted_post_id": quoted,
            "conversation_id": arr.field("conversation_id"), "client": arr.field("source"), "url": url,
            "observed": const("primary" if depth == 0 else "referenced", n, S),
        }))
        pm = arr.field("public_metrics")
        has_pm = _metrics_present(pm, ["like_count", "retweet_count", "reply_count", "quote_count",
                                       "impression_count"], "a tweet's public_metrics")
        sel = _idx(has_pm)
        if len(sel):
            metrics.append(pa.table({
                "key": pa.array(pkey).take(sel), "post_id": pid.take(sel), "cap": cap_idx.take(sel),
                "likes": pm.field("like_count").take(sel), "reposts": pm.field("retweet_count").take(sel),
                "replies": pm.field("reply_count").take(sel), "quotes": pm.field("quote_count").take(sel),
                "views": pm.field("impression_count").take(sel)}))
        # links: those with a url, numbered among themselves
        upar, upos, uvals = _explode(ent_list("urls"))
        if len(uvals):
            ok = np.asarray(_truthy(uvals.field("url")).to_numpy(zero_copy_only=False), dtype=bool)
            upar, uvals = upar[ok], uvals.filter(pa.array(ok))
            if len(uvals):
                starts = np.r_[0, np.flatnonzero(np.diff(upar)) + 1]
                grp = np.repeat(starts, np.diff(np.r_[starts, len(upar)]))
                rank = np.arange(len(upar)) - grp
                urls.append(pa.table({
                    "key": pkey[upar], "sub": rank, "post_id": pid.take(pa.array(upar)),
                    "position": pa.array(rank.astype(np.int32)), "url": uvals.field("url"),
                    "expanded_url": uvals.field("expanded_url")}))
        hpar, hpos, hvals = _explode(ent_list("hashtags"))
        if len(hvals):
            ok = _truthy(hvals.field("tag"))
            sel = _idx(ok)
            if len(sel):
                s_np = np.asarray(sel)
                tags.append(pa.table({"key": pkey[hpar[s_np]], "sub": hpos[s_np], "post_id": pid.take(pa.array(hpar[s_np])),
                                      "tag": hvals.field("tag").take(sel)}))
        if len(mvals):
            ok = _truthy(mvals.field("username"))
            sel = _idx(ok)
            if len(sel):
                s_np = np.asarray(sel)
                ments.append(pa.table({"key": pkey[mpar[s_np]], "sub": mpos[s_np], "post_id": pid.take(pa.array(mpar[s_np])),
                                       "handle": mvals.field("username").take(sel), "account_id": mvals.field("id").take(sel)}))
        dpar, dpos, dvals = _explode(arr.field("attachments").field("media"))
        if len(dvals):
            murl = pc.if_else(_truthy(dvals.field("url")), dvals.field("url"), dvals.field("preview_image_url"))
            media.append(pa.table({"key": pkey[dpar], "sub": dpos, "post_id": pid.take(pa.array(dpar)),
                                   "position": pa.array(dpos.astype(np.int32)), "media_type": dvals.field("type"),
                                   "url": murl, "media_key": dvals.field("media_key"), "alt_text": dvals.field("alt_text")}))

    caps = pa.array(ctx.cap_values, TS)
    out = {}
    # posts: emit order, merged per post id
    p = _sorted(posts, ["key"])
    pcols = [c for c in p.column_names if c not in ("key", "post_id")]
    if len(_first_idx(_codes(p.column("post_id")))) != p.num_rows:
        p = _coalesce_first(p, ["post_id"], pcols, primary_col="observed")
    else:
        p = p.drop_columns(["key"])
    out["posts"] = p.append_column("platform", const(PLATFORM, p.num_rows, S))
    # metrics: the first per (post, capture time)
    if metrics:
        m = _first_rows(_sorted(metrics, ["key"]), ["post_id", "cap"])
        m = m.append_column("captured_at", caps.take(m.column("cap")))
        out["post_metrics"] = m.drop_columns(["key", "cap"]).append_column("platform", const(PLATFORM, m.num_rows, S))
    # users: the first object per (id, capture time), once per file
    u = _first_rows(_sorted(users, ["key"]), ["account_id", "cap"]) if users else None
    if u is not None and u.num_rows:
        keys = list(zip(u.column("account_id").to_pylist(), u.column("cap").to_pylist()))
        seen = ctx.users_seen
        new = np.fromiter((k not in seen for k in keys), dtype=bool, count=len(keys))
        seen.update(keys)
        u = u.filter(pa.array(new))
    parts = []
    if u is not None and u.num_rows:
        src = np.asarray(u.column("src").to_numpy())
        for j in np.unique(src):
            m = pa.array(src == j)
            sub = u.filter(m)
            parts.append(_user_rows(srcs[j].take(sub.column("idx").combine_chunks()), sub.column("key").to_numpy(),
                                    sub.column("cap").combine_chunks()))
    if parts:
        u = _sorted(parts, ["key"])
    else:
        u = _user_rows(pa.array([], USER), np.zeros(0, np.int64), pa.array([], pa.int64()))
    snaps = u.filter(u.column("has_pm"))
    out["account_snapshots"] = pa.table({
        "platform": const(PLATFORM, snaps.num_rows, S), "account_id": snaps.column("account_id"),
        "captured_at": caps.take(snaps.column("cap")), "followers": snaps.column("followers"),
        "following": snaps.column("following"), "posts_count": snaps.column("posts_count"),
        "listed_count": snaps.column("listed_count")})
    acols = ["handle", "display_name", "description", "created_at", "location", "url", "verified",
             "verified_type", "protected", "profile_image_url"]
    a = u.select(["account_id"] + acols)
    if len(_first_idx(_codes(a.column("account_id")))) != a.num_rows:
        a = _coalesce_first(a, ["account_id"], acols)
    out["accounts"] = a.append_column("platform", const(PLATFORM, a.num_rows, S))
    # child rows: the first per key, in emit order
    if urls:
        x = _first_rows(_sorted(urls, ["key", "sub"]), ["post_id", "position"])
        norm_in = pc.if_else(_truthy(x.column("expanded_url")), x.column("expanded_url"), x.column("url"))
        cache = ctx.url_cache

        def parts(v):
            r = cache.get(v)
            if r is None:
                if len(cache) > 200_000:
                    cache.clear()
                r = cache[v] = url_parts(v)
            return r
        pt = map_distinct(norm_in, parts, pa.struct([("n", S), ("h", S), ("d", S)]))
        out["post_urls"] = pa.table({
            "platform": const(PLATFORM, x.num_rows, S), "post_id": x.column("post_id"),
            "position": x.column("position"), "url": x.column("url"), "expanded_url": x.column("expanded_url"),
            "normalized_url": pt.field("n"), "domain": pt.field("d"), "host": pt.field("h")})
    if tags:
        x = _sorted(tags, ["key", "sub"])
        x = x.append_column("tag_norm", map_distinct(x.column("tag"), str.casefold, S))
        x = _first_rows(x, ["post_id", "tag_norm"])
        out["post_hashtags"] = x.select(["post_id", "tag", "tag_norm"]).append_column(
            "platform", const(PLATFORM, x.num_rows, S))
    if ments:
        x = _sorted(ments, ["key", "sub"])
        x = x.append_column("handle_norm", map_distinct(x.column("handle"), str.lower, S))
        x = _first_rows(x, ["post_id", "handle_norm"])
        out["post_mentions"] = x.select(["post_id", "handle", "handle_norm", "account_id"]).append_column(
            "platform", const(PLATFORM, x.num_rows, S))
    if media:
        x = _first_rows(_sorted(media, ["key", "sub"]), ["post_id", "position"])
        out["post_media"] = x.drop_columns(["key", "sub"]).append_column("platform", const(PLATFORM, x.num_rows, S))
    return out


def _sorted(parts: list, keys: list[str]) -> pa.Table:
    t = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if len(keys) == 1 and t.num_rows:
        k = np.asarray(t.column(keys[0]).to_numpy())
        if len(k) < 2 or bool(np.all(k[1:] > k[:-1])):
            return t
    return t.take(pc.sort_indices(t, sort_keys=[(k, "ascending") for k in keys]))
