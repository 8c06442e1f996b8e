"""The registry's vocabulary and row builders: categories, ISO codes, handles, dates, validation.

Every row that reaches the registry_* tables is built here, so that the starter registry, the list
loaders and `add_actor`/`add_account` agree on what a valid row is.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from functools import lru_cache
from importlib import resources

from envoywatch.errors import RegistryError

CATEGORIES = ("ministry", "spokesperson", "head_of_mission", "mission", "state_media_outlet",
              "state_media_staff", "other_official")
ACTOR_TYPES = ("person", "organisation")
DOMAIN_KINDS = ("state_media", "influence_operation", "official")
MATCH_TYPES = ("domain", "host", "url_prefix")
ACCOUNT_STATUSES = ("active", "renamed", "suspended", "deleted", "unknown")
HISTORY_CHANGES = ("renamed", "suspended", "deleted", "reinstated", "labelled", "unlabelled")
PLATFORMS = ("x", "facebook", "instagram", "threads", "youtube", "tiktok", "bluesky", "mastodon", "telegram")

# language names as the lists write them -> ISO 639-1 (names without a code are kept lower-cased)
LANGUAGE_CODES = {
    "english": "en", "chinese": "zh", "spanish": "es", "french": "fr", "arabic": "ar", "japanese": "ja",
    "german": "de", "portuguese": "pt", "vietnamese": "vi", "urdu": "ur", "russian": "ru", "korean": "ko",
    "burmese": "my", "persian": "fa", "thai": "th", "sinhalese": "si", "tamil": "ta", "bahasa indonesia": "id",
    "serbian": "sr", "italian": "it", "polish": "pl", "turkish": "tr", "hebrew": "he", "pashto": "ps",
    "ukrainian": "uk", "greek": "el", "albanian": "sq", "swahili": "sw", "hindi": "hi", "hausa": "ha",
    "cantonese": "yue", "laotian": "lo", "esperanto": "eo", "hungarian": "hu", "estonian": "et",
    "mongolian": "mn", "czech": "cs", "belarusian": "be", "kyrgyz": "ky", "nepalese": "ne", "latvian": "lv",
    "bahasa malaysia": "ms", "romanian": "ro", "bengali": "bn", "bulgarian": "bg", "khmer": "km",
}

# country names used by the lists that differ from the ISO short names in data/iso3166.csv
COUNTRY_ALIASES = {
    "usa": "US", "united states of america": "US", "uk": "GB", "great britain": "GB", "britain": "GB",
    "czech rep.": "CZ", "czech republic": "CZ", "dem. rep. of congo": "CD", "rep. of congo": "CG",
    "republic of the congo": "CG", "türkiye": "TR", "turkiye": "TR", "korea, republic of": "KR",
    "viet nam": "VN", "iran, islamic republic of": "IR", "russian federation": "RU", "lao people's democratic republic": "LA",
    "uae": "AE", "são tomé and príncipe": "ST", "venezuela, bolivarian republic of": "VE", "syrian arab republic": "SY",
    "bolivia, plurinational state of": "BO", "tanzania, united republic of": "TZ", "moldova, republic of": "MD",
    "macedonia": "MK", "cote d'ivoire": "CI", "côte d'ivoire": "CI", "swaziland": "SZ", "cape verde": "CV",
    "brunei": "BN", "burma": "MM", "east timor": "TL", "holy see (vatican city state)": "VA", "vatican": "VA",
    "china": "CN", "russia": "RU",
}


@lru_cache(maxsize=1)
def iso_countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English short name (bundled, offline)."""
    with resources.files("envoywatch.registry").joinpath("data/iso3166.csv").open(encoding="utf-8") as fh:
        return {r["code"]: r["name"] for r in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def _names_to_codes() -> dict[str, str]:
    out = {name.lower(): code for code, name in iso_countries().items()}
    out.update(COUNTRY_ALIASES)
    return out


def is_iso(code: str | None) -> bool:
    return bool(code) and code in iso_countries()


def country_code(value: str | None) -> str | None:
    """An ISO alpha-2 code or an English country name -> ISO alpha-2; None when unknown."""
    if not value:
        return None
    v = value.strip()
    if len(v) == 2 and v.upper() in iso_countries():
        return v.upper()
    return _names_to_codes().get(v.lower())


def check_state(value: str | None, where: str, field: str = "state", required: bool = True) -> str | None:
    if not value:
        if required:
            raise RegistryError(f"{field} is missing", where, f"give {field} as an ISO 3166-1 alpha-2 code, e.g. CN")
        return None
    code = country_code(value)
    if not code:
        raise RegistryError(f"{field} '{value}' is not an ISO 3166-1 alpha-2 code", where,
                            f"use a two-letter code such as CN, RU, IR, VE (see {field} in docs/registry.md)")
    return code


def check_choice(value: str | None, choices: tuple[str, ...], field: str, where: str) -> str:
    if value not in choices:
        raise RegistryError(f"{field} '{value}' is not one of {', '.join(choices)}", where,
                            f"use one of: {', '.join(choices)}")
    return value


def language_code(name: str | None) -> str | None:
    if not name or not name.strip():
        return None
    n = name.strip()
    if len(n) <= 3 and n.isalpha():
        return n.lower()
    return LANGUAGE_CODES.get(n.lower(), n.lower())


def clean_handle(value: str | None) -> str | None:
    """'@Handle', 'https://twitter.com/Handle', 'page/' -> 'Handle'; 'NA' and blanks -> None."""
    if value is None:
        return None
    v = value.strip()
    if not v or v.upper() in ("NA", "N/A", "NONE", "NULL"):
        return None
    v = re.sub(r"^https?://(www\.)?[^/]+/", "", v)
    m = re.match(r"^profile\.php\?id=(\d+)", v)     # Facebook pages without a vanity name: the numeric id
    if m:
        return m.group(1)
    v = v.split("?")[0].strip("/").lstrip("@")
    return v or None


def parse_date(value, where: str = "", field: str = "date") -> dt.date | None:
    """'2021-06-22', '22/06/2021' (day first, as the schliebs lists write it), '2019-10-14T10:42:48Z', date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    v = str(value).strip()
    if not v or v.upper() == "NA":
        return None
    for fmt, n in (("%Y-%m-%d", 10), ("%d/%m/%Y", 10), ("%Y-%m", 7), ("%Y", 4)):
        try:
            return dt.datetime.strptime(v[:n], fmt).date()
        except ValueError:
            continue
    raise RegistryError(f"{field} '{v}' is not a date", where or None, "write dates as YYYY-MM-DD")


def slug(text: str) -> str:
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    t = re.sub(r"[^a-zA-Z0-9]+", "-", t).strip("-").lower()
    return t or "x"


def merge_sources(old: str | None, new: str | None) -> str | None:
    """'a; b' + 'b; c' -> 'a; b; c' (order kept, no repeats): how verified_by accumulates lists."""
    parts: list[str] = []
    for s in (old, new):
        for p in (s or "").split(";"):
            p = p.strip()
            if p and p not in parts:
                parts.append(p)
    return "; ".join(parts) or None


# --- row builders ---------------------------------------------------------------------------------

def actor_row(*, actor_id: str, name: str, actor_type: str, state: str, category: str, source: str,
              where: str = "", name_local: str | None = None, host_country: str | None = None,
              languages=None, parent_actor_id: str | None = None, source_url: str | None = None,
              valid_from=None, valid_to=None, list_name: str | None = None, notes: str | None = None) -> dict:
    where = where or f"actor {actor_id}"
    if not actor_id or not name:
        raise RegistryError("an actor needs an id and a name", where, "give --actor-id and --name")
    if not source:
        raise RegistryError("an actor needs a source (citation)", where, "give the source text and URL that attribute it")
    return {
        "actor_id": actor_id, "name": name, "name_local": name_local or None,
        "actor_type": check_choice(actor_type, ACTOR_TYPES, "actor_type", where),
        "state": check_state(state, where),
        "category": check_choice(category, CATEGORIES, "category", where),
        "host_country": check_state(host_country, where, "host_country", required=False),
        "languages": [x for x in (language_code(v) for v in (languages or [])) if x] or None,
        "parent_actor_id": parent_actor_id or None, "source": source, "source_url": source_url or None,
        "valid_from": parse_date(valid_from, where, "valid_from"), "valid_to": parse_date(valid_to, where, "valid_to"),
        "list_name": list_name, "notes": notes or None,
    }


def account_row(*, platform: str, handle: str, actor_id: str, source: str, where: str = "",
                account_id: str | None = None, verified_by: str | None = None, status: str | None = None,
                opened=None, valid_from=None, valid_to=None) -> dict:
    where = where or f"{platform} account {handle}"
    h = clean_handle(handle)
    if not platform or not h:
        raise RegistryError("an account needs a platform and a handle", where, "give --platform and --handle")
    if status is not None:
        check_choice(status, ACCOUNT_STATUSES, "status", where)
    aid = str(account_id).strip() if account_id not in (None, "") else None
    return {
        "platform": platform.lower(), "handle": h, "actor_id": actor_id,
        "account_id": aid if aid and aid.upper() != "NA" else None,
        "verified_by": verified_by or None, "status": status,
        "opened": parse_date(opened, where, "opened"), "valid_from": parse_date(valid_from, where, "valid_from"),
        "valid_to": parse_date(valid_to, where, "valid_to"), "source": source,
    }


def history_row(*, platform: str, handle: str, changed_at, change: str, source: str, where: str = "",
                old_value: str | None = None, new_value: str | None = None) -> dict:
    where = where or f"{platform} account {handle}"
    d = parse_date(changed_at, where, "changed_at")
    if d is None:
        raise RegistryError("a history row needs the date of the change", where, "give changed_at as YYYY-MM-DD")
    return {"platform": platform.lower(), "handle": clean_handle(handle),
            "changed_at": d, "change": check_choice(change, HISTORY_CHANGES, "change", where),
            "old_value": old_value or None, "new_value": new_value or None, "source": source}


def normalize_domain(value: str) -> str:
    v = value.strip().lower()
    v = re.sub(r"^[a-z][a-z0-9+.-]*://", "", v)
    if v.startswith("www."):
        v = v[4:]
    return v.rstrip("/")


def domain_row(*, domain: str, state: str, kind: str, source: str, where: str = "", outlet: str | None = None,
               actor_id: str | None = None, match_type: str = "domain", source_url: str | None = None,
               notes: str | None = None) -> dict:
    where = where or f"domain {domain}"
    d = normalize_domain(domain or "")
    if not d:
        raise RegistryError("a domain entry needs a domain", where, "give the registered domain, e.g. cgtn.com")
    if "/" in d and match_type != "url_prefix":
        match_type = "url_prefix"
    return {"domain": d, "state": check_state(state, where), "kind": check_choice(kind, DOMAIN_KINDS, "kind", where),
            "outlet": outlet or None, "actor_id": actor_id or None,
            "match_type": check_choice(match_type, MATCH_TYPES, "match_type", where),
            "source": source, "source_url": source_url or None, "notes": notes or None}
