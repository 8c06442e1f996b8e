"""Bluesky AppView objects -> Bundle. Pure functions, one API object at a time.

Ids: post_id is the post's at:// URI, account_id the author's DID. A repost has no URI of its own in
getAuthorFeed (older AppViews give only `reason.by` and `reason.indexedAt`), so it gets the id
`<reposter DID>/repost/<subject at:// URI>@<reason.indexedAt>`; where the AppView gives the repost
record's URI (`reason.uri`, newer AppViews) that URI is the id instead.

Kinds: a feed item whose `reason` is `app.bsky.feed.defs#reasonRepost` is a repost (the reposted post is
stored with observed='referenced'); a post embedding a post record (`app.bsky.embed.record`,
`recordWithMedia`) is a quote; a post with `record.reply` is a reply. Embedded posts (quoted records,
reply parent/root views) are stored too with observed='referenced'.

Links come from `app.bsky.richtext.facet#link` facets and external embeds; hashtags from `#tag` facets;
mentions from `#mention` facets (DID, handle as written in the text). Metrics (likeCount, repostCount,
replyCount, quoteCount) and profile counts carry no capture time in AppView responses: callers pass one.
"""

from __future__ import annotations

from datetime import datetime

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import url_row

PLATFORM = "bluesky"
POST_COLLECTION = "/app.bsky.feed.post/"


def did_of_uri(uri: str | None) -> str | None:
    """'at://did:plc:abc/app.bsky.feed.post/xyz' -> 'did:plc:abc'."""
    if not uri or not uri.startswith("at://"):
        return None
    return uri[5:].split("/", 1)[0] or None


def permalink(handle_or_did: str | None, uri: str) -> str | None:
    if not handle_or_did or POST_COLLECTION not in uri:
        return None
    return f"https://bsky.app/profile/{handle_or_did}/post/{uri.rsplit('/', 1)[-1]}"


# --- accounts ------------------------------------------------------------------------------------

def profile_into(b: Bundle, p: dict, captured_at: datetime) -> str:
    """Add an account from any profile view (basic, full, detailed); a snapshot when it has counts."""
    did = p.get("did")
    if not did:
        raise RecordError("profile without a did")
    labels = [lab.get("val") for lab in (p.get("labels") or []) if isinstance(lab, dict) and lab.get("val")]
    handle = p.get("handle")
    b.add("accounts", {
        "platform": PLATFORM, "account_id": did, "handle": handle if handle != "handle.invalid" else None,
        "display_name": p.get("displayName") or None, "description": p.get("description") or None,
        "created_at": parse_time(p.get("createdAt"), "createdAt"),
        "url": f"https://bsky.app/profile/{handle or did}", "labels": labels or None,
        "profile_image_url": p.get("avatar") or None,
    })
    if any(k in p for k in ("followersCount", "followsCount", "postsCount")):
        b.add("account_snapshots", {
            "platform": PLATFORM, "account_id": did, "captured_at": captured_at,
            "followers": parse_int(p.get("followersCount")), "following": parse_int(p.get("followsCount")),
            "posts_count": parse_int(p.get("postsCount")),
        })
    return did


def profile(p: dict, captured_at: datetime) -> Bundle:
    """app.bsky.actor.getProfile (one profileViewDetailed) -> account + snapshot."""
    b = Bundle()
    profile_into(b, p, captured_at)
    return b


def follows(page: dict, captured_at: datetime) -> Bundle:
    """app.bsky.graph.getFollows ({subject, follows}) or getFollowers ({subject, followers}) -> accounts + edges."""
    b = Bundle()
    subject = profile_into(b, page["subject"], captured_at)
    for key, outgoing in (("follows", True), ("followers", False)):
        for p in page.get(key) or []:
            other = profile_into(b, p, captured_at)
            src, dst = (subject, other) if outgoing else (other, subject)
            b.add("account_follows", {"platform": PLATFORM, "account_id": src, "target_account_id": dst,
                                      "captured_at": captured_at})
    return b


def likes(page: dict, captured_at: datetime) -> Bundle:
    """app.bsky.feed.getLikes ({uri, likes: [{actor, createdAt}]}): the likers' accounts (likes are not posts)."""
    b = Bundle()
    for like in page.get("likes") or []:
        profile_into(b, like["actor"], captured_at)
    return b


