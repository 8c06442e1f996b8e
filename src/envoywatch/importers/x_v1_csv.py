"""X API v1.1 tweet objects written one per CSV row, nested fields as Python-dict strings (pandas to_csv).

The layout of e.g. state_media/covid_state_vs_western/*.csv: columns created_at, id, id_str, text, source,
user, entities, extended_tweet, retweeted_status, ... where `user` holds "{'id': 487118986, 'name': ...}".
Nested cells are parsed with ast.literal_eval (literals only, never eval) and the status is mapped to
the same rows an X v1.1 normalizer gives (posts, accounts, snapshots, metrics, links, tags, mentions,
media; retweeted/quoted originals stored with observed='referenced'). The mapping is written here as a
pure function (`status_bundle`) so that this format does not depend on the X platform package.

pandas wrote missing ids of some columns as floats ('1.3108435642099753e+18'): a float id below 2**53
is exact and kept as an integer string; a larger one has lost its last digits and is dropped (the kind
stays `reply`, the referenced id is left empty) rather than stored wrong. Extra columns that a
researcher added (`account`, `period`, `matching_rules`) are not tweet fields and are ignored.
No capture time is given: snapshots use the capture time option or the file's (--captured-at, mtime).
"""

from __future__ import annotations

import ast
from datetime import datetime

from envoywatch.errors import RecordError
from envoywatch.importers.base import (Bundle, FormatSpec, Source, iter_csv_rows,
                                       normalize_record, register_format)
from envoywatch.importers.takedown import buffered
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import url_row

PLATFORM = "x"
REQUIRED = ("created_at", "id_str", "text", "user")
NESTED = {"user", "entities", "extended_tweet", "extended_entities", "retweeted_status", "quoted_status", "place",
          "coordinates", "geo", "display_text_range", "matching_rules", "contributors", "quoted_status_permalink"}
_EXACT = 2 ** 53


def cell(name: str, v: str):
    """A CSV cell back to the value the tweet object had."""
    if v == "":
        return None
    if name in NESTED and v[0] in "{[":
        try:
            return ast.literal_eval(v)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise RecordError(f"column {name} is not a Python literal ({type(exc).__name__})") from None
    if v == "True":
        return True
    if v == "False":
        return False
    return v


def row_status(row: dict) -> dict:
    return {k: cell(k, v) for k, v in row.items() if k}


def _id(obj: dict, key: str = "id") -> str | None:
    for k in (key + "_str", key):
        v = obj.get(k)
        if v is None or v == "":
            continue
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float) or (isinstance(v, str) and not v.isdigit()):
            try:
                f = float(v)
            except ValueError:
                return str(v)
            return str(int(f)) if f.is_integer() and abs(f) < _EXACT else None  # lost digits: no id
        return v
    return None


def _client(source: str | None) -> str | None:
    if not source or source[0] != "<":
        return source or None
    i, j = source.find(">"), source.rfind("</a>")
    return source[i + 1:j] if 0 <= i < j else source


def user_into(b: Bundle, u: dict, captured_at: datetime) -> str | None:
    uid = _id(u)
    if not uid:
        return None
    url = u.get("url") or None
    uu = ((u.get("entities") or {}).get("url") or {}).get("urls")
    if uu and uu[0].get("expanded_url"):
        url = uu[0]["expanded_url"]
    created = u.get("created_at")
    b.add("accounts", {
        "platform": PLATFORM, "account_id": uid, "handle": u.get("screen_name"), "display_name": u.get("name"),
        "description": u.get("description") or None, "created_at": parse_time(created) if created else None,
        "location": u.get("location") or None, "url": url, "lang": u.get("lang") or None,
        "verified": u.get("verified"), "verified_type": u.get("verified_type") or None,
        "protected": u.get("protected"),
        "profile_image_url": u.get("profile_image_url_https") or u.get("profile_image_url") or None,
    })
    if "followers_count" in u or "statuses_count" in u:
        b.add("account_snapshots", {
            "platform": PLATFORM, "account_id": uid, "captured_at": captured_at,
            "followers": parse_int(u.get("followers_count")), "following": parse_int(u.get("friends_count")),
            "posts_count": parse_int(u.get("statuses_count")), "listed_count": parse_int(u.get("listed_count")),
        })
    return uid


