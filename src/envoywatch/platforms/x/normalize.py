"""X API v2 -> Bundle: twarc2 response pages and twarc2-flattened tweets. Pure functions.

A v2 page is `{"data": [...tweets or users...], "includes": {"tweets", "users", "media", "places"},
"meta": ..., "errors": ..., "__twarc": {"retrieved_at": ...}}`. Tweets in `data` are stored with
observed='primary', tweets in `includes.tweets` with observed='referenced'; every user object becomes an
account and (where it has public_metrics) an account snapshot at the capture time (`__twarc.retrieved_at`,
else the caller's capture time).

A flattened tweet (twarc2 flatten) is one tweet with `author`, `in_reply_to_user`, mentions that carry the
user's fields, `attachments.media` and referenced tweets inlined (recursively). It is the format to import
fast: `flat_tweet` does the least per-tweet work it can (no regex on text, one pass, plain dicts).
"""

from __future__ import annotations

from datetime import datetime

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.util.timeparse import parse_time
from envoywatch.util.urls import url_row

PLATFORM = "x"
_REF_ORDER = {"retweeted": 0, "quoted": 1, "replied_to": 2}
_KIND_OF_REF = {"retweeted": "repost", "quoted": "quote", "replied_to": "reply"}

# retrieved_at strings repeat on every line of a file: parse each once
_time_cache: dict[str, datetime] = {}


def capture_time(obj: dict, default: datetime) -> datetime:
    """twarc's `__twarc.retrieved_at` (the capture time), else the default (file's capture time)."""
    tw = obj.get("__twarc")
    if not tw:
        return default
    s = tw.get("retrieved_at")
    if not s:
        return default
    t = _time_cache.get(s)
    if t is None:
        if len(_time_cache) > 10_000:
            _time_cache.clear()
        t = _time_cache[s] = parse_time(s, "__twarc.retrieved_at")
    return t


def iso_time(s: str, field: str = "created_at") -> datetime:
    """v2 times are 'YYYY-MM-DDTHH:MM:SS.000Z': fromisoformat on the naive part; anything else: parse_time."""
    if s[-1:] == "Z" and len(s) >= 20:
        try:
            return _fromiso(s[:-1])
        except ValueError:
            pass
    return parse_time(s, field)


_fromiso = datetime.fromisoformat


def permalink(handle: str | None, post_id: str) -> str:
    return f"https://x.com/{handle}/status/{post_id}" if handle else f"https://x.com/i/status/{post_id}"


def client_name(source: str | None) -> str | None:
    """v1.1/GraphQL give `<a href="..." rel="nofollow">Twitter Web App</a>`; v2 gives the name."""
    if not source or source[0] != "<":
        return source or None
    i = source.find(">")
    j = source.rfind("</a>")
    return source[i + 1:j] if 0 <= i < j else source


# --- accounts ------------------------------------------------------------------------------------

def v2_user_into(b: Bundle, u: dict, captured_at: datetime) -> str | None:
    """Add an account (and its snapshot when public_metrics are given) from a v2 user object."""
    uid = u.get("id")
    if not uid:
        return None
    url = u.get("url") or None
    ent = u.get("entities")
    if ent:
        uu = (ent.get("url") or {}).get("urls")
        if uu and uu[0].get("expanded_url"):
            url = uu[0]["expanded_url"]
    created = u.get("created_at")
    b.add("accounts", {
        "platform": PLATFORM, "account_id": uid, "handle": u.get("username"), "display_name": u.get("name"),
        "description": u.get("description") or None, "created_at": iso_time(created) if created else None,
        "location": u.get("location") or None, "url": url, "lang": None, "verified": u.get("verified"),
        "verified_type": u.get("verified_type") or None, "protected": u.get("protected"), "labels": None,
        "profile_image_url": u.get("profile_image_url") or None,
    })
    pm = u.get("public_metrics")
    if pm:
        b.add("account_snapshots", {
            "platform": PLATFORM, "account_id": uid, "captured_at": captured_at,
            "followers": pm.get("followers_count"), "following": pm.get("following_count"),
            "posts_count": pm.get("tweet_count"), "listed_count": pm.get("listed_count"),
        })
    return uid


# --- tweets --------------------------------------------------------------------------------------

