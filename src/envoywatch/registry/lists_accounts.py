"""Loaders for account lists: CANIS, schliebs diplomat lists (latest / historical / v2 users), Twitter labels.

Each loader turns the rows of one file into a Batch (actors, accounts, history) without touching the store
except to look up accounts that are already registered: an account already in the registry keeps its actor,
so lists add confirmation (verified_by) and fill gaps instead of creating duplicate actors.
"""

from __future__ import annotations

import re

from envoywatch.registry.model import account_row, actor_row, clean_handle, country_code, history_row, slug
from envoywatch.registry.writer import Batch, actor_for_handles

CANIS_URL = "https://github.com/amjal/canis-hackathon"
SCHLIEBS_URL = "https://github.com/schliebs/disinfo"

# schliebs/disinfo category codes (legend in *_diplomats_twitter_historical.csv) -> (category, actor_type)
SCHLIEBS_CATEGORIES = {
    "A": ("head_of_mission", "person", "Ambassador"),
    "E": ("mission", "organisation", "Embassy"),
    "C": ("mission", "organisation", "Consulate/Consul"),
    "CS": ("head_of_mission", "person", "Consul (general)"),
    "S": ("other_official", "person", "Staff member"),
    "B": ("ministry", "organisation", "Beijing MFA"),
    "BS": ("other_official", "person", "MFA staff in Beijing"),
    "G": ("ministry", "organisation", "Moscow/Gov"),
    "QG": ("other_official", "organisation", "Quasi-government"),
    "M": ("state_media_outlet", "organisation", "Media"),
    "MP": ("state_media_staff", "person", "Media personality"),
    "UF": ("other_official", "organisation", "United Front-linked"),
    "O": ("other_official", "organisation", "Other"),
}
_NO_HOST = {"B", "BS", "G", "QG", "UF", "M", "MP"}

CANIS_PLATFORMS = (("x", "X (Twitter) handle"), ("facebook", "Facebook page"), ("instagram", "Instragram page"),
                   ("threads", "Threads account"), ("youtube", "YouTube account"), ("tiktok", "TikTok account"))
_ORG_WORDS = re.compile(
    r"embass|consulat|mission|ministry|office|department|bureau|agency|news|daily|times|tv|radio|media|press|"
    r"cgtn|cctv|cri\b|china|chinese|xinhua|people|channel|network|group|magazine|online|travel|culture|tourism|"
    r"international|global|cent(er|re)|federation|association|committee|government|spokesperson|weekly|review|"
    r"post\b|journal|plus|live|world|expo|club|studio|official|\bnet\b|\.com|service|institute|academy|beijing|"
    r"shanghai|province|city|hong kong|report|insight|focus|express|today|voice|view|story|stories|video|hub",
    re.I)
_MFA_OWNERS = re.compile(r"foreign affairs|foreign ministry|international organizations and conferences", re.I)
_MEDIA_OWNERS = re.compile(r"media|daily|press|news|xinhua|tv|radio|television|broadcast|cmg|cicg|phoenix|"
                           r"magazine|communication|newspaper|satellite|network", re.I)


def _v(row: dict, key: str) -> str:
    v = row.get(key)
    v = (v or "").strip()
    return "" if v.upper() == "NA" else v


def _numeric_id(value: str) -> str | None:
    v = (value or "").strip()
    return v if v.isdigit() else None


# --- CANIS -------------------------------------------------------------------------------------------

def canis_category(name: str, owner: str, parent: str) -> tuple[str, str]:
    is_org = bool(_ORG_WORDS.search(name))
    kind = "organisation" if is_org else "person"
    if _MFA_OWNERS.search(owner) or _MFA_OWNERS.search(parent):
        if re.search(r"spokes", name, re.I):
            return "spokesperson", kind
        return ("mission" if is_org else "other_official"), kind
    if _MEDIA_OWNERS.search(owner):
        return ("state_media_outlet" if is_org else "state_media_staff"), kind
    return "other_official", kind


def load_canis(rows, src: str, existing: dict) -> Batch:
    label = f"CANIS {src}"
    b = Batch(label)
    used_ids: set[str] = set()
    for n, row in enumerate(rows, 2):
        name = _v(row, "Name (English)")
        if not name:
            b.skip("row without an English name")
            continue
        b.records += 1
        where = f"{src}:{n}"
        handles = []
        for platform, col in CANIS_PLATFORMS:
            h = clean_handle(row.get(col))
            if h:
                handles.append((platform, h))
        if not handles:
            b.skip("entity without any account")
            continue
        owner, parent = _v(row, "Entity owner (English)"), _v(row, "Parent entity (English)")
        category, kind = canis_category(name, owner, parent)
        actor_id = actor_for_handles(existing, handles)
        if actor_id is None:
            base = f"cn-canis-{slug(name)}"
            actor_id, i = base, 2
            while actor_id in used_ids:
                actor_id, i = f"{base}-{i}", i + 1
        used_ids.add(actor_id)
        region = _v(row, "Region of Focus")
        host = country_code(region) if category in ("mission", "other_official", "spokesperson") else None
        if host == "CN":
            host = None
        source = f"CANIS PRC state media on social media 2023-11-03 ({src} row {n}): owner {owner or 'unknown'}, parent {parent or 'unknown'}"
        b.actors.append(actor_row(
            actor_id=actor_id, name=name, name_local=_v(row, "Name (Chinese)") or None, actor_type=kind, state="CN",
            category=category, host_country=host, languages=[_v(row, "Language")], source=source,
            source_url=CANIS_URL, list_name="canis", where=where,
            notes=f"CANIS region of focus: {region}; category derived from entity owner and name" if region else None))
        for platform, h in handles:
            numeric = h if platform == "facebook" and h.isdigit() else None   # profile.php?id=N pages
            b.accounts.append(account_row(platform=platform, handle=h, actor_id=actor_id, source=source,
                                          account_id=numeric, verified_by=label, where=where))
    return b


