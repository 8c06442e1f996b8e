"""Errors of live collection: one family under PlatformError, with the platform named on each instance.

- AuthError: 401/403 -- the credential is missing, wrong or lacks access; one message per platform with the fix
- AccountGone: the account is suspended, deleted or not found (a *finding* for the registry, not a failure)
- TransientError: retries exhausted on 5xx / timeouts / connection resets / truncated bodies
- RateLimited: a 429 whose reset lies beyond the longest wait we accept
- CapReached: a paid tier's monthly post cap (X) is reached

Messages never hold a credential: every text that reaches an error passes through `Redactor`.
"""

from __future__ import annotations

from envoywatch.errors import PlatformError

# what to do when a platform refuses our credential (401/403)
AUTH_FIX = {
    "x": "check that X_BEARER_TOKEN (or the variable named by [x] bearer_token in envoywatch.toml) holds a valid "
         "bearer token of an app whose tier includes user timelines (Basic or higher)",
    "bluesky": "the public AppView needs no login; if you pointed [bluesky] base_url at another service, check it "
               "allows unauthenticated reads",
    "mastodon": "this instance refuses anonymous reads (authorized fetch / limited federation): set "
                "[mastodon] access_token = \"env:MASTODON_TOKEN\" with a token of an account on that instance",
}


class CollectError(PlatformError):
    """A live-collection failure on one platform."""

    def __init__(self, platform: str, what: str, where: str | None = None, fix: str | None = None):
        self.platform = platform
        super().__init__(f"{platform}: {what}", where, fix)


class AuthError(CollectError):
    exit_code = 3

    def __init__(self, platform: str, status: int, detail: str = "", where: str | None = None):
        self.status = status
        what = f"the API refused the request ({status} {'Unauthorized' if status == 401 else 'Forbidden'})"
        if detail:
            what += f": {detail[:200]}"
        super().__init__(platform, what, where, AUTH_FIX.get(platform, "check the credential for this platform"))


class AccountGone(CollectError):
    """change: suspended | deleted (not found) | deactivated -> the registry's history vocabulary."""

    def __init__(self, platform: str, handle: str, change: str, detail: str):
        self.handle = handle
        self.change = change
        self.detail = detail
        super().__init__(platform, f"account {handle} is {change} ({detail[:200]})", None,
                         "nothing to fix: the change is recorded in registry_history")


class TransientError(CollectError):
    pass


class RateLimited(CollectError):
    def __init__(self, platform: str, wait_s: float, where: str | None = None):
        self.wait_s = wait_s
        super().__init__(platform, f"rate limited for another {wait_s:.0f}s, longer than the longest wait allowed",
                         where, "run again after the reset, or raise [collect] max_rate_wait")


class CapReached(CollectError):
    def __init__(self, platform: str, used: int, cap: int):
        super().__init__(platform, f"monthly post cap reached ({used:,} of {cap:,} posts read this month)", None,
                         "wait for the next month, or raise [x] monthly_post_cap if your tier allows more")


class Redactor:
    """Replaces every known secret value in a text by '***' (errors, logs, archived URLs)."""

    def __init__(self, secrets=()):
        self.secrets = [s for s in secrets if s]

    def add(self, secret: str | None) -> None:
        if secret:
            self.secrets.append(secret)

    def __call__(self, text) -> str:
        s = "" if text is None else str(text)
        for secret in self.secrets:
            if secret in s:
                s = s.replace(secret, "***")
        return s
