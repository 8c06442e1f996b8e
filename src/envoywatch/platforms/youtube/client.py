"""YouTube Data API v3 connector (API key). HTTP only, yields raw pages untouched.

- `lookup(handle, account_id)`: GET channels?part=snippet,contentDetails,statistics with `id=` (the
  registry's channel id, or a handle that is one: `UC` + 22 characters) or `forHandle=@handle`.
  No item -> AccountGone(deleted): YouTube answers the same for a deleted, terminated or unknown channel.
- `timeline(...)`: the channel's uploads playlist (playlistItems?part=contentDetails, 50 a page,
  `pageToken`), newest first; for each playlist page one videos?id=...&part=snippet,statistics,
  contentDetails request, and that videos response is the page yielded (archived, normalized). The
  playlistItems responses only list ids (which the archived videos URL repeats) and are not archived.
  `floor` is the newest videoPublishedAt of the last run (stop at the first page reaching it), `resume`
  a pageToken, `since` stops at the first page older than it (the playlist cannot start at a date).
- Credential: `[youtube] api_key = "env:YOUTUBE_API_KEY"` (the default reference). It travels in the
  `X-Goog-Api-Key` request header (Google accepts it there as well as in `key=`): request headers are never
  archived, and a URL carrying `key=` would be written to logs by httpx at INFO level. The shared HTTP
  client also redacts the value from every message.
- Quota: every call used here costs 1 unit (channels.list, playlistItems.list, videos.list); a retried
  call is counted again (Google charges failed calls too). `quota_used` is this run's count; a run stops
  the platform (QuotaExhausted) before passing `[youtube] daily_quota` (default 10,000, Google's default
  daily quota per project, reset at midnight Pacific time). A 403 quotaExceeded from Google stops it too.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Iterator

from envoywatch.collect.errors import AccountGone, AuthError, CapReached, CollectError
from envoywatch.collect.http import ApiError, HttpClient, RawPage

PLATFORM = "youtube"
DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
CREDENTIAL = ("api_key", "env:YOUTUBE_API_KEY")
CREDENTIAL_HEADER = "X-Goog-Api-Key"   # Google's API-key header (collect/connectors.py), never key= in the URL
DAILY_QUOTA = 10_000
UNITS = {"channels": 1, "playlistItems": 1, "videos": 1}
AUTH_FIX = ("check that YOUTUBE_API_KEY (or the variable named by [youtube] api_key in envoywatch.toml) holds an "
            "API key of a Google Cloud project with the YouTube Data API v3 enabled and no referrer/IP restriction "
            "that excludes this machine; if the message says quotaExceeded, the project's daily quota is spent: "
            "wait for midnight Pacific time or ask Google for more")
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")


class QuotaExhausted(CapReached):
    """The run's YouTube quota budget is spent: the platform stops for this run (like a post cap)."""

    def __init__(self, used: int, budget: int):
        CollectError.__init__(self, PLATFORM, f"daily quota budget reached ({used:,} of {budget:,} units used by "
                              "this run)", None, "run again after midnight Pacific time, or raise [youtube] "
                              "daily_quota if your project has more quota")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Connector:
    platform = PLATFORM

    def __init__(self, http: HttpClient, page_size: int = 50, daily_quota: int | None = None):
        from envoywatch.config import setting

        self.http = http
        self.page_size = max(1, min(int(page_size), 50))
        self.budget = int(daily_quota or setting(PLATFORM, "daily_quota", None, "ENVOYWATCH_YOUTUBE_DAILY_QUOTA",
                                                 DAILY_QUOTA))

    @property
    def quota_used(self) -> int:
        """Units spent by this connector's requests (each try counts: Google bills failed calls too)."""
        return self.http.requests

    def _get(self, endpoint: str, params: dict, handle: str) -> RawPage:
        if self.quota_used + UNITS[endpoint] > self.budget:
            raise QuotaExhausted(self.quota_used, self.budget)
        try:
            return self.http.get_json(f"/{endpoint}", params)
        except ApiError as exc:
            body = exc.body or ""
            if exc.status == 400 and ("keyInvalid" in body or "API key not valid" in body):
                raise AuthError(PLATFORM, 401, "API key not valid", f"{self.http.base_url}/{endpoint}") from None
            if exc.status == 404:
                raise AccountGone(PLATFORM, handle, "deleted", f"HTTP 404 from {endpoint}: "
                                  f"{self.http.redact(body)[:160]}") from None
            raise

    def lookup(self, handle: str, account_id: str | None = None) -> RawPage:
        h = handle.lstrip("@")
        by = {"id": account_id} if account_id else {"id": h} if _CHANNEL_ID.match(h) else {"forHandle": "@" + h}
        page = self._get("channels", {"part": "snippet,contentDetails,statistics", **by}, handle)
        body = page.json if isinstance(page.json, dict) else {}
        if not body.get("items"):
            raise AccountGone(PLATFORM, handle, "deleted", "YouTube returns no channel for this handle or id "
                              "(deleted, terminated, or never existed)")
        page.kind, page.account = "profile", handle
        return page

    # a lookup by the registry's channel id answers the current handle (customUrl): a different one is a rename
    renames_by_id = True

    @staticmethod
    def account_of(page: RawPage) -> tuple[str, str, str | None]:
        """(the uploads playlist id, which the timeline reads; the channel id; the handle as answered)."""
        ch = page.json["items"][0]
        uploads = ((ch.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        if not uploads:
            raise CollectError(PLATFORM, f"channel {ch.get('id')} has no uploads playlist in the answer", page.url,
                               "ask for part=contentDetails")
        return uploads, ch["id"], (ch.get("snippet") or {}).get("customUrl")

    @staticmethod
    def moved_to(page: RawPage) -> str | None:
        return None

    def timeline(self, account_id: str, handle: str, floor: str | None = None, resume: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Iterator[RawPage]:
        token = resume or None
        since_s = _iso(since) if since else None
        while True:
            plist = self._get("playlistItems", {"part": "contentDetails", "playlistId": account_id,
                                                "maxResults": self.page_size, "pageToken": token}, handle)
            body = plist.json if isinstance(plist.json, dict) else {}
            items = [it.get("contentDetails") or {} for it in body.get("items") or []]
            ids = [c["videoId"] for c in items if c.get("videoId")]
            times = [c["videoPublishedAt"] for c in items if c.get("videoPublishedAt")]
            nxt = body.get("nextPageToken")
            if ids:
                page = self._get("videos", {"part": "snippet,statistics,contentDetails", "id": ",".join(ids),
                                            "maxResults": 50}, handle)
                vids = (page.json or {}).get("items") or [] if isinstance(page.json, dict) else []
                times += [(v.get("snippet") or {}).get("publishedAt") for v in vids
                          if (v.get("snippet") or {}).get("publishedAt")]
                page.kind = "timeline"
            else:  # an empty playlist (or page): yield it so the pass ends and the cursor closes
                page, page.kind = plist, "playlist"
            page.account = handle
            page.top = max(times) if times else None
            oldest = min(times) if times else None
            more = bool(ids) and bool(nxt)
            if floor and oldest and oldest <= floor:
                more = False
            if since_s and oldest and oldest < since_s:
                more = False
            if more and nxt == token:  # the same page again: stop, resume there next run
                page.extra["stalled"] = token
                more = False
            page.resume = nxt if more else None
            page.extra["quota_used"] = self.quota_used
            yield page
            if not more:
                return
            token = nxt
