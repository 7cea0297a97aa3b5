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

from ..store import Account, Cause, Change
from ..wire.ids import new_id

Obj = dict[str, Any]

RETENTION = 30 * 86_400
# UNSURE: Stripe keeps every event for 30 days. A long-running shared server keeps at most this
# many per account (the oldest go first, see EVICTION_BATCH), so that memory stays bounded under any
# write rate.
MAX_EVENTS_KEPT = 100_000
# Past the cap, the oldest events go this many at a time: freed together, one after the other, they
# cost about half of what freeing one at each new event does (a few µs per write at the cap).
EVICTION_BATCH = 128

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
    ("subscription", "trial_will_end"): ("customer.subscription.trial_will_end",),
    # UNSURE: whether Stripe sends `customer.subscription.updated` before `paused` (chosen) or not.
    ("subscription", "paused"): ("customer.subscription.updated", "customer.subscription.paused"),
    ("subscription", "resumed"): ("customer.subscription.updated", "customer.subscription.resumed"),
    ("subscription", "deleted"): ("customer.subscription.deleted",),
    # A subscription whose first payment never came ends as `incomplete_expired`: Stripe tells it as an
    # update (its payloads show the status change in `customer.subscription.updated`).
    ("subscription", "expired"): ("customer.subscription.updated",),
    ("subscription_schedule", "created"): ("subscription_schedule.created",),
    ("subscription_schedule", "updated"): ("subscription_schedule.updated",),
    ("subscription_schedule", "released"): ("subscription_schedule.released",),
    ("subscription_schedule", "canceled"): ("subscription_schedule.canceled",),
    # Canceled with its subscription after the subscription's payments failed.
    ("subscription_schedule", "aborted"): ("subscription_schedule.aborted",),
    ("subscription_schedule", "completed"): ("subscription_schedule.completed",),
    ("subscription_schedule", "expiring"): ("subscription_schedule.expiring",),
    # Items are news of their subscription: its `customer.subscription.updated` carries them.
    ("subscription_item", "created"): (),
    ("subscription_item", "updated"): (),
    ("subscription_item", "deleted"): (),
    ("line_item", "created"): (),
    # Stripe sends no event when a Checkout Session is created; its end is news.
    ("checkout.session", "created"): (),
    # A code the customer applies on the page changes the session's totals: Stripe has no event for it.
    ("checkout.session", "updated"): (),
    ("checkout.session", "completed"): ("checkout.session.completed",),
    ("checkout.session", "expired"): ("checkout.session.expired",),
    ("billing_portal.configuration", "created"): ("billing_portal.configuration.created",),
    ("billing_portal.configuration", "updated"): ("billing_portal.configuration.updated",),
    ("billing_portal.session", "created"): ("billing_portal.session.created",),
    ("line_item", "updated"): (),
    ("line_item", "deleted"): (),
    ("invoice", "created"): ("invoice.created",),
    ("invoice", "updated"): ("invoice.updated",),
    ("invoice", "finalized"): ("invoice.finalized",),
    ("invoice", "paid"): ("invoice.paid", "invoice.payment_succeeded"),
    ("invoice", "upcoming"): ("invoice.upcoming",),
    ("invoice", "payment_failed"): ("invoice.payment_failed",),
    # Paid outside Stripe: no payment succeeded.
    ("invoice", "paid_out_of_band"): ("invoice.paid",),
    ("invoice", "payment_action_required"): ("invoice.payment_action_required",),
    ("invoice", "voided"): ("invoice.voided",),
    ("invoice", "marked_uncollectible"): ("invoice.marked_uncollectible",),
    ("invoice", "sent"): ("invoice.sent",),
    # An invoice's payment is news once paid; starting or dropping one is not.
    ("invoice_payment", "created"): (),
    ("invoice_payment", "paid"): ("invoice_payment.paid",),
    ("invoice_payment", "canceled"): (),
    ("invoice", "deleted"): ("invoice.deleted",),
    # A new payment method is news only once attached.
    ("payment_method", "created"): (),
    ("payment_method", "updated"): ("payment_method.updated",),
    ("payment_method", "attached"): ("payment_method.attached",),
    ("payment_method", "detached"): ("payment_method.detached",),
    ("payment_intent", "created"): ("payment_intent.created",),
    # Stripe has no `payment_intent.updated`.
    ("payment_intent", "updated"): (),
    ("payment_intent", "requires_action"): ("payment_intent.requires_action",),
    ("payment_intent", "amount_capturable_updated"): ("payment_intent.amount_capturable_updated",),
    ("payment_intent", "succeeded"): ("payment_intent.succeeded",),
    ("payment_intent", "payment_failed"): ("payment_intent.payment_failed",),
    ("payment_intent", "canceled"): ("payment_intent.canceled",),
    ("charge", "succeeded"): ("charge.succeeded",),
    ("charge", "failed"): ("charge.failed",),
    ("charge", "captured"): ("charge.captured",),
    ("charge", "refunded"): ("charge.refunded",),
    ("charge", "updated"): ("charge.updated",),
    ("refund", "created"): ("refund.created",),
    ("refund", "updated"): ("refund.updated",),
    ("invoiceitem", "created"): ("invoiceitem.created",),
    # Stripe has no `invoiceitem.updated`.
    ("invoiceitem", "updated"): (),
    ("invoiceitem", "deleted"): ("invoiceitem.deleted",),
    ("coupon", "created"): ("coupon.created",),
    ("coupon", "updated"): ("coupon.updated",),
    ("coupon", "deleted"): ("coupon.deleted",),
    # A coupon's `valid` turning false as its `redeem_by` passes is not news on Stripe.
    ("coupon", "validity"): (),
    # UNSURE: Stripe sends no `coupon.updated` or `promotion_code.updated` when one is redeemed.
    ("coupon", "redeemed"): (),
    ("promotion_code", "redeemed"): (),
    # A customer's or a subscription's discount is news (`domain/discounts.QUIET`); those of invoices,
    # invoice items, subscription items and Checkout Sessions are attached and removed quietly.
    ("discount", "created"): ("customer.discount.created",),
    ("discount", "deleted"): ("customer.discount.deleted",),
    ("discount", "attached"): (),
    ("discount", "removed"): (),
    ("promotion_code", "created"): ("promotion_code.created",),
    ("promotion_code", "updated"): ("promotion_code.updated",),
    ("tax_rate", "created"): ("tax_rate.created",),
    ("tax_rate", "updated"): ("tax_rate.updated",),
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


