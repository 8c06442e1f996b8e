"""Detection of the X formats from a file's head. Sniffers look only at X-specific keys and shapes.

Large single-line JSON (a 100-tweet v2 page, a GraphQL timeline) does not fit the 64 KiB head, so the
sniffers read both the parsed first record (when it parses) and the raw head text.
"""

from __future__ import annotations

import json
import re

from envoywatch.importers.base import Sniff

_GQL_USER_ROOT = re.compile(r'^\s*\{\s*"data"\s*:\s*\{\s*"user"\s*:\s*\{\s*"result"\s*:\s*\{')
_DATA_ROOT = re.compile(r'^\s*\{\s*"data"\s*:\s*[\[{]')
_COUNTS_ROOT = re.compile(r'^\s*\{\s*"data"\s*:\s*\[\s*\{\s*"(start|end|tweet_count)"\s*:')
_V2_TWEET_KEYS = ('"author_id"', '"edit_history_tweet_ids"', '"conversation_id"', '"referenced_tweets"')
_NOT_X = ('"acct"', '"__typename"', '"did"', '"message_id"', '"platformId"')
_BARE_V2_TWEET = {"id", "text", "edit_history_tweet_ids"}
_COMPLIANCE_ACTIONS = {"delete", "scrub_geo", "withhold", "suspend", "deactivate", "protect", "undelete",
                       "unprotect", "unsuspend", "reactivate", "user_delete", "user_withheld"}


def first_record(s: Sniff):
    """The first JSON record: the parsed first non-empty line, or the whole head if it is one document."""
    fj = s.first_json
    if fj is not None and not (isinstance(fj, dict) and fj.get("__partial__")):
        return fj
    for line in s.head.split("\n", 20)[:20]:
        line = line.strip()
        if line:
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def _digits(v) -> bool:
    return isinstance(v, str) and v.isdigit() or isinstance(v, int) and not isinstance(v, bool)


def is_v2_tweet(o) -> bool:
    if not isinstance(o, dict) or not _digits(o.get("id")) or "text" not in o:
        return False
    return any(k in o for k in ("author_id", "edit_history_tweet_ids", "conversation_id", "public_metrics")) \
        or set(o) <= _BARE_V2_TWEET


def is_v2_user(o) -> bool:
    return isinstance(o, dict) and _digits(o.get("id")) and "username" in o and "acct" not in o \
        and "screen_name" not in o and "text" not in o


def _data_items(o) -> list:
    d = o.get("data")
    if isinstance(d, dict):
        return [d]
    return d if isinstance(d, list) else []


def _head_has(s: Sniff, keys, limit: int = 20000) -> bool:
    h = s.head[:limit]
    return any(k in h for k in keys)


# --- v2 --------------------------------------------------------------------------------------------

def v2_page(s: Sniff) -> bool:
    o = first_record(s)
    if isinstance(o, dict):
        if "data" in o:
            items = _data_items(o)
            if items:
                return is_v2_tweet(items[0]) or is_v2_user(items[0])
            return "__twarc" in o or "result_count" in (o.get("meta") or {})
        # an empty page ({"meta": {"result_count": 0}}) or a stream error line, as twarc writes them
        return "__twarc" in o and ("meta" in o or "errors" in o)
    if o is None and _DATA_ROOT.match(s.head) and not _GQL_USER_ROOT.match(s.head):
        users = '"username"' in s.head[:20000] and '"public_metrics"' in s.head[:20000]
        return (_head_has(s, _V2_TWEET_KEYS) or users) and not _head_has(s, _NOT_X) and not _COUNTS_ROOT.match(s.head)
    return False


def v2_flat(s: Sniff) -> bool:
    o = first_record(s)
    return isinstance(o, dict) and "data" not in o and is_v2_tweet(o) and "user" not in o \
        and ("author" in o or "__twarc" in o or "author_id" in o)


def v2_counts(s: Sniff) -> bool:
    o = first_record(s)
    if isinstance(o, dict):
        items = _data_items(o)
        return bool(items) and isinstance(items[0], dict) and {"start", "end", "tweet_count"} <= set(items[0])
    return o is None and _COUNTS_ROOT.match(s.head) is not None


def v2_lists(s: Sniff) -> bool:
    o = first_record(s)
    if not isinstance(o, dict):
        return False
    items = _data_items(o)
    return bool(items) and isinstance(items[0], dict) and _digits(items[0].get("id")) and "name" in items[0] \
        and ("member_count" in items[0] or "owner_id" in items[0] or "follower_count" in items[0]) \
        and "username" not in items[0] and "text" not in items[0]


def compliance(s: Sniff) -> bool:
    o = first_record(s)
    return isinstance(o, dict) and _digits(o.get("id")) and o.get("action") in _COMPLIANCE_ACTIONS \
        and "created_at" in o and set(o) <= {"id", "action", "created_at", "redacted_at", "reason"}


# --- v1.1 ------------------------------------------------------------------------------------------

def v1(s: Sniff) -> bool:
    from envoywatch.platforms.x.normalize_v1 import is_status, is_user

    o = first_record(s)
    if isinstance(o, dict) and isinstance(o.get("statuses"), list):
        o = o["statuses"][0] if o["statuses"] else None
    elif isinstance(o, dict) and isinstance(o.get("users"), list) and "next_cursor" in o:
        o = o["users"][0] if o["users"] else None
    elif isinstance(o, list):
        o = o[0] if o else None
    if isinstance(o, dict):
        if "rest_id" in o or "__typename" in o or "acct" in o:
            return False
        if is_status(o):
            return isinstance(o.get("user"), dict) and "screen_name" in o["user"] and ("id_str" in o or _digits(o.get("id")))
        return is_user(o) and ("id_str" in o or _digits(o.get("id")))
    if o is None and s.head.lstrip()[:1] in ("[", "{") and not _DATA_ROOT.match(s.head):
        h = s.head[:20000]
        return '"id_str"' in h and '"screen_name"' in h and ('"retweet_count"' in h or '"followers_count"' in h) \
            and not _head_has(s, _NOT_X) and '"rest_id"' not in h
    return False


# --- web GraphQL -----------------------------------------------------------------------------------

def _gql_timeline_kind(s: Sniff) -> str | None:
    """'tweets', 'users' or 'profile' for a data.user.result response; None for anything else."""
    if not _GQL_USER_ROOT.match(s.head):
        return None
    o = first_record(s)
    if isinstance(o, dict):
        res = ((o.get("data") or {}).get("user") or {}).get("result") or {}
        if "legacy" in res and "timeline" not in res and "timeline_v2" not in res:
            return "profile"
    h = s.head[:4000]
    if '"timeline_v2"' not in h and '"timeline"' not in h:
        return None
    if '"TimelineTweet"' in s.head:
        return "tweets"
    if '"TimelineUser"' in s.head:
        return "users"
    # an empty page: the folder or file name says which endpoint it came from
    p = str(s.path).lower()
    return "users" if ("follow" in p or "friends" in p) else "tweets"


def gql_tweets(s: Sniff) -> bool:
    return _gql_timeline_kind(s) == "tweets"


def gql_users(s: Sniff) -> bool:
    return _gql_timeline_kind(s) == "users"


def gql_profile(s: Sniff) -> bool:
    return _gql_timeline_kind(s) == "profile"


# --- not a format --------------------------------------------------------------------------------

CANIS_INDEX_HEADER = ["file", "handle", "kind", "bytes", "n_items", "date_range", "origin_path", "sha256"]


def canis_index(s: Sniff) -> bool:
    return s.csv_header == CANIS_INDEX_HEADER
