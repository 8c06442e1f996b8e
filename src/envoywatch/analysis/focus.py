"""Language mix and host-country focus.

Language: the platform's language (posts.lang) where it gives one; for posts without one, the language
detected offline by py3langid (a langid.py fork that ships its model) from the text with links, @mentions,
'RT @x:' and '#' signs taken out. Detection happens at analysis time and is cached per post in
`post_languages_detected` (created by this module in a writable store; see LANG_CACHE_DDL); in a read-only
store in a TEMP table of the connection instead (each post detected once per process). No text, or too
little to tell: 'und'.

Host focus: for the accounts of missions and heads of mission (registry categories `mission`,
`head_of_mission`, with a host country), the share of their posts whose text mentions the host country:
names, demonyms, capital, leaders' offices, in English, Chinese and the host's languages (versioned terms
in analysis/data/host_terms.yaml). A host country without terms gets a NULL share and a note.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

import ibis

from envoywatch.analysis import analysis
from envoywatch.analysis.filters import Filters, filtered_posts, group_expr
from envoywatch.errors import EnvoywatchError
from envoywatch.store.db import table_exists

HOST_CATEGORIES = ("mission", "head_of_mission")
LANG_CACHE = "post_languages_detected"
LANG_SESSION = "ew_post_languages_session"
LANG_CACHE_DDL = (f'CREATE TABLE IF NOT EXISTS "{LANG_CACHE}" (platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, '
                  "lang VARCHAR NOT NULL, score DOUBLE, detector VARCHAR NOT NULL)")
# variants that py3langid's model keeps apart but a language mix should not
_LANG_FOLD = {"wuu": "zh", "yue": "zh", "nb": "no", "nn": "no"}
_CLEAN = re.compile(r"https?://\S+|(?:^|\s)RT @\w+:?|@\w+|#", re.I)


class LanguageDetectionUnavailable(EnvoywatchError):
    pass


# --- language detection ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _identifier():
    try:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    except ImportError:
        raise LanguageDetectionUnavailable(
            "detecting the language of posts without one needs the package 'py3langid', which is not installed",
            None, "pip install 'py3langid>=0.3', or call language_mix(..., detect=False) to count them as 'und'") from None
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def detector_name() -> str:
    try:
        from importlib.metadata import version

        return f"py3langid {version('py3langid')}"
    except Exception:  # pragma: no cover
        return "py3langid"


def detect_language(text: str | None) -> tuple[str, float | None]:
    """(ISO 639-1 code, probability) of a post text, ('und', None) when too little text is left."""
    if not text:
        return "und", None
    cleaned = _CLEAN.sub(" ", text)
    letters = sum(1 for ch in cleaned if unicodedata.category(ch).startswith("L"))
    if letters < 3:
        return "und", None
    code, prob = _identifier().classify(cleaned)
    return _LANG_FOLD.get(code, code), float(prob)


def detect_languages(store, batch: int = 50_000) -> int:
    """Detect the language of posts with no platform language that no cache holds yet; returns how many.

    A writable store keeps them in `post_languages_detected`; a read-only one in a TEMP table of the
    connection (LANG_SESSION), so a long-running dashboard detects each post once. Idempotent."""
    _identifier()
    con = store.con
    if getattr(store, "read_only", False):
        target = LANG_SESSION
        con.execute(LANG_CACHE_DDL.replace("CREATE TABLE", "CREATE TEMP TABLE").replace(LANG_CACHE, LANG_SESSION))
    else:
        target = LANG_CACHE
        con.execute(LANG_CACHE_DDL)
    known = [t for t in (LANG_CACHE, LANG_SESSION) if table_exists(con, t, t == LANG_SESSION)]
    anti = " ".join(f'ANTI JOIN "{t}" USING (platform, post_id)' for t in known)
    name = detector_name()
    done = 0
    import pyarrow as pa

    while True:
        tab = con.sql(f"SELECT platform, post_id, text FROM posts {anti} WHERE lang IS NULL "
                      f"LIMIT {int(batch)}").to_arrow_table()
        if tab.num_rows == 0:
            return done
        res = [detect_language(t) for t in tab.column("text").to_pylist()]
        out = pa.table({"platform": tab.column("platform"), "post_id": tab.column("post_id"),
                        "lang": pa.array([r[0] for r in res], pa.string()),
                        "score": pa.array([r[1] for r in res], pa.float64()),
                        "detector": pa.array([name] * tab.num_rows, pa.string())})
        con.register("_ew_lang", out)
        try:
            con.execute(f'INSERT INTO "{target}" SELECT platform, post_id, lang, score, detector FROM _ew_lang')
        finally:
            con.unregister("_ew_lang")
        done += tab.num_rows


def with_language(tables, p: ibis.Table, detect: bool = True) -> ibis.Table:
    """p (posts-like, with platform, post_id, lang) plus `language`: the platform language, else the detected
    one, else 'und' (no text, or an accessor without a DuckDB connection to detect on)."""
    if not detect or not hasattr(tables, "con"):
        return p.mutate(language=p.lang.fill_null("und"))
    detect_languages(tables)
    be = tables.ibis()
    caches = [t for t in (LANG_CACHE, LANG_SESSION) if table_exists(tables.con, t, t == LANG_SESSION)]
    cols = list(p.columns)
    found = []
    for i, name in enumerate(caches):
        c = be.table(name).select(**{f"d{i}_platform": "platform", f"d{i}_post_id": "post_id", f"d{i}_lang": "lang"})
        p = p.left_join(c, (p.platform == c[f"d{i}_platform"]) & (p.post_id == c[f"d{i}_post_id"]))
        p = p.select(*cols, *found, f"d{i}_lang")
        found.append(f"d{i}_lang")
    language = ibis.coalesce(p.lang, *[p[c] for c in found], ibis.literal("und"))
    return p.mutate(language=language).drop(*found)


@analysis("language_mix")
def language_mix(tables, f: Filters = Filters(), by: str | None = None, detect: bool = True) -> ibis.Table:
    """Per group and language: posts and share of the group's posts (platform language, else detected)."""
    p = with_language(tables, filtered_posts(tables, f), detect)
    p = p.mutate(group=group_expr(p, by))
    g = p.group_by(["group", "language"]).aggregate(posts=p.count().cast("int64"))
    tot = g.posts.sum().over(group_by=g.group)
    return g.mutate(share=(g.posts / tot).cast("float64")).order_by(["group", ibis.desc("posts"), "language"])


