"""Events: every change to a stored object becomes one or more `event` objects of Stripe's shape.

The store hands each `Change` to `Events` (the server's recorder). `EMITS` says which event types
each action on each object type sends, in order; an action mapped to `()` keeps books without
news (Stripe sends nothing for it). Events are kept per account for `RETENTION` seconds of the
account's clock, and each recorded event is passed on to the listeners (webhook delivery).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

import orjson

from ..store import Account, Change
from ..wire.ids import new_id

Obj = dict[str, Any]

RETENTION = 30 * 86_400
# UNSURE: Stripe keeps every event for 30 days. A long-running shared server keeps at most this
# many per account (the oldest go first), so that memory stays bounded under any write rate.
MAX_EVENTS_KEPT = 100_000

# Event types name most objects by their `object` field; these by another name.
_PREFIXES = {"subscription": "customer.subscription"}

# (object type, action) -> the event types the action sends, in this order. Object types not listed
# send `<prefix>.<action>` when that is one of Stripe's event types (see `emits`).
EMITS: dict[tuple[str, str], tuple[str, ...]] = {
    ("customer", "created"): ("customer.created",),
    ("customer", "updated"): ("customer.updated",),
    ("customer", "deleted"): ("customer.deleted",),
    # Numbering an invoice moves the customer's `next_invoice_sequence`: Stripe sends nothing for it.
    ("customer", "numbered"): (),
    ("product", "created"): ("product.created",),
    ("product", "updated"): ("product.updated",),
    ("product", "deleted"): ("product.deleted",),
    ("price", "created"): ("price.created",),
    ("price", "updated"): ("price.updated",),
    ("price", "deleted"): ("price.deleted",),
    ("billing.meter", "created"): ("billing.meter.created",),
    ("billing.meter", "updated"): ("billing.meter.updated",),
    ("billing.meter", "deactivated"): ("billing.meter.deactivated",),
    ("billing.meter", "reactivated"): ("billing.meter.reactivated",),
    ("subscription", "created"): ("customer.subscription.created",),
    ("subscription", "updated"): ("customer.subscription.updated",),
    # Canceling ends a subscription (it stays retrievable); deleting its test clock removes it.
    ("subscription", "canceled"): ("customer.subscription.deleted",),
    ("subscription", "deleted"): ("customer.subscription.deleted",),
    # Items are news of their subscription: its `customer.subscription.updated` carries them.
    ("subscription_item", "created"): (),
    ("subscription_item", "updated"): (),
    ("subscription_item", "deleted"): (),
    ("line_item", "created"): (),
    ("line_item", "updated"): (),
    ("line_item", "deleted"): (),
    ("invoice", "created"): ("invoice.created",),
    ("invoice", "updated"): ("invoice.updated",),
    ("invoice", "finalized"): ("invoice.finalized",),
    ("invoice", "paid"): ("invoice.paid", "invoice.payment_succeeded"),
    ("invoice", "upcoming"): ("invoice.upcoming",),
    ("invoice", "deleted"): ("invoice.deleted",),
    ("test_helpers.test_clock", "created"): ("test_helpers.test_clock.created",),
    ("test_helpers.test_clock", "advancing"): ("test_helpers.test_clock.advancing",),
    # Each moment an advance stops at on its way: news only once it is ready.
    ("test_helpers.test_clock", "moved"): (),
    ("test_helpers.test_clock", "ready"): ("test_helpers.test_clock.ready",),
    ("test_helpers.test_clock", "deleted"): ("test_helpers.test_clock.deleted",),
    # Stripe sends no events about an alert's own changes, only when it triggers.
    ("billing.alert", "created"): (),
    ("billing.alert", "updated"): (),
    ("billing.alert_triggered", "triggered"): ("billing.alert.triggered",),
    # v2 objects: their news travels as thin events, never as v1 events.
    ("v2.core.event", "created"): (),
    ("v2.core.event_destination", "created"): (),
    ("v2.core.event_destination", "updated"): (),
    ("v2.core.event_destination", "deleted"): (),
}

Listener = Callable[[Account, Obj], None]


def emits(object_type: str, action: str, known: frozenset[str]) -> tuple[str, ...]:
    """The event types an action sends: from `EMITS`, else `<prefix>.<action>` if Stripe knows it."""
    listed = EMITS.get((object_type, action))
    if listed is not None:
        return listed
    name = f"{_PREFIXES.get(object_type, object_type)}.{action}"
    return (name,) if name in known else ()


def snapshot(value: Any) -> orjson.Fragment:
    """`value` as it is now, already encoded: later changes to the object do not show through."""
    return orjson.Fragment(orjson.dumps(value))


class EventLog:
    """One account's events, oldest first in its `event` collection, and what delivery learned."""

    def __init__(self) -> None:
        # (recorded at, event id), oldest first: events leave RETENTION after they were recorded,
        # whatever (test clock) time their `created` shows.
        self.recorded: deque[tuple[int, str]] = deque()
        # Events with a delivery attempt that failed and has not since succeeded.
        self.failed: set[str] = set()

    def forget_expired(self, account: Account, now: int) -> None:
        events = account.collection("event")
        while self.recorded and (self.recorded[0][0] <= now - RETENTION or len(self.recorded) >= MAX_EVENTS_KEPT):
            _, event_id = self.recorded.popleft()
            events.remove(event_id)
            self.failed.discard(event_id)


class Events:
    """The server's recorder: turns changes into events and tells the listeners."""

    def __init__(self, api_version: str, known_types: frozenset[str]) -> None:
        self.api_version = api_version
        self.known_types = known_types
        self.listeners: list[Listener] = []

    def __call__(self, change: Change) -> None:
        types = emits(change.object_type, change.action, self.known_types)
        if not types:
            return
        account = change.account
        log = account.service(EventLog)
        now = account.now()
        log.forget_expired(account, now)
        created = account.clock_for(change.obj).now()
        data: Obj = {"object": snapshot(change.obj)}
        if change.previous is not None and change.action == "updated":
            data["previous_attributes"] = snapshot(change.previous)
        cause = change.cause
        request = {"id": cause.request_id, "idempotency_key": cause.idempotency_key}
        for event_type in types:
            event: Obj = {
                "id": new_id("evt"),
                "object": "event",
                "api_version": self.api_version,
                "created": created,
                "data": data,
                "livemode": False,
                "pending_webhooks": 0,
                "request": request,
                "type": event_type,
            }
            if account.connected is not None:
                event["account"] = account.connected
            account.collection("event").add(event)
            log.recorded.append((now, event["id"]))
            for listener in self.listeners:
                listener(account, event)
