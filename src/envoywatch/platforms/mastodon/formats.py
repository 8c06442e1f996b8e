"""Mastodon archive formats: saved Mastodon REST API responses (JSON).

- mastodon-statuses: a list of Status entities (timelines, statuses of an account) or one Status
- mastodon-accounts: one Account entity or a list (lookup, account search, followers pages)
- mastodon-search: /api/v2/search results ({accounts, statuses, hashtags}): accounts and statuses
- mastodon-other: responses that hold no posts or accounts (instance description, relationships,
  trending tags and links): recognised and skipped with the reason

Detection relies on what only the Mastodon API has: `acct` on accounts, `reblog`/`visibility`/
`favourites_count` on statuses. An empty list (`[]`, e.g. an empty timeline) names no platform and is not
detected; import it with --format mastodon-statuses (it is then skipped as empty).
"""

from __future__ import annotations

from typing import Iterator

from envoywatch.importers.base import iter_json_documents as documents, Bundle, FormatSpec, Reject, SkipFile, Sniff, Source, excerpt, \
    normalize_record, register_format
from envoywatch.platforms.mastodon import normalize

PLATFORM = "mastodon"


def _first(s: Sniff):
    j = s.first_json
    if isinstance(j, list):
        return j[0] if j else None
    return j


def _is_account(o) -> bool:
    return isinstance(o, dict) and "acct" in o and "username" in o and ("url" in o or "uri" in o)


def _is_status(o) -> bool:
    return isinstance(o, dict) and _is_account(o.get("account")) and "uri" in o and "visibility" in o \
        and ("content" in o or "text" in o) and "reblog" in o


def _partial(s: Sniff) -> set[str]:
    j = s.first_json
    return set(j.get("__keys__", ())) if isinstance(j, dict) and j.get("__partial__") else set()


def _sniff_statuses(s: Sniff) -> bool:
    if _partial(s):
        k = _partial(s)
        return s.head.lstrip().startswith("[") and {"acct", "reblog", "visibility", "favourites_count"} <= k
    return _is_status(_first(s))


def _sniff_accounts(s: Sniff) -> bool:
    o = _first(s)
    return _is_account(o) and "followers_count" in o and "visibility" not in o


def _sniff_search(s: Sniff) -> bool:
    j = s.first_json
    return isinstance(j, dict) and {"accounts", "statuses", "hashtags"} <= set(j) and not j.get("__partial__")


def _other_kind(o) -> str | None:
    if not isinstance(o, dict):
        return None
    k = set(o)
    if {"domain", "title", "version", "source_url", "configuration"} <= k or {"uri", "title", "version", "stats", "urls"} <= k:
        return "a Mastodon instance description (api/v1|v2/instance)"
    if {"id", "following", "showing_reblogs", "followed_by"} <= k:
        return "a Mastodon relationship (follow/unfollow/relationships response)"
    hist = o.get("history")
    if isinstance(hist, list) and hist and isinstance(hist[0], dict) and {"day", "uses", "accounts"} <= set(hist[0]):
        if "name" in k:
            return "Mastodon trending or followed tags (tag usage counts, no posts)"
        if "url" in k and "title" in k:
            return "Mastodon trending links (link usage counts, no posts)"
    return None


def _sniff_other(s: Sniff) -> bool:
    return _other_kind(_first(s)) is not None


def _read_statuses(source: Source) -> Iterator[Bundle | Reject]:
    for line, doc, rej in documents(source):
        if rej:
            yield rej
            continue
        items = doc if isinstance(doc, list) else [doc]
        if not items and line == 1:
            raise SkipFile("empty list: the response holds no statuses")
        for i, st in enumerate(items):
            yield normalize_record(line + i, st, normalize.status, st, source.captured_at)


def _read_accounts(source: Source) -> Iterator[Bundle | Reject]:
    for line, doc, rej in documents(source):
        if rej:
            yield rej
            continue
        items = doc if isinstance(doc, list) else [doc]
        if not items and line == 1:
            raise SkipFile("empty list: the response holds no accounts")
        for i, a in enumerate(items):
            yield normalize_record(line + i, a, normalize.account, a, source.captured_at)


def _read_search(source: Source) -> Iterator[Bundle | Reject]:
    for line, doc, rej in documents(source):
        if rej:
            yield rej
            continue
        if not isinstance(doc, dict):
            yield Reject(line, f"expected search results (a JSON object), got {type(doc).__name__}", excerpt(str(doc)))
            continue
        if not doc.get("accounts") and not doc.get("statuses") and line == 1:
            raise SkipFile("search results with no accounts and no statuses")
        for a in doc.get("accounts") or []:
            yield normalize_record(line, a, normalize.account, a, source.captured_at)
        for st in doc.get("statuses") or []:
            yield normalize_record(line, st, normalize.status, st, source.captured_at)


def _read_other(source: Source) -> Iterator[Bundle | Reject]:
    for _, doc, _rej in documents(source):
        first = doc[0] if isinstance(doc, list) and doc else doc
        raise SkipFile(f"{_other_kind(first) or 'a Mastodon response'}: holds no posts or accounts")
    yield from ()


register_format(FormatSpec("mastodon-statuses", PLATFORM,
                           "Mastodon API statuses: a timeline page (list of Status) or one Status",
                           _sniff_statuses, _read_statuses, priority=30))
register_format(FormatSpec("mastodon-accounts", PLATFORM, "Mastodon API accounts: one Account or a list",
                           _sniff_accounts, _read_accounts, priority=30))
register_format(FormatSpec("mastodon-search", PLATFORM, "Mastodon /api/v2/search results: accounts and statuses",
                           _sniff_search, _read_search, priority=30))
register_format(FormatSpec("mastodon-other", PLATFORM, "Mastodon responses without posts (instance, "
                           "relationships, trending tags/links): recognised and skipped",
                           _sniff_other, _read_other, priority=30))
