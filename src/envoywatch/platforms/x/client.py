"""X API v2 connector (bearer token): HTTP only, yields raw pages untouched (envoywatch.collect.http.RawPage).

- `lookup(handle, account_id)`: GET /2/users/:id (when the id is known: a rename shows) or
  /2/users/by/username/:handle, with public_metrics (follower counts -> account snapshots)
- `timeline(...)`: GET /2/users/:id/tweets, newest first, 100 per page, with expansions for referenced
  tweets and users; `floor` -> since_id, `resume` -> until_id (a resumed run needs no pagination token,
  which may expire), `since`/`until` -> start_time/end_time for backfills
- suspended / deleted accounts: the v2 API answers 200 with `errors` (or 404) -> AccountGone
- rate limits: x-rate-limit-* headers, read by the platform's RateLimiter (collect/ratelimit.py)
- the monthly post cap of paid tiers counts the tweets of `data`: `posts_read(page)` tells how many
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from envoywatch.collect.errors import AccountGone, CollectError
from envoywatch.collect.http import ApiError, HttpClient, RawPage

PLATFORM = "x"
DEFAULT_BASE_URL = "https://api.x.com"
CREDENTIAL = ("bearer_token", "env:X_BEARER_TOKEN")

USER_FIELDS = ("created_at,description,entities,id,location,name,pinned_tweet_id,profile_image_url,protected,"
               "public_metrics,url,username,verified,verified_type")
TWEET_FIELDS = ("attachments,author_id,conversation_id,created_at,entities,id,in_reply_to_user_id,lang,"
                "public_metrics,referenced_tweets,source,text,note_tweet")
EXPANSIONS = ("author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id,"
              "entities.mentions.username,attachments.media_keys")
MEDIA_FIELDS = "alt_text,media_key,preview_image_url,type,url"


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Connector:
    platform = PLATFORM

    def __init__(self, http: HttpClient, page_size: int = 100):
        self.http = http
        self.page_size = page_size

    def lookup(self, handle: str, account_id: str | None = None) -> RawPage:
        path = f"/2/users/{account_id}" if account_id else f"/2/users/by/username/{handle}"
        try:
            page = self.http.get_json(path, {"user.fields": USER_FIELDS})
        except ApiError as exc:
            if exc.status in (404, 410):
                raise AccountGone(PLATFORM, handle, "deleted", f"HTTP {exc.status}") from None
            raise
        body = page.json if isinstance(page.json, dict) else {}
        if not body.get("data"):
            raise AccountGone(PLATFORM, handle, *_gone_reason(body))
        page.kind, page.account = "profile", handle
        return page

    # a lookup by the registry's id answers the current handle: a different one is a rename
    renames_by_id = True

    @staticmethod
    def account_of(page: RawPage) -> tuple[str, str, str | None]:
        """(id the timeline endpoint takes, the store's account_id, the handle as answered)."""
        d = page.json["data"]
        return d["id"], d["id"], d.get("username")

    @staticmethod
    def moved_to(page: RawPage) -> str | None:
        return None

    def timeline(self, account_id: str, handle: str, floor: str | None = None, resume: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Iterator[RawPage]:
        """Pages of the user's tweets, newest first, from `resume` (until_id) down to `floor` (since_id)."""
        until_id = resume
        while True:
            params = {"max_results": self.page_size, "tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS,
                      "user.fields": USER_FIELDS, "media.fields": MEDIA_FIELDS, "since_id": floor,
                      "until_id": until_id, "start_time": _iso(since) if since and not floor else None,
                      "end_time": _iso(until) if until and not until_id else None}
            try:
                page = self.http.get_json(f"/2/users/{account_id}/tweets", params)
            except ApiError as exc:
                if exc.status in (404, 410):
                    raise AccountGone(PLATFORM, handle, "deleted", f"HTTP {exc.status}") from None
                raise
            body = page.json if isinstance(page.json, dict) else {}
            data = body.get("data") or []
            if not data and body.get("errors"):
                raise AccountGone(PLATFORM, handle, *_gone_reason(body))
            meta = body.get("meta") or {}
            page.kind, page.account = "timeline", handle
            page.top = meta.get("newest_id") or (data[0]["id"] if data else None)
            oldest = meta.get("oldest_id") or (data[-1]["id"] if data else None)
            more = bool(data) and bool(meta.get("next_token"))
            if more and oldest == until_id:  # the same page again: stop, resume there next run
                page.extra["stalled"] = until_id
                more = False
            page.resume = oldest if more else None
            page.extra["posts_read"] = len(data)
            yield page
            if not more:
                return
            until_id = oldest


def _gone_reason(body: dict) -> tuple[str, str]:
    """The account's fate from an `errors` answer: suspended, deleted (not found); anything else (a
    protected account: 'not authorized to see') is a failure of this account, not a finding."""
    errs = body.get("errors") or []
    detail = "; ".join(str(e.get("detail") or e.get("title") or "") for e in errs) or "no user in the answer"
    low = detail.lower()
    if "suspended" in low:
        return "suspended", detail
    if "could not find" in low or "not found" in low or not errs:
        return "deleted", detail
    raise CollectError(PLATFORM, f"the API answered with errors: {detail[:200]}", None,
                       "a protected account is readable only by its approved followers; otherwise check the handle")
