"""X web GraphQL responses -> Bundle. Pure functions.

Handled responses (as captured from x.com's own web client, e.g. the CANIS hackathon copies):
- UserTweets (`data.user.result.timeline_v2.timeline.instructions`): TimelineAddEntries entries
  `tweet-*` (one tweet) and `profile-conversation-*` (a module of the account's self-thread) and the
  TimelinePinEntry (pinned tweet) are the account's own posts (observed='primary'). Their embedded
  `legacy.retweeted_status_result` and `quoted_status_result` are stored as 'referenced'.
  `promoted-tweet-*` entries are ads the web client injected into the viewer's session, not the
  account's posts: they are left out, as are `who-to-follow-*` suggestion modules and cursors.
- A tweet result is `Tweet`, or `TweetWithVisibilityResults` wrapping the Tweet in `tweet`;
  `TweetTombstone` (deleted/suspended) and empty results hold no post and are passed over.
  Long "note tweets" take their full text and entities from `note_tweet.note_tweet_results.result`.
- UserByScreenName (`data.user.result` with `legacy`): one account and a snapshot.
- Following (`data.user.result.timeline.timeline.instructions`, entries `user-*`): accounts and
  snapshots of the listed users, and follow edges from the page's owner (see `following_page`).

`legacy` objects are v1.1 statuses/users without their nested objects; they are rebuilt in that shape
and go through normalize_v1. GraphQL gives no capture time: snapshots use the caller's capture time.
"""

from __future__ import annotations

from datetime import datetime

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.platforms.x.normalize import PLATFORM
from envoywatch.platforms.x.normalize_v1 import status_into, user_into


def timeline_instructions(doc: dict) -> list:
    res = doc["data"]["user"]["result"]
    tl = res.get("timeline_v2") or res.get("timeline") or {}
    return (tl.get("timeline") or {}).get("instructions") or []


def timeline_entries(doc: dict) -> list[dict]:
    """Entries in order: the pinned entry first, then TimelineAddEntries (cursors included)."""
    out = []
    for ins in timeline_instructions(doc):
        if ins.get("type") == "TimelinePinEntry" and ins.get("entry"):
            out.append(ins["entry"])
        elif ins.get("type") == "TimelineAddEntries":
            out.extend(ins.get("entries") or ())
    return out


def unwrap_tweet(res: dict | None) -> dict | None:
    """The Tweet inside a tweet_results.result, or None for tombstones and empty results."""
    if not res:
        return None
    if res.get("__typename") == "TweetWithVisibilityResults":
        res = res.get("tweet") or {}
    if "legacy" not in res or res.get("__typename") not in (None, "Tweet"):
        return None
    return res


def user_legacy(res: dict | None) -> dict | None:
    """A GraphQL User result as a v1.1 user object (id_str from rest_id)."""
    if not res or res.get("__typename", "User") != "User" or "legacy" not in res or not res.get("rest_id"):
        return None
    u = dict(res["legacy"])
    u["id_str"] = res["rest_id"]
    if res.get("is_blue_verified") and not u.get("verified_type"):
        u["verified_type"] = "blue"
    # the affiliation badge ("BusinessLabel" with the organisation's name, e.g. a reporter's outlet);
    # kept with its type so that it is not mistaken for a platform label such as "state-affiliated media"
    label = (res.get("affiliates_highlighted_label") or {}).get("label") or {}
    if label.get("description"):
        u["_labels"] = [f"{label.get('userLabelType') or 'label'}: {label['description']}"]
    return u


def as_status(tw: dict) -> dict:
    """A GraphQL Tweet as a v1.1 status: legacy + user + embedded retweeted/quoted statuses."""
    st = dict(tw["legacy"])
    st.setdefault("id_str", tw.get("rest_id"))
    user = user_legacy(((tw.get("core") or {}).get("user_results") or {}).get("result"))
    st["user"] = user or {}
    if tw.get("source"):
        st["source"] = tw["source"]
    views = (tw.get("views") or {}).get("count")
    if views is not None:
        st["_views"] = views
    note = (((tw.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result") or {})
    if note.get("text"):
        st["_note_text"] = note["text"]
        es = note.get("entity_set")
        if es:
            st["_note_entities"] = es
    rt = unwrap_tweet((st.pop("retweeted_status_result", None) or {}).get("result"))
    if rt is not None:
        st["retweeted_status"] = as_status(rt)
    qt = unwrap_tweet((tw.get("quoted_status_result") or {}).get("result"))
    if qt is not None:
        st["quoted_status"] = as_status(qt)
    return st


def entry_tweets(entry: dict) -> list[dict]:
    """The account's own tweets in a UserTweets entry (none for ads, suggestions, cursors)."""
    eid = entry.get("entryId") or ""
    if not (eid.startswith("tweet-") or eid.startswith("profile-conversation-")):
        return []
    content = entry.get("content") or {}
    items = []
    if "itemContent" in content:
        items.append(content["itemContent"])
    for it in content.get("items") or ():
        items.append((it.get("item") or {}).get("itemContent") or {})
    out = []
    for ic in items:
        if ic.get("itemType") != "TimelineTweet" or ic.get("promotedMetadata"):
            continue
        tw = unwrap_tweet((ic.get("tweet_results") or {}).get("result"))
        if tw is not None:
            out.append(tw)
    return out


def timeline_entry(entry: dict, captured_at: datetime) -> Bundle:
    """One UserTweets timeline entry -> Bundle (empty for ads, suggestions and cursors)."""
    b = Bundle()
    seen: set = set()
    for tw in entry_tweets(entry):
        status_into(b, as_status(tw), "primary", captured_at, seen)
    return b


def user_by_screen_name(doc: dict, captured_at: datetime) -> Bundle:
    b = Bundle()
    u = user_legacy(doc["data"]["user"]["result"])
    if u is None:
        raise RecordError("the response holds no user (suspended, deleted or unavailable account)")
    user_into(b, u, captured_at)
    return b


def following_entry(entry: dict, owner_id: str | None, captured_at: datetime) -> Bundle:
    """One `user-*` entry of a Following page: the followed account, its snapshot and the edge.

    An entry whose user_results is empty (an account no longer available) gives the edge only, to the
    id in its entryId (`user-<id>`)."""
    b = Bundle()
    ic = (entry.get("content") or {}).get("itemContent") or {}
    if ic.get("itemType") != "TimelineUser":
        return b
    u = user_legacy((ic.get("user_results") or {}).get("result"))
    uid = user_into(b, u, captured_at) if u is not None else None
    if uid is None:
        # an empty user_results (account no longer available): the entry id still names the account
        tail = (entry.get("entryId") or "")[5:]
        uid = tail if tail.isdigit() else None
    if owner_id and uid:
        b.add("account_follows", {"platform": PLATFORM, "account_id": owner_id, "target_account_id": uid,
                                  "captured_at": captured_at})
    return b


def user_id_of(doc: dict) -> tuple[str | None, str | None]:
    """(rest_id, screen_name) of a UserByScreenName response."""
    u = user_legacy(doc["data"]["user"]["result"])
    return (u["id_str"], u.get("screen_name")) if u else (None, None)
