"""Filters shared by the monitoring analyses, and the filtered posts they all start from.

See docs/analysis/monitoring-contract.md: every monitoring analysis takes `(tables, f: Filters, ...)` and
builds on `filtered_posts(tables, f)`: the posts, each with its author's handle and registry entry.
Posts of accounts that are not in the `accounts` table (or not in the registry) are kept, with NULL
handle / registry columns, unless `registered_only` asks for registered accounts only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis

from envoywatch.analysis.accounts_view import registered_accounts
from envoywatch.errors import EnvoywatchError

# the columns `filtered_posts` adds to the posts columns
ACCOUNT_COLUMNS = ("handle", "display_name", "actor_id", "actor_name", "state", "category", "host_country")

# `by=` values of the monitoring analyses -> column of filtered_posts
BY_COLUMNS = {"account": "account_id", "actor": "actor_id", "state": "state", "category": "category",
              "host_country": "host_country", "platform": "platform", "language": "lang"}

FREQ_UNITS = {"day": "D", "week": "W", "month": "M"}


class AnalysisParameterError(EnvoywatchError):
    """A parameter of a monitoring analysis is not one it understands."""


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...] = ()          # ISO alpha-2 of the affiliated state (registry)
    categories: tuple[str, ...] = ()      # registry categories
    platforms: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()        # account_id values
    host_countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()           # post | repost | quote | reply
    languages: tuple[str, ...] = ()       # the platform's language (posts.lang)
    start: datetime | None = None         # inclusive, UTC
    end: datetime | None = None           # exclusive, UTC
    registered_only: bool = False         # only accounts in the registry

    def __post_init__(self):
        # forgiving input (lists, a single string, 'YYYY-MM' times) becomes the canonical frozen form
        for name in ("states", "categories", "platforms", "accounts", "host_countries", "kinds", "languages"):
            v = getattr(self, name)
            if v is None:
                v = ()
            elif isinstance(v, str):
                v = (v,)
            object.__setattr__(self, name, tuple(v))
        object.__setattr__(self, "start", as_datetime(self.start, "start"))
        object.__setattr__(self, "end", as_datetime(self.end, "end"))

    def window(self, start: datetime | None, end: datetime | None) -> "Filters":
        """The same filters over another time window."""
        return dataclasses.replace(self, start=start, end=end)


def window(f: Filters, start, end) -> Filters:
    return dataclasses.replace(f, start=as_datetime(start, "start"), end=as_datetime(end, "end"))


def as_datetime(value, name: str = "time") -> datetime | None:
    """A datetime from a datetime, a date, or text: 'YYYY', 'YYYY-MM', 'YYYY-MM-DD' or ISO 8601 (naive UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    s = str(value).strip()
    try:
        if len(s) == 4 and s.isdigit():
            return datetime(int(s), 1, 1)
        if len(s) == 7 and s[4] == "-":
            return datetime(int(s[:4]), int(s[5:7]), 1)
        from envoywatch.util.timeparse import parse_time

        return parse_time(s, name)
    except (ValueError, EnvoywatchError):
        raise AnalysisParameterError(f"cannot read {name} '{value}' as a time", name,
                                     "give YYYY, YYYY-MM, YYYY-MM-DD or an ISO 8601 time (UTC)") from None


def period_bounds(value, name: str = "period") -> tuple[datetime, datetime]:
    """'2021' -> the year, '2021-06' -> the month, '2021-06-01' -> the day, 'A..B' -> [A, B)."""
    s = str(value).strip()
    if ".." in s:
        a, b = s.split("..", 1)
        return as_datetime(a, name), as_datetime(b, name)
    start = as_datetime(s, name)
    if len(s) == 4:
        return start, datetime(start.year + 1, 1, 1)
    if len(s) == 7:
        return start, add_months(start, 1)
    return start, start + timedelta(days=1)


def add_months(d: datetime, n: int) -> datetime:
    m = d.month - 1 + n
    return d.replace(year=d.year + m // 12, month=m % 12 + 1, day=1)


def previous_window(f: Filters) -> tuple[datetime, datetime] | None:
    """The window of the same length just before [f.start, f.end), or None without both ends."""
    if f.start is None or f.end is None:
        return None
    return f.start - (f.end - f.start), f.start


def check_choice(value, choices, name: str):
    if value not in choices:
        raise AnalysisParameterError(f"unknown {name} '{value}'", name,
                                     f"use one of: {', '.join(str(c) for c in choices)}")
    return value


def group_expr(t: ibis.Table, by: str | None) -> ibis.Value:
    """The `group` column for `by=` (NULL string when by is None)."""
    if by is None:
        return ibis.null().cast("string")
    check_choice(by, list(BY_COLUMNS), "by")
    return t[BY_COLUMNS[by]].cast("string")


_views_lock = threading.Lock()
_ATTR = "_envoywatch_registry_view"   # kept on the Ibis backend object (Ibis backends hash by database identity)
VIEW = "_ew_registered_accounts"


def accounts_registry(tables) -> ibis.Table:
    """`registered_accounts(tables)`; on DuckDB as a TEMP VIEW of the connection (created once per connection,
    evaluated at query time, so always current): the same rows, but a one-node table that Ibis compiles in
    milliseconds instead of the whole registry matching (most of the time to build a dashboard query)."""
    backend = getattr(tables, "ibis", None)
    if getattr(tables, "con", None) is None or backend is None:
        return registered_accounts(tables)
    be = backend()
    t = getattr(be, _ATTR, None)
    if t is None:
        lock = getattr(tables, "query_lock", None) or contextlib.nullcontext()
        with _views_lock, lock:
            t = getattr(be, _ATTR, None)
            if t is None:
                sql = str(be.compile(registered_accounts(tables)))
                tables.con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS {sql}")
                t = be.table(VIEW)
                setattr(be, _ATTR, t)
    return t


def group_accounts(tables, f: Filters) -> ibis.Table:
    """Accounts (registered_accounts rows) that the account-level filters select: state, category,
    platform, accounts, host country, registered_only. Post-level filters (time, kind, language) do not apply."""
    acc = accounts_registry(tables)
    for col, values in (("state", f.states), ("category", f.categories), ("platform", f.platforms),
                        ("account_id", f.accounts), ("host_country", f.host_countries)):
        if values:
            acc = acc.filter(acc[col].isin(list(values)))
    if f.registered_only:
        acc = acc.filter(acc.actor_id.notnull())
    return acc


def filtered_posts(tables, f: Filters) -> ibis.Table:
    """Posts joined to registered_accounts: every posts column plus handle, display_name, actor_id,
    actor_name, state, category, host_country; filters applied (see Filters)."""
    # post-level filters first: they cut the join's input (DuckDB pushes them down anyway)
    return join_registry(tables, filter_post_rows(tables.table("posts"), f), f)


def filter_post_rows(p: ibis.Table, f: Filters) -> ibis.Table:
    """Rows with platform, account_id, kind, lang and created_at (posts, or a table derived from them) cut by
    f's post-level filters: platform, account, kind, language, [start, end)."""
    for col, values in (("platform", f.platforms), ("account_id", f.accounts), ("kind", f.kinds),
                        ("lang", f.languages)):
        if values:
            p = p.filter(p[col].isin(list(values)))
    if f.start is not None:
        p = p.filter(p.created_at >= as_datetime(f.start, "start"))
    if f.end is not None:
        p = p.filter(p.created_at < as_datetime(f.end, "end"))
    return p


def join_registry(tables, t: ibis.Table, f: Filters) -> ibis.Table:
    """t (rows with platform and account_id) with the registry columns (ACCOUNT_COLUMNS) of their account,
    filtered by f's state, category, host country and registered_only."""
    acc = accounts_registry(tables).select(
        r_platform="platform", r_account_id="account_id", **{c: c for c in ACCOUNT_COLUMNS})
    j = t.left_join(acc, (t.platform == acc.r_platform) & (t.account_id == acc.r_account_id))
    j = j.select(*t.columns, *ACCOUNT_COLUMNS)
    for col, values in (("state", f.states), ("category", f.categories), ("host_country", f.host_countries)):
        if values:
            j = j.filter(j[col].isin(list(values)))
    if f.registered_only:
        j = j.filter(j.actor_id.notnull())
    return j
