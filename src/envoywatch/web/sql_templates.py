"""Compiled SQL reused across time windows: the dashboard compiles an analysis once per filter *shape*.

Building and compiling an Ibis expression costs tens of milliseconds of Python per table, more than DuckDB
takes to answer it from the aggregates. A new date range used to mean a new compile for every table of a
page. Here the times are replaced by sentinel times of the same kind (none / first of a month / midnight /
any time), the expression is compiled once for the sentinels, and each request's SQL is that template with
every sentinel time literal replaced by the request's corresponding time.

What a time can become in an analysis is enumerated by `_derived`: the time itself, the first of its month
and the first whole month from it (aggregates.month_floor / month_ceil), as timestamps or dates, and for a
window its previous window of the same length (filters.previous_window). Every sentinel lies in the 1800s;
a template in which a literal of the 1800s is left after the replacement used a time in a way this module
does not know, and the caller compiles that request directly instead (correct, just slower).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime

from envoywatch.analysis.aggregates import month_ceil, month_floor
from envoywatch.analysis.filters import as_datetime

_LIT = re.compile(r"MAKE_TIMESTAMP\((\d+), (\d+), (\d+), (\d+), (\d+), ([0-9.]+)\)|MAKE_DATE\((\d+), (\d+), (\d+)\)")
_SENTINEL_ERA = re.compile(r"MAKE_(?:TIMESTAMP|DATE)\(18\d\d,|'18\d\d-")


def time_class(v) -> str:
    """'-' (none), 'm' (first of a month, midnight), 'd' (midnight), 't' (any other time)."""
    v = as_datetime(v)
    if v is None:
        return "-"
    if (v.hour, v.minute, v.second, v.microsecond) != (0, 0, 0, 0):
        return "t"
    return "m" if v.day == 1 else "d"


def sentinel(cls: str, slot: int) -> datetime | None:
    """A time of class `cls` for slot number `slot`, in the 1800s; later slots get later times (two slots'
    times keep the order of the request's times when those are in slot order)."""
    if cls == "-":
        return None
    year = 1811 + 4 * slot
    if cls == "m":   # the end's in March: a window's previous window then starts mid-month (its first of the
        return datetime(year, 3 if slot == 1 else 2, 1)   # month and next month differ, as they may for a request)
    if cls == "d":
        return datetime(year, 2, 10)
    return datetime(year, 2, 10, 13, 17, 19, 250)


def _derived(times: list) -> list:
    """Every time value the analyses derive from the slot times (see the module doc), in a fixed order."""
    out = []
    for v in times:
        out += [v, month_floor(v) if v is not None else None, month_ceil(v) if v is not None else None]
    if len(times) >= 2 and times[0] is not None and times[1] is not None:   # the window's previous window
        ps = times[0] - (times[1] - times[0])
        out += [ps, month_floor(ps), month_ceil(ps)]
    return out


def _key(v: datetime) -> tuple:
    return (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)


def _ts_sql(v: datetime) -> str:
    return f"MAKE_TIMESTAMP({v.year}, {v.month}, {v.day}, {v.hour}, {v.minute}, {v.second + v.microsecond / 1e6})"


def _date_sql(v: date) -> str:
    return f"MAKE_DATE({v.year}, {v.month}, {v.day})"


def replacement(sentinel_times: list, times: list) -> dict | None:
    """{sentinel literal key: the request's value} for every derived time; None when the two disagree in a way
    that one template cannot express (a sentinel maps to two different times)."""
    out: dict = {}
    for s, v in zip(_derived(sentinel_times), _derived(times)):
        if (s is None) != (v is None):
            return None
        if s is None:
            continue
        for k, val in ((("ts",) + _key(s), v), (("date", s.year, s.month, s.day), v.date())):
            if out.setdefault(k, val) != val:
                return None
    return out


def fill(template: str, mapping: dict) -> str | None:
    """The template with each sentinel time literal replaced; None if one is left that `mapping` lacks."""
    def sub(m: re.Match) -> str:
        if m.group(1) is not None:
            sec = float(m.group(6))
            whole = int(sec)
            key = ("ts", *map(int, m.group(1, 2, 3, 4, 5)), whole, round((sec - whole) * 1e6))
            render = _ts_sql
        else:
            key, render = ("date", *map(int, m.group(7, 8, 9))), _date_sql
        v = mapping.get(key)
        return m.group(0) if v is None else render(v)

    out = _LIT.sub(sub, template)
    return None if _SENTINEL_ERA.search(out) else out


def with_sentinels(f, extra: tuple = ()):
    """(f with sentinel start / end, sentinel extra times, the class key); times are slots 0, 1, 2, ..."""
    classes = tuple(time_class(v) for v in (f.start, f.end, *extra))
    sent = [sentinel(c, i) for i, c in enumerate(classes)]
    return dataclasses.replace(f, start=sent[0], end=sent[1]), tuple(sent[2:]), classes


def in_order(times: list) -> bool:
    """True when the given times are non-decreasing in slot order (as their sentinels are)."""
    given = [as_datetime(v) for v in times if v is not None]
    return all(a <= b for a, b in zip(given, given[1:]))

