"""Time passing on a test clock: its subscriptions cycle at each period end and their draft invoices
finalize when due, one moment at a time, in the order these moments come.

At a period end the ended period is billed in arrears (usage) with the next licensed period in
advance, on a draft invoice that finalizes an hour later; the items' periods then roll forward. A
subscription set to cancel at period end ends there instead, leaving an invoice for its last usage.
While a moment is handled the clock reads that moment, so whatever it creates is dated then.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..billing.periods import boundary
from ..store import BY_THE_SERVER, Account
from . import collection, schedules, trials
from . import discounts as discounting
from . import invoices as invoicing
from .subscriptions import ItemChanges, end_subscription, ends_with_period, following_period

Obj = dict[str, Any]

# How far one advance may go: two intervals of the shortest subscription interval on the clock, or
# this many years when it has no subscriptions.
MAX_INTERVALS_AHEAD = 2
# How long before a renewal `invoice.upcoming` is sent (a Billing setting on Stripe; UNSURE default).
UPCOMING_NOTICE = 3 * 86_400


def furthest(account: Account, test_clock: Obj) -> int:
    """The latest `frozen_time` the clock may advance to from where it stands."""
    now = test_clock["frozen_time"]
    intervals = {
        (item["price"]["recurring"]["interval"], item["price"]["recurring"]["interval_count"])
        for subscription in _live_subscriptions(account, test_clock["id"])
        for item in subscription["items"]["data"]
    }
    reachable = [boundary(now, interval, count, MAX_INTERVALS_AHEAD) for interval, count in intervals]
    return min(reachable, default=boundary(now, "year", 1, MAX_INTERVALS_AHEAD))


def advance(account: Account, test_clock: Obj, target: int) -> None:
    """Move the clock to `target`, handling every period end, renewal notice and due invoice on the
    way. The billing is the server's own doing, not the request's."""
    clock_id = test_clock["id"]
    advancing = {"advancing": {"target_frozen_time": target}}
    account.update(test_clock, {"status": "advancing", "status_details": advancing}, action="advancing")
    with account.caused_by(BY_THE_SERVER):
        # Discounts that ended while their subscription did not bill (paused) end before time moves.
        for subscription in list(_live_subscriptions(account, clock_id)):
            discounting.expire(account, subscription, test_clock["frozen_time"])
        while (moment := _next_moment(account, clock_id, target)) is not None:
            account.update(test_clock, {"frozen_time": moment}, action="moved")
            # A draft that fell due goes before a new period's invoice, which may need its balance.
            for invoice in _due_drafts(account, clock_id, moment):
                invoicing.finalize_when_due(account, invoice, _customer(account, invoice), moment)
            for invoice in _due_retries(account, clock_id, moment):
                collection.retry(account, invoice, moment)
            for subscription in _due_expiries(account, clock_id, moment):
                collection.expire(account, subscription, moment)
            # A schedule's phase change goes before a renewal at the same moment, which bills it.
            for schedule in _running_schedules(account, clock_id):
                if (schedules.next_moment(account, schedule) or moment + 1) <= moment:
                    schedules.advance(account, schedule, moment)
            for subscription in list(_live_subscriptions(account, clock_id)):
                _resume_collection(account, subscription, moment)
                trials.announce_end(account, subscription, moment)
                _announce_renewal(account, subscription, moment)
                discounting.expire(account, subscription, moment)
                if not _cancel_due(account, subscription, moment):
                    _cycle(account, subscription, moment)
        account.update(test_clock, {"frozen_time": target, "status": "ready", "status_details": {}}, action="ready")


def _next_moment(account: Account, clock_id: str, target: int) -> int | None:
    """The earliest period end or invoice finalization due by `target`, or None."""
    moments = [
        item["current_period_end"]
        for subscription in _live_subscriptions(account, clock_id)
        for item in subscription["items"]["data"]
    ]
    moments += [end for subscription in _live_subscriptions(account, clock_id) for end in discounting.ends(account, subscription)]
    moments += [invoice["automatically_finalizes_at"] for invoice in _drafts(account, clock_id)]
    moments += [invoice["next_payment_attempt"] for invoice in _retried(account, clock_id)]
    moments += [_expiry(subscription) for subscription in _incomplete(account, clock_id)]
    moments += [
        notice
        for subscription in _live_subscriptions(account, clock_id)
        for notice in (
            _renewal_notice(account, subscription),
            trials.notice_due(account, subscription),
            (subscription["pause_collection"] or {}).get("resumes_at"),
            subscription["cancel_at"],
        )
        if notice is not None
    ]
    moments += [
        start for schedule in _running_schedules(account, clock_id) if (start := schedules.next_moment(account, schedule)) is not None
    ]
    due = [moment for moment in moments if moment <= target]
    return min(due, default=None)


def _resume_collection(account: Account, subscription: Obj, now: int) -> None:
    """A subscription's collection paused until `resumes_at` resumes then."""
    resumes_at = (subscription["pause_collection"] or {}).get("resumes_at")
    if resumes_at is not None and resumes_at <= now:
        account.update(subscription, {"pause_collection": None})


class RenewalNotices:
    """The renewals an account's subscriptions have announced (`invoice.upcoming`): (subscription,
    period end) pairs."""

    def __init__(self) -> None:
        self.sent: set[tuple[str, int]] = set()


def _renewal_notice(account: Account, subscription: Obj) -> int | None:
    """When the coming renewal is announced, unless it was or the subscription ends then. A period
    no longer than the notice gets none."""
    item = min(subscription["items"]["data"], key=lambda i: i["current_period_end"])
    start, end = item["current_period_start"], item["current_period_end"]
    if ends_with_period(subscription, end) or end - start <= UPCOMING_NOTICE or (subscription["id"], end) in account.service(RenewalNotices).sent:
        return None
    return end - UPCOMING_NOTICE


