"""CrowdTangle archive formats (emit platform 'facebook' / 'instagram' rows; CrowdTangle is the source).

- crowdtangle-search-csv: the search / list "Download CSV" export (one post per row; Facebook columns
  `Page Name, User Name, Facebook Id, ...`, Instagram columns `Account, User Name, Followers at Posting, ...`)
- crowdtangle-history-csv: a post's history export (`ID, Score Date (GMT), Timestep, Likes, ...`; the
  header itself ends with the post's date and URL)
- crowdtangle-api-json: API responses of the posts, posts/search and links endpoints
  ({status, result: {posts: [...]}}), a list of post objects, or one post object
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Iterator

from envoywatch.errors import ImportFormatError, RecordError
from envoywatch.importers.base import (Bundle, FormatSpec, Reject, Sniff, Source, iter_csv_rows,
                                       iter_json_document, normalize_record, register_format)
from envoywatch.platforms.crowdtangle import normalize

# "2021-07-05-22-49-20-BRT-search-csv-export.csv": CrowdTangle names exports by their local export time
_EXPORT_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})-(\d{2})-(\d{2})-(\d{2})-([A-Za-z]{2,5})-")


def export_time(source: Source) -> datetime:
    """The export time in the file name (zone known), unless --captured-at was given; else the file's time."""
    m = _EXPORT_TIME.search(source.name)
    given = source.captured_at_given
    if m and not given:
        try:
            t = normalize.parse_local_time(f"{m.group(1)} {m.group(2)}:{m.group(3)}:{m.group(4)} {m.group(5)}",
                                           "export time")
            if t:
                return t
        except RecordError:
            pass
    return source.captured_at


def _sniff_search(s: Sniff) -> bool:
    h = set(s.csv_header or ())
    fb = {"Facebook Id", "Post Created", "URL", "Message"} <= h and ("Page Name" in h or "Group Name" in h)
    ig = {"Account", "User Name", "Followers at Posting", "URL"} <= h and ("Post Created" in h or "Created" in h)
    return fb or ig


def _sniff_history(s: Sniff) -> bool:
    h = s.csv_header or []
    return bool(h) and h[0] == "ID" and "Score Date (GMT)" in h and "Timestep" in h


def _sniff_api(s: Sniff) -> bool:
    j = s.first_json
    if isinstance(j, list):
        j = j[0] if j else None
    if not isinstance(j, dict):
        return False
    if j.get("__partial__"):
        k = set(j["__keys__"])
        return {"platformId", "statistics", "account", "postUrl"} <= k
    res = j.get("result")
    if isinstance(res, dict) and isinstance(res.get("posts"), list):
        posts = res["posts"]
        return not posts or ("platformId" in posts[0] and "statistics" in posts[0])
    return {"platformId", "statistics", "account"} <= set(j) and ("postUrl" in j or "date" in j)


def _read_search(source: Source) -> Iterator[Bundle | Reject]:
    exported = export_time(source)
    for line, row, rej in iter_csv_rows(source, required=("URL",)):
        if rej:
            yield rej
            continue
        yield normalize_record(line, row, normalize.search_row, row, exported)


def _read_history(source: Source) -> Iterator[Bundle | Reject]:
    header = None
    post_url, posted_at = None, None
    for line, row, rej in iter_csv_rows(source, required=("ID", "Score Date (GMT)")):
        if rej:
            yield rej
            continue
        if header is None:
            header = list(row)
            post_url = next((h for h in header if h.startswith(("http://", "https://"))), None)
            if "Post Date (GMT)" in header:
                i = header.index("Post Date (GMT)")
                try:
                    posted_at = normalize.parse_time(header[i + 1], "Post Date (GMT)") if i + 1 < len(header) else None
                except RecordError:
                    posted_at = None
            if not post_url:
                raise ImportFormatError("the history export's header names no post URL", f"{source.path}:1",
                                        "export the post history again from CrowdTangle (the URL ends the header)")
        yield normalize_record(line, row, normalize.history_row, row, post_url, posted_at)


def _read_api(source: Source) -> Iterator[Bundle | Reject]:
    doc = iter_json_document(source)
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        posts = doc["result"].get("posts") or []
    elif isinstance(doc, list):
        posts = doc
    else:
        posts = [doc]
    for i, p in enumerate(posts):
        yield normalize_record(i + 1, p, normalize.api_post, p, source.captured_at)


register_format(FormatSpec("crowdtangle-search-csv", None, "CrowdTangle search/list CSV export (Facebook or "
                           "Instagram posts, page followers, interactions)", _sniff_search, _read_search, priority=30))
register_format(FormatSpec("crowdtangle-history-csv", None, "CrowdTangle post history CSV (one post's "
                           "interactions over time)", _sniff_history, _read_history, priority=30))
register_format(FormatSpec("crowdtangle-api-json", None, "CrowdTangle API posts/links responses (JSON)",
                           _sniff_api, _read_api, priority=30))
