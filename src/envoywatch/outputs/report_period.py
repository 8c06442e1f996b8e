"""Report periods: --period specs, --since/--until, and the previous period each is compared with."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from envoywatch.errors import ConfigError


@dataclass(frozen=True)
class Period:
    start: datetime       # inclusive, naive UTC
    end: datetime         # exclusive
    label: str
    unit: str | None = None   # month | week | year for a calendar period, None for --since/--until

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def previous(self) -> "Period":
        """The period compared with: the previous calendar month / week / year for a calendar period (so that
        May is compared with April, not with "April 1 to April 30 minus a day"), otherwise the span of equal
        length just before this one."""
        if self.unit == "month":
            d = self.start - timedelta(days=1)
            return _month(d.year, d.month)
        if self.unit == "week":
            y, w, _ = (self.start - timedelta(days=7)).isocalendar()
            return _week(y, w)
        if self.unit == "year":
            return _year(self.start.year - 1)
        length = self.end - self.start
        return Period(self.start - length, self.start, _range_label(self.start - length, self.start))


def _range_label(start: datetime, end: datetime) -> str:
    last = end - timedelta(microseconds=1)
    if start.time() == datetime.min.time() and end.time() == datetime.min.time():
        return f"{start:%Y-%m-%d} to {last:%Y-%m-%d}"
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} (end exclusive)"


def _month(y: int, m: int) -> Period:
    end = datetime(y + (m == 12), m % 12 + 1, 1)
    return Period(datetime(y, m, 1), end, f"{calendar.month_name[m]} {y}", "month")


def _year(y: int) -> Period:
    return Period(datetime(y, 1, 1), datetime(y + 1, 1, 1), str(y), "year")


def _week(y: int, w: int) -> Period:
    start = datetime.combine(date.fromisocalendar(y, w, 1), datetime.min.time())
    return Period(start, start + timedelta(days=7), f"week {y}-W{w:02d} ({start:%Y-%m-%d} to "
                                                    f"{start + timedelta(days=6):%Y-%m-%d})", "week")


def _day(s: str, what: str) -> datetime:
    try:
        return datetime.fromisoformat(s).replace(tzinfo=None) if "T" in s or " " in s else \
            datetime.combine(date.fromisoformat(s), datetime.min.time())
    except ValueError:
        raise ConfigError(f"{what} {s!r} is not a date", None, "give YYYY-MM-DD (UTC), e.g. 2021-05-01") from None


def parse_period(spec: str | None = None, since: str | None = None, until: str | None = None,
                 latest: datetime | None = None, today: date | None = None) -> Period:
    """--period YYYY-MM | YYYY-Www | YYYY | last-month | last-week | latest-month | latest-week, or --since/--until.

    --until is inclusive of the day it names (a date without time); --since alone runs to the end of the data.
    Without either, the period is the calendar month of the latest post in the group (`latest`).
    """
    today = today or datetime.now(timezone.utc).date()
    if spec and (since or until):
        raise ConfigError("--period cannot be combined with --since/--until", None, "give one or the other")
    if since or until:
        if not since:
            raise ConfigError("--until needs --since", None, "give --since YYYY-MM-DD as well")
        start = _day(since, "--since")
        if until:
            end = _day(until, "--until")
            if end.time() == datetime.min.time() and len(until) <= 10:
                end += timedelta(days=1)
        else:
            last = (latest or datetime.combine(today, datetime.min.time())).date()
            end = datetime.combine(last + timedelta(days=1), datetime.min.time())
        if end <= start:
            raise ConfigError(f"the period {since} .. {until} is empty", None, "give --until after --since")
        return Period(start, end, _range_label(start, end))
    spec = (spec or "latest-month").strip().lower()
    if spec in ("last-month", "last-week"):
        anchor = today
    elif spec in ("latest-month", "latest-week"):
        anchor = (latest or datetime.combine(today, datetime.min.time())).date()
    else:
        anchor = None
    if anchor is not None:
        if spec.endswith("month"):
            if spec.startswith("last"):
                anchor = anchor.replace(day=1) - timedelta(days=1)
            return _month(anchor.year, anchor.month)
        if spec.startswith("last"):
            anchor -= timedelta(days=7)
        y, w, _ = anchor.isocalendar()
        return _week(y, w)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", spec):
        if 1 <= int(m[2]) <= 12:
            return _month(int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{4})-w(\d{1,2})", spec):
        try:
            return _week(int(m[1]), int(m[2]))
        except ValueError:
            pass
    if m := re.fullmatch(r"(\d{4})", spec):
        return _year(int(m[1]))
    raise ConfigError(f"--period {spec!r} is not understood", None,
                      "give YYYY-MM, YYYY-Www, YYYY, last-month, last-week, latest-month or latest-week")