def _refs(t: dict) -> tuple[str, str | None, str | None, str | None]:
    """(kind, ref_post_id, reply_to_post_id, quoted_post_id) from referenced_tweets."""
    refs = t.get("referenced_tweets")
    if not refs:
        return "post", None, None, None
    best, best_rank, reply_to, quoted = None, 9, None, None
    for r in refs:
        typ = r.get("type")
        rank = _REF_ORDER.get(typ, 9)
        if typ == "replied_to":
            reply_to = r.get("id")
        elif typ == "quoted":
            quoted = r.get("id")
        if rank < best_rank:
            best, best_rank = r, rank
    if best is None:
        return "post", None, reply_to, quoted
    kind = _KIND_OF_REF[best["type"]]
    if kind == "repost":  # a retweet does not quote or reply itself
        return kind, best.get("id"), None, None
    return kind, best.get("id"), reply_to, quoted


def v2_tweet_into(b: Bundle, t: dict, observed: str, captured_at: datetime, handle: str | None,
                  ref_author: str | None, media_by_key: dict | None, ids_by_handle: dict | None) -> str:
    """Add a post (with metrics, links, tags, mentions, media) from a v2 tweet object.

    `handle` is the author's username where known (for the permalink); `ref_author` the author of the
    post the kind refers to; `media_by_key` joins attachments.media_keys (pages) -- flattened tweets carry
    attachments.media themselves; `ids_by_handle` fills mention ids the tweet does not give.
    """
    pid = t.get("id")
    author = t.get("author_id")
    created = t.get("created_at")
    if not pid or not author or not created:
        raise RecordError(f"tweet {pid or '?'} lacks {'id' if not pid else 'author_id' if not author else 'created_at'} "
                          "(request tweet.fields=author_id,created_at)")
    if "referenced_tweets" in t:
        kind, ref, reply_to, quoted = _refs(t)
    else:
        kind = "post"
        ref = reply_to = quoted = None
    reply_user = t.get("in_reply_to_user_id")
    if ref_author is None and kind == "reply":
        ref_author = reply_user
    note = t.get("note_tweet")
    text = t.get("text")
    ent = t.get("entities")
    if note and note.get("text"):
        text = note["text"]
        ent = note.get("entities") or ent
    b.add("posts", {
        "platform": PLATFORM, "post_id": pid, "account_id": author, "created_at": iso_time(created),
        "text": text, "lang": t.get("lang"), "kind": kind, "ref_post_id": ref, "ref_account_id": ref_author,
        "reply_to_post_id": reply_to, "reply_to_account_id": reply_user, "quoted_post_id": quoted,
        "conversation_id": t.get("conversation_id"), "client": t.get("source"),
        "url": f"https://x.com/{handle}/status/{pid}" if handle else f"https://x.com/i/status/{pid}",
        "observed": observed,
    })
    pm = t.get("public_metrics")
    if pm:
        b.add("post_metrics", {
            "platform": PLATFORM, "post_id": pid, "captured_at": captured_at, "likes": pm.get("like_count"),
            "reposts": pm.get("retweet_count"), "replies": pm.get("reply_count"), "quotes": pm.get("quote_count"),
            "views": pm.get("impression_count"),
        })
    if ent:
        _v2_entities_into(b, pid, ent, ids_by_handle)
    att = t.get("attachments")
    if att:
        media = att.get("media")  # flattened: inlined
        if media is None and media_by_key:
            media = [media_by_key.get(k) or {"media_key": k} for k in att.get("media_keys") or ()]
        if media:
            for pos, m in enumerate(media):
                b.add("post_media", {
                    "platform": PLATFORM, "post_id": pid, "position": pos, "media_type": m.get("type"),
                    "url": m.get("url") or m.get("preview_image_url"), "media_key": m.get("media_key"),
                    "alt_text": m.get("alt_text"),
                })
    return pid


def _v2_entities_into(b: Bundle, pid: str, ent: dict, ids_by_handle: dict | None) -> None:
    urls = ent.get("urls")
    if urls:
        pos = 0
        for u in urls:
            link = u.get("url")
            if link:
                b.add("post_urls", url_row(PLATFORM, pid, pos, link, u.get("expanded_url")))
                pos += 1
    tags = ent.get("hashtags")
    if tags:
        seen = set()
        for h in tags:
            tag = h.get("tag")
            if tag:
                norm = tag.casefold()
                if norm not in seen:
                    seen.add(norm)
                    b.add("post_hashtags", {"platform": PLATFORM, "post_id": pid, "tag": tag, "tag_norm": norm})
    mentions = ent.get("mentions")
    if mentions:
        seen = set()
        for m in mentions:
            handle = m.get("username")
            if handle:
                norm = handle.lower()
                if norm not in seen:
                    seen.add(norm)
                    mid = m.get("id") or (ids_by_handle.get(norm) if ids_by_handle else None)
                    b.add("post_mentions", {"platform": PLATFORM, "post_id": pid, "handle": handle,
                                            "handle_norm": norm, "account_id": mid})