def _announce_renewal(account: Account, subscription: Obj, now: int) -> None:
    """Send `invoice.upcoming`, with the invoice the renewal will bring, once its notice is due."""
    notice = _renewal_notice(account, subscription)
    if notice is None or notice > now:
        return
    end = min(item["current_period_end"] for item in subscription["items"]["data"])
    account.service(RenewalNotices).sent.add((subscription["id"], end))
    customer = _customer(account, subscription)
    account.announce(invoicing.preview(account, subscription, customer, new=False, now=now), "upcoming")


def _cancel_due(account: Account, subscription: Obj, now: int) -> bool:
    """Cancel a subscription whose `cancel_at` came before its period's end: a final invoice of its
    usage so far and of what is pending (the credit for its unused time among it). Whether it did;
    one canceled at its period's end is the renewal's to end."""
    cancel_at = subscription["cancel_at"]
    period_end = min(item["current_period_end"] for item in subscription["items"]["data"])
    if cancel_at is None or cancel_at > now or cancel_at >= period_end:
        return False
    invoicing.end_with_final_invoice(account, subscription, _customer(account, subscription), now, invoice=True)
    return True


def _cycle(account: Account, subscription: Obj, now: int) -> None:
    """Bill the items whose period ended by `now`, then roll their periods or end the subscription.
    The subscription's update (new periods, latest invoice) comes before the invoice's creation."""
    ended = [item for item in subscription["items"]["data"] if item["current_period_end"] <= now]
    if not ended:
        return
    changes: Obj = {}
    if subscription["status"] == "trialing":
        behavior = subscription["trial_settings"]["end_behavior"]["missing_payment_method"]
        if behavior != "create_invoice" and not trials.has_payment_method(account, subscription):
            if behavior == "cancel":
                end_subscription(account, subscription, now)
            else:
                account.update(subscription, {"status": "paused"}, action="paused")
            return
        changes["status"] = "active"
    draft = invoicing.cycle_invoice(account, subscription, _customer(account, subscription), ended, now)
    latest = {"latest_invoice": draft[0]["id"]} if draft is not None else {}
    if ends_with_period(subscription, now):
        account.update(subscription, latest)
        if draft is not None:
            invoicing.store(account, draft)
        end_subscription(account, subscription, now)
        return
    items = ItemChanges(account, subscription)
    for item in ended:
        start, end = following_period(subscription, item["price"], item["current_period_end"])
        items.update(item, {"current_period_start": start, "current_period_end": end})
    items.tell(**latest, **changes)
    if draft is not None:
        invoicing.store(account, draft)


def _live_subscriptions(account: Account, clock_id: str) -> Iterator[Obj]:
    """The clock's subscriptions that still bill: not canceled or paused, and their customer not deleted."""
    for subscription in account.collection("subscription").newest_first():
        if subscription["test_clock"] == clock_id and subscription["status"] not in ("canceled", "paused"):
            if account.find("customer", subscription["customer"]) is not None:
                yield subscription


def _running_schedules(account: Account, clock_id: str) -> list[Obj]:
    """The clock's subscription schedules still to start or running (none of a deleted customer), oldest first."""
    found = account.collection("subscription_schedule").newest_first()
    return [
        schedule
        for schedule in reversed(list(found))
        if schedule["test_clock"] == clock_id and schedule["status"] in ("not_started", "active")
        and account.find("customer", schedule["customer"]) is not None
    ]


def _drafts(account: Account, clock_id: str) -> Iterator[Obj]:
    """The clock's draft invoices that will finalize, newest first (none of a deleted customer)."""
    for invoice in account.collection("invoice").newest_first():
        due_at = invoice["automatically_finalizes_at"]
        if invoice["test_clock"] == clock_id and invoice["status"] == "draft" and due_at is not None:
            if account.find("customer", invoice["customer"]) is not None:
                yield invoice


def _customer(account: Account, obj: Obj) -> Obj:
    """The customer of a subscription or invoice `_live_subscriptions` or `_drafts` gave."""
    customer = account.find("customer", obj["customer"])
    assert customer is not None
    return customer


def _due_drafts(account: Account, clock_id: str, now: int) -> list[Obj]:
    """Drafts due by `now`, oldest first."""
    drafts = reversed(list(_drafts(account, clock_id)))
    return [invoice for invoice in drafts if invoice["automatically_finalizes_at"] <= now]


def _retried(account: Account, clock_id: str) -> Iterator[Obj]:
    """The clock's open invoices with a payment retry scheduled (none of a deleted customer)."""
    for invoice in account.collection("invoice").newest_first():
        if invoice["test_clock"] == clock_id and invoice["status"] == "open" and invoice["next_payment_attempt"]:
            if account.find("customer", invoice["customer"]) is not None:
                yield invoice


def _due_retries(account: Account, clock_id: str, now: int) -> list[Obj]:
    """Invoices whose retry is due by `now`, oldest first."""
    return [invoice for invoice in reversed(list(_retried(account, clock_id))) if invoice["next_payment_attempt"] <= now]


def _incomplete(account: Account, clock_id: str) -> Iterator[Obj]:
    """The clock's subscriptions still waiting for their first payment."""
    for subscription in _live_subscriptions(account, clock_id):
        if subscription["status"] == "incomplete":
            yield subscription


def _expiry(subscription: Obj) -> int:
    return subscription["created"] + collection.INCOMPLETE_EXPIRES_AFTER


def _due_expiries(account: Account, clock_id: str, now: int) -> list[Obj]:
    return [subscription for subscription in _incomplete(account, clock_id) if _expiry(subscription) <= now]
