"""Fault injection: make an account's matching requests fail on purpose, to test retries.

A fault matches requests by method, path pattern (`*` matches anything) and optionally a parameter
(and its value). It strikes `before` the request runs (nothing changes) or `after` it ran (the
change is made and, for an idempotent request, recorded; only the answer is lost, so a retry with
the same key gets the original answer). It strikes `count` times, until `expires_at` (account time).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from ..wire.errors import StripeError, internal_error

KINDS = ("api_error", "rate_limit", "lock_timeout", "card_declined", "delay", "drop")
BEFORE, AFTER = "before", "after"

# Stripe's wording for each error kind.
RATE_LIMIT_MESSAGE = (
    "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
)
LOCK_TIMEOUT_MESSAGE = (
    "This object cannot be accessed right now because another API request or Stripe process is "
    "currently accessing it. If you see this error intermittently, retry the request. If you see this "
    "error frequently and are making multiple concurrent requests to a single object, make your "
    "requests serially or at a lower rate."
)
DECLINE_MESSAGE = "Your card was declined."


class ConnectionDropped(Exception):
    """The connection was closed without an answer."""


def rate_limited(v2: bool) -> StripeError:
    """A 429 as Stripe sends it. UNSURE: that Stripe sends `Stripe-Should-Retry: true` with it (the
    SDK retries a 429 only when told to)."""
    return StripeError(
        RATE_LIMIT_MESSAGE,
        status=429,
        type="rate_limit" if v2 else "invalid_request_error",
        code="rate_limit",
        headers={"Stripe-Should-Retry": "true"},
    )


def fault_error(kind: str, v2: bool) -> StripeError:
    """The error a fault of `kind` answers."""
    if kind == "api_error":
        # No Stripe-Should-Retry: a 500 the client sees without a recorded answer (a proxy's, say);
        # the SDK retries any 5xx.
        return internal_error()
    if kind == "rate_limit":
        return rate_limited(v2)
    if kind == "lock_timeout":
        return StripeError(
            LOCK_TIMEOUT_MESSAGE, status=409, code="lock_timeout", headers={"Stripe-Should-Retry": "true"}
        )
    if kind == "card_declined":
        return StripeError(
            DECLINE_MESSAGE, status=402, type="card_error", code="card_declined", decline_code="generic_decline"
        )
    raise ValueError(f"{kind} answers no error")


@dataclass
class Fault:
    id: str
    kind: str
    when: str
    path: str
    method: str | None = None
    param: str | None = None
    value: str | None = None
    remaining: int = 1
    expires_at: int | None = None
    delay_ms: int = 0
    created: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(fnmatch.translate(self.path))

    def matches(self, method: str, path: str, params: dict[str, Any]) -> bool:
        if self.method is not None and self.method != method:
            return False
        if not self._pattern.match(path):
            return False
        if self.param is None:
            return True
        found = _lookup(params, self.param)
        return found is not _MISSING and (self.value is None or found == self.value)

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "mock.fault",
            "created": self.created,
            "kind": self.kind,
            "when": self.when,
            "method": self.method,
            "path": self.path,
            "param": self.param,
            "value": self.value,
            "remaining": self.remaining,
            "expires_at": self.expires_at,
            "delay_ms": self.delay_ms,
        }


_MISSING = object()
_SEGMENT = re.compile(r"[^\[\]]+")


def _lookup(params: Any, name: str) -> Any:
    """`params["a"]["b"]` for `a[b]`, `_MISSING` when absent."""
    for key in _SEGMENT.findall(name):
        if isinstance(params, dict) and key in params:
            params = params[key]
        elif isinstance(params, list) and key.isdigit() and int(key) < len(params):
            params = params[int(key)]
        else:
            return _MISSING
    return params


class Faults:
    """One account's pending faults, in the order they were added: the first that matches strikes."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def __bool__(self) -> bool:
        return bool(self.pending)

    def add(self, fault: Fault) -> None:
        self.pending.append(fault)

    def clear(self) -> int:
        count = len(self.pending)
        self.pending.clear()
        return count

    def live(self, now: int) -> list[Fault]:
        self.pending = [f for f in self.pending if f.expires_at is None or now < f.expires_at]
        return self.pending

    def take(self, when: str, method: str, path: str, params: dict[str, Any], now: int) -> Fault | None:
        """The first live fault for this moment of this request, counted as struck."""
        for fault in self.live(now):
            if fault.when == when and fault.matches(method, path, params):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.pending.remove(fault)
                return fault
        return None
