"""Mastodon connector: any instance's REST API, anonymous by default. Yields raw pages untouched.

- the instance is the handle's domain (`user@instance`), unless a base URL is configured (tests, proxies)
- `lookup(handle)`: GET /api/v1/accounts/lookup?acct=... (404 -> deleted, 410 or `suspended` -> suspended,
  `moved` -> renamed / moved to another account)
- `timeline(...)`: GET /api/v1/accounts/:id/statuses, 40 per page, newest first; the next page comes from
  the Link header (rel="next", its max_id); `floor` -> since_id, `resume` -> max_id. Backfills use
  Mastodon's time-ordered ids: since/until become since_id/max_id (`timestamp_ms << 16`).
- rate limits: x-ratelimit-* headers (300 requests / 5 min by default on mastodon.social)
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

from envoywatch.collect.errors import AccountGone
from envoywatch.collect.http import ApiError, HttpClient, RawPage

PLATFORM = "mastodon"
DEFAULT_BASE_URL = None  # the instance of each handle
CREDENTIAL = ("access_token", None)  # optional: "env:MASTODON_TOKEN"

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')


def instance_of(handle: str) -> str | None:
    return handle.split("@", 1)[1] if "@" in handle.lstrip("@") else None


def time_id(t: datetime) -> str:
    """A Mastodon snowflake id for a time (ids are `milliseconds << 16`)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return str(int(t.timestamp() * 1000) << 16)


def next_max_id(link: str | None) -> str | None:
    for url, rel in _LINK.findall(link or ""):
        if rel == "next":
            return (parse_qs(urlsplit(url).query).get("max_id") or [None])[0]
    return None


class Connector:
    platform = PLATFORM

    def __init__(self, http: HttpClient, page_size: int = 40):
        self.http = http
        self.page_size = page_size

    def lookup(self, handle: str, account_id: str | None = None) -> RawPage:
        acct = handle.lstrip("@")
        inst = instance_of(acct)
        if inst and inst in self.http.base_url:
            acct = acct.split("@", 1)[0]
        try:
            page = self.http.get_json("/api/v1/accounts/lookup", {"acct": acct})
        except ApiError as exc:
            if exc.status == 404:
                raise AccountGone(PLATFORM, handle, "deleted", f"HTTP 404: {exc.body[:200]}") from None
            if exc.status == 410:
                raise AccountGone(PLATFORM, handle, "suspended", f"HTTP 410: {exc.body[:200]}") from None
            raise
        if isinstance(page.json, dict) and page.json.get("suspended"):
            raise AccountGone(PLATFORM, handle, "suspended", "the instance marks the account suspended")
        page.kind, page.account = "profile", handle
        return page

    # lookups go by handle: a rename shows only as `moved` (see moved_to)
    renames_by_id = False

    @staticmethod
    def account_of(page: RawPage) -> tuple[str, str, str | None]:
        """(the instance's local id, which the statuses endpoint takes; the store's account_id, which is the
        profile URL as in platforms/mastodon/normalize.py; the acct as answered)."""
        a = page.json
        return a["id"], a.get("url") or a.get("uri") or a["id"], a.get("acct")

    @staticmethod
    def moved_to(page: RawPage) -> str | None:
        moved = page.json.get("moved") if isinstance(page.json, dict) else None
        return moved.get("acct") if isinstance(moved, dict) else None

    def timeline(self, account_id: str, handle: str, floor: str | None = None, resume: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Iterator[RawPage]:
        max_id = resume or (time_id(until) if until else None)
        since_id = floor or (time_id(since) if since else None)
        while True:
            try:
                page = self.http.get_json(f"/api/v1/accounts/{account_id}/statuses",
                                          {"limit": self.page_size, "since_id": since_id, "max_id": max_id})
            except ApiError as exc:
                if exc.status in (404, 410):
                    raise AccountGone(PLATFORM, handle, "deleted" if exc.status == 404 else "suspended",
                                      f"HTTP {exc.status}") from None
                raise
            statuses = page.json if isinstance(page.json, list) else []
            page.kind, page.account = "timeline", handle
            page.top = statuses[0]["id"] if statuses else None
            nxt = next_max_id(page.headers.get("link")) or (statuses[-1]["id"] if statuses else None)
            more = bool(statuses) and nxt is not None
            if more and nxt == max_id:  # the same page again: stop, resume there next run
                page.extra["stalled"] = max_id
                more = False
            page.resume = nxt if more else None
            yield page
            if not more:
                return
            max_id = nxt
