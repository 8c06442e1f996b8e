"""URL normalization and registered domains, offline.

normalize_url folds what differs between two links to the same page: scheme and host case, default
ports, 'www.', mobile and AMP hosts (m., mobile., amp.), AMP paths, tracking parameters (utm_*, fbclid,
gclid...), fragments, and redirect wrappers (l.facebook.com, google.com/url, t.umblr.com...). It never
fetches anything: shorteners (t.co, bit.ly) stay as they are unless the platform gave the expanded URL.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "igsh", "mc_cid", "mc_eid",
    "ref_src", "ref_url", "cmpid", "cmp", "ocid", "spm", "share", "smid", "smtyp", "mkt_tok", "_ga", "_gl",
    "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "s_cid", "__twitter_impression",
    "vero_id", "hss_channel", "wt_mc", "wt.mc_id", "rss", "feature", "src", "ns_source", "ns_mchannel", "ns_campaign",
    "ns_linkname", "ns_fee", "sr_share", "amp", "outputtype",
}
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "mtm_")
# host -> query parameter holding the real target
REDIRECT_WRAPPERS = {
    "l.facebook.com": "u", "lm.facebook.com": "u", "m.facebook.com/l.php": "u", "www.google.com/url": "q",
    "google.com/url": "q", "t.umblr.com": "z", "out.reddit.com": "url", "l.instagram.com": "u",
    "href.li": None, "www.youtube.com/redirect": "q", "youtube.com/redirect": "q", "vk.com/away.php": "to",
    "away.vk.com": "to", "l.messenger.com": "u",
}
MOBILE_PREFIXES = ("m.", "mobile.", "amp.", "mobil.")
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # suffix_list_urls=() : use the public suffix list snapshot bundled with tldextract, never the network
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=200_000)
def registered_domain(host_or_url: str | None) -> str | None:
    """'news.cgtn.com' -> 'cgtn.com'; 'www.bbc.co.uk' -> 'bbc.co.uk'; IPs and bare names as they are."""
    if not host_or_url:
        return None
    host = host_or_url
    if "/" in host or ":" in host:
        host = urlsplit(host if _SCHEME_RE.match(host) else "http://" + host).hostname or ""
    host = host.lower().strip(".")
    if not host:
        return None
    ext = _extractor()(host)
    if hasattr(type(ext), "top_domain_under_public_suffix") or hasattr(ext, "top_domain_under_public_suffix"):
        dom = ext.top_domain_under_public_suffix
    else:  # tldextract < 5.3
        dom = ext.registered_domain
    return dom or host


def _wrappers_by_host() -> dict[str, list[tuple[str, str | None]]]:
    """REDIRECT_WRAPPERS by host, in their order: host -> [(path prefix, parameter), ...]."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for key, param in REDIRECT_WRAPPERS.items():
        h, _, p = key.partition("/")
        out.setdefault(h, []).append((p, param))
    return out


_WRAPPERS_BY_HOST = _wrappers_by_host()


def _unwrap(parts) -> str | None:
    """The target of a redirect wrapper link (one dict lookup by host for every other link)."""
    wrappers = _WRAPPERS_BY_HOST.get((parts.hostname or "").lower())
    if not wrappers:
        return None
    for p, param in wrappers:
        if not p or parts.path.lstrip("/").startswith(p):
            if param is None:
                return unquote(parts.query) or None
            for k, v in parse_qsl(parts.query, keep_blank_values=True):
                if k == param and v:
                    return v
    return None


@lru_cache(maxsize=200_000)
def normalize_url(url: str | None) -> str | None:
    return _normalize(url)[0]


# a link the short path below normalizes: http(s), a lower-case plain host without port or user, a path
# without percent escapes, backslashes, white space or non-ASCII characters, no fragment, and a query (if
# any) of tracking parameters only (utm_source=...: dropped)
_SIMPLE_URL = re.compile(r"https?://([a-z0-9.-]+)(/[!$&'()*+,\-./0-9:;=@A-Z_a-z~]*)?(?:\?([!-\"$-~]*))?")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]*")


def _only_tracking(query: str) -> bool:
    """Whether parse_qsl(query) would give only tracking parameters (keys without escapes)."""
    for piece in query.split("&"):
        if not piece:
            continue
        key = piece.split("=", 1)[0].lower()
        if not _PLAIN_KEY.fullmatch(key) or not (key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)):
            return False
    return True