# --- host-country focus -------------------------------------------------------------------------------

_UNSPACED = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u0E00-\u0EFF\u1000-\u109F\u1780-\u17FF\u3040-\u30FF"
                       r"\u3400-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF\uFF00-\uFFEF]")
# word boundaries as an explicit class of separators (white space, ASCII and common Unicode punctuation):
# Unicode property classes (\p{L}) cost DuckDB's RE2 about 2 ms per pattern and data chunk
_SEP = r"\s!-/:-@\[-`{-~\x{00A0}-\x{00BF}\x{2000}-\x{206F}\x{3000}-\x{303F}\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF20}"
_BOUND_L = f"(?:^|[{_SEP}])"
_BOUND_R = f"(?:$|[{_SEP}])"
_WORD_REST = f"[^{_SEP}]*"


def _esc(term: str) -> str:
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", term)


@functools.lru_cache(maxsize=1)
def host_terms() -> dict:
    """{'version': str, 'countries': {ISO2: {'name': str, '<lang>': [terms]}}} from the package data."""
    import yaml

    text = resources.files("envoywatch.analysis").joinpath("data/host_terms.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {"version": str(data["version"]), "countries": {str(k): v for k, v in data["countries"].items()}}


def host_terms_version() -> str:
    return host_terms()["version"]


def host_pattern(country: str) -> str | None:
    """One RE2/Java-compatible regular expression for a country's terms (None when the country has none)."""
    entry = host_terms()["countries"].get(country)
    if not entry:
        return None
    ci, cs, anywhere = [], [], []
    for lang, terms in entry.items():
        if lang == "name":
            continue
        for t in terms:
            t = str(t).strip()
            exact = t.startswith("=")
            t = t.lstrip("=")
            prefix = t.endswith("*")
            t = t.rstrip("*")
            if not t:
                continue
            rx = _esc(t) + (_WORD_REST if prefix else "")
            if _UNSPACED.search(t):
                anywhere.append(rx)
            elif exact:
                cs.append(rx)
            else:
                ci.append(rx)
    parts = []
    words = ([f"(?i:{'|'.join(ci)})"] if ci else []) + cs
    if words:
        parts.append(f"{_BOUND_L}(?:{'|'.join(words)}){_BOUND_R}")
    if anywhere:
        parts.append(f"(?:{'|'.join(anywhere)})")
    return "|".join(parts) if parts else None


def mentions_host(text: ibis.Value, host: ibis.Value) -> ibis.Value:
    """Boolean: text mentions the host country (NULL when the country has no terms)."""
    branches = []
    for code in sorted(host_terms()["countries"]):
        pat = host_pattern(code)
        if pat:
            branches.append((host == code, text.fill_null("").re_search(pat)))
    return ibis.cases(*branches, else_=ibis.null().cast("boolean"))


@analysis("host_focus")
def host_focus(tables, f: Filters = Filters()) -> ibis.Table:
    """Per mission / head-of-mission account: posts, posts mentioning the host country, share (NULL with a note
    when the host country has no terms)."""
    p = filtered_posts(tables, f)
    p = p.filter(p.category.isin(list(HOST_CATEGORIES)) & p.host_country.notnull())
    p = p.mutate(hit=mentions_host(p.text, p.host_country))
    one, zero = ibis.literal(1).cast("int64"), ibis.literal(0).cast("int64")
    g = p.group_by(["platform", "account_id", "host_country"]).aggregate(
        handle=p.handle.max(), posts=p.count().cast("int64"),
        posts_mentioning_host=ibis.ifelse(p.hit, one, zero).sum().cast("int64"),
        known=p.hit.notnull().any())
    known = set(host_terms()["countries"])
    share = ibis.ifelse(g.known, (g.posts_mentioning_host / g.posts).cast("float64"), ibis.null().cast("float64"))
    note = ibis.ifelse(g.host_country.isin(list(known)), ibis.null().cast("string"),
                       "no host-country terms for " + g.host_country + " (add them to analysis/data/host_terms.yaml)")
    return (g.mutate(posts_mentioning_host=ibis.ifelse(g.known, g.posts_mentioning_host, ibis.null().cast("int64")),
                     share=share, note=note)
            .select("platform", "account_id", "handle", "host_country", "posts", "posts_mentioning_host", "share", "note")
            .order_by([ibis.desc("posts"), "platform", "account_id"]))
