"""The narrative registry: the packaged definitions (data/narratives.yaml) plus the users' own.

Users add narratives without code: `envoywatch narratives add FILE.yaml` (library: `add_narratives`). They are
kept in the store's `narrative_defs` table (one row per narrative, the definition as JSON), so that a store
carries the definitions its cached assignments were computed with; a user narrative with the name of a
packaged one replaces it (only with replace=True).

A definition: name, description, keywords {lang: [phrase, ...]}, patterns {lang: [regex, ...]}, examples.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml

from envoywatch.errors import EnvoywatchError
from envoywatch.store.db import table_exists

LANGUAGES = ("en", "zh", "fr", "es", "ru", "ar", "de", "pt")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
# scripts written without spaces between words: no word boundaries around their keywords
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]")
# Arabic proclitics (wa-, fa-, bi-, li-, ka-, al- and their combinations) glued to the next word
_AR_PREFIX = r"(?:[وفبلك]?(?:ال)?|لل)?"
_ARABIC = re.compile(r"[\u0600-\u06ff]")

DEFS_DDL = """CREATE TABLE IF NOT EXISTS narrative_defs (
  name VARCHAR PRIMARY KEY, definition VARCHAR NOT NULL, source VARCHAR, added_at TIMESTAMP)"""


class NarrativeError(EnvoywatchError):
    """A narrative definition (or a narratives parameter) is bad."""


@dataclass
class Narrative:
    name: str
    description: str = ""
    keywords: dict[str, list[str]] = field(default_factory=dict)
    patterns: dict[str, list[str]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    origin: str = "package"

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("origin")
        return {k: v for k, v in d.items() if v not in ({}, [], "")} | {"name": self.name}

    @cached_property
    def regex(self) -> re.Pattern | None:
        """One case-insensitive regex for every keyword and pattern of every language."""
        parts = [keyword_regex(k) for kws in self.keywords.values() for k in kws]
        parts += [f"(?:{p})" for ps in self.patterns.values() for p in ps]
        return re.compile("|".join(parts), re.I | re.U) if parts else None

    @cached_property
    def _keyword_rx(self) -> re.Pattern | None:
        parts = [keyword_regex(k) for kws in self.keywords.values() for k in kws]
        return re.compile("|".join(parts), re.I | re.U) if parts else None

    @cached_property
    def _pattern_rx(self) -> re.Pattern | None:
        parts = [f"(?:{p})" for ps in self.patterns.values() for p in ps]
        return re.compile("|".join(parts), re.I | re.U) if parts else None

    @cached_property
    def anchors(self) -> tuple[str, ...]:
        """The lower-cased longest word of each keyword: a cheap substring test before the regex (Python's re
        tries every alternative at every position, which is 100 times slower than `in` on most texts). Every
        word of a keyword occurs in a text it matches, so any word is a valid anchor; the longest is the
        rarest (the first word of 'US biolabs', 'us', occurs in almost every English text)."""
        return tuple(sorted({max(k.strip().rstrip("*").split(), key=len).lower() for kws in self.keywords.values()
                             for k in kws if k.strip().rstrip("*")}))

    @cached_property
    def _by_anchor(self) -> tuple[tuple[str, tuple[tuple[int, re.Pattern], ...]], ...]:
        """(anchor, ((position of the keyword in _keyword_rx, its own regex), ...)) per anchor."""
        groups: dict[str, list] = {}
        kws = [k for kws in self.keywords.values() for k in kws]
        for i, k in enumerate(kws):
            if k.strip().rstrip("*"):
                a = max(k.strip().rstrip("*").split(), key=len).lower()
                groups.setdefault(a, []).append((i, re.compile(keyword_regex(k), re.I | re.U)))
        return tuple((a, tuple(g)) for a, g in sorted(groups.items()))

    def _keyword_match(self, text: str, low: str) -> str | None:
        """What _keyword_rx.search(text) finds, trying only the keywords whose anchor occurs in the text (the
        whole alternation at every position cost 50 us per text; most texts hit one or two anchors). The
        leftmost match wins, and at one position the keyword listed first, as in the alternation."""
        best = None
        for a, rxs in self._by_anchor:
            if a in low:
                for i, rx in rxs:
                    m = rx.search(text)
                    if m and (best is None or (m.start(), i) < (best[0].start(), best[1])):
                        best = (m, i)
        return best[0].group(0) if best else None

    def match(self, text: str | None, lowered: str | None = None) -> str | None:
        """The first matching phrase in text, or None. lowered: text.lower(), when the caller has it."""
        if not text:
            return None
        if self._keyword_rx is not None:
            low = lowered if lowered is not None else text.lower()
            m = self._keyword_match(text, low)
            if m:
                return m
        if self._pattern_rx is not None:
            m = self._pattern_rx.search(text)
            if m:
                return m.group(0)
        return None


def keyword_regex(keyword: str) -> str:
    """A literal phrase as a regex: spaces also match nothing, '_' or '-' (hashtags); a trailing '*' takes any
    word ending; word boundaries where the script separates words (Latin, Cyrillic, Arabic, ...)."""
    kw = keyword.strip()
    stem = kw.endswith("*")
    kw = kw.rstrip("*").strip()
    body = r"[\s_\-]*".join(re.escape(w) for w in kw.split())
    if stem:
        body += r"\w*"
    if _NO_SPACE_SCRIPT.search(kw):
        return f"(?:{body})"
    left = r"(?<!\w)" + (_AR_PREFIX if _ARABIC.search(kw) else "")
    return f"(?:{left}{body}(?!\\w))"


def _as_lang_lists(value, what: str, where: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    if isinstance(value, list):  # a plain list: any language
        value = {"any": value}
    if not isinstance(value, dict):
        raise NarrativeError(f"{what} must be a mapping language -> list", where,
                             f"write {what}: {{en: [...], zh: [...]}}")
    out = {}
    for lang, items in value.items():
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise NarrativeError(f"{what}.{lang} must be a list of non-empty strings", where,
                                 "quote each entry; use a list even for one entry")
        out[str(lang)] = [str(i) for i in items]
    return out


def narrative_from_dict(d: dict, where: str, origin: str = "user") -> Narrative:
    if not isinstance(d, dict):
        raise NarrativeError("a narrative must be a mapping with name, description, keywords/patterns, examples",
                             where, "see docs/analysis/narratives.md for the format")
    name = d.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise NarrativeError(f"bad narrative name {name!r}", where,
                             "use a slug: lower-case letters, digits and '_', starting with a letter")
    where = f"{where} ({name})"
    n = Narrative(name=name, description=str(d.get("description") or ""),
                  keywords=_as_lang_lists(d.get("keywords"), "keywords", where),
                  patterns=_as_lang_lists(d.get("patterns"), "patterns", where),
                  examples=[str(e) for e in (d.get("examples") or [])], origin=origin)
    unknown = set(d) - {"name", "description", "keywords", "patterns", "examples"}
    if unknown:
        raise NarrativeError(f"unknown field(s) {sorted(unknown)}", where,
                             "use only name, description, keywords, patterns, examples")
    for ps in n.patterns.values():
        for p in ps:
            try:
                re.compile(p, re.I)
            except re.error as exc:
                raise NarrativeError(f"pattern {p!r} is not a valid regular expression ({exc})", where,
                                     "fix the regex, or put the phrase under keywords instead") from None
    if not (n.keywords or n.patterns or n.examples):
        raise NarrativeError("a narrative needs keywords, patterns or examples", where,
                             "add at least keywords (pattern matching) or examples (semantic matching)")
    return n


def parse_document(doc, where: str, origin: str) -> list[Narrative]:
    """A YAML document: {version, narratives: [...]}, a list of narratives, or one narrative."""
    if isinstance(doc, dict) and "narratives" in doc:
        items = doc["narratives"]
    elif isinstance(doc, list):
        items = doc
    else:
        items = [doc]
    out = [narrative_from_dict(d, f"{where}: narrative {i + 1}", origin) for i, d in enumerate(items or [])]
    names = [n.name for n in out]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise NarrativeError(f"narrative(s) defined twice: {dup}", where, "give each narrative a unique name")
    return out


def load_file(path) -> list[Narrative]:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NarrativeError(f"cannot read the file ({exc.strerror})", str(path), "give a readable YAML file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise NarrativeError(f"not valid YAML ({getattr(exc, 'problem', exc)})", where,
                             "quote strings that contain ': ' or start with a special character") from None
    return parse_document(doc, str(path), f"user:{path.name}")


def package_document() -> dict:
    text = resources.files("envoywatch.analysis.narratives").joinpath("data/narratives.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def package_narratives() -> list[Narrative]:
    return parse_document(package_document(), "envoywatch/analysis/narratives/data/narratives.yaml", "package")


def registry_version() -> int:
    return int(package_document().get("version", 1))


# --- the store's user definitions -----------------------------------------------------------------------

def ensure_defs_table(con) -> None:
    con.execute(DEFS_DDL)


def user_narratives(store) -> list[Narrative]:
    if not table_exists(store.con, "narrative_defs"):
        return []
    rows = store.con.execute("SELECT name, definition, source FROM narrative_defs ORDER BY name").fetchall()
    return [narrative_from_dict(json.loads(d), f"narrative_defs row {name}", source or "user") for name, d, source in rows]


def all_narratives(store=None, names=None) -> list[Narrative]:
    """Packaged narratives, replaced or extended by the store's user definitions; optionally only `names`."""
    by_name = {n.name: n for n in package_narratives()}
    if store is not None:
        for n in user_narratives(store):
            by_name[n.name] = n
    if names:
        missing = [x for x in names if x not in by_name]
        if missing:
            raise NarrativeError(f"unknown narrative(s) {missing}", "--narrative",
                                 "see `envoywatch narratives list`, or add one with `envoywatch narratives add FILE.yaml`")
        return [by_name[x] for x in names]
    return list(by_name.values())


