"""Telegram public channels through the web preview (`https://t.me/s/<channel>`), no login. HTTP only.

- `lookup(handle)`: GET /s/<channel> -> the channel header (title, subscribers) and its newest messages.
  Telegram's contact card instead of a preview -> a failure that says why (no such channel, a user, a
  private channel or a channel with the preview turned off look the same); Telegram's "can't be
  displayed" (blocked for violating its terms) -> AccountGone(suspended), a finding.
- `timeline(...)`: the newest page (the one lookup fetched, not fetched twice), then `?before=<id>` pages
  (the "load more" element's data-before), newest first, down to `floor` (the newest message id of the
  last run: message ids grow by one per channel). `resume` is a `before` id. Backfills: `since` stops at
  the first page older than it; the preview cannot jump to a date, so `until` reads from the top.
- The pages are HTML, not JSON: `_HtmlAsJson` lets the shared HttpClient (retries, 429 waits, redaction,
  rate limiter) fetch them unchanged, and the archive keeps the HTML exactly as received. A 200 page
  that is cut off (no `</html>`) is retried like truncated JSON.
- Politeness: one request per 2 s per run by default (`[telegram] min_interval`); t.me answers floods
  with 429 / Retry-After, which the shared limiter honours.

Telethon (MTProto with the user's own api_id/api_hash) is not built in yet: install `telethon`, export
with it, and import the JSON with `envoywatch import` (format telegram-telethon-json).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Iterator

import orjson

from envoywatch.collect.errors import AccountGone, CollectError
from envoywatch.collect.http import ApiError, HttpClient, RawPage
from envoywatch.platforms.telegram import preview

PLATFORM = "telegram"
DEFAULT_BASE_URL = "https://t.me"
CREDENTIAL = None  # the preview needs none
MIN_INTERVAL = 2.0
AUTH_FIX = ("t.me refused an anonymous read; the public preview needs no login -- check [telegram] base_url, "
            "and that your network does not block t.me")


class _Resp:
    def __init__(self, status_code, headers, text):
        self.status_code, self.headers, self.text = status_code, headers, text


class _HtmlAsJson:
    """Wraps the HttpClient's httpx client: a complete 200 HTML page is handed over as a JSON string (so the
    shared client's parse step accepts it and its retry/backoff/429 logic applies unchanged); a page cut
    off before `</html>` stays invalid JSON and is retried. The connector restores the HTML as received."""

    def __init__(self, inner):
        self.inner = inner

    def get(self, url, params=None):
        resp = self.inner.get(url, params=params, headers={"Accept": "text/html,application/xhtml+xml"})
        text = resp.text
        if resp.status_code == 200 and "</html>" in text[-4096:].lower():
            text = orjson.dumps(text).decode()
        return _Resp(resp.status_code, resp.headers, text)

    def close(self):
        self.inner.close()


class Connector:
    platform = PLATFORM

    def __init__(self, http: HttpClient, page_size: int | None = None):
        self.http = http
        if not isinstance(http._client, _HtmlAsJson):
            http._client = _HtmlAsJson(http._client)
        if http.limiter.min_interval == 0.0:
            from envoywatch.config import setting

            http.limiter.min_interval = float(setting(PLATFORM, "min_interval", None,
                                                      "ENVOYWATCH_TELEGRAM_MIN_INTERVAL", MIN_INTERVAL))
        self._top_pages: dict[str, tuple[RawPage, dict]] = {}

    def _get(self, handle: str, before: int | None) -> tuple[RawPage, dict]:
        try:
            page = self.http.get_json(f"/s/{handle}", {"before": before})
        except ApiError as exc:
            if exc.status in (404, 410):
                raise AccountGone(PLATFORM, handle, "deleted", f"HTTP {exc.status} from t.me") from None
            raise
        html = page.json if isinstance(page.json, str) else page.text
        page.text = page.json = html  # the archive keeps the HTML as received
        return page, preview.parse_page(html)

    def lookup(self, handle: str, account_id: str | None = None) -> RawPage:
        handle = handle.lstrip("@")
        page, parsed = self._get(handle, None)
        if parsed["state"] == "blocked":
            raise AccountGone(PLATFORM, handle, "suspended", parsed["detail"] or "Telegram: this channel can't be displayed")
        if parsed["state"] != "ok":
            raise CollectError(PLATFORM, f"t.me shows no public preview for '{handle}'", page.url,
                               "Telegram serves the same contact card for a name that does not exist, a user, a "
                               "private channel and a channel with the preview turned off: check the name on "
                               "https://t.me/" + handle)
        page.kind, page.account = "profile", handle
        self._top_pages[handle.lower()] = (page, parsed)
        return page

    # lookups go by username; the numeric id (account_id) never changes, a rename is not visible here
    renames_by_id = False

    @staticmethod
    def account_of(page: RawPage) -> tuple[str, str, str | None]:
        """(the cursor key and the store's account_id: the channel's bare numeric id, else the username;
        the username as shown)."""
        p = preview.parse_page(page.text)
        return p["channel_key"], p["channel_key"], p["channel"]["username"]

    @staticmethod
    def moved_to(page: RawPage) -> str | None:
        return None

    def timeline(self, account_id: str, handle: str, floor: str | None = None, resume: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Iterator[RawPage]:
        handle = handle.lstrip("@")
        low = int(floor) if floor and str(floor).isdigit() else None
        before = int(resume) if resume and str(resume).isdigit() else None
        while True:
            cached = self._top_pages.pop(handle.lower(), None) if before is None else None
            if cached:  # the newest page was fetched by lookup a moment ago: archived again, not refetched
                page, parsed = replace(cached[0], extra={}), cached[1]
            else:
                page, parsed = self._get(handle, before)
                if parsed["state"] == "blocked":
                    raise AccountGone(PLATFORM, handle, "suspended", parsed["detail"] or "can't be displayed")
            ids = [m["id"] for m in parsed["messages"] if before is None or m["id"] < before]
            page.kind, page.account = "timeline", handle
            page.top = str(max(ids)) if ids else None
            oldest = min(ids) if ids else None
            nxt = parsed["before"] or oldest
            more = bool(ids) and nxt is not None and nxt > 1
            if low is not None and oldest is not None and oldest <= low + 1:
                more = False
            if more and since is not None:
                times = [m["datetime"] for m in parsed["messages"] if m["datetime"]]
                from envoywatch.util.timeparse import parse_time

                if times and min(parse_time(t) for t in times) < since:
                    more = False
            repeated = before is not None and parsed["messages"] and (not ids or nxt >= before)
            if repeated:  # older messages were asked for, the same (or newer) ones came: stop, resume there
                page.extra["stalled"] = str(before)
                more = False
            page.resume = str(nxt) if more else None
            yield page
            if not more:
                return
            before = nxt