# --- posts ---------------------------------------------------------------------------------------

def _text_slice(text: str, index: dict | None) -> str | None:
    """Facet indexes are UTF-8 byte offsets."""
    if not index:
        return None
    try:
        return text.encode("utf-8")[index["byteStart"]:index["byteEnd"]].decode("utf-8", errors="replace")
    except (KeyError, TypeError):
        return None


def _embedded_post_uri(embed: dict | None) -> str | None:
    """The quoted post's URI in a record embed (lexicon form in `record.embed`)."""
    if not isinstance(embed, dict):
        return None
    t = embed.get("$type", "")
    if t.startswith("app.bsky.embed.recordWithMedia"):
        embed = embed.get("record") or {}
        t = "app.bsky.embed.record"
    if t.startswith("app.bsky.embed.record"):
        rec = embed.get("record") or {}
        uri = rec.get("uri")
        if uri and POST_COLLECTION in uri:  # a record embed can also be a feed generator or a list
            return uri
    return None


def _views(embed: dict | None) -> tuple[list[dict], dict | None]:
    """Split a view embed into (media/external views, embedded record view)."""
    if not isinstance(embed, dict):
        return [], None
    t = embed.get("$type", "")
    if t.startswith("app.bsky.embed.recordWithMedia"):
        media = embed.get("media")
        rec = (embed.get("record") or {}).get("record")
        return ([media] if isinstance(media, dict) else []), rec
    if t.startswith("app.bsky.embed.record"):
        return [], embed.get("record")
    return [embed], None


def post_view_into(b: Bundle, pv: dict, captured_at: datetime, observed: str = "primary") -> str:
    """Add a post from a postView (or an embed viewRecord: `value` instead of `record`, `embeds` list)."""
    uri = pv.get("uri")
    if not uri:
        raise RecordError("post without a uri")
    author = pv.get("author") or {}
    did = profile_into(b, author, captured_at) if author.get("did") else did_of_uri(uri)
    record = pv.get("record") or pv.get("value") or {}
    text = record.get("text")
    if not isinstance(text, str):
        text = None
    created = parse_time(record.get("createdAt") or pv.get("indexedAt"), "createdAt")
    if created is None:
        raise RecordError(f"post {uri} has neither record.createdAt nor indexedAt")
    langs = record.get("langs") or []
    row = {
        "platform": PLATFORM, "post_id": uri, "account_id": did, "created_at": created, "text": text,
        "lang": langs[0] if langs else None, "kind": "post", "observed": observed,
        "url": permalink(author.get("handle") or did, uri), "client": None,
    }
    reply = record.get("reply") or {}
    parent_uri = (reply.get("parent") or {}).get("uri")
    root_uri = (reply.get("root") or {}).get("uri")
    quoted = _embedded_post_uri(record.get("embed"))
    if parent_uri:
        row.update(reply_to_post_id=parent_uri, reply_to_account_id=did_of_uri(parent_uri),
                   conversation_id=root_uri or parent_uri)
    if quoted:
        row.update(kind="quote", quoted_post_id=quoted, ref_post_id=quoted, ref_account_id=did_of_uri(quoted))
    elif parent_uri:
        row.update(kind="reply", ref_post_id=parent_uri, ref_account_id=did_of_uri(parent_uri))
    b.add("posts", row)

    # links, tags, mentions from facets
    links: list[str] = []
    tags: dict[str, str] = {}
    for facet in record.get("facets") or []:
        for feat in facet.get("features") or []:
            ft = feat.get("$type", "")
            if ft.endswith("#link") and feat.get("uri"):
                if feat["uri"] not in links:
                    links.append(feat["uri"])
            elif ft.endswith("#tag") and feat.get("tag"):
                tags.setdefault(feat["tag"].lower(), feat["tag"])
            elif ft.endswith("#mention") and feat.get("did"):
                written = _text_slice(text or "", facet.get("index")) or feat["did"]
                handle = written.lstrip("@") or feat["did"]
                b.add("post_mentions", {"platform": PLATFORM, "post_id": uri, "handle": handle,
                                        "handle_norm": handle.lower(), "account_id": feat["did"]})
    media_views, record_view = _views(pv.get("embed") if "embed" in pv else ((pv.get("embeds") or [None])[0]))
    rec_embed = record.get("embed") or {}
    ext = (rec_embed.get("external") or (rec_embed.get("media") or {}).get("external") or {}).get("uri")
    position = 0
    for mv in media_views:
        mt = mv.get("$type", "")
        if mt.startswith("app.bsky.embed.external") and (mv.get("external") or {}).get("uri"):
            ext = ext or mv["external"]["uri"]
        elif mt.startswith("app.bsky.embed.images"):
            for img in mv.get("images") or []:
                b.add("post_media", {"platform": PLATFORM, "post_id": uri, "position": position, "media_type": "photo",
                                     "url": img.get("fullsize") or img.get("thumb"), "media_key": None,
                                     "alt_text": img.get("alt") or None})
                position += 1
        elif mt.startswith("app.bsky.embed.video"):
            b.add("post_media", {"platform": PLATFORM, "post_id": uri, "position": position, "media_type": "video",
                                 "url": mv.get("playlist") or mv.get("thumbnail"), "media_key": mv.get("cid"),
                                 "alt_text": mv.get("alt") or None})
            position += 1
    if ext and ext not in links:
        links.append(ext)
    for i, link in enumerate(links):
        b.add("post_urls", url_row(PLATFORM, uri, i, link))
    for norm, tag in tags.items():
        b.add("post_hashtags", {"platform": PLATFORM, "post_id": uri, "tag": tag, "tag_norm": norm})
    if any(k in pv for k in ("likeCount", "repostCount", "replyCount", "quoteCount")):
        b.add("post_metrics", {
            "platform": PLATFORM, "post_id": uri, "captured_at": captured_at,
            "likes": parse_int(pv.get("likeCount")), "reposts": parse_int(pv.get("repostCount")),
            "replies": parse_int(pv.get("replyCount")), "quotes": parse_int(pv.get("quoteCount")),
        })
    # the embedded (quoted) post, when the view carries it
    if isinstance(record_view, dict) and record_view.get("uri") and POST_COLLECTION in record_view["uri"] \
            and (record_view.get("value") or record_view.get("record")) and record_view.get("author"):
        post_view_into(b, record_view, captured_at, "referenced")
    return uri


