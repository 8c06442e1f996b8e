"""Which connector talks to which base URL with which credential: settings resolved in one place.

Base URL: flag (`--base-url`, or `base_urls` in CollectOptions) > ENVOYWATCH_<PLATFORM>_BASE_URL >
`[<platform>] base_url` in envoywatch.toml > the platform's default (Mastodon: the handle's own instance).
Credentials: only by reference (`[x] bearer_token = "env:X_BEARER_TOKEN"`, the default reference), resolved
from the environment by config.resolve_secret when a run needs them; never stored or printed.
"""

from __future__ import annotations

import importlib
import threading

from envoywatch.collect.http import HttpClient, RetryPolicy
from envoywatch.collect.ratelimit import Limiters
from envoywatch.config import resolve_secret, setting
from envoywatch.errors import ConfigError

PLATFORMS = ("x", "bluesky", "mastodon", "telegram", "youtube")


def client_module(platform: str):
    if platform not in PLATFORMS:
        raise ConfigError(f"live collection does not support platform '{platform}'", "--platform",
                          f"use one of: {', '.join(PLATFORMS)}")
    mod = importlib.import_module(f"envoywatch.platforms.{platform}.client")
    if getattr(mod, "AUTH_FIX", None):  # a platform's own fix for a refused credential (collect/errors.py)
        from envoywatch.collect.errors import AUTH_FIX

        AUTH_FIX.setdefault(platform, mod.AUTH_FIX)
    return mod


def base_url(platform: str, flag: str | None = None) -> str | None:
    mod = client_module(platform)
    return setting(platform, "base_url", flag, f"ENVOYWATCH_{platform.upper()}_BASE_URL", mod.DEFAULT_BASE_URL)


def credential(platform: str, given: str | None = None) -> str | None:
    """The secret value for a platform (None where it needs none); `given` is a value passed by a library user."""
    if given:
        return given
    mod = client_module(platform)
    if not mod.CREDENTIAL:
        return None
    key, default_ref = mod.CREDENTIAL
    ref = setting(platform, key, None, None, default_ref)
    if ref is None:
        return None
    return resolve_secret(ref, f"the {platform} API ({key})")


class ConnectorPool:
    """Connectors for a run: one HttpClient per (platform, base URL), sharing the platform's RateLimiter."""

    def __init__(self, limiters: Limiters, policy: RetryPolicy, base_urls: dict | None = None,
                 credentials: dict | None = None, sleep=None, page_size: dict | None = None):
        self.limiters = limiters
        self.policy = policy
        self.base_urls = base_urls or {}
        self.credentials = credentials or {}
        self.sleep = sleep
        self.page_size = page_size or {}
        self._conns: dict[tuple[str, str], object] = {}
        self._secrets: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def secret(self, platform: str) -> str | None:
        if platform not in self._secrets:
            self._secrets[platform] = credential(platform, self.credentials.get(platform))
        return self._secrets[platform]

    def known_secrets(self) -> list[str]:
        return [s for s in self._secrets.values() if s]

    def for_account(self, platform: str, handle: str):
        mod = client_module(platform)
        url = base_url(platform, self.base_urls.get(platform))
        if url is None:  # Mastodon: the handle's instance
            from envoywatch.platforms.mastodon.client import instance_of

            inst = instance_of(handle.lstrip("@"))
            if not inst:
                raise ConfigError(f"the Mastodon handle '{handle}' names no instance", f"mastodon account {handle}",
                                  "register Mastodon handles as user@instance, or set [mastodon] base_url")
            url = f"https://{inst}"
        with self._lock:
            conn = self._conns.get((platform, url))
            if conn is None:
                secret = self.secret(platform)
                # a platform may name its own header (YouTube: X-Goog-Api-Key) instead of a bearer token; either
                # way the secret is a request header, never in a URL (httpx logs URLs at INFO level)
                header = getattr(mod, "CREDENTIAL_HEADER", None)
                headers = ({header: secret} if header else {"Authorization": f"Bearer {secret}"}) if secret else {}
                kwargs = {"sleep": self.sleep} if self.sleep else {}
                http = HttpClient(platform, url, self.limiters.get(platform), self.policy, headers=headers,
                                  secrets=[secret] if secret else [], **kwargs)
                size = {"page_size": self.page_size[platform]} if platform in self.page_size else {}
                conn = self._conns[(platform, url)] = mod.Connector(http, **size)
            return conn

    def stats(self) -> dict:
        req = sum(c.http.requests for c in self._conns.values())
        ret = sum(c.http.retries for c in self._conns.values())
        quota: dict[str, int] = {}  # API units spent, for platforms that count them (YouTube)
        for (platform, _url), c in self._conns.items():
            if getattr(c, "quota_used", None) is not None:
                quota[platform] = quota.get(platform, 0) + c.quota_used
        return {"requests": req, "retries": ret, "quota": quota}

    def close(self) -> None:
        for c in self._conns.values():
            c.http.close()
