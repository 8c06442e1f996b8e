"""Run archive imports: expand paths, detect formats, land each file as one all-or-nothing batch.

A file is one batch in one transaction: it lands whole or not at all (a killed process leaves the store
as before the batch). A file whose bytes (sha256) were already imported in the same format is skipped,
so re-running an interrupted import resumes where it stopped, and importing twice changes nothing.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from envoywatch import __version__
from envoywatch.errors import ImportFormatError, RecordError
from envoywatch.importers.base import (FORMATS, ArrowBatch, Bundle, FormatSpec, Reject, SkipFile, Source, UseSlowPath,
                                       load_formats, make_sniff)
from envoywatch.store.db import Store

FLUSH_ROWS = 50_000
IMPORT_MEMORY = "512MB"   # DuckDB's memory_limit during an import (Store.memory_limit): flat in the file size

_BATCH_COLUMN = {
    "posts": "batch_id",
    "accounts": "first_batch_id",
    "account_snapshots": "batch_id",
    "post_metrics": "batch_id",
    "account_follows": "batch_id",
}


@dataclass
class FileResult:
    path: Path
    format: str | None
    detected: bool
    status: str  # done | done_with_rejects | skipped | already_imported
    batch_id: int | None = None
    records: int = 0
    new_posts: int = 0
    new_accounts: int = 0
    rejects: int = 0
    note: str | None = None
    seconds: float = 0.0
    derived_seconds: float = 0.0   # refreshing the aggregates and the search index after this file (import_paths:
                                   # once, after the last file that landed; not part of `seconds`)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise ImportFormatError("no such file or directory", str(p), "check the path")
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts))
            out.extend(files)
        else:
            out.append(p)
    return out


def detect_format(path: Path) -> FormatSpec:
    load_formats()
    if path.stat().st_size == 0:
        raise ImportFormatError("the file is empty", f"{path}:1", "check the export; an empty file holds nothing to import")
    sniff = make_sniff(path)
    if not sniff.head.strip():
        raise ImportFormatError("the file holds only whitespace", f"{path}:1", "check the export; there is nothing to import")
    for spec in sorted(FORMATS.values(), key=lambda s: (s.priority, s.name)):
        try:
            if spec.sniff(sniff):
                return spec
        except Exception:  # a sniffer must never break detection of the others
            continue
    raise ImportFormatError(
        "unknown format (no importer recognises this file)", f"{path}:1",
        "name the format with --format (see envoywatch import --list-formats), or map its columns with "
        "--format generic --map MAPPING.yaml",
    )


def get_format(name: str) -> FormatSpec:
    load_formats()
    if name not in FORMATS:
        raise ImportFormatError(f"unknown format '{name}'", None, f"use one of: {', '.join(sorted(FORMATS))}")
    return FORMATS[name]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_paths(store: Store, paths: Iterable[str | Path], fmt: str | None = None, skip_bad: bool = False,
                 force: bool = False, captured_at: datetime | None = None, progress: bool = False,
                 simulated: bool = False, options: dict | None = None,
                 on_file: Callable[[FileResult], None] | None = None,
                 memory_limit: str | None = None) -> list[FileResult]:
    """Import files and directories, one batch per file. memory_limit: DuckDB's memory during the import
    (flag > ENVOYWATCH_IMPORT_MEMORY > [import] memory_limit in envoywatch.toml > IMPORT_MEMORY)."""
    from envoywatch.config import setting

    files = expand_paths(paths)
    results: list[FileResult] = []
    limit = setting("import", "memory_limit", memory_limit, "ENVOYWATCH_IMPORT_MEMORY", IMPORT_MEMORY)
    bar = _Progress(files, enabled=progress)
    try:
        with store.memory_limit(limit):
            for path in files:
                res = import_file(store, path, fmt=fmt, skip_bad=skip_bad, force=force, captured_at=captured_at,
                                  simulated=simulated, options=options, bar=bar, refresh=False)
                results.append(res)
                if on_file:
                    on_file(res)
            # the aggregates and the search index, once for all the files (per file, a directory of many
            # twarc pages refreshed them once per page). After an error or an interruption they stay stale
            # (readers know it and read the posts) until the next import or `envoywatch refresh`.
            landed = [r for r in results if r.status in ("done", "done_with_rejects")]
            if landed:
                landed[-1].derived_seconds = refresh_after_import(store)
    finally:
        bar.close()
    return results


def import_file(store: Store, path: Path, fmt: str | None = None, skip_bad: bool = False, force: bool = False,
                captured_at: datetime | None = None, simulated: bool = False, options: dict | None = None,
                bar: "_Progress | None" = None, refresh: bool = True) -> FileResult:
    """One file as one batch; then (refresh) the aggregates and the search index."""
    t0 = time.perf_counter()
    path = Path(path).resolve()
    spec = get_format(fmt) if fmt else detect_format(path)
    digest = sha256_file(path)
    if not force:
        prev = store.con.execute(
            "SELECT batch_id FROM import_batches WHERE sha256 = ? AND format = ? ORDER BY batch_id LIMIT 1",
            [digest, spec.name]).fetchall()
        prev = prev[0] if prev else None
        if prev:
            if bar:
                bar.skip(path)
            return FileResult(path, spec.name, fmt is None, "already_imported", prev[0],
                              note=f"already imported in batch {prev[0]} (use --force to read it again)")
    res = FileResult(path, spec.name, fmt is None, "done")
    readers = ([spec.fast_read] if spec.fast_read and not skip_bad else []) + [spec.read]
    for i, reader in enumerate(readers):
        source = Source(path, captured_at=captured_at, options=options)
        if bar:
            bar.start(path, source)
        try:
            _land(store, path, spec, fmt is None, digest, simulated, skip_bad, reader, source, res, bar)
            break
        except UseSlowPath as why:  # the batch was rolled back: read the file again, record by record
            res.records = res.rejects = 0
            res.note = None
            if i == len(readers) - 1:
                raise ImportFormatError(f"the fast reader gave up ({why}) and no other reader exists", str(path),
                                        "report this as a bug") from None
    res.seconds = time.perf_counter() - t0
    if bar:
        bar.finish(source)
    if refresh and res.status in ("done", "done_with_rejects"):
        res.derived_seconds = refresh_after_import(store)
    return res


def _land(store: Store, path: Path, spec: FormatSpec, detected: bool, digest: str, simulated: bool,
          skip_bad: bool, reader, source: Source, res: FileResult, bar) -> None:
    """One file as one transaction: a batch row, the records, the rejects, the counts.

    (Staging a fast reader's batches in TEMP tables and merging them once at the end, instead of writing
    each into the store's tables, was tried: no faster at 1M or 3M posts; see docs/developing.md.)"""
    with store.transaction():
        batch_id, before = _begin_batch(store, path, spec, detected, digest, simulated, res)
        buffer: dict[str, list[dict]] = {}
        buffered = 0
        reject_rows: list[dict] = []
        try:
            for item in reader(source):
                if isinstance(item, Reject):
                    if not skip_bad:
                        raise RecordError(
                            item.reason, f"{path}:{item.line}",
                            "correct or remove that record, or re-run with --skip-bad to import the rest "
                            "and keep it in the rejects table", raw=item.raw)
                    res.rejects += 1
                    reject_rows.append({"batch_id": batch_id, "source_path": str(path), "line": item.line,
                                        "reason": item.reason, "raw_excerpt": item.raw})
                    continue
                if isinstance(item, ArrowBatch):
                    _flush(store, buffer)
                    buffered = 0
                    res.records += item.records
                    store.write_many(_stamp_arrow(item.tables, batch_id), unique=True)
                    if bar:
                        bar.update(source)
                    continue
                res.records += 1
                for table, rows in item.rows.items():
                    col = _BATCH_COLUMN.get(table)
                    if col:
                        for r in rows:
                            r[col] = batch_id
                    buffer.setdefault(table, []).extend(rows)
                    buffered += len(rows)
                if buffered >= FLUSH_ROWS:
                    _flush(store, buffer)
                    buffered = 0
                    if bar:
                        bar.update(source)
        except SkipFile as why:
            res.status, res.note = "skipped", str(why)
        _flush(store, buffer)
        if reject_rows:
            store.write("rejects", reject_rows)
            res.status = "done_with_rejects" if res.status == "done" else res.status
        _finish_batch(store, res, source, batch_id, before)


def _begin_batch(store: Store, path: Path, spec: FormatSpec, detected: bool, digest: str, simulated: bool,
                 res: FileResult) -> tuple[int, tuple[int, int]]:
    """The batch's row in import_batches (status running); returns its id and the posts and accounts before."""
    batch_id = store.next_id("import_batches", "batch_id")
    res.batch_id = batch_id
    before = store.count("posts"), store.count("accounts")
    store.write("import_batches", [{
        "batch_id": batch_id, "source_path": str(path), "format": spec.name, "detected": detected,
        "sha256": digest, "size_bytes": path.stat().st_size, "started_at": utcnow(), "status": "running",
        "simulated": simulated, "tool_version": __version__,
    }])
    return batch_id, before


def _finish_batch(store: Store, res: FileResult, source: Source, batch_id: int, before: tuple[int, int]) -> None:
    if source.notes:
        res.note = "; ".join(([res.note] if res.note else []) + source.notes)
    res.new_posts = store.count("posts") - before[0]
    res.new_accounts = store.count("accounts") - before[1]
    store.con.execute(
        "UPDATE import_batches SET finished_at = ?, status = ?, records_read = ?, posts = ?, accounts = ?, "
        "rejects = ?, note = ? WHERE batch_id = ?",
        [utcnow(), res.status, res.records, res.new_posts, res.new_accounts, res.rejects, res.note, batch_id])


def refresh_after_import(store: Store) -> float:
    """Aggregates + search index of the new posts, in a transaction of its own after the batches' (inside a
    batch's, DuckDB held the batch's uncommitted rows and the index build together: 1M posts peaked at 1.9 GB
    instead of 0.9 GB). If it fails or is killed, both are recognised as stale: readers fall back to the
    posts and the next refresh (any import, `envoywatch refresh`) brings them up to date. (Index and
    aggregates in two transactions at once, on two cursors: 4 % faster at 1M, +80 MB: not worth it.)
    Returns the seconds it took."""
    t0 = time.perf_counter()
    with store.transaction():
        refresh_derived(store)
    return time.perf_counter() - t0


def refresh_derived(store: Store) -> None:
    from envoywatch.analysis.aggregates import refresh_derived as refresh

    refresh(store)


def _stamp_arrow(tables: dict, batch_id: int) -> dict:
    import pyarrow as pa

    out = {}
    for name, t in tables.items():
        col = _BATCH_COLUMN.get(name)
        if col:
            col_arr = pa.array([batch_id] * t.num_rows, pa.int64())
            t = t.set_column(t.column_names.index(col), col, col_arr) if col in t.column_names else t.append_column(col, col_arr)
        out[name] = t
    return out


def _flush(store: Store, buffer: dict[str, list[dict]]) -> None:
    store.write_many(buffer)
    buffer.clear()


class _Progress:
    """A rich progress bar over bytes, on stderr, only when asked for (the CLI asks on a terminal)."""

    def __init__(self, files: list[Path], enabled: bool):
        self.enabled = enabled and bool(files)
        self.task = None
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        total = sum(f.stat().st_size for f in files)
        self.progress = Progress(TextColumn("[bold]import[/] {task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                                 transient=False)
        self.progress.start()
        self.task = self.progress.add_task("", total=total)
        self.done = 0

    def start(self, path: Path, source: Source) -> None:
        if self.enabled:
            self.progress.update(self.task, description=path.name[:40], completed=self.done)

    def update(self, source: Source) -> None:
        if self.enabled:
            self.progress.update(self.task, completed=self.done + min(source.bytes_read, source.size))

    def finish(self, source: Source) -> None:
        if self.enabled:
            self.done += source.size
            self.progress.update(self.task, completed=self.done)

    def skip(self, path: Path) -> None:
        if self.enabled:
            self.done += path.stat().st_size
            self.progress.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.enabled:
            self.progress.stop()


__all__ = ["FileResult", "import_paths", "import_file", "detect_format", "get_format", "expand_paths", "Bundle"]
