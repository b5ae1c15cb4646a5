"""API throttles: per address for anonymous callers, per user and per address for everyone.

The rates are read from settings.CVD_THROTTLE_RATES at each request (not frozen at import like DRF's own
classes), so a deployment sets them from the environment and a test can switch them on with small ones;
a scope with no rate is not throttled. Counters live in the default cache, whose keys carry the chain's
schema, so one chain's traffic never uses up another's allowance.

Each allowance is a window that opens at the first request and lasts the rate's period: one counter in Redis,
counted and read with its time left in one atomic call. (DRF's own throttles keep every request's time in a
list that is read and written whole per request: at 1,000 requests a minute, 1,000 floats each way.)
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

# KEYS[1] the counter, ARGV[1] the window in ms: the count so far with this request, and the ms left.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    left = tonumber(ARGV[1])
end
return {count, left}
"""


def window_count(key: str, seconds: int | float) -> tuple[int, float]:
    """Count one more request under `key` (a cache key, before the cache's prefixes) in a window that opens with
    the first and lasts `seconds`: (the count with this request, the seconds the window has left)."""
    full_key = cache.make_key(key)
    client = cache._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]  # Django's RedisCache
    count, left_ms = client.eval(_COUNT, 1, full_key, int(seconds * 1000))
    return int(count), int(left_ms) / 1000


def throttle_rates() -> dict[str, str | None]:
    return dict(getattr(settings, "CVD_THROTTLE_RATES", {}) or {})


def client_address(request: Any) -> str:
    """The caller's address: REMOTE_ADDR, or the address the configured number of trusted proxies reports."""
    meta = request.META
    proxies = int(getattr(settings, "CVD_TRUSTED_PROXIES", 0))
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return str(meta.get("REMOTE_ADDR") or "")


class _SettingsRateThrottle(SimpleRateThrottle):
    scope = ""

    def __init__(self) -> None:  # SimpleRateThrottle reads its class-level rates here; ours are read per request
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self) -> str | None:
        return throttle_rates().get(self.scope)

    def get_ident(self, request: Request) -> str:
        return client_address(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, self.left_s = window_count(key, self.duration)
        return count <= self.num_requests

    def wait(self) -> float | None:
        return getattr(self, "left_s", None)


class AnonymousAddressThrottle(_SettingsRateThrottle):
    """Anonymous API requests, per address (the strictest: nothing but 401s and the schema is open to them)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_SettingsRateThrottle):
    """Signed-in API requests, per user (one user cannot spread its load over many addresses)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AddressThrottle(_SettingsRateThrottle):
    """Every API request, per address (many accounts from one address share one allowance)."""

    scope = "address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
