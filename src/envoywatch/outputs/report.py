"""envoywatch report: the weekly or monthly brief for a group of accounts and a period, as one file.

The report is a list of registered sections (`@section`). A section is a function
`(ctx: ReportContext) -> list[Block] | None` that runs analyses (Ibis expressions from the monitoring
contract, see report_queries) through `ctx.run` and returns content blocks: figures, tables, charts and
text. Renderers turn the same blocks into self-contained HTML (report_render.render_html: inline CSS and
SVG, no script, no external request) or Markdown (render_md). Later analyses (coordination, narratives)
add a section by registering a function in a module named `envoywatch.outputs.report_section_*`
(discovered at build time) or by calling `register_section` before building.

Post text is hostile input: blocks hold raw strings and the renderers escape them.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from envoywatch.errors import ConfigError
from envoywatch.outputs.report_period import Period, parse_period

__all__ = ["Para", "Figure", "Figures", "TableBlock", "Chart", "SectionOut", "Section", "SECTIONS", "section",
           "register_section", "Period", "parse_period", "ReportContext", "Report", "build_report", "write_report",
           "resolve_accounts", "group_label"]

# --- content blocks --------------------------------------------------------------------------------


@dataclass
class Para:
    text: str
    style: str = "p"          # p | note | warn
    type: str = "para"


@dataclass
class Figure:
    label: str
    value: str
    detail: str = ""


@dataclass
class Figures:
    items: list[Figure]
    type: str = "figures"


@dataclass
class TableBlock:
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""
    numeric: tuple[int, ...] = ()     # column positions aligned right
    type: str = "table"


@dataclass
class Chart:
    svg: Any                          # markupsafe.Markup from report_charts (labels escaped there)
    caption: str
    data: TableBlock | None = None    # what Markdown shows instead of the picture
    type: str = "chart"


@dataclass
class SectionOut:
    key: str
    title: str
    blocks: list


# --- sections --------------------------------------------------------------------------------------


@dataclass
class Section:
    key: str
    title: str
    fn: Callable
    order: int


SECTIONS: list[Section] = []


def register_section(key: str, title: str, fn: Callable, order: int = 500) -> None:
    """Add (or replace) a report section; sections render in `order`, then registration order."""
    SECTIONS[:] = [s for s in SECTIONS if s.key != key]
    SECTIONS.append(Section(key, title, fn, order))


def section(key: str, title: str, order: int = 500):
    def deco(fn):
        register_section(key, title, fn, order)
        return fn

    return deco


def _load_sections() -> None:
    import envoywatch.outputs as pkg
    import envoywatch.outputs.report_sections  # noqa: F401  (the built-in sections)

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("report_section_"):
            importlib.import_module(f"envoywatch.outputs.{mod.name}")


# --- context and build -----------------------------------------------------------------------------


class ScopedTables:
    """The store as the analyses see it (`.table(name)`, everything else passed through), with post_metrics
    cut down to the snapshots of posts created in the report's window (this period and the previous one).

    Why: engagement and top posts rank every post's snapshots to find its latest one; over a large store's
    whole post_metrics that took 24 s of the report's 44 on 9.8M posts. The temp table is built once with
    one scan. Every post the report asks about lies in the window and keeps all its snapshots, so results
    are the same. Posts themselves are not copied: queries filter them by time.
    """

    SCOPED = ("post_metrics",)   # hashtags / URLs / mentions too made no difference (measured on 9.8M posts)

    def __init__(self, store, start: datetime, end: datetime):
        self._store = store
        con = store.con
        con.execute('CREATE OR REPLACE TEMP TABLE "_ew_report_keys" AS SELECT platform, post_id FROM posts '
                    "WHERE created_at >= ? AND created_at < ?", [start, end])
        for child in self.SCOPED:
            con.execute(f'CREATE OR REPLACE TEMP TABLE "_ew_report_{child}" AS SELECT c.* FROM "{child}" c '
                        'SEMI JOIN "_ew_report_keys" p ON c.platform = p.platform AND c.post_id = p.post_id')

    def table(self, name: str):
        if name in self.SCOPED:
            return self._store.ibis().table(f"_ew_report_{name}")
        return self._store.table(name)

    def __getattr__(self, name):
        return getattr(self._store, name)

    def close(self) -> None:   # the report's own temp tables only; the store stays open
        for name in ("keys",) + self.SCOPED:
            self._store.con.execute(f'DROP TABLE IF EXISTS "_ew_report_{name}"')


@dataclass
class ReportContext:
    store: Any
    filters: Any              # the group (Filters without start/end)
    period: Period
    group_label: str
    timings: dict[str, float] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    tables: Any = None        # what analyses get: ScopedTables over the store (see there)

    @property
    def prev(self) -> Period:
        return self.period.previous

    def f(self, period: Period | None = None, **changes):
        """The group's filters over `period` (default: the report's period)."""
        from dataclasses import replace

        p = period or self.period
        return replace(self.filters, start=p.start, end=p.end, **changes)

    def run(self, expr, name: str):
        """Execute an Ibis expression on the store's backend and return a list of dicts (timed)."""
        t0 = time.perf_counter()
        rows = expr.to_pyarrow().to_pylist()
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        return rows

    def sql(self, query: str, params: list | None = None, name: str = "sql") -> list[tuple]:
        t0 = time.perf_counter()
        rows = self.store.con.execute(query, params or []).fetchall()
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        return rows


