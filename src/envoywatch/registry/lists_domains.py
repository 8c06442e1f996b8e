"""Loaders for domain lists: schliebs state-media domains and the DIMA influence-operation domains."""

from __future__ import annotations

import re

from envoywatch.registry.model import country_code, domain_row, normalize_domain
from envoywatch.registry.writer import Batch

SCHLIEBS_URL = "https://github.com/schliebs/disinfo"
DIMA_URL = "https://github.com/M82-project/DIMA_Plugin_Chrome"
# DIMA operations attributed to China rather than Russia (their tags say 'Chine')
_DIMA_CN_TAG = re.compile(r"(^|;)\s*chine\s*(;|$)", re.I)


def load_statemedia_domains(rows, src: str, existing: dict) -> Batch:
    """cn_statemedia_domains.csv / vaxx-url-targets.csv: country, lang, outlet, url, lang_identifier, ..."""
    b = Batch(f"schliebs/disinfo {src}")
    for n, row in enumerate(rows, 2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        ident = row.get("lang_identifier") or row.get("url")
        if not ident:
            b.skip("separator or empty row")
            continue
        b.records += 1
        state = country_code(row.get("country"))
        if not state:
            b.skip(f"unknown country '{row.get('country')}'")
            continue
        d = normalize_domain(ident)
        b.domains.append(domain_row(
            domain=d, state=state, kind="state_media", outlet=row.get("outlet") or None,
            match_type="url_prefix" if "/" in d else "domain",
            source=f"schliebs/disinfo {src} (row {n}: {row.get('outlet')}, lang {row.get('lang') or '?'})",
            source_url=SCHLIEBS_URL, where=f"{src}:{n}"))
    return b


def load_dima(rows, src: str, existing: dict) -> Batch:
    """dima_io_operation_domains.csv: domains of documented influence operations, with report links."""
    from envoywatch.util.urls import registered_domain

    b = Batch(f"DIMA {src}")
    seen: dict[tuple[str, str], dict] = {}
    for n, row in enumerate(rows, 2):
        dom = (row.get("domain") or "").strip()
        match = (row.get("matchType") or "").strip().lower()
        b.records += 1
        if not dom:
            b.skip("row without a domain")
            continue
        if match == "pattern":
            b.skip("regular-expression entry (not a domain)")
            continue
        d = normalize_domain(dom)
        if match == "contains" and ("." not in d or registered_domain(d) != d):
            # 'topnews' or 'm.youtube.com' as a substring would flag unrelated or platform hosts
            b.skip("'contains' entry that is not a registered domain")
            continue
        op = (row.get("operation_file") or "").strip()
        tags = row.get("tags") or ""
        state = "CN" if _DIMA_CN_TAG.search(tags) else "RU"
        notes = "; ".join(x for x in (
            f"DIMA matchType {match}" if match != "exact" else None,
            f"identified {row.get('identifiedDate')}" if row.get("identifiedDate") else None,
            f"risk {row.get('riskLevel')}" if row.get("riskLevel") else None,
            f"tags: {tags}" if tags else None) if x)
        new = domain_row(
            domain=d, state=state, kind="influence_operation", outlet=op or None, match_type="domain",
            source=f"DIMA (M82 project) {op}: {(row.get('source') or '').strip()} ({src} row {n})",
            source_url=(row.get("reportUrl") or "").strip() or DIMA_URL, notes=notes or None, where=f"{src}:{n}")
        old = seen.get((new["domain"], state))
        if old is None:
            seen[(new["domain"], state)] = new
            b.domains.append(new)
        elif op and op not in (old["outlet"] or "").split("; "):
            # a domain documented by several operations: name them all, keep the first report link
            old["outlet"] = f"{old['outlet']}; {op}" if old["outlet"] else op
            old["source"] += f" | {new['source']}"
    return b
