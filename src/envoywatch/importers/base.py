"""What every archive format shares: the records it yields, the file it reads, how it is detected.

A format is a FormatSpec registered with @register_format. Its `sniff` looks at the head of a file and
says whether it is this format; its `read` streams the file and yields, per source record, either a
Bundle (rows for the store's tables, produced by the platform's pure normalizer) or a Reject (the
record cannot be used: line and reason). Readers never raise for one bad record; they raise
ImportFormatError only when the file as a whole is not this format, and SkipFile when the file is a
known kind that holds no posts (tweet counts, compliance jobs).
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from envoywatch.errors import ImportFormatError, RecordError
from envoywatch.schema import TABLES

# A post is never longer than this; a longer field means a malformed file (an unclosed quote...)
MAX_FIELD_CHARS = 1_000_000
# The longest single JSON record we accept (an X v2 page with includes can reach a few MB)
MAX_RECORD_BYTES = 64 * 1024 * 1024
EXCERPT_CHARS = 500


class UseSlowPath(Exception):
    """Raised by a format's fast (columnar) reader when the file needs the record-by-record reader
    (a bad record, an unusual shape). The runner rolls the batch back and reads the file again."""


class ArrowBatch:
    """Rows for several store tables as Arrow tables (columns named as in schema.py), from a fast reader.

    `records` is how many source records they came from. Child rows of posts must come with their posts
    in the same ArrowBatch. batch_id columns are set by the runner.
    """

    __slots__ = ("tables", "records")

    def __init__(self, tables: dict, records: int):
        self.tables = tables
        self.records = records


class SkipFile(Exception):
    """The file is a recognised kind that holds no posts or accounts; the reason is recorded."""


class Bundle:
    """Rows for the store's tables that come from one source record. Built by pure normalizers."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {}

    def add(self, table: str, row: dict) -> None:
        self.rows.setdefault(table, []).append(row)

    def extend(self, other: "Bundle") -> None:
        for t, rs in other.rows.items():
            self.rows.setdefault(t, []).extend(rs)

    def count(self, table: str) -> int:
        return len(self.rows.get(table, ()))

    def __bool__(self) -> bool:
        return any(self.rows.values())

    def validate(self) -> None:
        """Raise RecordError naming the first missing required field or over-long text."""
        for t, rs in self.rows.items():
            table = TABLES[t]
            for r in rs:
                for c in table.columns:
                    v = r.get(c.name)
                    if c.required and (v is None or v == ""):
                        raise RecordError(f"missing required field {t}.{c.name}")
                    if isinstance(v, str) and len(v) > MAX_FIELD_CHARS:
                        raise RecordError(
                            f"{t}.{c.name} has {len(v):,} characters, over the {MAX_FIELD_CHARS:,} limit "
                            "(no post is that long: the file is probably malformed, e.g. an unclosed quote)"
                        )


@dataclass
class Reject:
    line: int
    reason: str
    raw: str | None = None


@dataclass
class Sniff:
    """The head of a file, decoded, for format detection."""

    path: Path
    name: str  # file name without .gz
    head: str  # up to 64 KiB of text (decoding errors replaced)
    first_line: str
    first_json: object | None  # the first line parsed as JSON, or the whole head if it parses
    csv_header: list[str] | None