# --- schliebs/disinfo diplomat lists ------------------------------------------------------------

def _schliebs_actor(b: Batch, row: dict, handle: str, state: str, src: str, where: str, existing: dict,
                    name: str | None, source: str) -> str:
    actor_id = actor_for_handles(existing, [("x", handle)]) or f"{state.lower()}-x-{handle.lower()}"
    cat = _v(row, "cat").upper()
    category, kind, legend = SCHLIEBS_CATEGORIES.get(cat, ("other_official", "organisation", "uncategorised"))
    iso = _v(row, "ISO2").upper()
    host = country_code(iso) if cat not in _NO_HOST and len(iso) == 2 else None
    if host == state:
        host = None
    country = _v(row, "country") or _v(row, "\ufeffcountry")
    b.actors.append(actor_row(
        actor_id=actor_id, name=name or f"@{handle}", actor_type=kind, state=state, category=category,
        host_country=host, source=source, source_url=SCHLIEBS_URL, list_name="schliebs", where=where,
        notes=f"schliebs category {cat or '-'} ({legend}); country column: {country}"))
    return actor_id


def load_schliebs_latest(rows, src: str, existing: dict, state: str) -> Batch:
    label = f"schliebs/disinfo {src}"
    b = Batch(label)
    for n, row in enumerate(rows, 2):
        handle = clean_handle(row.get("twitter_handle"))
        if not handle:
            b.skip("row without twitter_handle")
            continue
        b.records += 1
        where = f"{src}:{n}"
        scraped = _v(row, "data_scraped")
        vlabel = f"{label} {scraped}".strip()
        source = f"schliebs/disinfo {src} (row {n}, scraped {scraped or 'unknown'})"
        actor_id = _schliebs_actor(b, row, handle, state, src, where, existing, _v(row, "name") or None, source)
        deleted = _v(row, "deleted").upper()
        status = {"TRUE": "deleted", "FALSE": "active"}.get(deleted, "unknown")
        b.accounts.append(account_row(
            platform="x", handle=handle, actor_id=actor_id, source=source, verified_by=vlabel,
            account_id=_numeric_id(row.get("user_id")), status=status, opened=_v(row, "created_at")[:10] or None,
            where=where))
        if status == "deleted" and scraped:
            b.history.append(history_row(platform="x", handle=handle, changed_at=scraped, change="deleted",
                                         source=f"{source}: deleted=TRUE (observed)", where=where))
    return b


_RENAMED = re.compile(r"renam|changed name|newer handle", re.I)
_SUSPENDED = re.compile(r"suspend", re.I)


def load_schliebs_historical(rows, src: str, existing: dict, state: str) -> Batch:
    label = f"schliebs/disinfo {src}"
    b = Batch(label)
    by_handle: dict[str, list[tuple[int, dict]]] = {}
    for n, row in enumerate(rows, 2):
        handle = clean_handle(row.get("twitter_handle"))
        if not handle:
            b.skip("row without twitter_handle (country placeholder)")
            continue
        b.records += 1
        by_handle.setdefault(handle.lower(), []).append((n, row))
    for rows_h in by_handle.values():
        n, row = rows_h[0]
        handle = clean_handle(row["twitter_handle"])
        where = f"{src}:{n}"
        source = f"schliebs/disinfo {src} (row {n})"
        ends = [_v(r, "ended_post") for _, r in rows_h]
        # the affiliation in this list ends only when every row of the handle has an end date
        valid_to = max((_d(e, where) for e in ends), default=None) if all(ends) else None
        starts = [_d(_v(r, "started_post"), where) for _, r in rows_h]
        starts = [s for s in starts if s]
        actor_id = _schliebs_actor(b, row, handle, state, src, where, existing, None, source)
        b.accounts.append(account_row(
            platform="x", handle=handle, actor_id=actor_id, source=source, verified_by=label,
            account_id=_numeric_id(row.get("user_id")), valid_from=min(starts) if starts else None,
            valid_to=valid_to, where=where))
        for m, r in rows_h:
            remark = _v(r, "remarks")
            change = "renamed" if _RENAMED.search(remark) else "suspended" if _SUSPENDED.search(remark) else None
            if not change:
                continue
            when = _d(_v(r, "ended_post"), f"{src}:{m}")
            if when is None:
                b.skip(f"{change} remark without a date")
                continue
            b.history.append(history_row(platform="x", handle=handle, changed_at=when, change=change,
                                         old_value=handle if change == "renamed" else None,
                                         source=f"schliebs/disinfo {src} (row {m}) remark: {remark}",
                                         where=f"{src}:{m}"))
    return b


