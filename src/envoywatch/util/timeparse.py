"""Fast, strict timestamp parsing to naive UTC datetimes (the store's TIMESTAMP convention)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from envoywatch.errors import RecordError

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def _to_utc_naive(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def parse_time(value, field: str = "time") -> datetime | None:
    """ISO 8601 (with Z or offset), X v1.1 'Wed Oct 10 20:19:24 +0000 2018', epoch seconds/ms, 'YYYY-MM-DD HH:MM'.

    Returns None for empty values; raises RecordError naming the field for anything else it cannot read.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _to_utc_naive(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(value, field)
    s = str(value).strip()
    if not s:
        return None
    try:
        if s[0].isdigit() and ("-" in s[:5]):
            if s.endswith("Z"):
                s = s[:-1] + "+00:00"
            return _to_utc_naive(datetime.fromisoformat(s))
        if len(s) == 30 and s[3] == " " and s[19] == " ":  # Wed Oct 10 20:19:24 +0000 2018
            dt = datetime(int(s[26:30]), _MONTHS[s[4:7]], int(s[8:10]), int(s[11:13]), int(s[14:16]), int(s[17:19]))
            off = s[20:25]
            if off != "+0000":
                sign = 1 if off[0] == "+" else -1
                dt -= sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5]))
            return dt
        if s.lstrip("-").replace(".", "", 1).isdigit():
            return _from_epoch(float(s), field)
        return _to_utc_naive(datetime.strptime(s, "%a %b %d %H:%M:%S %z %Y"))
    except (ValueError, KeyError, IndexError):
        raise RecordError(f"cannot read {field} '{s[:40]}' as a time (expected ISO 8601, epoch seconds or X's format)") from None


def _from_epoch(v: float, field: str) -> datetime:
    if v > 1e14:  # microseconds
        v = v / 1e6
    elif v > 1e11:  # milliseconds
        v = v / 1e3
    try:
        return datetime.fromtimestamp(v, tz=timezone.utc).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise RecordError(f"{field} {v} is not a valid epoch time") from None


def parse_int(value, field: str = "count") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value).replace(",", "").strip()))
    except ValueError:
        raise RecordError(f"{field} '{str(value)[:40]}' is not a number") from None
