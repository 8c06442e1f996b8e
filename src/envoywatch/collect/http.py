"""The one HTTP client of live collection (httpx): timeouts, bounded retries, rate limits, redaction.

`HttpClient.get_json(path, params)` returns a `RawPage`: the body exactly as received (text), the parsed
JSON, the status, the rate-limit headers and where and when it was fetched. Behaviour:

- 5xx, timeouts, connection resets, and 200 answers whose JSON is cut off: retried with exponential backoff
  (`backoff_base * 2**attempt`, capped at `backoff_max`, at most `retries` times; a 503's Retry-After is
  honoured when longer and within backoff_max), then TransientError
- 429: wait until the platform's reset (Retry-After / x-rate-limit-reset...) through the platform's
  RateLimiter, bounded by its max_wait, at most `rate_retries` times, then resume
- 401/403: AuthError with the platform's fix (collect/errors.py); 404/410 and other 4xx: `ApiError`, that
  the connector turns into AccountGone or a failure
- credentials go in headers only, and every URL or message that leaves this module is redacted
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlencode

from envoywatch.collect.errors import AuthError, CollectError, Redactor, TransientError
from envoywatch.collect.ratelimit import RateLimiter, retry_after

log = logging.getLogger("envoywatch.collect")

# headers kept with a raw page (provenance); never request headers, never cookies
KEPT_HEADERS = ("content-type", "date", "link", "retry-after",
                "x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset",
                "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
# query parameters that are credentials on some APIs (YouTube key=...): dropped from archived URLs
SECRET_PARAMS = {"key", "access_token", "token", "api_key", "apikey", "client_secret"}


@dataclass
class RetryPolicy:
    retries: int = 4             # retries after the first try for 5xx / network / truncated bodies
    rate_retries: int = 3        # 429s accepted in a row for one request
    backoff_base: float = 1.0    # seconds; tests set it to a few milliseconds
    backoff_max: float = 60.0
    timeout: float = 30.0        # seconds per request (connect, read)


@dataclass
class RawPage:
    """One answer of a platform, as received, with provenance. Connectors add `kind`, `account`, `resume`."""

    platform: str
    url: str                     # redacted: no credential
    params: dict
    status: int
    headers: dict
    text: str
    fetched_at: datetime         # naive UTC
    json: object = None
    kind: str = ""               # profile | timeline | lookup ...
    account: str = ""            # the handle or id this page is about
    resume: str | None = None    # token to fetch the next (older) page; None = last page
    top: str | None = None       # newest marker on this page (id, or time for Bluesky)
    extra: dict = field(default_factory=dict)


class ApiError(CollectError):
    """A 4xx other than 401/403/429: the connector decides what it means (gone, bad request...)."""

    def __init__(self, platform: str, status: int, body: str, url: str):
        self.status = status
        self.body = body
        super().__init__(platform, f"HTTP {status} from {url}: {body[:200]}", None,
                         "check the handle and the base URL")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class HttpClient:
    def __init__(self, platform: str, base_url: str, limiter: RateLimiter, policy: RetryPolicy | None = None,
                 headers: dict | None = None, secrets=(), sleep: Callable[[float], None] = time.sleep,
                 user_agent: str | None = None):
        import httpx

        from envoywatch import __version__

        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.redact = Redactor(secrets)
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        self._lock = threading.Lock()
        self._httpx = httpx
        self._client = httpx.Client(
            headers={"User-Agent": user_agent or f"envoywatch/{__version__} (research on state-affiliated accounts)",
                     "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(self.policy.timeout), follow_redirects=True)

    def close(self) -> None:
        self._client.close()

    def url_for(self, path: str, params: dict | None = None) -> str:
        """The URL as archived and shown: credentials in the query string are dropped."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        safe = {k: v for k, v in (params or {}).items() if k.lower() not in SECRET_PARAMS and v is not None}
        return self.redact(url + ("?" + urlencode(safe, doseq=True) if safe else ""))

    def get_json(self, path: str, params: dict | None = None) -> RawPage:
        httpx = self._httpx
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        params = {k: v for k, v in (params or {}).items() if v is not None}
        shown = self.url_for(path, params)
        where = shown.split("?")[0]
        attempt = rate_attempt = 0
        while True:
            self.limiter.before_request()
            with self._lock:
                self.requests += 1
            fetched_at = _utcnow()
            problem = None
            asked_wait = None  # a 503's Retry-After, honoured when it is within backoff_max
            try:
                resp = self._client.get(url, params=params)
                text = resp.text  # reads the whole body: a reset mid-body raises here
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                problem = f"{type(exc).__name__}: {self.redact(exc) or 'no detail'}"
            else:
                headers = {k.lower(): v for k, v in resp.headers.items()}
                self.limiter.after_response(headers)
                status = resp.status_code
                if status == 429:
                    rate_attempt += 1
                    if rate_attempt > self.policy.rate_retries:
                        raise TransientError(self.platform, f"still rate limited (429) after {rate_attempt - 1} "
                                             "waits", where, "run again later")
                    waited = self.limiter.wait_for_429(headers, self._backoff(rate_attempt))
                    log.info("%s: 429 at %s, waited %.1fs", self.platform, shown, waited)
                    continue
                if status in (401, 403):
                    raise AuthError(self.platform, status, self.redact(_error_detail(text)), where)
                if status >= 500:
                    problem = f"HTTP {status}"
                    asked_wait = retry_after(headers, self.limiter.clock())
                elif status >= 400:
                    raise ApiError(self.platform, status, self.redact(text), where)
                else:
                    import orjson

                    try:
                        parsed = orjson.loads(text) if text.strip() else None
                    except orjson.JSONDecodeError as exc:
                        problem = f"truncated or invalid JSON ({exc})"
                    else:
                        return RawPage(self.platform, shown, {k: v for k, v in params.items()
                                                              if k.lower() not in SECRET_PARAMS},
                                       status, {k: headers[k] for k in KEPT_HEADERS if k in headers},
                                       text, fetched_at, parsed)
            attempt += 1
            if attempt > self.policy.retries:
                raise TransientError(self.platform, f"gave up after {attempt} tries ({problem})", where,
                                     "the platform is failing; the account is retried on the next run")
            with self._lock:
                self.retries += 1
            wait = self._backoff(attempt)
            if asked_wait is not None and asked_wait <= self.policy.backoff_max:
                wait = max(wait, asked_wait)
            log.info("%s: %s at %s; retry %d in %.2fs", self.platform, problem, shown, attempt, wait)
            self.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        p = self.policy
        return min(p.backoff_base * (2 ** (attempt - 1)), p.backoff_max)


def _error_detail(text: str) -> str:
    import orjson

    try:
        j = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text[:200]
    if isinstance(j, dict):
        for k in ("detail", "message", "error", "title"):
            if isinstance(j.get(k), str):
                return j[k]
    return text[:200]