@dataclass
class Report:
    title: str
    group_label: str
    period: Period
    previous: Period
    generated_at: datetime
    simulated: dict | None       # None when no batch in the store is simulated
    sections: list[SectionOut]
    timings: dict[str, float]
    seconds: float
    path: Path | None = None     # where write_report wrote it


def group_label(f, store=None) -> str:
    parts = []
    accounts = list(f.accounts)
    if store is not None and accounts:   # show handles where the store knows them
        known = dict(store.con.execute("SELECT account_id, any_value(handle) FROM accounts WHERE account_id IN "
                                       f"({', '.join('?' for _ in accounts)}) GROUP BY 1", accounts).fetchall())
        accounts = [known.get(a) or a for a in accounts]
    for name, values in (("state", f.states), ("category", f.categories), ("platform", f.platforms),
                         ("account", accounts), ("host country", f.host_countries), ("kind", f.kinds),
                         ("language", f.languages)):
        if values:
            parts.append(f"{name} {', '.join(values)}")
    if getattr(f, "registered_only", False):
        parts.append("registered accounts only")
    return "; ".join(parts) if parts else "all accounts in the store"


def resolve_accounts(store, values) -> tuple[str, ...]:
    """--account takes account ids or handles (with or without @, any case); handles become ids."""
    out: list[str] = []
    for v in values:
        v = v.lstrip("@")
        ids = [r[0] for r in store.con.execute(
            "SELECT account_id FROM accounts WHERE account_id = ? OR lower(handle) = lower(?) ORDER BY 1", [v, v]
        ).fetchall()]
        if not ids:
            raise ConfigError(f"no account with id or handle {v!r} in the store", None,
                              "check the spelling, or list accounts with: envoywatch accounts")
        out.extend(i for i in ids if i not in out)
    return tuple(out)


def simulated_info(store) -> dict | None:
    rows = store.con.execute("SELECT batch_id, source_path FROM import_batches WHERE simulated ORDER BY batch_id"
                             ).fetchall()
    if not rows:
        return None
    return {"batches": [r[0] for r in rows], "sources": [r[1] for r in rows]}


def build_report(store, filters=None, period: Period | str | tuple | None = None, title: str | None = None) -> Report:
    """Run every registered section for a group (`filters`, start/end ignored) and a period.

    period: a Period, a --period spec (see parse_period), a (since, until) pair of dates, or None (latest-month).
    """
    from dataclasses import replace

    from envoywatch.outputs.report_queries import Filters

    t0 = time.perf_counter()
    _load_sections()
    f = replace(filters or Filters(), start=None, end=None)
    if not isinstance(period, Period):
        since, until = period if isinstance(period, tuple) else (None, None)
        spec = None if isinstance(period, tuple) else period
        latest = None
        if (spec is None and not since) or str(spec).startswith("latest") or (since and not until):
            from envoywatch.outputs.report_queries import filtered_posts

            latest = filtered_posts(store, f).created_at.max().to_pyarrow().as_py()
        period = parse_period(spec, since, until, latest=latest)
    label = group_label(f, store)
    ctx = ReportContext(store, f, period, label)
    t1 = time.perf_counter()
    ctx.tables = ScopedTables(store, period.previous.start, period.end)
    ctx.timings["scoped tables"] = time.perf_counter() - t1
    out = []
    try:
        for s in sorted(SECTIONS, key=lambda s: s.order):
            t1 = time.perf_counter()
            blocks = s.fn(ctx)
            ctx.timings[f"section {s.key}"] = time.perf_counter() - t1
            if blocks:
                out.append(SectionOut(s.key, s.title, blocks))
    finally:
        ctx.tables.close()
    return Report(title or f"envoywatch brief: {label}, {period.label}", label, period, period.previous,
                  datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0), simulated_info(store), out,
                  ctx.timings, time.perf_counter() - t0)


def write_report(store, path, filters=None, period: Period | str | tuple | None = None, fmt: str | None = None,
                 title: str | None = None) -> Report:
    """Build the report and write it to `path` as HTML (default) or Markdown (fmt="md" or a .md path)."""
    from envoywatch.outputs.report_render import render_html, render_md

    path = Path(path)
    fmt = fmt or ("md" if path.suffix.lower() in (".md", ".markdown") else "html")
    if fmt not in ("html", "md"):
        raise ConfigError(f"unknown report format {fmt!r}", None, "use --format html or --format md")
    if not path.parent.exists():
        raise ConfigError(f"folder {path.parent} does not exist", str(path), "create it or choose another --out")
    rep = build_report(store, filters, period, title)
    text = render_md(rep) if fmt == "md" else render_html(rep)
    path.write_text(text, encoding="utf-8")
    rep.path = path
    return rep
