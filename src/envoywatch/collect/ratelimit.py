"""Rate limits, in one place: per-platform pacing and the platforms' reset headers.

Each platform gets one RateLimiter, shared by every thread that talks to it. It reads the headers
each answer carries and, when the window is used up, makes the next request wait until the reset:

- X:        x-rate-limit-limit / -remaining / -reset (epoch seconds)
- Mastodon: x-ratelimit-limit / -remaining / -reset (ISO 8601 time)
- Bluesky:  ratelimit-limit / -remaining / -reset (epoch seconds), ratelimit-policy
- any:      Retry-After (seconds or an HTTP date) on 429 / 503

Every wait is bounded by `max_wait`: a reset further away raises RateLimited for that account and the
run goes on with the others. The clock and the sleep are injectable so tests run without waiting.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

# requests per second we allow ourselves per platform when the platform says nothing (politeness)
DEFAULT_MIN_INTERVAL = {"x": 0.0, "bluesky": 0.05, "mastodon": 0.2}

_REMAINING = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")
_RESET = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")


def parse_reset(value: str | None, now: float) -> float | None:
    """A reset header value -> epoch seconds. Epoch seconds, small deltas, ISO times and HTTP dates."""
    if not value:
        return None
    v = value.strip()
    try:
        n = float(v)
    except ValueError:
        pass
    else:
        # an epoch (X, Bluesky) is large; a small number is a delta in seconds (Retry-After, some proxies)
        return n if n > 1e9 else now + max(n, 0.0)
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(v)
        except (TypeError, ValueError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def retry_after(headers, now: float) -> float | None:
    """Seconds to wait from a 429/503 answer: Retry-After, else the platform's reset header."""
    ra = parse_reset(headers.get("retry-after"), now)
    if ra is not None:
        return max(ra - now, 0.0)
    for h in _RESET:
        r = parse_reset(headers.get(h), now)
        if r is not None:
            return max(r - now, 0.0)
    return None


@dataclass
class RateLimiter:
    platform: str
    min_interval: float = 0.0
    max_wait: float = 900.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    waited_s: float = 0.0
    waits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_at: float = 0.0
    _blocked_until: float = 0.0

    def before_request(self) -> None:
        """Pace, and wait out a window the platform said is used up (bounded)."""
        from envoywatch.collect.errors import RateLimited

        with self._lock:
            now = self.clock()
            until = max(self._next_at, self._blocked_until)
            wait = until - now
            if wait > self.max_wait:
                raise RateLimited(self.platform, wait)
            self._next_at = max(now, until) + self.min_interval
        if wait > 0:
            self._sleep(wait)

    def after_response(self, headers) -> None:
        """Read the remaining/reset headers: a used-up window blocks until its reset."""
        remaining = next((headers.get(h) for h in _REMAINING if headers.get(h) is not None), None)
        if remaining is None:
            return
        try:
            left = int(float(remaining))
        except ValueError:
            return
        if left > 0:
            return
        now = self.clock()
        reset = next((parse_reset(headers.get(h), now) for h in _RESET if headers.get(h)), None)
        if reset is not None and reset > now:
            with self._lock:
                self._blocked_until = max(self._blocked_until, reset + 0.5)

    def wait_for_429(self, headers, fallback: float) -> float:
        """After a 429: wait until the reset (or `fallback` s when none is given), bounded; returns the wait."""
        from envoywatch.collect.errors import RateLimited

        now = self.clock()
        wait = retry_after(headers, now)
        wait = fallback if wait is None else wait + 0.5
        if wait > self.max_wait:
            raise RateLimited(self.platform, wait)
        with self._lock:
            self._blocked_until = max(self._blocked_until, now + wait)
        self._sleep(wait)
        return wait

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            self.waited_s += seconds
            self.waits += 1
        self.sleep(seconds)


class Limiters:
    """One RateLimiter per platform for a run (shared by its threads)."""

    def __init__(self, max_wait: float = 900.0, min_interval: dict | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.max_wait = max_wait
        self.min_interval = {**DEFAULT_MIN_INTERVAL, **(min_interval or {})}
        self.clock, self.sleep = clock, sleep
        self._by_platform: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def get(self, platform: str) -> RateLimiter:
        with self._lock:
            lim = self._by_platform.get(platform)
            if lim is None:
                lim = self._by_platform[platform] = RateLimiter(
                    platform, self.min_interval.get(platform, 0.0), self.max_wait, self.clock, self.sleep)
            return lim

    def all(self) -> list[RateLimiter]:
        return list(self._by_platform.values())
