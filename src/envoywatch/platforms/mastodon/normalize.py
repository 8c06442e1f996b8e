"""Mastodon REST API objects -> Bundle. Pure functions, one API object at a time.

Ids: account_id is the account's `url` (its profile URL, e.g. https://mastodon.social/@alice; the
ActivityPub `uri` where there is no url). The numeric `id` is local to the server that answered and
differs between servers, and `acct` lacks the domain for local accounts; the URL is the same whichever
server is asked. The handle is stored as `username@host` (host of that URL). post_id is the status `uri`
(its ActivityPub id, globally unique; a reblog has its own `.../activity` uri).

Kinds: a status with `reblog` is a repost of that status (stored too, observed='referenced'); a status
with `quote.quoted_status` (Mastodon 4.4+) a quote; with `in_reply_to_id` a reply. `in_reply_to_id` is a
server-local id, not a uri, so reply_to_post_id/ref_post_id stay NULL for replies unless the quoted or
replied status is embedded; reply_to_account_id is resolved through the status's mentions.

Content is HTML: the text column holds it as plain text (see `html.html_to_text`). Links come from the
content's anchors (not mention or hashtag links) and from the preview `card`; hashtags from `tags`,
mentions from `mentions`, media from `media_attachments`. Counts go to post_metrics / account_snapshots
at the caller's capture time (the API gives none).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.platforms.mastodon.html import html_to_text
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import url_row

PLATFORM = "mastodon"
_MEDIA_TYPES = {"image": "photo", "video": "video", "gifv": "animated_gif", "audio": "other", "unknown": "other"}


def account_key(a: dict) -> str:
    key = a.get("url") or a.get("uri")
    if not key:
        raise RecordError("account without url or uri")
    return key


def full_handle(a: dict) -> str | None:
    acct = a.get("acct") or a.get("username")
    if not acct:
        return None
    if "@" in acct:
        return acct
    host = urlsplit(a.get("url") or a.get("uri") or "").netloc
    return f"{acct}@{host}" if host else acct


def account_into(b: Bundle, a: dict, captured_at: datetime) -> str:
    aid = account_key(a)
    note, _ = html_to_text(a.get("note"))
    b.add("accounts", {
        "platform": PLATFORM, "account_id": aid, "handle": full_handle(a),
        "display_name": a.get("display_name") or None, "description": note or None,
        "created_at": parse_time(a.get("created_at"), "account.created_at"), "url": a.get("url") or None,
        "protected": a.get("locked"), "labels": (["bot"] if a.get("bot") else None),
        "profile_image_url": a.get("avatar") or None,
    })
    if any(k in a for k in ("followers_count", "following_count", "statuses_count")):
        b.add("account_snapshots", {
            "platform": PLATFORM, "account_id": aid, "captured_at": captured_at,
            "followers": parse_int(a.get("followers_count")), "following": parse_int(a.get("following_count")),
            "posts_count": parse_int(a.get("statuses_count")),
        })
    return aid


def account(a: dict, captured_at: datetime) -> Bundle:
    """One Account entity (accounts/:id, lookup, verify_credentials, search) -> account + snapshot."""
    b = Bundle()
    account_into(b, a, captured_at)
    return b


def status_into(b: Bundle, s: dict, captured_at: datetime, observed: str = "primary") -> str:
    uri = s.get("uri")
    if not uri:
        raise RecordError("status without a uri")
    author = account_into(b, s["account"], captured_at)
    created = parse_time(s.get("created_at"), "created_at")
    if created is None:
        raise RecordError(f"status {uri} without created_at")
    if s.get("content") is not None:
        text, links = html_to_text(s.get("content"))
    else:  # a deleted status comes back with its source `text` instead of `content`
        text, links = s.get("text"), []
    if s.get("spoiler_text"):
        text = f"{s['spoiler_text']}\n\n{text or ''}".strip()
    app = s.get("application") or {}
    row = {
        "platform": PLATFORM, "post_id": uri, "account_id": author, "created_at": created, "text": text,
        "lang": s.get("language") or None, "kind": "post", "client": app.get("name") or None,
        "url": s.get("url") or uri, "observed": observed,
    }
    mention_by_id = {m.get("id"): m for m in s.get("mentions") or [] if m.get("id")}
    if s.get("in_reply_to_id"):
        m = mention_by_id.get(s.get("in_reply_to_account_id"))
        if m and m.get("url"):
            row["reply_to_account_id"] = m["url"]
        elif s.get("in_reply_to_account_id") == s["account"].get("id"):
            row["reply_to_account_id"] = author  # a thread: replying to oneself
        row.update(kind="reply", ref_account_id=row.get("reply_to_account_id"))
    quote = s.get("quote")
    quoted = quote.get("quoted_status") if isinstance(quote, dict) else None
    if isinstance(quoted, dict) and quoted.get("uri"):
        qid = status_into(b, quoted, captured_at, "referenced")
        row.update(kind="quote", quoted_post_id=qid, ref_post_id=qid, ref_account_id=account_key(quoted["account"]))
    reblog = s.get("reblog")
    if isinstance(reblog, dict):
        rid = status_into(b, reblog, captured_at, "referenced")
        row.update(kind="repost", ref_post_id=rid, ref_account_id=account_key(reblog["account"]), text=text or None)
    b.add("posts", row)
    if isinstance(reblog, dict):
        return uri  # the boost carries no content of its own
    card = s.get("card") or {}
    if card.get("url") and card["url"] not in links:
        links.append(card["url"])
    for i, link in enumerate(links):
        b.add("post_urls", url_row(PLATFORM, uri, i, link))
    seen = set()
    for t in s.get("tags") or []:
        name = t.get("name")
        if name and name.lower() not in seen:
            seen.add(name.lower())
            b.add("post_hashtags", {"platform": PLATFORM, "post_id": uri, "tag": name, "tag_norm": name.lower()})
    for m in s.get("mentions") or []:
        h = m.get("acct") or m.get("username")
        if not h:
            continue
        if "@" not in h and m.get("url"):
            h = f"{h}@{urlsplit(m['url']).netloc}"
        b.add("post_mentions", {"platform": PLATFORM, "post_id": uri, "handle": h, "handle_norm": h.lower(),
                                "account_id": m.get("url") or None})
    for i, att in enumerate(s.get("media_attachments") or []):
        b.add("post_media", {"platform": PLATFORM, "post_id": uri, "position": i,
                             "media_type": _MEDIA_TYPES.get(att.get("type"), "other"),
                             "url": att.get("url") or att.get("remote_url") or att.get("preview_url"),
                             "media_key": att.get("id"), "alt_text": att.get("description") or None})
    b.add("post_metrics", {
        "platform": PLATFORM, "post_id": uri, "captured_at": captured_at,
        "likes": parse_int(s.get("favourites_count")), "reposts": parse_int(s.get("reblogs_count")),
        "replies": parse_int(s.get("replies_count")), "quotes": parse_int(s.get("quotes_count")),
    })
    return uri


def status(s: dict, captured_at: datetime) -> Bundle:
    """One Status entity (timelines, statuses/:id, search results) -> Bundle."""
    b = Bundle()
    status_into(b, s, captured_at, "primary")
    return b