def _clocked(account: Account, obj: Obj) -> Obj | None:
    """What tells an object's clock: the object itself, or for one that names no test clock (a
    PaymentIntent, a charge, a payment method), its customer."""
    if "test_clock" in obj:
        return obj
    customer = obj.get("customer")
    return account.find("customer", customer) if isinstance(customer, str) else None


class EventLog:
    """One account's events, oldest first in its `event` collection, and what delivery learned."""

    def __init__(self) -> None:
        # When each event was recorded, and its id, oldest first: events leave RETENTION after they
        # were recorded, whatever (test clock) time their `created` shows. Two queues of plain values
        # rather than one of pairs: nothing in them for the garbage collector to track.
        self.recorded_at: deque[int] = deque()
        self.recorded_ids: deque[str] = deque()
        # Events with a delivery attempt that failed and has not since succeeded.
        self.failed: set[str] = set()

    def expired(self, now: int) -> bool:
        """Whether the oldest events must go: past RETENTION, or EVICTION_BATCH past MAX_EVENTS_KEPT."""
        at = self.recorded_at
        return bool(at) and (at[0] <= now - RETENTION or len(at) >= MAX_EVENTS_KEPT + EVICTION_BATCH)

    def forget_expired(self, account: Account, now: int) -> None:
        """Forget what is past RETENTION, and the oldest events beyond MAX_EVENTS_KEPT (leaving room
        for the one being recorded)."""
        events, at, ids, failed = account.collection("event").objects, self.recorded_at, self.recorded_ids, self.failed
        while at and (at[0] <= now - RETENTION or len(at) >= MAX_EVENTS_KEPT):
            at.popleft()
            event_id = ids.popleft()
            events.pop(event_id, None)
            if failed:
                failed.discard(event_id)


class Events:
    """The server's recorder: turns changes into events and tells the listeners."""

    def __init__(self, api_version: str, known_types: frozenset[str]) -> None:
        self.api_version = api_version
        self.known_types = known_types
        self.listeners: list[Listener] = []
        # (object type, action) -> the event types it sends, as `emits` says: looked up on every change.
        self._emitted: dict[tuple[str, str], tuple[str, ...]] = {}
        self._cause: Cause | None = None
        self._shared_request: dict[str, str | None] = {}
        # The object the last event snapshotted, the cause of that change, and the object encoded.
        self._snapshot: tuple[Obj, Cause, bytes] | None = None

    def encoding_of(self, obj: Obj, cause: Cause) -> bytes | None:
        """`obj` encoded, when the last event recorded was `cause`'s and snapshotted this very object
        (since every change goes through the account API, nothing changed it after): a write's answer
        is most often that object, and need not be encoded twice."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot[0] is obj and snapshot[1] is cause:
            return snapshot[2]
        return None

    def _request(self, cause: Cause) -> dict[str, str | None]:
        """The `request` of the events `cause` records, one object shared by all of them."""
        if cause is not self._cause:
            self._cause, self._shared_request = cause, {"id": cause.request_id, "idempotency_key": cause.idempotency_key}
        return self._shared_request

    def __call__(self, change: Change) -> None:
        account, object_type, action, obj, previous, cause = change
        types = self._emitted.get((object_type, action))
        if types is None:
            types = self._emitted[object_type, action] = emits(object_type, action, self.known_types)
        if not types:
            return
        log = account.service(EventLog)
        now = account.clock.now()
        if log.expired(now):
            log.forget_expired(account, now)
        clocked = _clocked(account, obj)
        created = now if clocked is None or clocked.get("test_clock") is None else account.clock_for(clocked).now()
        # `data` never changes once recorded, so it is kept encoded: one object rather than a copy of
        # every container in the snapshot. `%` makes an exact-length copy of orjson's output (see
        # wire/retained).
        dumped = orjson.dumps(obj)
        self._snapshot = (obj, cause, dumped)
        if previous is not None and action == "updated":
            data = orjson.Fragment(b'{"object":%s,"previous_attributes":%s}' % (dumped, orjson.dumps(previous)))
        else:
            data = orjson.Fragment(b'{"object":%s}' % dumped)
        request = self._request(cause)
        events = account.collection("event").objects
        for event_type in types:
            event_id = new_id("evt")
            event: Obj = {
                "id": event_id,
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
            events[event_id] = event
            log.recorded_at.append(now)
            log.recorded_ids.append(event_id)
            if account.journal is not None:
                account.journal.event_recorded(account, event, now)
            for listener in self.listeners:
                listener(account, event)
