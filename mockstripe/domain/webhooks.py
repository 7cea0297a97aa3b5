"""Webhooks: which targets an event goes to, how a delivery is signed, and what delivery remembers.

A target is one of the account's enabled webhook endpoints whose `enabled_events` name the event's
type (or `*`), or the server's `--forward-to` URL, which takes every event of every account. The
sending itself (sockets, timers) lives as long as the app, in `mockstripe/delivery.py`; this module
decides and keeps the books: `pending_webhooks`, the account's failed events and its attempts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..store import Account, Store
from ..wire.ids import new_id, random_tail
from .events import EventLog

Obj = dict[str, Any]

ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
# Attempts kept per account for `GET /_mock/webhook_deliveries`, newest first.
MAX_ATTEMPTS_KEPT = 1000


def new_secret() -> str:
    return SECRET_PREFIX + random_tail(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Stripe-Signature` header: HMAC-SHA256 keyed with the whole secret string, over
    `"{timestamp}.{body}"`."""
    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True, slots=True)
class Forwarding:
    """The server's `--forward-to` URL and the secret it signs with, for every account."""

    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Target:
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
        found.append(Target(account, None, f"forward {account.key} {account.connected}"))
    return found


def destination(store: Store, target: Target, forwarding: Forwarding | None) -> tuple[str, str] | None:
    """The URL and secret to deliver to now, or None when the target no longer takes deliveries
    (its endpoint was deleted or disabled, or its account was reset)."""
    account = target.account
    if not store.holds(account):
        return None
    if target.endpoint_id is None:
        return None if forwarding is None else (forwarding.url, forwarding.secret)
    endpoint = account.find("webhook_endpoint", target.endpoint_id)
    if endpoint is None or endpoint["status"] != "enabled":
        return None
    return endpoint["url"], account.collection("webhook_endpoint").private[endpoint["id"]]["secret"]


def pending(event: Obj) -> None:
    """One more target has yet to acknowledge `event`. (`pending_webhooks` is delivery's own
    bookkeeping on the event, not a change to an object: no event records it.)"""
    event["pending_webhooks"] += 1


@dataclass(frozen=True, slots=True)
class Outcome:
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

    def record(
        self, target: Target, event: Obj, url: str, attempt: int, outcome: Outcome, attempted_at: int,
        next_retry_at: int | None,
    ) -> None:
        """Keep the attempt, and settle the event's `pending_webhooks` and failed state."""
        account = target.account
        event_id = event["id"]
        self.attempts.appendleft(
            {
                "id": new_id("whdel"),
                "object": "webhook_delivery",
                "attempt": attempt,
                "attempted_at": attempted_at,
                "duration_ms": round(outcome.duration_ms, 3),
                "error": outcome.error,
                "event": event_id,
                "event_type": event["type"],
                "next_retry_at": next_retry_at,
                "status": outcome.status,
                "url": url,
                "webhook_endpoint": target.endpoint_id,
            }
        )
        failed = account.service(EventLog).failed
        failing = self.failing.get(event_id)
        if outcome.succeeded:
            event["pending_webhooks"] -= 1
            if failing is not None:
                failing.discard(target.key)
                if not failing:
                    del self.failing[event_id]
                    failed.discard(event_id)
        else:
            if failing is None:
                failing = self.failing[event_id] = set()
            failing.add(target.key)
            failed.add(event_id)
