"""The raw archive: every page a platform returned, as received, with where and when it was fetched.

Layout: `<store file>.raw/<platform>/<YYYY-MM-DD>/<run id>-<account>.jsonl.gz`, one JSON line per page:
`{"platform", "kind", "account", "url", "params", "status", "headers", "fetched_at", "body"}` where `body`
is the response text exactly as received (a string, not re-serialized JSON). Each page is appended as its
own gzip member and flushed before its rows are committed, so an interrupted run leaves whole pages
(a killed process can only cut the last member, which `iter_pages` reports and skips). Request headers
(credentials) are never written; URLs are redacted by the HTTP client before they get here.

`iter_pages(path)` reads a file back (for re-normalizing: `envoywatch.collect.pages.normalize_page`).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import zlib
from pathlib import Path
from typing import Iterator

import orjson

from envoywatch.collect.http import RawPage


def archive_root(db_path: str | Path) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".raw")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", name)[:80] or "_"


class ArchiveFile:
    """One file of one account in one run; appends pages, keeps the sha256 of the bytes written."""

    def __init__(self, path: Path):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sha = hashlib.sha256()
        if path.exists():
            self._sha.update(path.read_bytes())
        self.size = path.stat().st_size if path.exists() else 0
        self.pages = 0
        self._lock = threading.Lock()

    def append(self, page: RawPage) -> int:
        """Write the page as one gzip member; returns its 1-based number in this file."""
        record = {
            "platform": page.platform, "kind": page.kind, "account": page.account, "url": page.url,
            "params": page.params, "status": page.status, "headers": page.headers,
            "fetched_at": page.fetched_at.isoformat() + "Z", "body": page.text,
        }
        data = gzip.compress(orjson.dumps(record) + b"\n", mtime=0)
        with self._lock:
            with open(self.path, "ab") as fh:
                fh.write(data)
                fh.flush()
            self._sha.update(data)
            self.size += len(data)
            self.pages += 1
            return self.pages

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


class RawArchive:
    def __init__(self, root: str | Path, run_id: str):
        self.root = Path(root)
        self.run_id = run_id

    def file_for(self, platform: str, account: str, day: str) -> ArchiveFile:
        return ArchiveFile(self.root / platform / day / f"{self.run_id}-{_safe(account)}.jsonl.gz")


def iter_pages(path: str | Path) -> Iterator[dict]:
    """The archived pages of a file, in order; a member cut by a killed process ends the file quietly."""
    raw = Path(path).read_bytes()
    pos = 0
    while pos < len(raw):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = d.decompress(raw[pos:])
        except zlib.error:
            return
        if not d.eof:
            return  # a truncated last member
        for line in data.splitlines():
            if line.strip():
                yield orjson.loads(line)
        pos = len(raw) - len(d.unused_data)
