"""Raw page -> Bundles, through the platforms' own pure normalizers (the same ones archive import uses).

`normalize_page(platform, kind, body, captured_at)` yields one Bundle or Reject per record of the page,
so one bad post is set aside (rejects table) and the rest of the page lands. It works on a live page
(the parsed JSON) and on an archived page read back with `archive.iter_pages` (json-parse `body`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from envoywatch.importers.base import Bundle, Reject, normalize_record


def _x(kind: str, body: dict, cap: datetime):
    from envoywatch.platforms.x import normalize

    if not isinstance(body, dict) or not (body.get("data") or (body.get("includes") or {}).get("users")):
        return
    yield normalize_record(1, body, normalize.v2_page, body, cap)


def _bluesky(kind: str, body, cap: datetime):
    from envoywatch.platforms.bluesky import normalize

    if kind == "profile":
        yield normalize_record(1, body, normalize.profile, body, cap)
        return
    for i, item in enumerate((body or {}).get("feed") or [], 1):
        yield normalize_record(i, item, normalize.feed_item, item, cap)


def _mastodon(kind: str, body, cap: datetime):
    from envoywatch.platforms.mastodon import normalize

    if kind == "profile":
        yield normalize_record(1, body, normalize.account, body, cap)
        return
    for i, st in enumerate(body or [], 1):
        yield normalize_record(i, st, normalize.status, st, cap)


_BY_PLATFORM = {"x": _x, "bluesky": _bluesky, "mastodon": _mastodon}


def normalize_page(platform: str, kind: str, body, captured_at: datetime) -> Iterator[Bundle | Reject]:
    yield from _BY_PLATFORM[platform](kind, body, captured_at)
