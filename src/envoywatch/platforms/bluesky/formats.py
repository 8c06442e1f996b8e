"""Bluesky archive formats: saved AppView (app.bsky.*) JSON responses.

Each file is one response (or several, one per line). Detection looks for what only Bluesky has:
`at://` URIs, `did:` ids and `app.bsky.*` `$type`s. No AppView response carries a capture time, so
counts (followers, likes...) are snapshots at the file's capture time (--captured-at, else its mtime).
"""

from __future__ import annotations

from typing import Callable, Iterator

from envoywatch.importers.base import (iter_json_documents as documents, Bundle, FormatSpec, Reject, SkipFile, Sniff, Source, excerpt,
                                       normalize_record, register_format)
from envoywatch.platforms.bluesky import normalize

PLATFORM = "bluesky"


def _keys(s: Sniff) -> set[str]:
    j = s.first_json
    if isinstance(j, dict):
        return set(j.get("__keys__", ())) if j.get("__partial__") else set(j)
    return set()


def _is_did(v) -> bool:
    return isinstance(v, str) and v.startswith("did:")


def _is_at_post(v) -> bool:
    return isinstance(v, dict) and isinstance(v.get("uri"), str) and v["uri"].startswith("at://") \
        and isinstance(v.get("record"), dict)


# --- detection -------------------------------------------------------------------------------------

def _sniff_feed(s: Sniff) -> bool:
    j = s.first_json
    if isinstance(j, dict) and not j.get("__partial__"):
        feed = j.get("feed")
        if isinstance(feed, list):
            return bool(feed) and isinstance(feed[0], dict) and _is_at_post(feed[0].get("post"))
        return set(j) <= {"post", "reply", "reason", "feedContext"} and _is_at_post(j.get("post"))
    return "feed" in _keys(s) and '"at://did:' in s.head and "app.bsky.feed.post" in s.head


def _sniff_posts(s: Sniff) -> bool:
    j = s.first_json
    if isinstance(j, dict) and not j.get("__partial__"):
        posts = j.get("posts")
        return isinstance(posts, list) and bool(posts) and _is_at_post(posts[0])
    return "posts" in _keys(s) and '"at://did:' in s.head and "app.bsky.feed.post" in s.head


def _sniff_profile(s: Sniff) -> bool:
    j = s.first_json
    if not isinstance(j, dict):
        return False
    if isinstance(j.get("profiles"), list):
        return bool(j["profiles"]) and _is_did((j["profiles"][0] or {}).get("did"))
    return _is_did(j.get("did")) and "handle" in j and "followersCount" in j


def _sniff_follows(s: Sniff) -> bool:
    j = s.first_json
    return isinstance(j, dict) and _is_did((j.get("subject") or {}).get("did")) \
        and ("follows" in j or "followers" in j)


def _sniff_likes(s: Sniff) -> bool:
    j = s.first_json
    return isinstance(j, dict) and isinstance(j.get("uri"), str) and j["uri"].startswith("at://") \
        and isinstance(j.get("likes"), list)


# --- readers ---------------------------------------------------------------------------------------

def _reader(per_document: Callable[[int, object, Source], Iterator[Bundle | Reject]]):
    def read(source: Source) -> Iterator[Bundle | Reject]:
        for line, doc, rej in documents(source):
            if rej:
                yield rej
                continue
            if not isinstance(doc, dict):
                yield Reject(line, f"expected a JSON object (an AppView response), got {type(doc).__name__}",
                             excerpt(str(doc)))
                continue
            yield from per_document(line, doc, source)
    return read


def _feed_doc(line: int, doc, source: Source):
    items = doc.get("feed") if isinstance(doc, dict) and "feed" in doc else [doc]
    for i, item in enumerate(items):
        yield normalize_record(line if len(items) == 1 else line + i, item, normalize.feed_item, item,
                               source.captured_at)


def _posts_doc(line: int, doc, source: Source):
    posts = doc.get("posts") or []
    for i, pv in enumerate(posts):
        yield normalize_record(line + i, pv, normalize.post_view, pv, source.captured_at)


def _profile_doc(line: int, doc, source: Source):
    for i, p in enumerate(doc.get("profiles") if "profiles" in doc else [doc]):
        yield normalize_record(line + i, p, normalize.profile, p, source.captured_at)


def _follows_doc(line: int, doc, source: Source):
    yield normalize_record(line, doc, normalize.follows, doc, source.captured_at)


def _likes_doc(line: int, doc, source: Source):
    if not doc.get("likes"):
        if line == 1:
            raise SkipFile("Bluesky getLikes response with no likes: nothing to import")
        return
    yield normalize_record(line, doc, normalize.likes, doc, source.captured_at)


register_format(FormatSpec(
    "bluesky-feed", PLATFORM, "Bluesky getAuthorFeed/getTimeline responses ({feed: [{post, reply, reason}]}) "
    "or one feed item ({post, reply})", _sniff_feed, _reader(_feed_doc), priority=30))
register_format(FormatSpec(
    "bluesky-posts", PLATFORM, "Bluesky getPosts/getQuotes/searchPosts responses ({posts: [postView]})",
    _sniff_posts, _reader(_posts_doc), priority=30))
register_format(FormatSpec(
    "bluesky-profile", PLATFORM, "Bluesky getProfile (one profile) or getProfiles ({profiles}): accounts and "
    "follower counts", _sniff_profile, _reader(_profile_doc), priority=30))
register_format(FormatSpec(
    "bluesky-follows", PLATFORM, "Bluesky getFollows/getFollowers ({subject, follows|followers}): accounts and "
    "follow edges", _sniff_follows, _reader(_follows_doc), priority=30))
register_format(FormatSpec(
    "bluesky-likes", PLATFORM, "Bluesky getLikes ({uri, likes: [{actor}]}): the likers' accounts (likes are "
    "not posts)", _sniff_likes, _reader(_likes_doc), priority=30))
