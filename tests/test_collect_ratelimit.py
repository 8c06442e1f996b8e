"""Rate limits in one place: the platforms' reset headers, bounded waits (no network, a fake clock)."""

from __future__ import annotations

import pytest

from tests.support.loopback import FakeTime


def test_reset_headers_of_each_platform():
    from envoywatch.collect.ratelimit import parse_reset, retry_after

    now = 1_700_000_000.0
    assert parse_reset("1700000030", now) == 1_700_000_030          # X, Bluesky: epoch seconds
    assert parse_reset("2023-11-14T22:13:50.000Z", now) == 1_700_000_030  # Mastodon: ISO time
    assert parse_reset("30", now) == now + 30                        # Retry-After: seconds
    assert parse_reset("Tue, 14 Nov 2023 22:13:50 GMT", now) == 1_700_000_030  # Retry-After: HTTP date
    assert parse_reset("soon", now) is None
    assert retry_after({"retry-after": "5", "x-rate-limit-reset": "1700000100"}, now) == 5
    assert retry_after({"x-ratelimit-reset": "2023-11-14T22:13:50Z"}, now) == 30
    assert retry_after({}, now) is None


def test_used_up_window_blocks_until_reset_and_waits_are_bounded():
    from envoywatch.collect.errors import RateLimited
    from envoywatch.collect.ratelimit import RateLimiter

    ft = FakeTime()
    lim = RateLimiter("x", 0.0, max_wait=60, clock=ft.time, sleep=ft.sleep)
    lim.after_response({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(ft.now) + 20)})
    lim.before_request()
    assert 19 <= ft.slept[-1] <= 21.5 and lim.waits == 1
    lim.after_response({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(ft.now) + 600)})
    with pytest.raises(RateLimited) as err:
        lim.before_request()
    assert "rate limited for another" in str(err.value) and "max_rate_wait" in str(err.value)


def test_pacing_between_requests():
    from envoywatch.collect.ratelimit import RateLimiter

    ft = FakeTime()
    lim = RateLimiter("mastodon", 0.2, clock=ft.time, sleep=ft.sleep)
    for _ in range(3):
        lim.before_request()
    assert ft.slept == pytest.approx([0.2, 0.2])


def test_each_platform_has_its_own_auth_message():
    from envoywatch.collect.errors import AuthError

    msgs = {p: AuthError(p, 401).one_line() for p in ("x", "bluesky", "mastodon")}
    assert "X_BEARER_TOKEN" in msgs["x"]
    assert "needs no login" in msgs["bluesky"]
    assert "access_token" in msgs["mastodon"]
    assert all(m.startswith(f"{p}: the API refused the request (401 Unauthorized)") for p, m in msgs.items())
