"""Rendering helpers: safe JSON and CSV responses, search highlighting, safe links, query strings.

Post text is hostile input. HTML goes through Jinja2 autoescaping; JSON escapes <, > and & as \\u003c...
(a JSON body is then inert even if something sniffs or embeds it); CSV cells that a spreadsheet would
run as a formula (=, +, -, @ at the start) get a leading apostrophe; no link is ever made from post text,
and the only links made from data (permalinks, profile and citation URLs) are http(s) URLs, escaped.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote, urlencode, urlsplit

from markupsafe import Markup, escape
from starlette.responses import Response

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def dumps_safe(obj) -> str:
    s = json.dumps(obj, ensure_ascii=False, default=str)
    for k, v in _JSON_ESCAPES.items():
        s = s.replace(k, v)
    return s


class SafeJSONResponse(Response):
    media_type = "application/json"

    def render(self, content) -> bytes:
        return dumps_safe(content).encode("utf-8")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(v) -> str:
    """A CSV cell: strings that a spreadsheet would evaluate as a formula are prefixed with an apostrophe."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        v = json.dumps(v, ensure_ascii=False)
    elif not isinstance(v, str):
        return str(v)
    return "'" + v if v.startswith(FORMULA_START) else v


def to_csv(columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([csv_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def csv_response(name: str, columns: list[str], rows: list[dict]) -> Response:
    return Response(to_csv(columns, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def json_response(obj, name: str | None = None) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}.json"'} if name else None
    return SafeJSONResponse(obj, headers=headers)


def highlight(snippet: str, matches) -> Markup:
    """Escape the plain-text snippet, then wrap the match offsets [(start, end), ...] in <mark>."""
    out, pos = [], 0
    for s, e in sorted((int(a), int(b)) for a, b in matches or []):
        if s < pos or e <= s:
            continue
        out.append(str(escape(snippet[pos:s])))
        out.append("<mark>" + str(escape(snippet[s:e])) + "</mark>")
        pos = e
    out.append(str(escape(snippet[pos:])))
    return Markup("".join(out))


def safe_url(url) -> str | None:
    """The URL if it is an absolute http(s) URL (to be escaped by the template), else None: no javascript:, data:..."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    try:
        parts = urlsplit(u)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(c in u for c in "\r\n\t\x00 "):
        return u
    return None


def split_urls(text) -> list[str]:
    """http(s) URLs in a citation field (space-separated)."""
    return [u for u in (safe_url(x) for x in (text or "").split()) if u]


def account_path(platform: str, account_id: str) -> str:
    return f"/accounts/{quote(platform, safe='')}/{quote(account_id, safe='')}"


def query_string(params: list[tuple[str, str]], **overrides) -> str:
    """The query string of `params` with `overrides` replacing keys (None drops the key)."""
    keep = [(k, v) for k, v in params if k not in overrides]
    for k, v in overrides.items():
        if v is None or v == "":
            continue
        if isinstance(v, (list, tuple)):
            keep += [(k, str(x)) for x in v]
        else:
            keep.append((k, str(v)))
    return urlencode(keep)
