"""X archive formats: twarc2 v2 pages and flattened tweets, v1.1 JSON, web GraphQL responses, and the
twarc files that hold no posts (tweet counts, compliance results, lists), which are recognised and skipped.

Detection looks at X-specific keys only (see sniff.py); priorities put the narrow shapes first.
"""

from __future__ import annotations

import codecs
import io

import orjson

from envoywatch.errors import ImportFormatError, RecordError
from envoywatch.importers.base import (EXCERPT_CHARS, MAX_FIELD_CHARS, MAX_RECORD_BYTES, FormatSpec, Reject, SkipFile, Source,
                                       excerpt, iter_json_document, normalize_record, register_format)
from envoywatch.platforms.x import normalize as v2
from envoywatch.platforms.x import normalize_graphql as gql
from envoywatch.platforms.x import normalize_v1 as v1
from envoywatch.platforms.x import sniff

_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


# --- reading lines --------------------------------------------------------------------------------

def _lines(source: Source):
    """Source.lines(), buffered: (line, text, raw, problem).

    Source.open_binary() returns an unbuffered counting reader, and iterating lines over it reads one
    byte per call (about 1 MB/s); a BufferedReader on top keeps the byte count and reads 1 MiB at a time.
    """
    with source.open_binary() as fh:
        buf = io.BufferedReader(fh, 1 << 20) if isinstance(fh, io.RawIOBase) else fh
        for n, raw in enumerate(buf, 1):
            if n == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            if len(raw) > MAX_RECORD_BYTES:
                yield n, None, raw[:EXCERPT_CHARS], f"line of {len(raw):,} bytes is over the {MAX_RECORD_BYTES:,}-byte limit"
                continue
            try:
                yield n, raw.decode("utf-8"), raw, None
            except UnicodeDecodeError as exc:
                yield n, None, raw, f"invalid UTF-8 at byte {exc.start} of the line (re-encode the file as UTF-8)"


def _json_lines(source: Source):
    """iter_json_lines() over the buffered _lines(): (line, obj, None) or (line, None, Reject)."""
    for n, text, raw, problem in _lines(source):
        if text is None:
            yield n, None, Reject(n, problem, excerpt(raw))
            continue
        if not text.strip():
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield n, None, Reject(n, f"not valid JSON ({exc}); the line may be truncated", excerpt(text))
            continue
        yield n, obj, None


# --- v2 pages --------------------------------------------------------------------------------------

_NO_AUTHORS = ("v2 tweets without author_id/created_at (requested with the default fields: id and text only) "
               "cannot be stored; re-request with tweet.fields=author_id,created_at")


def _read_v2_pages(source: Source):
    """One response page per line. Lines that are the API's own messages without data (a stream's
    `{"errors": [...]}` disconnect notice, an empty `{"meta": {"result_count": 0}}` page) are passed over,
    not rejected; lines that are not JSON (a truncated last line of a killed stream) are Rejects."""
    if not _first_line_parses(source):  # one response saved pretty-printed (indented JSON)
        doc = iter_json_document(source)
        pages = doc if isinstance(doc, list) else [doc]
        if pages and isinstance(pages[0], dict) and not v2.page_has_authors(pages[0]):
            raise SkipFile(_NO_AUTHORS)
        for i, page in enumerate(pages):
            yield normalize_record(i + 1, page, v2.v2_page, page, source.captured_at)
        return
    first = True
    for line, obj, rej in _json_lines(source):
        if rej:
            yield rej
            continue
        if not isinstance(obj, dict):
            yield Reject(line, "not a v2 response page (expected a JSON object with data/includes)", excerpt(str(obj)))
            continue
        if "data" not in obj and "includes" not in obj:
            if "errors" in obj or "meta" in obj:
                continue  # API message or empty page: nothing to store
            yield Reject(line, "not a v2 response page (no data, includes, errors or meta)", excerpt(orjson.dumps(obj)))
            continue
        if first and not v2.page_has_authors(obj):
            raise SkipFile(_NO_AUTHORS)
        first = False
        yield normalize_record(line, obj, v2.v2_page, obj, source.captured_at)


# --- flattened v2 (fast path) ----------------------------------------------------------------------