def add_narratives(store, path_or_narratives, replace: bool = False) -> list[str]:
    """Add user narratives (from a YAML file or Narrative objects) to the store. Returns their names."""
    items = (load_file(path_or_narratives) if isinstance(path_or_narratives, (str, Path))
             else list(path_or_narratives))
    ensure_defs_table(store.con)
    existing = {n.name for n in all_narratives(store)}
    clash = [n.name for n in items if n.name in existing]
    if clash and not replace:
        raise NarrativeError(f"narrative(s) already defined: {clash}", "narratives add",
                             "choose another name, or pass --replace to replace the definition")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with store.transaction():
        for n in items:
            store.con.execute("DELETE FROM narrative_defs WHERE name = ?", [n.name])
            store.con.execute("INSERT INTO narrative_defs VALUES (?, ?, ?, ?)",
                              [n.name, json.dumps(n.as_dict(), ensure_ascii=False), n.origin, now])
    return [n.name for n in items]


def remove_narrative(store, name: str) -> bool:
    if not table_exists(store.con, "narrative_defs"):
        return False
    n = store.con.execute("SELECT count(*) FROM narrative_defs WHERE name = ?", [name]).fetchall()[0][0]
    store.con.execute("DELETE FROM narrative_defs WHERE name = ?", [name])
    return bool(n)


def defs_hash(narratives: list[Narrative], method: str) -> str:
    """What a cached assignment depends on: the definitions (and the method)."""
    payload = json.dumps([method] + [n.as_dict() for n in sorted(narratives, key=lambda n: n.name)],
                         sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def to_yaml(narratives: list[Narrative]) -> str:
    return yaml.safe_dump({"version": 1, "narratives": [n.as_dict() for n in narratives]},
                          allow_unicode=True, sort_keys=False, width=110)


