"""X API v1.1 statuses and users -> Bundle. Pure functions.

A status carries its author in `user`, a retweet its original in `retweeted_status`, a quote the quoted
status in `quoted_status` (both stored with observed='referenced'). Long tweets: `extended_tweet.full_text`
(streaming), `full_text` (tweet_mode=extended), else `text`. The GraphQL normalizer turns its `legacy`
objects into this shape and reuses these functions (it may add `_note_text`/`_note_entities` for long
"note" tweets and `_views`).
v1.1 gives no capture time: snapshots use the caller's capture time.
"""

from __future__ import annotations

from datetime import datetime

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.platforms.x.normalize import PLATFORM, client_name, permalink
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import url_row


def _id(obj: dict, key: str = "id") -> str | None:
    v = obj.get(key + "_str")
    if v:
        return v
    v = obj.get(key)
    return str(v) if v is not None and v != "" else None


def is_status(o) -> bool:
    return isinstance(o, dict) and "user" in o and "created_at" in o and ("text" in o or "full_text" in o)


def is_user(o) -> bool:
    return isinstance(o, dict) and "screen_name" in o and ("followers_count" in o or "friends_count" in o) \
        and "text" not in o and "full_text" not in o


def user_into(b: Bundle, u: dict, captured_at: datetime) -> str | None:
    uid = _id(u)
    if not uid:
        return None
    url = u.get("url") or None
    uu = ((u.get("entities") or {}).get("url") or {}).get("urls")
    if uu and uu[0].get("expanded_url"):
        url = uu[0]["expanded_url"]
    created = u.get("created_at")
    labels = u.get("_labels")
    b.add("accounts", {
        "platform": PLATFORM, "account_id": uid, "handle": u.get("screen_name"), "display_name": u.get("name"),
        "description": u.get("description") or None, "created_at": parse_time(created) if created else None,
        "location": u.get("location") or None, "url": url, "lang": u.get("lang") or None,
        "verified": u.get("verified"), "verified_type": u.get("verified_type") or None,
        "protected": u.get("protected"), "labels": labels or None,
        "profile_image_url": u.get("profile_image_url_https") or u.get("profile_image_url") or None,
    })
    if "followers_count" in u or "statuses_count" in u:
        b.add("account_snapshots", {
            "platform": PLATFORM, "account_id": uid, "captured_at": captured_at,
            "followers": parse_int(u.get("followers_count")), "following": parse_int(u.get("friends_count")),
            "posts_count": parse_int(u.get("statuses_count")), "listed_count": parse_int(u.get("listed_count")),
        })
    return uid


