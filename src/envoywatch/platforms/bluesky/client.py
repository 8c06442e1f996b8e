"""Bluesky connector: the public AppView over plain HTTP, no login. Yields raw pages untouched.

- `resolve_handle(handle)`: com.atproto.identity.resolveHandle -> DID
- `lookup(handle, did)`: app.bsky.actor.getProfile (by DID when known: a handle change shows as a rename);
  `AccountTakedown` -> suspended, `AccountDeactivated` -> deactivated (deleted), not found -> deleted
- `timeline(...)`: app.bsky.feed.getAuthorFeed, newest first, with `cursor`. The AppView has no since_id:
  the floor is the newest item's time seen by the last run (a repost's own time, else the post's
  indexedAt) and paging stops at the first page that reaches it. `until` starts the cursor at that time.
- rate limits: ratelimit-* headers (the public AppView allows about 3000 requests / 5 min per IP)
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from envoywatch.collect.errors import AccountGone
from envoywatch.collect.http import ApiError, HttpClient, RawPage

PLATFORM = "bluesky"
DEFAULT_BASE_URL = "https://public.api.bsky.app"
CREDENTIAL = None

_GONE = {"AccountTakedown": "suspended", "AccountDeactivated": "deleted", "ProfileNotFound": "deleted"}


def item_time(item: dict) -> str | None:
    """The time a feed item is sorted by: the repost's time for reposts, else the post's indexedAt."""
    reason = item.get("reason") or {}
    return reason.get("indexedAt") or (item.get("post") or {}).get("indexedAt")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Connector:
    platform = PLATFORM

    def __init__(self, http: HttpClient, page_size: int = 100):
        self.http = http
        self.page_size = page_size

    def resolve_handle(self, handle: str) -> str:
        try:
            page = self.http.get_json("/xrpc/com.atproto.identity.resolveHandle", {"handle": handle})
        except ApiError as exc:
            raise AccountGone(PLATFORM, handle, "deleted", _detail(exc)) from None
        return page.json["did"]

    def lookup(self, handle: str, account_id: str | None = None) -> RawPage:
        try:
            page = self.http.get_json("/xrpc/app.bsky.actor.getProfile", {"actor": account_id or handle})
        except ApiError as exc:
            change = _gone_change(exc)
            if change:
                raise AccountGone(PLATFORM, handle, change, _detail(exc)) from None
            raise
        page.kind, page.account = "profile", handle
        return page

    renames_by_id = True  # getProfile by DID answers the current handle

    @staticmethod
    def account_of(page: RawPage) -> tuple[str, str, str | None]:
        """(id the feed endpoint takes, the store's account_id, the handle as answered)."""
        return page.json["did"], page.json["did"], page.json.get("handle")

    @staticmethod
    def moved_to(page: RawPage) -> str | None:
        return None

    def timeline(self, account_id: str, handle: str, floor: str | None = None, resume: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Iterator[RawPage]:
        cursor = resume or (_iso(until) if until else None)
        stop_at = floor or (_iso(since) if since else None)
        while True:
            try:
                page = self.http.get_json("/xrpc/app.bsky.feed.getAuthorFeed",
                                          {"actor": account_id, "limit": self.page_size, "cursor": cursor})
            except ApiError as exc:
                change = _gone_change(exc)
                if change:
                    raise AccountGone(PLATFORM, handle, change, _detail(exc)) from None
                raise
            body = page.json if isinstance(page.json, dict) else {}
            feed = body.get("feed") or []
            page.kind, page.account = "timeline", handle
            page.top = item_time(feed[0]) if feed else None
            oldest = item_time(feed[-1]) if feed else None
            nxt = body.get("cursor")
            reached = stop_at is not None and oldest is not None and oldest <= stop_at
            more = bool(feed) and bool(nxt) and not reached
            if more and nxt == cursor:  # a cursor that repeats would loop for ever: stop, resume there next run
                page.extra["stalled"] = cursor
                more = False
            page.resume = nxt if more else None
            yield page
            if not more:
                return
            cursor = nxt


def _gone_change(exc: ApiError) -> str | None:
    import orjson

    if exc.status in (404, 410):
        return "deleted"
    try:
        body = orjson.loads(exc.body)
    except orjson.JSONDecodeError:
        return None
    err = body.get("error") if isinstance(body, dict) else None
    if err in _GONE:
        return _GONE[err]
    msg = str(body.get("message") or "").lower() if isinstance(body, dict) else ""
    if "not found" in msg or "unable to resolve" in msg:
        return "deleted"
    if "suspended" in msg or "takedown" in msg:
        return "suspended"
    return None


def _detail(exc: ApiError) -> str:
    return f"HTTP {exc.status}: {exc.body[:200]}"
