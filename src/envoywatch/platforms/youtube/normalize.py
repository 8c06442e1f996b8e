"""YouTube Data API v3 resources -> Bundle. Pure functions, one resource at a time.

Ids: account_id is the channel id (`UC...`), post_id the video id. A video is a post of kind `post`
whose text is the title, a blank line, then the description (the API's `snippet.title` and
`snippet.description`). Links and hashtags are read from the title and description (the API gives no
entities). Counts are snapshots at the capture time (the API carries none): a channel's
subscriberCount -> followers (NULL where the channel hides it), videoCount -> posts_count; a video's
viewCount -> views, likeCount -> likes (NULL where hidden), commentCount -> replies.
The channel's total viewCount has no column in account_snapshots and is kept only in the raw archive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle, Reject, normalize_record
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import hashtags_in_text, url_row, urls_in_text

PLATFORM = "youtube"
VIDEO_KINDS = ("youtube#video",)
LIST_KINDS = {"youtube#videoListResponse": "videos", "youtube#channelListResponse": "channels",
              "youtube#playlistItemListResponse": "playlistItems"}


def _thumb(snippet: dict) -> str | None:
    th = snippet.get("thumbnails") or {}
    for size in ("high", "medium", "default"):
        if isinstance(th.get(size), dict) and th[size].get("url"):
            return th[size]["url"]
    return None


def channel(item: dict, captured_at: datetime) -> Bundle:
    """A channel resource (channels.list, part snippet,contentDetails,statistics) -> account + snapshot."""
    cid = item.get("id")
    if not cid:
        raise RecordError("channel without id")
    sn = item.get("snippet") or {}
    st = item.get("statistics") or {}
    b = Bundle()
    handle = (sn.get("customUrl") or "").lstrip("@") or None
    b.add("accounts", {"platform": PLATFORM, "account_id": cid, "handle": handle, "display_name": sn.get("title"),
                       "description": sn.get("description") or None,
                       "created_at": parse_time(sn.get("publishedAt"), "publishedAt"),
                       "location": sn.get("country"), "lang": sn.get("defaultLanguage"),
                       "url": f"https://www.youtube.com/channel/{cid}",
                       "profile_image_url": _thumb(sn)})
    if st:
        hidden = bool(st.get("hiddenSubscriberCount"))
        b.add("account_snapshots", {"platform": PLATFORM, "account_id": cid, "captured_at": captured_at,
                                    "followers": None if hidden else parse_int(st.get("subscriberCount")),
                                    "posts_count": parse_int(st.get("videoCount"))})
    return b


def video(item: dict, captured_at: datetime) -> Bundle:
    """A video resource (videos.list, part snippet,statistics,contentDetails) -> post, links, hashtags, metrics."""
    vid = item.get("id")
    if not isinstance(vid, str) or not vid:
        raise RecordError("video without id")
    sn = item.get("snippet")
    if not isinstance(sn, dict):
        raise RecordError(f"video {vid} without snippet (ask for part=snippet)")
    created = parse_time(sn.get("publishedAt"), "publishedAt")
    if created is None:
        raise RecordError(f"video {vid} without publishedAt")
    cid = sn.get("channelId")
    if not cid:
        raise RecordError(f"video {vid} without channelId")
    title, desc = sn.get("title") or "", sn.get("description") or ""
    text = title + ("\n\n" + desc if desc else "")
    b = Bundle()
    b.add("accounts", {"platform": PLATFORM, "account_id": cid, "display_name": sn.get("channelTitle")})
    b.add("posts", {"platform": PLATFORM, "post_id": vid, "account_id": cid, "created_at": created,
                    "text": text or None, "lang": sn.get("defaultAudioLanguage") or sn.get("defaultLanguage"),
                    "kind": "post", "observed": "primary", "url": f"https://www.youtube.com/watch?v={vid}"})
    seen: set[str] = set()
    for u in urls_in_text(text):
        if u not in seen:
            b.add("post_urls", url_row(PLATFORM, vid, len(seen), u))
            seen.add(u)
    tags: set[str] = set()
    for t in hashtags_in_text(text):
        if t.lower() not in tags:
            tags.add(t.lower())
            b.add("post_hashtags", {"platform": PLATFORM, "post_id": vid, "tag": t, "tag_norm": t.lower()})
    thumb = _thumb(sn)
    if thumb:
        b.add("post_media", {"platform": PLATFORM, "post_id": vid, "position": 0, "media_type": "video",
                             "url": thumb, "media_key": vid, "alt_text": None})
    st = item.get("statistics")
    if isinstance(st, dict) and st:
        b.add("post_metrics", {"platform": PLATFORM, "post_id": vid, "captured_at": captured_at,
                               "views": parse_int(st.get("viewCount")), "likes": parse_int(st.get("likeCount")),
                               "replies": parse_int(st.get("commentCount"))})
    return b


def response(body, captured_at: datetime, first_line: int = 1) -> Iterator[Bundle | Reject]:
    """One API list response (videos / channels) -> a Bundle or Reject per item; playlistItems and
    other responses hold no posts or accounts and yield nothing."""
    if not isinstance(body, dict):
        return
    kind = LIST_KINDS.get(body.get("kind"))
    fn = {"videos": video, "channels": channel}.get(kind)
    if fn is None:
        return
    for i, item in enumerate(body.get("items") or []):
        yield normalize_record(first_line + i, item, fn, item, captured_at)
