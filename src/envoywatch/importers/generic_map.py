"""Column mapping files for the generic importer: find (shipped name or path), load, check.

The mapping's keys are documented in envoywatch.importers.generic; errors name the mapping file and
the key that is wrong (ImportFormatError), so `envoywatch import` prints one line that says what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from envoywatch.errors import ImportFormatError

MAPS_DIR = Path(__file__).with_name("maps")
KINDS = ("post", "repost", "quote", "reply")
POST_FIELDS = ("post_id", "account_id", "handle", "created_at", "text", "lang", "client", "conversation_id", "url",
               "reply_to_post_id", "reply_to_account_id", "quoted_post_id", "repost_of", "repost_of_account",
               "ref_account_id")
ACCOUNT_FIELDS = ("display_name", "description", "location", "url", "lang", "created_at", "verified",
                  "followers", "following", "posts_count", "listed_count")
METRIC_FIELDS = ("likes", "reposts", "replies", "quotes", "views")
LIST_FIELDS = ("urls", "hashtags", "mentions")
TOP_KEYS = {"description", "input", "delimiter", "records", "platform", "time_format", "post", "kind", "lists",
            "from_text", "metrics", "account", "labels", "constants"}
_TRUE = {"true", "1", "yes", "t", "y", "1.0"}


@dataclass
class Mapping:
    path: Path
    post: dict
    input: str | None = None
    delimiter: str | None = None
    records: str | None = None
    platform: str | None = "x"
    platform_column: str | None = None
    time_format: str = "iso"
    kind: dict = field(default_factory=dict)
    lists: dict = field(default_factory=dict)  # name -> (column, split)
    from_text: tuple = ()
    metrics: dict = field(default_factory=dict)
    account: dict = field(default_factory=dict)
    labels: list | None = None
    constants: dict = field(default_factory=dict)
    derive_id: tuple = ()  # post_id: {derive: [cols]}: a stable id from these fields (files without ids)

    def columns(self) -> list[str]:
        """Every source field the mapping reads (to check them against the file's header)."""
        cols = list(self.post.values()) + list(self.derive_id) + list(self.metrics.values()) + list(self.account.values())
        cols += [c for c, _ in self.lists.values()]
        cols += [self.kind[k] for k in ("column", "is_retweet") if self.kind.get(k)]
        if self.platform_column:
            cols.append(self.platform_column)
        return list(dict.fromkeys(cols))


def resolve_map(spec: str | Path) -> Path:
    """A shipped map by name (`dipromats`), else a path to the user's file."""
    s = str(spec)
    shipped = MAPS_DIR / f"{s}.yaml"
    if "/" not in s and "\\" not in s and shipped.exists():
        return shipped
    p = Path(s).expanduser()
    if p.exists():
        return p
    names = ", ".join(sorted(f.stem for f in MAPS_DIR.glob("*.yaml")))
    raise ImportFormatError(f"column mapping '{s}' not found", s, f"give a YAML file path or a shipped map: {names}")


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> Mapping:
    import yaml

    where = path
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise ImportFormatError(f"the column mapping is not valid YAML ({str(exc).splitlines()[0]})", where,
                                "correct the YAML syntax") from None
    if not isinstance(doc, dict):
        raise ImportFormatError("the column mapping must be a YAML mapping (key: value)", where, "see maps/cnt.yaml")

    def bad(what: str, fix: str):
        raise ImportFormatError(f"column mapping: {what}", where, fix)

    unknown = set(doc) - TOP_KEYS
    if unknown:
        bad(f"unknown key(s) {', '.join(sorted(unknown))}", f"use only: {', '.join(sorted(TOP_KEYS))}")

    def section(name: str, allowed) -> dict:
        sec = doc.get(name) or {}
        if not isinstance(sec, dict):
            bad(f"'{name}' must be a mapping of field: column", "see maps/cnt.yaml")
        extra = set(sec) - set(allowed)
        if extra:
            bad(f"unknown field(s) {', '.join(sorted(extra))} under '{name}'", f"use: {', '.join(allowed)}")
        return {k: str(v) for k, v in sec.items() if v is not None and v != ""}

    raw_post = doc.get("post") or {}
    derive = ()
    if isinstance(raw_post, dict) and isinstance(raw_post.get("post_id"), dict):
        derive = raw_post["post_id"].get("derive") or ()
        if not isinstance(derive, list) or not derive or set(raw_post["post_id"]) != {"derive"}:
            bad("post.post_id must be a column or {derive: [column, ...]}", "e.g. post_id: {derive: [user, time, text]}")
        doc = {**doc, "post": {k: v for k, v in raw_post.items() if k != "post_id"}}
    post = section("post", POST_FIELDS)
    if derive:
        post_id_given = True
        post["post_id"] = "derived"  # placeholder key: the id is computed (see derive_id)
    else:
        post_id_given = False
    for req in ("post_id", "account_id", "created_at"):
        if req not in post and req not in (doc.get("constants") or {}):
            bad(f"'post' must name the {req} column", f"add  post: {{{req}: COLUMN}}")
    kind = doc.get("kind") or {}
    if not isinstance(kind, dict) or set(kind) - {"column", "values", "is_retweet", "text_prefix"}:
        bad("'kind' takes column+values, is_retweet or text_prefix", "see the generic module's docs")
    if kind.get("column"):
        vals = kind.get("values") or {}
        wrong = [v for v in vals.values() if v not in KINDS]
        if not vals or wrong:
            bad("kind.values must map each source value to post, repost, quote or reply", "e.g. values: {RT: repost}")
        kind = {**kind, "values": {str(k): v for k, v in vals.items()}}
    lists = {}
    for name, spec in (doc.get("lists") or {}).items():
        if name not in LIST_FIELDS:
            bad(f"unknown list '{name}'", f"use: {', '.join(LIST_FIELDS)}")
        if isinstance(spec, str):
            spec = {"column": spec}
        if not isinstance(spec, dict) or not spec.get("column"):
            bad(f"lists.{name} needs a column", f"lists: {{{name}: {{column: NAME, split: ' '}}}}")
        lists[name] = (str(spec["column"]), str(spec.get("split", "python")))
    from_text = tuple(doc.get("from_text") or ())
    if set(from_text) - set(LIST_FIELDS):
        bad("from_text takes hashtags, mentions, urls", "e.g. from_text: [hashtags]")
    plat = doc.get("platform", "x")
    plat_col = None
    if isinstance(plat, dict):
        plat_col, plat = str(plat.get("column") or ""), None
        if not plat_col:
            bad("platform must be a slug or {column: NAME}", "e.g. platform: x")
    tf = str(doc.get("time_format") or "iso")
    if tf not in ("iso", "epoch_s", "epoch_ms") and "%" not in tf:
        bad(f"unknown time_format '{tf}'", "use iso, epoch_s, epoch_ms or a strptime pattern like %d/%m/%Y %H:%M")
    inp = doc.get("input")
    if inp not in (None, "csv", "json", "jsonl"):
        bad(f"unknown input '{inp}'", "use csv, json or jsonl")
    labels = doc.get("labels")
    if post_id_given:
        post.pop("post_id")
    return Mapping(path=Path(path), post=post, derive_id=tuple(str(c) for c in derive), input=inp, delimiter=doc.get("delimiter"), records=doc.get("records"),
                   platform=plat, platform_column=plat_col, time_format=tf, kind=kind, lists=lists,
                   from_text=from_text, metrics=section("metrics", METRIC_FIELDS),
                   account=section("account", ACCOUNT_FIELDS),
                   labels=[str(x) for x in labels] if labels else None, constants=dict(doc.get("constants") or {}))


def load_mapping(spec: str | Path) -> Mapping:
    path = resolve_map(spec)
    return _load_cached(str(path.resolve()), path.stat().st_mtime)
