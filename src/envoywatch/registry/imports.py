"""import_list: recognise which list a file is from its header, load it, write it in one transaction."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from envoywatch.errors import RegistryError
from envoywatch.registry import lists_accounts as la
from envoywatch.registry import lists_domains as ld
from envoywatch.registry.model import country_code
from envoywatch.registry.writer import existing_accounts, write_batch

# kind -> (description, required header columns (normalized), columns that must be absent)
KINDS: dict[str, tuple[str, set[str], set[str]]] = {
    "canis": ("CANIS PRC state media on social media (entities with X/Facebook/Instagram/Threads/YouTube/TikTok)",
              {"name (english)", "x (twitter) handle", "entity owner (english)"}, set()),
    "schliebs-latest": ("schliebs/disinfo *_diplomats_twitter_latest.csv (handles, categories, user ids)",
                        {"country", "iso2", "cat", "twitter_handle", "user_id", "username", "data_scraped"}, set()),
    "schliebs-historical": ("schliebs/disinfo *_diplomats_twitter_historical.csv (renamed / ended handles)",
                            {"country", "iso2", "cat", "twitter_handle", "started_post", "ended_post"}, {"username"}),
    "schliebs-users": ("schliebs/disinfo twitter_*_dips.csv (X API v2 user objects)",
                       {"user_id", "username", "created_at", "followers_count", "date_scraped"}, {"twitter_handle"}),
    "twitter-labels": ("Twitter state-affiliation labels (platform_labels_twitter_*_dips.csv, twitter_labels_*.csv)",
                       {"handle", "url_handle", "gov_label", "date_scraped"}, set()),
    "statemedia-domains": ("state-media web domains (cn_statemedia_domains.csv, vaxx-url-targets.csv)",
                           {"country", "lang", "outlet", "lang_identifier", "ct_keyword"}, set()),
    "dima": ("DIMA influence-operation domains (dima_io_operation_domains.csv)",
             {"operation_file", "domain", "matchtype", "reporturl"}, set()),
}
_NEEDS_STATE = {"schliebs-latest", "schliebs-historical", "schliebs-users", "twitter-labels"}


def _norm(col: str) -> str:
    return (col or "").replace("\ufeff", "").strip().lower()


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except FileNotFoundError:
        raise RegistryError("file not found", str(path), "check the path") from None
    except UnicodeDecodeError:
        raise RegistryError("not a UTF-8 CSV file", str(path),
                            f"give one of the known lists: {', '.join(KINDS)} (see docs/registry.md)") from None
    except (OSError, csv.Error) as exc:
        raise RegistryError(f"cannot read the file as CSV ({exc})", str(path), "give a CSV list file") from None
    # keys normalized once (BOM, stray spaces such as 'url '), keeping the values
    return header, [{_norm(k) if k else "": v for k, v in r.items() if k is not None} for r in rows]


def detect_kind(header: list[str]) -> str | None:
    cols = {_norm(c) for c in header}
    for kind, (_, need, absent) in KINDS.items():
        if need <= cols and not (absent & cols):
            return kind
    return None


def _state_of(path: Path, kind: str, rows: list[dict], state: str | None) -> str:
    if state:
        code = country_code(state)
        if not code:
            raise RegistryError(f"state '{state}' is not an ISO 3166-1 alpha-2 code", str(path), "use e.g. --state CN")
        return code
    m = re.search(r"(?:^|[_\-.])(cn|ru)(?=[_\-.])", path.name.lower())
    if m:
        return m.group(1).upper()
    if kind == "twitter-labels":
        votes: dict[str, int] = {}
        for r in rows:
            s = la.label_state(r.get("gov_label") or "")
            if s:
                votes[s] = votes.get(s, 0) + 1
        if votes:
            return max(votes, key=votes.get)
    raise RegistryError("cannot tell which state this list is about (the file name has no cn_/ru_)", str(path),
                        "give the state, e.g. envoywatch registry import PATH --state CN")


def import_list(store, path, kind: str | None = None, state: str | None = None) -> dict:
    """Import one list file into the registry tables (one transaction; importing it again changes nothing)."""
    path = Path(path)
    header, rows = read_rows(path)
    detected = detect_kind(header)
    if kind is None:
        if detected is None:
            raise RegistryError(
                f"not a known list (header starts {', '.join(c.strip() for c in header[:5]) or 'empty'})", str(path),
                f"give a CANIS, schliebs/disinfo, Twitter-label, state-media-domain or DIMA list, or force one with "
                f"--kind ({', '.join(KINDS)})")
        kind = detected
    elif kind not in KINDS:
        raise RegistryError(f"unknown list kind '{kind}'", str(path), f"use one of: {', '.join(KINDS)}")
    else:
        need, absent = KINDS[kind][1], KINDS[kind][2]
        missing = need - {_norm(c) for c in header}
        if missing:
            raise RegistryError(f"the file lacks the columns of a {kind} list: {', '.join(sorted(missing))}",
                                str(path), "check the file, or leave out --kind to detect the list")
    src = path.name
    existing = existing_accounts(store)
    if kind == "canis":
        batch = la.load_canis(_restore(rows, header), src, existing)
    elif kind == "schliebs-latest":
        batch = la.load_schliebs_latest(_restore(rows, header), src, existing, _state_of(path, kind, rows, state))
    elif kind == "schliebs-historical":
        batch = la.load_schliebs_historical(_restore(rows, header), src, existing, _state_of(path, kind, rows, state))
    elif kind == "schliebs-users":
        batch = la.load_schliebs_users(rows, src, existing, _state_of(path, kind, rows, state))
    elif kind == "twitter-labels":
        batch = la.load_labels(rows, src, existing, _state_of(path, kind, rows, state))
    elif kind == "statemedia-domains":
        batch = ld.load_statemedia_domains(rows, src, existing)
    else:
        batch = ld.load_dima(_restore(rows, header), src, existing)
    counts = write_batch(store, batch)
    counts["kind"] = kind
    counts["file"] = str(path)
    return counts


def _restore(rows: list[dict], header: list[str]) -> list[dict]:
    """Loaders that read mixed-case columns (ISO2, matchType, reportUrl) get them under the published name."""
    names = {_norm(c): c.replace("\ufeff", "").strip() for c in header if c}
    return [{names.get(k, k): v for k, v in r.items()} for r in rows]