def repost_id(reason: dict, subject_uri: str) -> str:
    """The repost's id: the repost record's URI where given, else `<DID>/repost/<subject uri>@<indexedAt>`."""
    if reason.get("uri"):
        return reason["uri"]
    by = (reason.get("by") or {}).get("did")
    if not by:
        raise RecordError("repost reason without reason.by.did")
    return f"{by}/repost/{subject_uri}@{reason.get('indexedAt') or ''}"


def feed_item(item: dict, captured_at: datetime) -> Bundle:
    """One feedViewPost ({post, reply?, reason?}) of getAuthorFeed / getTimeline / a feed."""
    b = Bundle()
    reason = item.get("reason") or {}
    is_repost = reason.get("$type", "").endswith("#reasonRepost")
    subject = post_view_into(b, item["post"], captured_at, "referenced" if is_repost else "primary")
    for key in ("parent", "root"):
        ref = (item.get("reply") or {}).get(key) or {}
        if ref.get("uri") and ref.get("author") and ref.get("record"):  # notFoundPost / blockedPost carry no record
            post_view_into(b, ref, captured_at, "referenced")
    if is_repost:
        by = reason.get("by") or {}
        reposter = profile_into(b, by, captured_at)
        when = parse_time(reason.get("indexedAt"), "reason.indexedAt") or parse_time(
            item["post"].get("indexedAt"), "indexedAt")
        rid = repost_id(reason, subject)
        b.add("posts", {
            "platform": PLATFORM, "post_id": rid, "account_id": reposter, "created_at": when, "text": None,
            "kind": "repost", "ref_post_id": subject, "ref_account_id": (item["post"].get("author") or {}).get("did"),
            "observed": "primary", "url": None,
        })
    return b


def post_view(pv: dict, captured_at: datetime) -> Bundle:
    """One postView of getPosts / getQuotes / searchPosts."""
    b = Bundle()
    post_view_into(b, pv, captured_at, "primary")
    return b