def _read_v2_flat(source: Source):
    """One flattened tweet per line. The hot loop: no per-row validation pass (the normalizer itself
    refuses a tweet without id, author_id or created_at, and builds only complete child rows)."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    flat = v2.flat_tweet
    cap = source.captured_at
    users_seen: set = set()
    with source.open_binary() as fh:
        buf = io.BufferedReader(fh, 1 << 20) if isinstance(fh, io.RawIOBase) else fh
        for n, raw in enumerate(buf, 1):
            # orjson checks UTF-8 itself: lines are decoded only to explain a bad one
            try:
                obj = loads(raw)
            except decode_error as exc:
                if n == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[3:]
                    try:
                        obj = loads(raw)
                    except decode_error:
                        pass
                    else:
                        exc = None
                if exc is not None:
                    if not raw.strip():
                        continue
                    yield _bad_line(n, raw, exc)
                    continue
            try:
                bundle = flat(obj, cap, users_seen)
                if len(raw) > MAX_FIELD_CHARS:  # only a line this long can hold an over-long field
                    try:
                        bundle.validate()
                    except RecordError:
                        # the rejected line's users must still be added by later lines
                        ids = {acc["account_id"] for acc in bundle.rows.get("accounts", ())}
                        users_seen.difference_update([k for k in users_seen if k[0] in ids])
                        raise
                yield bundle
            except RecordError as e:
                yield Reject(n, e.what, excerpt(raw))
            except _SHAPE_ERRORS as e:
                yield Reject(n, f"unexpected record shape ({type(e).__name__}: {e})", excerpt(raw))


def _bad_line(n: int, raw: bytes, exc) -> Reject:
    if len(raw) > MAX_RECORD_BYTES:
        return Reject(n, f"line of {len(raw):,} bytes is over the {MAX_RECORD_BYTES:,}-byte limit", excerpt(raw[:EXCERPT_CHARS]))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as ude:
        return Reject(n, f"invalid UTF-8 at byte {ude.start} of the line (re-encode the file as UTF-8)", excerpt(raw))
    return Reject(n, f"not valid JSON ({exc}); the line may be truncated", excerpt(text))


# --- v1.1 --------------------------------------------------------------------------------------------

def _first_line_parses(source: Source) -> bool:
    for _, text, _, _ in _lines(source):
        if text is None:
            return False
        if text.strip():
            try:
                orjson.loads(text)
                return True
            except orjson.JSONDecodeError:
                return False
    return False


def _read_v1(source: Source):
    """One status/user per line, or a line (or the whole file) holding a list / search / cursor response."""
    cap = source.captured_at
    if _first_line_parses(source):
        for line, obj, rej in _json_lines(source):
            if rej:
                yield rej
                continue
            try:
                records = v1.v1_records(obj)
            except RecordError as exc:
                yield Reject(line, exc.what, excerpt(str(obj)))
                continue
            for rec in records:
                yield normalize_record(line, rec, v1.v1_item, rec, cap)
    else:
        doc = iter_json_document(source)
        for i, rec in enumerate(v1.v1_records(doc)):
            yield normalize_record(i + 1, rec, v1.v1_item, rec, cap)


# --- web GraphQL ---------------------------------------------------------------------------------

def _read_gql_tweets(source: Source):
    """Records are the timeline's entries (line = entry's position + 1); ads, suggestions and cursors
    yield nothing."""
    doc = iter_json_document(source)
    try:
        entries = gql.timeline_entries(doc)
    except _SHAPE_ERRORS:
        raise ImportFormatError("not a UserTweets response (no data.user.result timeline instructions)",
                                f"{source.path}:1", "use --format to choose another format") from None
    cap = source.captured_at
    for i, entry in enumerate(entries):
        item = normalize_record(i + 1, entry, gql.timeline_entry, entry, cap)
        if isinstance(item, Reject) or item:
            yield item


def _read_gql_profile(source: Source):
    doc = iter_json_document(source)
    yield normalize_record(1, doc, gql.user_by_screen_name, doc, source.captured_at)


def following_owner(source: Source) -> tuple[str | None, str, bool | None]:
    """(owner id, owner handle, owner_follows) for a page of a user list (Following/Followers).

    The response does not name the account whose list it is. What this relies on:
    - the handle: the file name, `<handle>-P<n>.json` or `<handle>.json` (as in the CANIS copies);
    - the id: `options["owner_id"]` if given, else the UserByScreenName response of that handle in a
      sibling `users/` folder (`../users/<handle>.json`, the CANIS layout) or next to the file;
    - the direction: a path naming "following" or "friends" means the owner follows the listed
      accounts; "followers" means they follow the owner. Anything else: unknown (no edges).
    """
    stem = source.name.rsplit(".", 1)[0]
    handle = stem.rsplit("-P", 1)[0] if "-P" in stem else stem
    p = str(source.path).lower()
    owner_follows = True if ("following" in p or "friends" in p) else False if "followers" in p else None
    owner_id = (source.options or {}).get("owner_id")
    if not owner_id:
        for cand in (source.path.parent.parent / "users" / f"{handle}.json", source.path.parent / f"{handle}.json"):
            if cand.is_file() and cand.resolve() != source.path.resolve():
                try:
                    uid, sn = gql.user_id_of(orjson.loads(cand.read_bytes()))
                except (orjson.JSONDecodeError, *_SHAPE_ERRORS):
                    continue
                if uid and (sn or "").lower() == handle.lower():
                    owner_id = uid
                    break
    return owner_id, handle, owner_follows


def _read_gql_users(source: Source):
    doc = iter_json_document(source)
    try:
        entries = gql.timeline_entries(doc)
    except _SHAPE_ERRORS:
        raise ImportFormatError("not a user-list response (no data.user.result timeline instructions)",
                                f"{source.path}:1", "use --format to choose another format") from None
    cap = source.captured_at
    has_users = any((e.get("entryId") or "").startswith("user-") for e in entries)
    owner_id, owner_follows = None, None
    if has_users:
        owner_id, handle, owner_follows = following_owner(source)
        if owner_follows is not None and not owner_id:
            raise ImportFormatError(
                f"cannot tell the id of '{handle}', whose follow list this is (the response does not name it)",
                f"{source.path}:1",
                f"import it with its UserByScreenName response at ../users/{handle}.json (the CANIS layout), "
                "or pass options={'owner_id': ID} to import_paths")
    for i, entry in enumerate(entries):
        if not (entry.get("entryId") or "").startswith("user-"):
            continue
        if owner_follows is False:  # followers: the listed account follows the owner
            item = normalize_record(i + 1, entry, _follower_entry, entry, owner_id, cap)
        else:
            item = normalize_record(i + 1, entry, gql.following_entry, entry, owner_id if owner_follows else None, cap)
        if isinstance(item, Reject) or item:
            yield item


def _follower_entry(entry, owner_id, cap):
    b = gql.following_entry(entry, owner_id, cap)
    for edge in b.rows.get("account_follows", ()):  # the listed account follows the owner
        edge["account_id"], edge["target_account_id"] = edge["target_account_id"], edge["account_id"]
    return b


# --- files that hold no posts --------------------------------------------------------------------

def _skipper(why: str):
    def read(source: Source):
        raise SkipFile(why)
        yield  # pragma: no cover  (a generator, as readers are)
    return read


register_format(FormatSpec(
    "x-canis-index", "x", "INDEX.csv of the CANIS X GraphQL copies (a file list, not data): skipped",
    sniff.canis_index, _skipper("an index of the files in this folder (file, handle, kind, sha256), not posts"),
    priority=5))
register_format(FormatSpec(
    "x-v2-counts", "x", "X API v2 tweet counts (twarc2 counts): skipped, they hold no posts",
    sniff.v2_counts, _skipper("X API v2 tweet counts per time bucket: no posts or accounts to store"), priority=10))
register_format(FormatSpec(
    "x-compliance", "x", "X API v2 compliance job results (tweets/users): skipped",
    sniff.compliance, _skipper("X compliance job results (deleted/protected ids): no posts or accounts to store"),
    priority=10))
register_format(FormatSpec(
    "x-v2-lists", "x", "X API v2 list objects (owned/followed lists): skipped, the store has no table for lists",
    sniff.v2_lists, _skipper("X API v2 list objects: the store has no table for lists"), priority=10))
register_format(FormatSpec(
    "x-graphql-usertweets", "x", "X web GraphQL UserTweets responses (timeline_v2)",
    sniff.gql_tweets, _read_gql_tweets, priority=15))
register_format(FormatSpec(
    "x-graphql-user", "x", "X web GraphQL UserByScreenName responses (one account)",
    sniff.gql_profile, _read_gql_profile, priority=15))
register_format(FormatSpec(
    "x-graphql-following", "x", "X web GraphQL Following/Followers pages (accounts and follow edges)",
    sniff.gql_users, _read_gql_users, priority=15))
register_format(FormatSpec(
    "x-v2-page", "x", "X API v2 responses, one page per line (twarc2, tweepy Client): tweets or users",
    sniff.v2_page, _read_v2_pages, priority=20))
from envoywatch.platforms.x.flat_fast import fast_read_flat as _fast_flat  # noqa: E402

register_format(FormatSpec(
    "x-v2-flat", "x", "X API v2 tweets one per line (twarc2 flatten: author and references inlined)",
    sniff.v2_flat, _read_v2_flat, priority=20, fast_read=_fast_flat))
register_format(FormatSpec(
    "x-v1-json", "x", "X API v1.1 statuses or users: one per line, or a JSON array / search / cursor response",
    sniff.v1, _read_v1, priority=25))
