"""The generic importer: CSV, JSON arrays and JSONL, read through a column mapping file (YAML).

`envoywatch import FILE --format generic --map MAPPING` (library: `options={"map": ...}`). The map is a
path to the user's YAML file, or the name of a map shipped in `importers/maps/` (`dipromats`,
`coortweet`, `cnt`). `generic` is never detected; three research layouts with an exact, recognisable
set of columns are detected and read with their shipped map (format names `dipromats-json`,
`coortweet-csv`, `cnt-csv`), so `envoywatch import FILE` needs no --map for them.

A mapping (all keys but `post` optional; see maps/cnt.yaml for a commented example):

    input: csv | json | jsonl        # default: from the file's first character ([ json, { jsonl, else csv)
    delimiter: ","                   # csv only (default: tab if the header has more tabs than commas)
    records: data                    # json only: key of the array when the document is an object
    platform: x                      # a constant slug, or {column: NAME}
    time_format: iso                 # iso (anything ISO 8601-like, the default) | epoch_s | epoch_ms | strptime pattern
    post:                            # store field: source field (JSON: a key, or a dotted path a.b)
      post_id: ID        account_id: ID      handle: H        created_at: T      text: X
      lang, client, conversation_id, url, reply_to_post_id, reply_to_account_id, quoted_post_id,
      repost_of (id of the reposted post), repost_of_account, ref_account_id (author of what the kind
      refers to, where no specific column gives it)
      post_id: {derive: [COL, ...]}  # a file without post ids: 'derived:' + sha1 of those fields (stable,
                                     # so re-imports match; two records with equal fields are one post)
    kind:                            # default rule: repost_of set (and not the post itself) > quoted > reply > post
      column: NAME                   # with values: {source value: post|repost|quote|reply}; others are rejected
      is_retweet: NAME               # true/1/yes/t -> repost
      text_prefix: "RT @"            # text starting with it -> repost
    lists:                           # {column: NAME, split: " " | "," | "|" | json | python}
      urls, hashtags, mentions       # python = "[a, b]" or "['a', 'b']"; json = ["a", "b"]
    from_text: [hashtags, mentions, urls]   # taken from the text where no list column gives them
    metrics: {likes, reposts, replies, quotes, views: NAME}        # post_metrics at the capture time
    account: {display_name, description, location, url, lang, created_at, verified, followers,
              following, posts_count, listed_count: NAME}
    labels: [text, ...]              # account labels
    constants: {field: value}        # a constant for any post/account field (e.g. lang: en)

Mapping files are loaded and checked in generic_map.py. A mapping naming a column that the file lacks stops the import (ImportFormatError naming the mapping,
the column and the file); a value that cannot be read (a time, a number, an unmapped kind) rejects that
record with its line.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone

from envoywatch.errors import ImportFormatError, RecordError
from envoywatch.importers.base import (Bundle, FormatSpec, Reject, Source, excerpt, iter_csv_rows,
                                       iter_json_document, iter_json_lines, normalize_record, register_format)
from envoywatch.importers.generic_map import (_TRUE, ACCOUNT_FIELDS, MAPS_DIR, Mapping, load_mapping,  # noqa: F401
                                              resolve_map)
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import hashtags_in_text, mentions_in_text, url_row, urls_in_text

# --- one record -> Bundle (pure) -------------------------------------------------------------------

def _get(rec: dict, col: str):
    v = rec.get(col)
    if v is None and "." in col and col not in rec:  # dotted path into nested JSON
        v = rec
        for part in col.split("."):
            v = v.get(part) if isinstance(v, dict) else None
    if v == "":
        return None
    return v


def _id(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float):
        if not v.is_integer():
            raise RecordError(f"id {v} is not an integer")
        v = int(v)
    return str(v)


def _time(v, fmt: str, col: str) -> datetime | None:
    if v is None:
        return None
    if fmt == "iso":
        return parse_time(v, col)
    if fmt in ("epoch_s", "epoch_ms"):
        try:
            x = float(v)
            if fmt == "epoch_ms":
                x /= 1000.0
            return datetime.fromtimestamp(x, tz=timezone.utc).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise RecordError(f"cannot read {col} '{str(v)[:40]}' as {fmt}") from None
    try:
        dt = datetime.strptime(str(v).strip(), fmt)
    except ValueError:
        raise RecordError(f"cannot read {col} '{str(v)[:40]}' with time_format '{fmt}'") from None
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


def split_list(v, how: str) -> list[str]:
    """A list cell as written: a JSON list, '[a, b]' / "['a', 'b']" (python), or joined by a separator."""
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v if x not in (None, "")]
    s = str(v).strip()
    if not s or s == "[]":
        return []
    if how == "json":
        import orjson

        try:
            out = orjson.loads(s)
        except orjson.JSONDecodeError:
            raise RecordError(f"'{s[:40]}' is not a JSON list") from None
        return [str(x) for x in out if x not in (None, "")] if isinstance(out, list) else [str(out)]
    if how == "python":
        if s[0] == "[" and s[-1] == "]":
            s = s[1:-1]
        return [p for p in (x.strip().strip("'\"").strip() for x in s.split(",")) if p]
    return [p for p in (x.strip() for x in s.split(how)) if p]


def derived_id(rec: dict, cols: tuple) -> str:
    """A stable id for a record of a file that gives none: 'derived:' + 20 hex of sha1 over the fields."""
    import hashlib

    key = "\x1f".join("" if _get(rec, c) is None else str(_get(rec, c)) for c in cols)
    return "derived:" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def record_bundle(m: Mapping, rec: dict, captured_at: datetime) -> Bundle:
    """One source record -> Bundle: a post, its author, metrics, links, tags and mentions."""
    c, p = m.constants, m.post
    val = {k: (_get(rec, col)) for k, col in p.items()}
    for k, v in c.items():
        if val.get(k) is None:
            val[k] = v
    platform = _get(rec, m.platform_column) if m.platform_column else m.platform
    if not platform:
        raise RecordError(f"no platform in column {m.platform_column}")
    platform = str(platform)
    pid = derived_id(rec, m.derive_id) if m.derive_id else _id(val.get("post_id"))
    aid = _id(val.get("account_id"))
    if not pid:
        raise RecordError(f"no post id (column {p.get('post_id')} is empty)")
    if not aid:
        raise RecordError(f"no account id (column {p.get('account_id')} is empty)")
    created = _time(val.get("created_at"), m.time_format, p.get("created_at", "created_at"))
    if created is None:
        raise RecordError(f"no time (column {p.get('created_at')} is empty)")
    text = val.get("text")
    text = None if text is None else str(text)
    repost_of = _id(val.get("repost_of"))
    if repost_of == pid:  # CooRTweet-style: an original shares itself
        repost_of = None
    quoted, reply_to = _id(val.get("quoted_post_id")), _id(val.get("reply_to_post_id"))
    reply_user = _id(val.get("reply_to_account_id"))
    kd = m.kind
    if kd.get("column"):
        raw = _get(rec, kd["column"])
        kind = kd["values"].get(str(raw)) if raw is not None else None
        if kind is None:
            raise RecordError(f"value '{raw}' of {kd['column']} is not in the mapping's kind.values "
                              f"({', '.join(kd['values'])})")
    elif kd.get("is_retweet") and str(_get(rec, kd["is_retweet"]) or "").strip().lower() in _TRUE:
        kind = "repost"
    elif kd.get("text_prefix") and text and text.startswith(kd["text_prefix"]):
        kind = "repost"
    elif repost_of:
        kind = "repost"
    elif quoted:
        kind = "quote"
    elif reply_to:
        kind = "reply"
    else:
        kind = "post"
    ref, ref_author = None, None
    if kind == "repost":
        ref, ref_author = repost_of, _id(val.get("repost_of_account"))
    elif kind == "quote":
        ref = quoted
    elif kind == "reply":
        ref, ref_author = reply_to, reply_user
    if kind != "post" and ref_author is None:
        ref_author = _id(val.get("ref_account_id"))
    b = Bundle()
    handle = val.get("handle")
    b.add("posts", {
        "platform": platform, "post_id": pid, "account_id": aid, "created_at": created, "text": text,
        "lang": val.get("lang"), "kind": kind, "ref_post_id": ref, "ref_account_id": ref_author,
        "reply_to_post_id": reply_to, "reply_to_account_id": reply_user, "quoted_post_id": quoted,
        "conversation_id": _id(val.get("conversation_id")), "client": val.get("client"), "url": val.get("url"),
        "observed": "primary",
    })
    acc = {k: _get(rec, col) for k, col in m.account.items()}
    for k in ACCOUNT_FIELDS:
        if acc.get(k) is None and k in c and k not in ("url", "lang", "created_at"):
            acc[k] = c[k]
    b.add("accounts", {
        "platform": platform, "account_id": aid, "handle": str(handle).lstrip("@") if handle else None,
        "display_name": acc.get("display_name"), "description": acc.get("description"),
        "location": acc.get("location"), "url": acc.get("url"), "lang": acc.get("lang"),
        "created_at": _time(acc.get("created_at"), m.time_format, m.account.get("created_at", "")),
        "verified": (str(acc["verified"]).strip().lower() in _TRUE) if acc.get("verified") is not None else None,
        "labels": m.labels,
    })
    if any(k in m.account for k in ("followers", "following", "posts_count", "listed_count")):
        b.add("account_snapshots", {
            "platform": platform, "account_id": aid, "captured_at": captured_at,
            **{k: parse_int(acc.get(k), m.account.get(k, k)) for k in ("followers", "following", "posts_count", "listed_count")},
        })
    if m.metrics:
        b.add("post_metrics", {"platform": platform, "post_id": pid, "captured_at": captured_at,
                               **{k: parse_int(_get(rec, col), col) for k, col in m.metrics.items()}})
    _lists_into(b, m, rec, platform, pid, text)
    return b


def _lists_into(b: Bundle, m: Mapping, rec: dict, platform: str, pid: str, text: str | None) -> None:
    def items(name, finder):
        if name in m.lists:
            col, how = m.lists[name]
            return split_list(_get(rec, col), how)
        return finder(text) if name in m.from_text else []

    for pos, u in enumerate(items("urls", urls_in_text)):
        b.add("post_urls", url_row(platform, pid, pos, u, None))
    seen = set()
    for tag in items("hashtags", hashtags_in_text):
        tag = tag.lstrip("#")
        norm = tag.casefold()
        if tag and norm not in seen:
            seen.add(norm)
            b.add("post_hashtags", {"platform": platform, "post_id": pid, "tag": tag, "tag_norm": norm})
    seen = set()
    for h in items("mentions", mentions_in_text):
        h = h.lstrip("@")
        norm = h.lower()
        if h and norm not in seen:
            seen.add(norm)
            b.add("post_mentions", {"platform": platform, "post_id": pid, "handle": h, "handle_norm": norm})


# --- reading a file -------------------------------------------------------------------------------

def _missing(m: Mapping, have, source: Source) -> None:
    have = set(have)
    for col in m.columns():
        if col not in have and col.split(".", 1)[0] not in have:
            shown = ", ".join(sorted(have)[:15]) + ("..." if len(have) > 15 else "")
            raise ImportFormatError(
                f"the column mapping {m.path} names column '{col}', which the file lacks (it has: {shown})",
                f"{source.path}:1", f"correct the mapping {m.path.name} or import the file with another mapping")


def _input_kind(m: Mapping, source: Source) -> str:
    if m.input:
        return m.input
    with source.open_binary() as fh:
        head = fh.read(4096)
    s = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    return "json" if s.startswith("[") else "jsonl" if s.startswith("{") else "csv"


def read_with_mapping(source: Source, m: Mapping):
    from envoywatch.importers.takedown import buffered

    buffered(source)
    cap = source.options.get("captured_at") or source.captured_at
    if isinstance(cap, str):
        cap = parse_time(cap, "captured_at")
    kind = _input_kind(m, source)
    if kind == "csv":
        first, problem = None, None
        for _, first, _, problem in source.lines():
            break
        if first is None:
            if problem:
                raise ImportFormatError(f"the header line cannot be read: {problem}", f"{source.path}:1",
                                        "re-encode the file as UTF-8")
            return
        delim = m.delimiter or ("\t" if first.count("\t") > first.count(",") else ",")
        _missing(m, [h.strip() for h in next(csv.reader([first], delimiter=delim))], source)
        for line, row, rej in iter_csv_rows(source, delimiter=delim):
            yield rej if rej else normalize_record(line, row, record_bundle, m, row, cap)
    elif kind == "jsonl":
        # JSON records may leave out empty keys: a column is missing when no record of the file has it
        remaining = {c.split(".", 1)[0] for c in m.columns()}
        keys_seen: set = set()
        for line, obj, rej in iter_json_lines(source):
            if rej:
                yield rej
                continue
            if not isinstance(obj, dict):
                yield Reject(line, "not a JSON object", excerpt(str(obj)))
                continue
            if remaining:
                remaining.difference_update(obj.keys())
                if len(keys_seen) < 200:
                    keys_seen.update(obj.keys())
            yield normalize_record(line, obj, record_bundle, m, obj, cap)
        if remaining:
            _missing(m, keys_seen, source)
    else:
        doc = iter_json_document(source)
        if isinstance(doc, dict) and m.records:
            doc = doc.get(m.records)
        if not isinstance(doc, list):
            raise ImportFormatError("expected a JSON array of records" + (f" under '{m.records}'" if m.records else ""),
                                    f"{source.path}:1", "set records: KEY in the mapping, or input: jsonl")
        keys: set = set()
        for obj in doc:
            if isinstance(obj, dict):
                keys.update(obj.keys())
        if doc:
            _missing(m, keys, source)
        for i, obj in enumerate(doc, 1):
            if not isinstance(obj, dict):
                yield Reject(i, "array element is not a JSON object", excerpt(str(obj)))
                continue
            yield normalize_record(i, obj, record_bundle, m, obj, cap)


def _read_generic(source: Source):
    spec = source.options.get("map")
    if not spec:
        raise ImportFormatError("the generic format needs a column mapping", str(source.path),
                                "add --map MAPPING.yaml (or a shipped map by name: dipromats, coortweet, cnt)")
    yield from read_with_mapping(source, load_mapping(spec))


register_format(FormatSpec("generic", None, "CSV, JSON array or JSONL with a column mapping (--map FILE.yaml); never detected",
                           lambda s: False, _read_generic, priority=99))


# --- detected research layouts, read with their shipped maps --------------------------------------

DIPROMATS_KEYS = {"tweet_id", "user_name", "UTC", "text", "tweet_type"}
COORTWEET_COLUMNS = {"object_id", "account_id", "content_id", "timestamp_share"}
CNT_COLUMNS = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]


def _sniff_dipromats(s) -> bool:
    j = s.first_json
    if isinstance(j, list) and j and isinstance(j[0], dict):
        return DIPROMATS_KEYS <= set(j[0])
    if isinstance(j, dict) and j.get("__partial__"):
        return s.head.lstrip().startswith("[") and DIPROMATS_KEYS <= set(j["__keys__"])
    return False


def _shipped(name: str):
    def read(source: Source):
        yield from read_with_mapping(source, load_mapping(name))
    return read


register_format(FormatSpec("dipromats-json", "x", "DIPROMATS 2023 JSON array (tweet_id, user_name, UTC, text); map: dipromats",
                           _sniff_dipromats, _shipped("dipromats"), priority=30))
register_format(FormatSpec("coortweet-csv", "x", "CooRTweet CSV (object_id, account_id, content_id, timestamp_share); map: coortweet",
                           lambda s: bool(s.csv_header) and set(s.csv_header) == COORTWEET_COLUMNS, _shipped("coortweet"), priority=30))
register_format(FormatSpec("cnt-csv", "x", "coordination-network-toolkit input CSV (message_id, user_id, ... urls); map: cnt",
                           lambda s: bool(s.csv_header) and set(s.csv_header) == set(CNT_COLUMNS), _shipped("cnt"), priority=30))