class Source:
    """A file being imported: opens .gz transparently, counts bytes for the progress bar."""

    def __init__(self, path: Path, captured_at: datetime | None = None, options: dict | None = None):
        self.path = Path(path)
        self.options = options or {}
        self.bytes_read = 0
        self.size = self.path.stat().st_size
        self._captured_at = captured_at
        self._given = captured_at is not None
        self.notes: list[str] = []  # remarks a reader wants in import_batches.note (e.g. "12 API error lines skipped")

    @property
    def name(self) -> str:
        n = self.path.name
        return n[:-3] if n.endswith(".gz") else n

    @property
    def captured_at_given(self) -> bool:
        """True when the user gave --captured-at (a format may prefer its own capture time otherwise)."""
        return self._given

    @property
    def captured_at(self) -> datetime:
        """Capture time for snapshots when the format gives none: --captured-at, else the file's mtime (UTC)."""
        if self._captured_at is None:
            self._captured_at = datetime.fromtimestamp(self.path.stat().st_mtime, tz=timezone.utc).replace(
                tzinfo=None, microsecond=0)
        return self._captured_at

    def open_binary(self):
        raw = open(self.path, "rb", buffering=0)
        counting = io.BufferedReader(_CountingReader(raw, self), 1 << 20)
        if self.path.name.endswith(".gz"):
            return gzip.GzipFile(fileobj=counting)
        return counting

    def lines(self) -> Iterator[tuple[int, str | None, bytes, str | None]]:
        """Yield (line_number, text, raw_bytes, problem); text is None when problem says why it is unusable."""
        with self.open_binary() as fh:
            for n, raw in enumerate(fh, 1):
                if n == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                if len(raw) > MAX_RECORD_BYTES:
                    yield n, None, raw[:EXCERPT_CHARS], f"line of {len(raw):,} bytes is over the {MAX_RECORD_BYTES:,}-byte limit"
                    continue
                try:
                    yield n, raw.decode("utf-8"), raw, None
                except UnicodeDecodeError as exc:
                    yield n, None, raw, f"invalid UTF-8 at byte {exc.start} of the line (re-encode the file as UTF-8)"

    def text(self) -> str:
        """The whole file as text (for single-document JSON formats); strict UTF-8."""
        with self.open_binary() as fh:
            data = fh.read()
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportFormatError(
                f"invalid UTF-8 at byte {exc.start}", f"{self.path}:{line}",
                "re-encode the file as UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
            ) from None


class _CountingReader(io.RawIOBase):
    def __init__(self, raw, source: Source):
        self.raw, self.source = raw, source

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self.raw.readinto(b)
        self.source.bytes_read += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass
class FormatSpec:
    name: str
    platform: str | None
    description: str
    sniff: Callable[[Sniff], bool]
    read: Callable[[Source], Iterator[Bundle | Reject]]
    priority: int = 50  # lower is tried first
    examples: list[str] = field(default_factory=list)
    # optional columnar reader for clean files: yields ArrowBatch (and may raise UseSlowPath); not used
    # with --skip-bad, where the record-by-record `read` keeps the bad records' lines and reasons
    fast_read: Callable[[Source], Iterator["ArrowBatch"]] | None = None


FORMATS: dict[str, FormatSpec] = {}


def register_format(spec: FormatSpec) -> FormatSpec:
    if spec.name in FORMATS:
        raise ValueError(f"format {spec.name} registered twice")
    FORMATS[spec.name] = spec
    return spec


def load_formats() -> dict[str, FormatSpec]:
    """Import every module that registers formats (platform packages and generic importers)."""
    from envoywatch.importers import registry_of_formats  # noqa: F401  (imports the modules)

    return FORMATS


def make_sniff(path: Path) -> Sniff:
    src = Source(path)
    with src.open_binary() as fh:
        head_bytes = fh.read(65536)
    if head_bytes.startswith(codecs.BOM_UTF8):
        head_bytes = head_bytes[3:]
    head = head_bytes.decode("utf-8", errors="replace")
    first_line = head.split("\n", 1)[0].rstrip("\r")
    first_json = None
    for candidate in (first_line, head):
        try:
            first_json = json.loads(candidate)
            break
        except (ValueError, RecursionError):
            continue
    if first_json is None and head.lstrip().startswith(("[", "{")):
        first_json = _partial_json_head(head)
    csv_header = None
    if first_json is None and ("," in first_line or "\t" in first_line):
        import csv

        try:
            delim = "\t" if first_line.count("\t") > first_line.count(",") else ","
            csv_header = [h.strip().strip('"') for h in next(csv.reader([first_line], delimiter=delim))]
        except (csv.Error, StopIteration):
            csv_header = None
    return Sniff(path=path, name=src.name, head=head, first_line=first_line, first_json=first_json, csv_header=csv_header)


def _partial_json_head(head: str) -> object | None:
    """For a large single JSON document, return a marker dict of the top-level keys seen in the head."""
    import re

    keys = re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', head[:20000])
    if not keys:
        return None
    return {"__partial__": True, "__keys__": keys}