def _d(value: str, where: str):
    from envoywatch.registry.model import parse_date

    if not value or not re.match(r"^\d", value):
        return None       # 'added 06-06-22' and similar notes are not dates
    try:
        return parse_date(value, where)
    except Exception:
        return None


def load_schliebs_users(rows, src: str, existing: dict, state: str) -> Batch:
    """twitter_cn_dips.csv / twitter_ru_dips.csv: X API v2 user objects (ids, creation dates) of the diplomats."""
    label = f"schliebs/disinfo {src}"
    b = Batch(label)
    for n, row in enumerate(rows, 2):
        handle = clean_handle(row.get("username"))
        if not handle:
            b.skip("row without username")
            continue
        b.records += 1
        where = f"{src}:{n}"
        scraped = _v(row, "date_scraped")
        source = f"schliebs/disinfo {src} (row {n}, scraped {scraped or 'unknown'})"
        actor_id = actor_for_handles(existing, [("x", handle)]) or f"{state.lower()}-x-{handle.lower()}"
        b.actors.append(actor_row(
            actor_id=actor_id, name=_v(row, "name") or f"@{handle}", actor_type="organisation", state=state,
            category="other_official", source=source, source_url=SCHLIEBS_URL, list_name="schliebs", where=where,
            notes="category unknown: this list has no categories (import the *_diplomats_twitter_latest.csv list first)"))
        deleted = _v(row, "deleted").upper()
        status = {"TRUE": "deleted", "FALSE": "active"}.get(deleted, "unknown")
        b.accounts.append(account_row(
            platform="x", handle=handle, actor_id=actor_id, source=source, verified_by=f"{label} {scraped}".strip(),
            account_id=_numeric_id(row.get("user_id")), status=status, opened=_v(row, "created_at")[:10] or None,
            where=where))
        if status == "deleted" and scraped:
            b.history.append(history_row(platform="x", handle=handle, changed_at=scraped, change="deleted",
                                         source=f"{source}: deleted=TRUE (observed)", where=where))
    return b


# --- Twitter state-affiliation labels -------------------------------------------------------------

_MEDIA_LABEL = re.compile(r"media|médias|медиа|сми|medien|mídia|medios|メディア|媒体|언론", re.I)
_PERSON_LABEL = re.compile(r"official|должностное|funcionario|officiel|representante|funzionario|amtsträger|"
                           r"当局者|官员|官員|공무원|yetkili", re.I)
_LABEL_STATES = (("CN", re.compile(r"china|chine|cina|китай|中国|中國|çin|chiny", re.I)),
                 ("RU", re.compile(r"russ|rusia|росси|rusya|rosja|rusko|venäjä|\bnga\b|ロシア|러시아|روسيا|rússia|русија", re.I)))


def label_state(label: str) -> str | None:
    for code, rx in _LABEL_STATES:
        if rx.search(label):
            return code
    return None


def load_labels(rows, src: str, existing: dict, state: str) -> Batch:
    label = f"schliebs/disinfo {src}"
    b = Batch(label)
    for n, row in enumerate(rows, 2):
        handle = clean_handle(row.get("handle"))
        gov = _v(row, "gov_label")
        b.records += 1
        if not handle or not gov:
            b.skip("no label shown (gov_label NA)")
            continue
        where = f"{src}:{n}"
        scraped = _v(row, "date_scraped")
        source = f"Twitter profile label '{gov}' scraped {scraped or 'unknown'} (schliebs/disinfo {src} row {n})"
        if _MEDIA_LABEL.search(gov):
            category, kind = "state_media_outlet", "organisation"
        elif _PERSON_LABEL.search(gov):
            category, kind = "other_official", "person"
        else:
            category, kind = "other_official", "organisation"
        actor_id = actor_for_handles(existing, [("x", handle)]) or f"{state.lower()}-x-{handle.lower()}"
        b.actors.append(actor_row(
            actor_id=actor_id, name=_v(row, "name") or f"@{handle}", actor_type=kind, state=state, category=category,
            source=source, source_url=SCHLIEBS_URL, list_name="twitter-labels", where=where,
            notes="category from the platform label (state-affiliated media vs government official/organisation)"))
        b.accounts.append(account_row(platform="x", handle=handle, actor_id=actor_id, source=source,
                                      verified_by=f"{label} {scraped}".strip(), where=where))
        if scraped:
            b.history.append(history_row(platform="x", handle=handle, changed_at=scraped, change="labelled",
                                         new_value=gov, source=source, where=where))
        else:
            b.skip("label without a scrape date (no history row)")
    return b
