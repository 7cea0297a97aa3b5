"""`--rate-limit`: Stripe's test-mode request rates per account, enforced with real 429s."""

from __future__ import annotations

import time
from typing import Callable

from ..store import Account
from .faults import rate_limited

# UNSURE: Stripe's test-mode limits: 25 requests per second per account for the API, and a higher
# rate for the v2 meter event stream (which Stripe documents only for live mode).
REQUESTS_PER_SECOND = {"api": 25, "meter_event_stream": 1000}


class _Bucket:
    """A token bucket: holds up to `rate` requests and refills at `rate` per second."""

    __slots__ = ("rate", "tokens", "updated")

    def __init__(self, rate: int, now: float) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.updated = now

    def admit(self, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class _Buckets(dict):
    """An account's buckets, by kind of request."""


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock

    def admit(self, account: Account, path: str) -> None:
        """Count one request of `account`, or raise Stripe's 429 if it is over its rate."""
        kind = "meter_event_stream" if path == "/v2/billing/meter_event_stream" else "api"
        buckets = account.service(_Buckets)
        now = self.clock()
        bucket = buckets.get(kind)
        if bucket is None:
            bucket = buckets[kind] = _Bucket(REQUESTS_PER_SECOND[kind], now)
        if not bucket.admit(now):
            raise rate_limited(path.startswith("/v2/"))