def status_into(b: Bundle, st: dict, observed: str, captured_at: datetime, seen: set | None = None) -> str:
    """Add a status, its author and the statuses it embeds (retweeted, quoted) to the bundle."""
    pid = _id(st)
    if not pid:
        raise RecordError("status without id")
    if seen is not None:
        if pid in seen and observed == "referenced":
            return pid
        seen.add(pid)
    user = st.get("user") or {}
    uid = user_into(b, user, captured_at) if user else None
    uid = uid or st.get("user_id_str")
    if not uid:
        raise RecordError(f"status {pid} has no user id")
    created = st.get("created_at")
    if not created:
        raise RecordError(f"status {pid} has no created_at")
    ext = st.get("extended_tweet") or {}
    text = st.get("_note_text") or ext.get("full_text") or st.get("full_text") or st.get("text")
    ent = st.get("_note_entities") or ext.get("entities") or st.get("entities") or {}
    xent = ext.get("extended_entities") or st.get("extended_entities") or {}

    rt = st.get("retweeted_status")
    qt = st.get("quoted_status")
    quoted = st.get("quoted_status_id_str") or (_id(qt) if isinstance(qt, dict) else None) or \
        (str(st["quoted_status_id"]) if st.get("quoted_status_id") else None)
    reply_to = _id(st, "in_reply_to_status_id")
    reply_user = _id(st, "in_reply_to_user_id")
    ref_author = None
    if isinstance(rt, dict):
        kind, ref = "repost", _id(rt)
        ref_author = _id(rt.get("user") or {}) or rt.get("user_id_str")
        reply_to = reply_user = quoted = None  # the retweet itself neither replies nor quotes
    elif quoted:
        kind, ref = "quote", quoted
        if isinstance(qt, dict):
            ref_author = _id(qt.get("user") or {}) or qt.get("user_id_str")
    elif reply_to:
        kind, ref, ref_author = "reply", reply_to, reply_user
    else:
        kind, ref = "post", None
    b.add("posts", {
        "platform": PLATFORM, "post_id": pid, "account_id": uid, "created_at": parse_time(created, "created_at"),
        "text": text, "lang": st.get("lang"), "kind": kind, "ref_post_id": ref, "ref_account_id": ref_author,
        "reply_to_post_id": reply_to, "reply_to_account_id": reply_user, "quoted_post_id": quoted,
        "conversation_id": st.get("conversation_id_str"), "client": client_name(st.get("source")),
        "url": permalink(user.get("screen_name"), pid), "observed": observed,
    })
    if "favorite_count" in st or "retweet_count" in st:
        b.add("post_metrics", {
            "platform": PLATFORM, "post_id": pid, "captured_at": captured_at,
            "likes": parse_int(st.get("favorite_count")), "reposts": parse_int(st.get("retweet_count")),
            "replies": parse_int(st.get("reply_count")), "quotes": parse_int(st.get("quote_count")),
            "views": parse_int(st.get("_views")),
        })
    _entities_into(b, pid, ent, xent)
    # embedded statuses are stored when they carry their author (users/show's `status` embeds a
    # retweeted_status without `user`: only its id is kept, in ref_post_id)
    for emb in (rt, qt):
        if isinstance(emb, dict) and _id(emb) and (emb.get("user") or emb.get("user_id_str")):
            status_into(b, emb, "referenced", captured_at, seen)
    return pid


def _entities_into(b: Bundle, pid: str, ent: dict, xent: dict) -> None:
    pos = 0
    for u in ent.get("urls") or ():
        link = u.get("url")
        if link:
            b.add("post_urls", url_row(PLATFORM, pid, pos, link, u.get("expanded_url")))
            pos += 1
    seen = set()
    for h in ent.get("hashtags") or ():
        tag = h.get("text") or h.get("tag")
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
    media = xent.get("media") or ent.get("media") or ()
    for pos, m in enumerate(media):
        b.add("post_media", {
            "platform": PLATFORM, "post_id": pid, "position": pos, "media_type": m.get("type"),
            "url": m.get("media_url_https") or m.get("media_url"), "media_key": m.get("media_key") or _id(m),
            "alt_text": m.get("ext_alt_text"),
        })


def v1_item(obj, captured_at: datetime) -> Bundle:
    """One v1.1 record: a status, a user, or a response wrapping them (search `statuses`, cursor `users`)."""
    b = Bundle()
    if is_status(obj):
        status_into(b, obj, "primary", captured_at, set())
    elif is_user(obj):
        user_into(b, obj, captured_at)
        st = obj.get("status")  # users/show embeds the latest status (without its user)
        if isinstance(st, dict) and _id(st):
            status_into(b, {**st, "user": obj}, "primary", captured_at, set())
    else:
        raise RecordError("neither a v1.1 status (id, user, created_at, text) nor a user (screen_name, counts)")
    return b


def v1_records(doc) -> list:
    """The records of a v1.1 response: a list, `statuses` (search), `users` (cursored lists), or itself."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        if isinstance(doc.get("statuses"), list):
            return doc["statuses"]
        if isinstance(doc.get("users"), list) and "next_cursor" in doc:
            return doc["users"]
        return [doc]
    raise RecordError("not a JSON object or array")