def excerpt(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return raw[:EXCERPT_CHARS]


def iter_json_lines(source: Source, empty_ok: bool = True) -> Iterator[tuple[int, object | None, Reject | None]]:
    """Parse a JSONL file line by line: yields (line, obj, None) or (line, None, Reject)."""
    import orjson

    for n, text, raw, problem in source.lines():
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


def iter_json_document(source: Source) -> object:
    """Parse a whole-file JSON document, with file:line in the error when it does not parse."""
    import orjson

    text = source.text()
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        pos = getattr(exc, "pos", None) or 0
        line = text[:pos].count("\n") + 1
        raise ImportFormatError(
            f"not valid JSON ({str(exc).split(':')[0]}); the file may be truncated",
            f"{source.path}:{line}", "re-download or re-export the file; check it with python -m json.tool",
        ) from None


def iter_json_documents(source: Source) -> Iterator[tuple[int, object | None, Reject | None]]:
    """The file as one JSON document (saved API response), or as JSON lines when it does not parse whole."""
    import orjson

    text = source.text()
    try:
        yield 1, orjson.loads(text), None
        return
    except orjson.JSONDecodeError:
        pass
    docs = 0
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, orjson.loads(line), None
            docs += 1
        except orjson.JSONDecodeError as exc:
            if docs == 0 and n == 1:
                raise ImportFormatError(f"not valid JSON ({exc})", f"{source.path}:1",
                                        "re-download the response; check it with python -m json.tool") from None
            yield n, None, Reject(n, f"not valid JSON ({exc}); the line may be truncated", excerpt(line))


def normalize_record(line: int, raw, fn, *args) -> Bundle | Reject:
    """Call a pure normalizer for one record; turn its RecordError (or a bad shape) into a Reject."""
    try:
        bundle = fn(*args)
        bundle.validate()
        return bundle
    except RecordError as exc:
        return Reject(line, exc.what, excerpt(_raw_text(raw)))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return Reject(line, f"unexpected record shape ({type(exc).__name__}: {exc})", excerpt(_raw_text(raw)))


def _raw_text(raw) -> str | bytes | None:
    if raw is None or isinstance(raw, (str, bytes)):
        return raw
    try:
        import orjson

        return orjson.dumps(raw).decode()
    except TypeError:
        return str(raw)


def iter_csv_rows(source: Source, required: tuple[str, ...] = (), delimiter: str | None = None,
                  fix: str = "use --format to choose another format, or a generic CSV with a column map") -> Iterator[tuple[int, dict | None, Reject | None]]:
    """Stream a CSV file as dicts: yields (line, row, None) or (line, None, Reject).

    Raises ImportFormatError when the header lacks a required column (the whole file is unusable).
    Lines that are not UTF-8 and rows with an over-long field become Rejects; the rest goes on.
    `line` is the physical line where the row starts (rows may span lines inside quotes).
    """
    import csv

    csv.field_size_limit(MAX_FIELD_CHARS + 1)
    pending: list[Reject] = []
    state = {"mark": False, "row_start": 0}

    def text_lines():
        for n, text, raw, problem in source.lines():
            if text is None:
                pending.append(Reject(n, problem, excerpt(raw)))
                continue
            if state["mark"]:
                state["row_start"], state["mark"] = n, False
            yield text

    lines = text_lines()
    first = next(lines, None)
    if first is None:
        raise ImportFormatError("the file is empty", str(source.path), "check the export; an empty file holds nothing to import")
    if delimiter is None:
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFormatError(
            f"missing required column(s) {', '.join(missing)} (header has: {', '.join(header[:12])}{'...' if len(header) > 12 else ''})",
            f"{source.path}:1", fix)
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        state["mark"] = True
        try:
            row = next(reader)
            err = None
        except StopIteration:
            break
        except csv.Error as exc:
            row, err = None, str(exc)
        while pending:
            rej = pending.pop(0)
            yield rej.line, None, rej
        start = state["row_start"]
        if err is not None:
            if "field larger than field limit" in err:
                err = (f"a field is over the {MAX_FIELD_CHARS:,}-character limit (no post is that long: "
                       "probably an unclosed quote)")
            yield start, None, Reject(start, f"bad CSV row: {err}", None)
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            yield start, None, Reject(start, f"row has {len(row)} fields, the header has {len(header)}", excerpt(delimiter.join(row)))
            continue
        yield start, dict(zip(header, row)), None
    while pending:
        rej = pending.pop(0)
        yield rej.line, None, rej