# --- pages ---------------------------------------------------------------------------------------

def is_user_object(o: dict) -> bool:
    return "username" in o and "text" not in o


def v2_page(page: dict, captured_at: datetime) -> Bundle:
    """One twarc2 response page (tweets or users in `data`) -> Bundle."""
    b = Bundle()
    cap = capture_time(page, captured_at)
    data = page.get("data")
    if isinstance(data, dict):
        data = [data]
    data = data or []
    inc = page.get("includes") or {}
    users = inc.get("users") or []
    handles: dict[str, str] = {}
    ids_by_handle: dict[str, str] = {}
    for u in users:
        uid = v2_user_into(b, u, cap)
        if uid and u.get("username"):
            handles[uid] = u["username"]
            ids_by_handle[u["username"].lower()] = uid
    if data and is_user_object(data[0]):  # a users page (lookups, followers...): includes = pinned tweets
        for u in data:
            uid = v2_user_into(b, u, cap)
            if uid and u.get("username"):
                handles[uid] = u["username"]
        data = []
    inc_tweets = inc.get("tweets") or []
    author_of = {t["id"]: t.get("author_id") for t in inc_tweets if t.get("id")}
    for t in data:
        if t.get("id") and t["id"] not in author_of:
            author_of[t["id"]] = t.get("author_id")
    media_by_key = {m["media_key"]: m for m in inc.get("media") or () if m.get("media_key")}
    for t in data:
        kind, ref, _, _ = _refs(t)
        v2_tweet_into(b, t, "primary", cap, handles.get(t.get("author_id")), author_of.get(ref) if ref else None,
                      media_by_key, ids_by_handle)
    for t in inc_tweets:
        if not (t.get("id") and t.get("author_id") and t.get("created_at")):
            continue  # a bare reference: nothing to store but the id, which the citing post keeps
        kind, ref, _, _ = _refs(t)
        v2_tweet_into(b, t, "referenced", cap, handles.get(t.get("author_id")),
                      author_of.get(ref) if ref else None, media_by_key, ids_by_handle)
    return b


def page_has_authors(page: dict) -> bool:
    """False for a tweets page requested without author_id/created_at (tweepy defaults: id and text only)."""
    data = page.get("data")
    if isinstance(data, dict):
        data = [data]
    if not data or is_user_object(data[0]):
        return True
    return any(t.get("author_id") and t.get("created_at") for t in data)


# --- flattened tweets (the fast path) ------------------------------------------------------------

def flat_tweet(t: dict, captured_at: datetime, users_seen: set | None = None) -> Bundle:
    """One twarc2-flattened tweet -> Bundle (its inlined referenced tweets and users included).

    `users_seen` (optional, kept by the reader for one file): (user id, capture time) pairs already
    emitted; a user object repeated on every tweet of a page is added once (same id and capture time
    means the same API response, so the same object), which halves the rows a large file produces.
    """
    b = Bundle()
    added: set = set()  # committed to users_seen only when the whole tweet normalized (else it is a reject)
    _flat_into(b, t, "primary", capture_time(t, captured_at), (users_seen or _EMPTY, added))
    if users_seen is not None:
        users_seen |= added
    return b


_EMPTY: frozenset = frozenset()


def _user_once(b: Bundle, u: dict, cap: datetime, seen: tuple) -> None:
    key = (u.get("id"), cap)
    if key not in seen[0] and key not in seen[1]:
        seen[1].add(key)
        v2_user_into(b, u, cap)


def _flat_into(b: Bundle, t: dict, observed: str, cap: datetime, seen: tuple) -> None:
    author = t.get("author")
    handle = None
    if author:
        _user_once(b, author, cap, seen)
        handle = author.get("username")
    refs = t.get("referenced_tweets")
    ref_author = None
    if refs:
        kind, ref, _, _ = _refs(t)
        for r in refs:
            if r.get("id") == ref:
                ref_author = r.get("author_id")
            if r.get("author_id") and r.get("created_at"):
                _flat_into(b, r, "referenced", cap, seen)
    iru = t.get("in_reply_to_user")
    if iru:
        _user_once(b, iru, cap, seen)
    ent = t.get("entities")
    if ent:
        mentions = ent.get("mentions")
        if mentions:
            for m in mentions:
                if m.get("id") and "name" in m:  # flatten inlines the mentioned user's object
                    _user_once(b, m, cap, seen)
    v2_tweet_into(b, t, observed, cap, handle, ref_author, None, None)