def status_into(b: Bundle, st: dict, observed: str, captured_at: datetime, seen: set) -> str:
    pid = _id(st)
    if not pid:
        raise RecordError("status without a usable id")
    if pid in seen:
        return pid
    seen.add(pid)
    user = st.get("user") or {}
    uid = user_into(b, user, captured_at)
    if not uid:
        raise RecordError(f"status {pid} has no user id")
    if not st.get("created_at"):
        raise RecordError(f"status {pid} has no created_at")
    ext = st.get("extended_tweet") or {}
    text = ext.get("full_text") or st.get("full_text") or st.get("text")
    ent = ext.get("entities") or st.get("entities") or {}
    xent = ext.get("extended_entities") or st.get("extended_entities") or {}
    rt, qt = st.get("retweeted_status"), st.get("quoted_status")
    quoted = _id(st, "quoted_status_id") or (_id(qt) if isinstance(qt, dict) else None)
    reply_to, reply_user = _id(st, "in_reply_to_status_id"), _id(st, "in_reply_to_user_id")
    is_reply = bool(st.get("in_reply_to_status_id") or st.get("in_reply_to_status_id_str"))
    ref_author = None
    if isinstance(rt, dict):
        kind, ref = "repost", _id(rt)
        ref_author = _id(rt.get("user") or {})
        reply_to = reply_user = quoted = None
    elif quoted:
        kind, ref = "quote", quoted
        ref_author = _id(qt.get("user") or {}) if isinstance(qt, dict) else None
    elif is_reply:  # a reply even where the id's digits were lost
        kind, ref, ref_author = "reply", reply_to, reply_user
    else:
        kind, ref = "post", None
    handle = user.get("screen_name")
    b.add("posts", {
        "platform": PLATFORM, "post_id": pid, "account_id": uid, "created_at": parse_time(st["created_at"], "created_at"),
        "text": text, "lang": st.get("lang"), "kind": kind, "ref_post_id": ref, "ref_account_id": ref_author,
        "reply_to_post_id": reply_to, "reply_to_account_id": reply_user, "quoted_post_id": quoted,
        "conversation_id": st.get("conversation_id_str"), "client": _client(st.get("source")),
        "url": f"https://x.com/{handle}/status/{pid}" if handle else f"https://x.com/i/status/{pid}",
        "observed": observed,
    })
    if "favorite_count" in st or "retweet_count" in st:
        b.add("post_metrics", {
            "platform": PLATFORM, "post_id": pid, "captured_at": captured_at,
            "likes": parse_int(st.get("favorite_count")), "reposts": parse_int(st.get("retweet_count")),
            "replies": parse_int(st.get("reply_count")), "quotes": parse_int(st.get("quote_count")),
        })
    _entities_into(b, pid, ent, xent)
    if isinstance(rt, dict):
        status_into(b, rt, "referenced", captured_at, seen)
    if isinstance(qt, dict) and _id(qt) and qt.get("user"):
        status_into(b, qt, "referenced", captured_at, seen)
    return pid


def _entities_into(b: Bundle, pid: str, ent: dict, xent: dict) -> None:
    pos = 0
    for u in ent.get("urls") or ():
        if u.get("url"):
            b.add("post_urls", url_row(PLATFORM, pid, pos, u["url"], u.get("expanded_url")))
            pos += 1
    seen = set()
    for h in ent.get("hashtags") or ():
        tag = h.get("text")
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            b.add("post_hashtags", {"platform": PLATFORM, "post_id": pid, "tag": tag, "tag_norm": tag.casefold()})
    seen = set()
    for m in ent.get("user_mentions") or ():
        handle = m.get("screen_name")
        if handle and handle.lower() not in seen:
            seen.add(handle.lower())
            b.add("post_mentions", {"platform": PLATFORM, "post_id": pid, "handle": handle,
                                    "handle_norm": handle.lower(), "account_id": _id(m)})
    for pos, m in enumerate(xent.get("media") or ent.get("media") or ()):
        b.add("post_media", {
            "platform": PLATFORM, "post_id": pid, "position": pos, "media_type": m.get("type"),
            "url": m.get("media_url_https") or m.get("media_url"), "media_key": m.get("media_key") or _id(m),
            "alt_text": m.get("ext_alt_text"),
        })


def status_bundle(row: dict, captured_at: datetime) -> Bundle:
    """One CSV row (a v1.1 status with Python-literal nested cells) -> Bundle. Pure."""
    b = Bundle()
    status_into(b, row_status(row), "primary", captured_at, set())
    return b


def _read(source: Source):
    cap = source.options.get("captured_at") if source.options else None
    cap = parse_time(cap, "captured_at") if isinstance(cap, str) else cap or source.captured_at
    for line, row, rej in iter_csv_rows(buffered(source), required=REQUIRED):
        if rej is not None:
            yield rej
            continue
        yield normalize_record(line, row, status_bundle, row, cap)


register_format(FormatSpec(
    "x-v1-csv", PLATFORM, "X API v1.1 tweet objects one per CSV row, nested fields as Python dicts (pandas to_csv)",
    lambda s: bool(s.csv_header) and {"created_at", "id_str", "text", "user", "entities"} <= set(s.csv_header),
    _read, priority=30))
