"""YouTube archive formats: saved YouTube Data API v3 responses.

- youtube-api-json: videos.list / channels.list responses (`{"kind": "youtube#videoListResponse", "items":
  [...]}`), one per file or one per line (JSON lines, as a script saving every page writes them).
  playlistItems.list responses hold only video ids: such a file is skipped (with the reason), not rejected.
  The API carries no capture time: counts are snapshots at --captured-at, else the file's modification time.
"""

from __future__ import annotations

from typing import Iterator

from envoywatch.importers.base import (Bundle, FormatSpec, Reject, SkipFile, Sniff, Source, excerpt,
                                       iter_json_documents, register_format)
from envoywatch.platforms.youtube import normalize

PLATFORM = "youtube"


def _sniff(s: Sniff) -> bool:
    j = s.first_json
    if isinstance(j, dict) and not j.get("__partial__"):
        return j.get("kind") in normalize.LIST_KINDS
    return any(f'"kind": "{k}"' in s.head or f'"kind":"{k}"' in s.head for k in normalize.LIST_KINDS)


def _read(source: Source) -> Iterator[Bundle | Reject]:
    useful = rejected = 0
    for line, doc, rej in iter_json_documents(source):
        if rej:
            rejected += 1
            yield rej
            continue
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind not in normalize.LIST_KINDS:
            rejected += 1
            yield Reject(line, f"not a YouTube Data API list response (kind {kind!r})", excerpt(str(doc)))
            continue
        if normalize.LIST_KINDS[kind] == "playlistItems":
            continue
        useful += 1
        yield from normalize.response(doc, source.captured_at, first_line=line)
    if not useful and not rejected:  # nothing was yielded: a recognised file without posts
        raise SkipFile("YouTube playlistItems responses only: they list video ids, not videos or channels "
                       "(save videos.list responses to import the videos)")


register_format(FormatSpec(
    "youtube-api-json", PLATFORM, "YouTube Data API v3 videos.list / channels.list responses (one per file or "
    "per line): videos as posts with views/likes/comments, channels with subscriber counts", _sniff, _read,
    priority=30))