def _normalize_simple(url: str) -> tuple[str, str] | None:
    """normalize_url's result for a simple link (see _SIMPLE_URL; most links in exports are), by string
    operations instead of urlsplit/parse_qsl/urlencode/urlunsplit; None for any other link. The same steps
    as _normalize, in the same order (tests/test_util.py compares the two on the shared data's links)."""
    m = _SIMPLE_URL.fullmatch(url)
    if m is None or (m.group(3) and not _only_tracking(m.group(3))):
        return None
    given = m.group(1)
    if given in _WRAPPERS_BY_HOST:
        return None
    host = given.rstrip(".")
    if not host:
        return None
    host = _fold_host(host)
    return "https://" + host + _fold_path(m.group(2) or "/"), host


def _fold_host(host: str) -> str:
    """Without 'www.' and one mobile/AMP prefix (m., mobile., amp., ...)."""
    if host.startswith("www."):
        host = host[4:]
    for pre in MOBILE_PREFIXES:
        if host.startswith(pre) and host.count(".") >= 2:
            return host[len(pre):]
    return host


def _fold_path(path: str) -> str:
    """Without an AMP suffix (/amp, .amp, .amp.html) and a trailing slash."""
    path = re.sub(r"/amp/?$", "/", path)
    if path.endswith(".amp") or path.endswith(".amp.html"):
        path = path[: path.rindex(".amp")] + (".html" if path.endswith(".amp.html") else "")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def _normalize(url: str | None) -> tuple[str | None, str | None]:
    """(normalized URL, the host it was given) -- the host None where the URL is returned as it was."""
    if not url:
        return None, None
    url = url.strip()
    simple = _normalize_simple(url)
    return simple if simple is not None else _normalize_full(url)


def _normalize_full(url: str) -> tuple[str, str | None]:
    if url.split(":", 1)[0].lower() in ("mailto", "tel", "javascript", "data", "sms", "urn", "at"):
        return url, None
    if not _SCHEME_RE.match(url):
        if url.startswith("//"):
            url = "http:" + url
        elif "." in url.split("/", 1)[0]:
            url = "http://" + url
        else:
            return url, None
    for _ in range(3):  # nested redirect wrappers
        try:
            parts = urlsplit(url)
        except ValueError:
            return url, None
        target = _unwrap(parts)
        if not target or not _SCHEME_RE.match(target):
            break
        url = target
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url, None
    try:
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return url, None
    host = _fold_host(host)
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = _fold_path(parts.path or "/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)]
    # https and http of the same page are the same link for amplification counts
    return urlunsplit(("https", netloc, path, urlencode(query), "")), host


# a host that urlsplit gives back unchanged from "https://HOST[:PORT]/...": lower case, no ':', '[', ']', '@',
# '/', '?', '#', white space or controls
_PLAIN_HOST = re.compile(r"[a-z0-9._~!$&'()*+,;=%-]+")


@lru_cache(maxsize=200_000)
def url_parts(url: str) -> tuple[str | None, str | None, str | None]:
    """(normalized URL, host, registered domain) of a URL; cached, since the same links recur. The host is
    urlsplit(normalized URL).hostname; for a plain host name it is the one the normalizer put there (not
    parsed again: a third of the time per distinct link)."""
    norm, host = _normalize(url)
    if not (norm and norm.startswith("https://")):
        host = None
    elif not (host and _PLAIN_HOST.fullmatch(host)):
        try:
            host = urlsplit(norm).hostname
        except ValueError:   # e.g. "https://[bad/", returned as given: no host (it raised here before)
            host = None
    return norm, host, registered_domain(host) if host else None


def url_row(platform: str, post_id: str, position: int, url: str, expanded: str | None = None) -> dict:
    """One post_urls row from a link as given and its platform-expanded form."""
    norm, host, domain = url_parts(expanded or url)
    return {
        "platform": platform, "post_id": post_id, "position": position, "url": url,
        "expanded_url": expanded, "normalized_url": norm, "host": host, "domain": domain,
    }


_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'\u3000]+", re.I)
_HASHTAG_IN_TEXT = re.compile(r"(?:^|(?<=[^\w&/]))[#＃](\w*[^\W\d_]\w*)", re.U)
_MENTION_IN_TEXT = re.compile(r"(?:^|(?<=[^\w@.]))@([A-Za-z0-9_]{1,30}(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)")


def urls_in_text(text: str | None) -> list[str]:
    if not text:
        return []
    return [u.rstrip(".,;:!?)]}»”'") for u in _URL_IN_TEXT.findall(text)]


def hashtags_in_text(text: str | None) -> list[str]:
    return _HASHTAG_IN_TEXT.findall(text) if text else []


def mentions_in_text(text: str | None) -> list[str]:
    return _MENTION_IN_TEXT.findall(text) if text else []
