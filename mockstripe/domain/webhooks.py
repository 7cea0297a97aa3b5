"""Webhooks: which targets an event goes to, how a delivery is signed, and what delivery remembers.

A target is one of the account's enabled webhook endpoints whose `enabled_events` name the event's
type (or `*`), or the server's `--forward-to` URL, which takes every event of every account. The
sending itself (sockets, timers) lives as long as the app, in `mockstripe/delivery.py`; this module
decides and keeps the books: `pending_webhooks`, the account's failed events and its attempts.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..store import Account, Store
from ..wire.ids import random_tail
from .events import MAX_EVENTS_KEPT, EventLog

Obj = dict[str, Any]

ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
# Attempts kept per account for `GET /_mock/webhook_deliveries`, newest first.
MAX_ATTEMPTS_KEPT = 1000


def new_secret() -> str:
    return SECRET_PREFIX + random_tail(32)


class Signer:
    """Signs webhook bodies with one secret: the `Stripe-Signature` header is HMAC-SHA256 keyed
    with the whole secret string, over `"{timestamp}.{body}"`. The keyed inner and outer hash
    states are computed once, which makes each signature about twice as cheap as `hmac.digest`."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        key = secret.encode()
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_SHA256_BLOCK, b"\0")
        self.inner = hashlib.sha256(key.translate(_IPAD))
        self.outer = hashlib.sha256(key.translate(_OPAD))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Signer, (self.secret,))  # hash states do not pickle

    def header(self, timestamp: int, body: bytes) -> str:
        inner = self.inner.copy()
        inner.update(b"%d." % timestamp)
        inner.update(body)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return f"t={timestamp},v1={outer.hexdigest()}"


_SHA256_BLOCK = 64
_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))


@dataclass(frozen=True, slots=True)
class Forwarding:
    """The server's `--forward-to` URL and the signer of its secret, for every account."""

    url: str
    signer: Signer


class Target(NamedTuple):
    """Where one account's events go: one of its webhook endpoints (`endpoint_id`), or the
    forwarding URL (`endpoint_id` None). `key` names the target across accounts; deliveries to one
    key go out in event order."""

    account: Account
    endpoint_id: str | None
    key: str


def targets(account: Account, event_type: str, forwarding: Forwarding | None) -> list[Target]:
    """The targets an event of `event_type` recorded in `account` goes to."""
    found: list[Target] = []
    endpoints = account.collections.get("webhook_endpoint")
    if endpoints is not None:
        for endpoint in endpoints.objects.values():
            if endpoint.get("status") == "enabled" and (
                event_type in endpoint["enabled_events"] or ALL_EVENTS in endpoint["enabled_events"]
            ):
                found.append(Target(account, endpoint["id"], endpoint["id"]))
    if forwarding is not None:
        found.append(target(account, None))
    return found


def target(account: Account, endpoint_id: str | None) -> Target:
    """The target of one of the account's webhook endpoints, or (None) of the forwarding URL."""
    return Target(account, endpoint_id, endpoint_id or f"forward {account.key} {account.connected}")


def destination(store: Store, target: Target, forwarding: Forwarding | None) -> tuple[str, Signer] | None:
    """The URL to deliver to now and how to sign for it, or None when the target no longer takes
    deliveries (its endpoint was deleted or disabled, or its account was reset)."""
    account = target.account
    if not store.holds(account):
        return None
    if target.endpoint_id is None:
        return None if forwarding is None else (forwarding.url, forwarding.signer)
    endpoint = account.find("webhook_endpoint", target.endpoint_id)
    if endpoint is None or endpoint["status"] != "enabled":
        return None
    return endpoint["url"], account.collection("webhook_endpoint").private[endpoint["id"]]["signer"]


def pending(event: Obj) -> None:
    """One more target has yet to acknowledge `event`. (`pending_webhooks` is delivery's own
    bookkeeping on the event, not a change to an object: no event records it.)"""
    event["pending_webhooks"] += 1


class Outcome(NamedTuple):
    """What one attempt came to: an HTTP status, or why there was none."""

    status: int | None
    error: str | None
    duration_ms: float

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class DeliveryLog:
    """One account's delivery attempts (newest first, bounded) and the targets each event's
    delivery currently fails at."""

    def __init__(self) -> None:
        self.attempts: deque[Obj] = deque(maxlen=MAX_ATTEMPTS_KEPT)
        self.failing: dict[str, set[str]] = {}
        # Attempt ids count up: unique, and cheaper than random ones on this hot path.
        self.numbers = itertools.count(1)

    def record(
        self, target: Target, event: Obj, url: str, attempt: int, outcome: Outcome, attempted_at: int,
        next_retry_at: int | None,
    ) -> None:
        """Keep the attempt, and settle the event's `pending_webhooks` and failed state."""
        kept = {
            "id": f"whdel_{next(self.numbers):024d}",
            "object": "webhook_delivery",
            "attempt": attempt,
            "attempted_at": attempted_at,
            "duration_ms": round(outcome.duration_ms, 3),
            "error": outcome.error,
            "event": event["id"],
            "event_type": event["type"],
            "next_retry_at": next_retry_at,
            "status": outcome.status,
            "url": url,
            "webhook_endpoint": target.endpoint_id,
        }
        if outcome.succeeded:
            event["pending_webhooks"] -= 1
        account = target.account
        self.keep(account, kept, target.key, outcome.succeeded)
        if account.journal is not None:
            account.journal.delivery_attempted(account, kept, target.key, outcome.succeeded)
            account.journal.touch(account, "event", event["id"])  # its `pending_webhooks`

    def keep(self, account: Account, attempt: Obj, target_key: str, succeeded: bool) -> None:
        """Keep one attempt and the event's failed state (also when replayed after a restart)."""
        self.attempts.appendleft(attempt)
        event_id = attempt["event"]
        failing = self.failing.get(event_id)
        if succeeded:
            if failing is not None:
                failing.discard(target_key)
                if not failing:
                    del self.failing[event_id]
                    account.service(EventLog).failed.discard(event_id)
        else:
            if failing is None:
                if len(self.failing) >= MAX_EVENTS_KEPT:
                    self._forget_gone(account)
                failing = self.failing[event_id] = set()
            failing.add(target_key)
            account.service(EventLog).failed.add(event_id)

    def _forget_gone(self, account: Account) -> None:
        """Stop tracking events the account no longer keeps (past their retention)."""
        events = account.collection("event").objects
        self.failing = {event_id: keys for event_id, keys in self.failing.items() if event_id in events}


class Undelivered:
    """One account's deliveries not yet settled, as (event id, endpoint id or None for the
    forwarding URL): kept only when the server persists its state, so that a restart sends them."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str | None], None] = {}
