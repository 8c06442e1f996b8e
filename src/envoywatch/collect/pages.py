"""Raw page -> Bundles, through the platforms' own pure normalizers (the same ones archive import uses).

`normalize_page(platform, kind, body, captured_at)` yields one Bundle or Reject per record of the page,
so one bad post is set aside (rejects table) and the rest of the page lands. It works on a live page
(the parsed JSON) and on an archived page read back with `archive.iter_pages` (json-parse `body`; Telegram's
preview pages are HTML: pass `body` as it is).
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


def _telegram(kind: str, body, cap: datetime):
    # body: the preview page's HTML (a str), live or read back from the archive
    from envoywatch.platforms.telegram import preview

    page = preview.parse_page(body or "")
    if kind == "profile":
        yield normalize_record(1, None, preview.channel_bundle, page, cap)
        return
    for i, m in enumerate(page["messages"], 1):
        yield normalize_record(i, m, preview.message_bundle, m, page["channel_key"], cap)


def _youtube(kind: str, body, cap: datetime):
    from envoywatch.platforms.youtube import normalize

    yield from normalize.response(body, cap)


_BY_PLATFORM = {"x": _x, "bluesky": _bluesky, "mastodon": _mastodon, "telegram": _telegram, "youtube": _youtube}


def normalize_page(platform: str, kind: str, body, captured_at: datetime) -> Iterator[Bundle | Reject]:
    yield from _BY_PLATFORM[platform](kind, body, captured_at)
