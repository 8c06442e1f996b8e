"""X/Twitter transparency (information-operations) takedown CSVs: the tweets and users files.

Formats:
- `takedown-tweets`: `<operation>_tweets_csv_hashed.csv` (tweetid, userid, ..., tweet_time, hashtags, urls,
  user_mentions). Each row gives a post, its author (once per file), the author's counts and the post's
  counts as snapshots, links, hashtags and mentions. Hashed ids (`vMm2zem...=`) are kept byte for byte.
- `takedown-users`: `<operation>_users_csv_hashed.csv` (userid, ..., follower_count, account_language):
  accounts and their follower snapshots.
- `takedown-text-sample`: the SPOTTED research subset (`index, tweet_text, hashtags, target`) is
  recognised and skipped (SkipFile), not imported. It is a labelled text set (state-linked IO tweet =1
  vs organic =0) with no post id, no author and no time; every post in the store needs all three
  (platform, post_id, account_id, created_at are the store's key and required columns), and made-up ids
  and times would enter posting-volume and coordination analyses as if they were observations. Read it
  directly (pandas/csv) for classifier work; the skip note says so.

Every account gets the label `takedown:<operation>`, where the operation is the file name without
`_tweets`/`_users` and `_csv_hashed`/`_csv_unhashed` (china_082019_1_users_csv_hashed.csv ->
`takedown:china_082019_1`), so that the tweets and users files of one release label alike (labels are
filled once, never overwritten). Snapshots use the capture time option (`captured_at`), else the file's
(--captured-at or mtime): the release gives none.

List columns are written `[a, b]` or `['a', 'b']`; `user_mentions` holds user ids only, so mention
handles are taken from the text (`@name`), paired with the ids in order when the counts agree.
`latitude`/`longitude` have no column in the store and are not kept.

Speed: this is the bulk format (millions of rows), so the per-row work is plain dict/str operations:
no regex unless a list cell is non-empty, URL normalization cached (util.urls), one account row per
user per file, and the required fields checked directly instead of through Bundle.validate.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from envoywatch.errors import RecordError
from envoywatch.importers.base import (MAX_FIELD_CHARS, Bundle, FormatSpec, Reject, SkipFile, Source, excerpt,
                                       iter_csv_rows, register_format)
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import mentions_in_text, url_row

PLATFORM = "x"
TWEET_COLUMNS = ("tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
                 "user_profile_description", "user_profile_url", "follower_count", "following_count",
                 "account_creation_date", "account_language", "tweet_language", "tweet_text", "tweet_time",
                 "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid",
                 "is_retweet", "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count",
                 "reply_count", "like_count", "retweet_count", "hashtags", "urls", "user_mentions")
USER_COLUMNS = ("userid", "user_display_name", "user_screen_name", "user_reported_location",
                "user_profile_description", "user_profile_url", "follower_count", "following_count",
                "account_creation_date", "account_language")
TWEET_REQUIRED = ("tweetid", "userid", "tweet_text", "tweet_time")
USER_REQUIRED = ("userid", "user_screen_name", "follower_count", "account_creation_date")
SPOTTED_COLUMNS = {"tweet_text", "hashtags", "target"}
_SUFFIXES = ("_csv_hashed", "_csv_unhashed", "_hashed", "_unhashed", "_csv")
_FIX = "use --format to choose another format, or --format generic with a column map"


def buffered(source: Source) -> Source:
    """Kept for callers: Source.open_binary is buffered (1 MiB) since the core fix, so nothing to add."""
    return source


def operation_label(file_name: str) -> str:
    """'china_082019_1_tweets_csv_hashed.csv' -> 'takedown:china_082019_1'."""
    stem = Path(file_name).stem
    for suf in _SUFFIXES:
        if stem.endswith(suf):
            stem = stem[: -len(suf)]
            break
    for part in ("_tweets", "_users"):
        if stem.endswith(part):
            stem = stem[: -len(part)]
            break
    return f"takedown:{stem}"


def _capture_time(source: Source) -> datetime:
    cap = source.options.get("captured_at") if source.options else None
    if cap is None:
        return source.captured_at
    return parse_time(cap, "captured_at") if not isinstance(cap, datetime) else cap


def split_cell(v: str) -> list[str]:
    """'[a, b]' or "['a', 'b']" or '' -> ['a', 'b'].

    Items are separated by ', ' (as released); a bare ',' separates only where no item is a URL, since
    URLs may hold commas ('https://x.cn/a,b') but never ', '.
    """
    if not v or v == "[]":
        return []
    if v[0] == "[":
        v = v[1:-1] if v[-1] == "]" else v[1:]
    parts = v.split(", ") if ", " in v else v.split(",") if "://" not in v else [v]
    out = []
    for x in parts:
        x = x.strip()
        if x and x[0] in "'\"":
            x = x.strip("'\"")
        if x:
            out.append(x)
    return out


def _int(v: str, col: str):
    if not v:
        return None
    try:
        return int(v)
    except ValueError:
        return parse_int(v, col)  # '12.0', '1,234'


def _time(v: str, col: str) -> datetime | None:
    if not v:
        return None
    try:
        return datetime.fromisoformat(v)  # '2019-06-10 05:36', '2017-08-30': naive UTC as released
    except ValueError:
        return parse_time(v, col)


def account_rows(b: Bundle, r: dict, labels: list[str], captured_at: datetime) -> str:
    """Add the account and its follower snapshot from the user columns (shared by both files)."""
    uid = r["userid"]
    if not uid:
        raise RecordError("no userid")
    b.add("accounts", {
        "platform": PLATFORM, "account_id": uid, "handle": r["user_screen_name"] or None,
        "display_name": r["user_display_name"] or None, "description": r["user_profile_description"] or None,
        "created_at": _time(r["account_creation_date"], "account_creation_date"),
        "location": r["user_reported_location"] or None, "url": r["user_profile_url"] or None,
        "lang": r["account_language"] or None, "labels": labels,
    })
    b.add("account_snapshots", {
        "platform": PLATFORM, "account_id": uid, "captured_at": captured_at,
        "followers": _int(r["follower_count"], "follower_count"),
        "following": _int(r["following_count"], "following_count"),
    })
    return uid


def tweet_bundle(r: dict, labels: list[str], captured_at: datetime, with_account: bool = True) -> Bundle:
    """One tweets-file row -> Bundle (pure). `with_account=False` when the file already gave the author."""
    b = Bundle()
    pid = r["tweetid"]
    uid = r["userid"]
    if not pid:
        raise RecordError("no tweetid")
    if not uid:
        raise RecordError("no userid")
    created = _time(r["tweet_time"], "tweet_time")
    if created is None:
        raise RecordError("no tweet_time")
    text = r["tweet_text"]
    if len(text) > MAX_FIELD_CHARS:
        raise RecordError(f"tweet_text has {len(text):,} characters (probably an unclosed quote)")
    if with_account:
        account_rows(b, r, labels, captured_at)
    reply_to = r["in_reply_to_tweetid"] or None
    reply_user = r["in_reply_to_userid"] or None
    quoted = r["quoted_tweet_tweetid"] or None
    rt = r["is_retweet"]
    if rt and rt[0] in "Tt1":
        kind, ref, ref_author = "repost", r["retweet_tweetid"] or None, r["retweet_userid"] or None
        reply_to = reply_user = quoted = None
    elif quoted:
        kind, ref, ref_author = "quote", quoted, None
    elif reply_to:
        kind, ref, ref_author = "reply", reply_to, reply_user
    else:
        kind, ref, ref_author = "post", None, None
    post = {
        "platform": PLATFORM, "post_id": pid, "account_id": uid, "created_at": created, "text": text,
        "lang": r["tweet_language"] or None, "kind": kind, "ref_post_id": ref, "ref_account_id": ref_author,
        "reply_to_post_id": reply_to, "reply_to_account_id": reply_user, "quoted_post_id": quoted,
        "client": r["tweet_client_name"] or None,
        "url": "https://x.com/i/status/" + pid if pid.isdigit() else None, "observed": "primary",
    }
    metrics = {
        "platform": PLATFORM, "post_id": pid, "captured_at": captured_at,
        "likes": _int(r["like_count"], "like_count"), "reposts": _int(r["retweet_count"], "retweet_count"),
        "replies": _int(r["reply_count"], "reply_count"), "quotes": _int(r["quote_count"], "quote_count"),
    }
    rows = b.rows  # filled directly: Bundle.add per row is measurable at millions of rows
    rows["posts"] = [post]
    rows["post_metrics"] = [metrics]
    v = r["urls"]
    if v and v != "[]":
        for pos, u in enumerate(split_cell(v)):
            b.add("post_urls", url_row(PLATFORM, pid, pos, u, None))
    v = r["hashtags"]
    if v and v != "[]":
        seen = set()
        for tag in split_cell(v):
            tag = tag.lstrip("#")
            norm = tag.casefold()
            if tag and norm not in seen:
                seen.add(norm)
                b.add("post_hashtags", {"platform": PLATFORM, "post_id": pid, "tag": tag, "tag_norm": norm})
    v = r["user_mentions"]
    if v and v != "[]":
        _mentions_into(b, pid, split_cell(v), text)
    return b


def _mentions_into(b: Bundle, pid: str, ids: list[str], text: str) -> None:
    handles = mentions_in_text(text)
    # ids and handles pair up only when both list the same mentions (same count, in text order)
    pair = len(handles) == len(ids)
    seen = set()
    for i, h in enumerate(handles):
        norm = h.lower()
        if norm not in seen:
            seen.add(norm)
            b.add("post_mentions", {"platform": PLATFORM, "post_id": pid, "handle": h, "handle_norm": norm,
                                    "account_id": ids[i] if pair else None})


def _read_tweets(source: Source):
    labels = [operation_label(source.name)]
    cap = _capture_time(source)
    seen_users: set[str] = set()
    for line, r, rej in iter_csv_rows(buffered(source), required=TWEET_REQUIRED, fix=_FIX):
        if rej is not None:
            yield rej
            continue
        uid = r["userid"]
        try:
            b = tweet_bundle(r, labels, cap, uid not in seen_users)
        except RecordError as exc:
            yield Reject(line, exc.what, excerpt(",".join(r.values())))
            continue
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            yield Reject(line, f"unexpected row shape ({type(exc).__name__}: {exc})", excerpt(",".join(r.values())))
            continue
        seen_users.add(uid)
        yield b


def _read_users(source: Source):
    labels = [operation_label(source.name)]
    cap = _capture_time(source)
    for line, r, rej in iter_csv_rows(buffered(source), required=USER_REQUIRED, fix=_FIX):
        if rej is not None:
            yield rej
            continue
        b = Bundle()
        try:
            for c in USER_COLUMNS:
                r.setdefault(c, "")
            account_rows(b, r, labels, cap)
        except RecordError as exc:
            yield Reject(line, exc.what, excerpt(",".join(r.values())))
            continue
        yield b


def _read_spotted(source: Source):
    raise SkipFile(
        "a labelled text sample (tweet_text, hashtags, target: 1 = state-linked IO, 0 = organic) without post "
        "ids, authors or times: nothing a post in the store can be made of; read it directly for classifier work")
    yield  # pragma: no cover  (a generator, like every reader)


def _header(s) -> set:
    return set(s.csv_header or ())


from envoywatch.importers.takedown_fast import fast_read_tweets as _fast_tweets  # noqa: E402

register_format(FormatSpec(
    "takedown-tweets", PLATFORM, "X/Twitter transparency takedown tweets CSV (tweetid, userid, tweet_time, ...)",
    lambda s: {"tweetid", "userid", "tweet_time", "tweet_text"} <= _header(s), _read_tweets, priority=20,
    examples=["china_082019_1_tweets_csv_hashed.csv"], fast_read=_fast_tweets))
register_format(FormatSpec(
    "takedown-users", PLATFORM, "X/Twitter transparency takedown users CSV (userid, follower_count, account_creation_date, ...)",
    lambda s: set(USER_REQUIRED) <= _header(s) and "tweetid" not in _header(s), _read_users, priority=20,
    examples=["china_082019_1_users_csv_hashed.csv"]))
register_format(FormatSpec(
    "takedown-text-sample", None, "labelled takedown text samples (SPOTTED: index, tweet_text, hashtags, target): skipped",
    lambda s: bool(s.csv_header) and set(s.csv_header[1:]) == SPOTTED_COLUMNS and s.csv_header[0] in ("", "index"),
    _read_spotted, priority=20))
