"""Subscription schedules: a subscription's changes planned ahead as phases, each a span of time with
its items, carried out as the clock passes the phases' boundaries.

A schedule starts its subscription when its first phase starts (at once for `start_date=now`), or
takes over an existing one (`from_subscription`). When a phase ends the subscription moves to the
next phase's items, prorated as that phase's `proration_behavior` says; a change at a period's end
leaves the items' period alone, so that the renewal invoice bills the new phase. After the last
phase the schedule completes: `end_behavior=release` leaves the subscription running on its own,
`cancel` has it canceled then (the schedule set its `cancel_at` to the last phase's end).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..billing.periods import boundary
from ..store import Account
from ..wire.errors import StripeError, invalid
from ..wire.ids import new_id
from . import collection, payments, trials
from . import invoices as invoicing
from .prorations import Proration, licensed_period
from .subscriptions import (
    ItemChanges,
    ItemRequest,
    build_item,
    build_subscription,
    check_customer_currency,
    check_items,
    is_metered,
)

Obj = dict[str, Any]

# A phase given neither `end_date`, `duration` nor `iterations` lasts this many billing periods of
# its items. UNSURE: Stripe's default for a phase without an end.
DEFAULT_ITERATIONS = 1
# How long before its last phase ends a schedule sends `subscription_schedule.expiring` (Stripe: 7 days).
EXPIRY_NOTICE = 7 * 86_400
# UNSURE: the status a schedule ends in when its last phase ends; Stripe's docs name `completed` for
# a schedule whose phases are over, whichever its `end_behavior`.
STATUS_AFTER_LAST_PHASE = "completed"

ALREADY_SCHEDULED = "You cannot migrate a subscription that is already attached to a schedule: `{}`"
CURRENT_START_CHANGED = "You can not modify the start date of the current phase."
NO_ANCHOR = "The subscription schedule update is missing at least one phase with a `start_date` to anchor end dates to."
# UNSURE: Stripe's wordings for these refusals.
FROM_SUBSCRIPTION_ALONE = (
    "You cannot set `{}` if `from_subscription` is set. To create a subscription schedule with other "
    "modifications, create it from the subscription first and then update it."
)
CANCELED_SUBSCRIPTION = "You cannot migrate a subscription that is `{}`: `{}`"
PHASE_END_BEFORE_START = "The `end_date` of phase {} must be after its `start_date`."
PHASES_NOT_CONTIGUOUS = "The `start_date` of phase {} must equal the `end_date` of the phase before it."
START_IN_PAST = (
    "A subscription schedule starting in the past (backdating) is not supported by mockstripe: use "
    "`start_date=now` or a later time. See the README for what is implemented."
)
LATER_TRIAL = (
    "A trial in a phase other than the first is not supported by mockstripe. See the README for what "
    "is implemented."
)
NOT_CHANGEABLE = "You cannot {} a subscription schedule that is currently in the `{}` status."


@dataclass(frozen=True)
class PhaseRequest:
    """One phase as asked for, its items' prices looked up: `index` is its place in `phases[]`."""

    index: int
    params: Obj
    items: list[ItemRequest]
    tax_rates: list[Obj]


def phase_requests(account: Account, phases: list[Obj]) -> list[PhaseRequest]:
    """The phases of a request with their prices and tax rates (the validator checked they exist)."""
    requests = []
    for index, phase in enumerate(phases):
        items = [
            ItemRequest(
                f"phases[{index}][items][{i}]", _found(account, "price", item["price"]), item.get("quantity"),
                item.get("metadata"), [_found(account, "tax_rate", rate) for rate in item.get("tax_rates") or []],
            )
            for i, item in enumerate(phase["items"])
        ]
        rates = [_found(account, "tax_rate", rate) for rate in phase.get("default_tax_rates") or []]
        requests.append(PhaseRequest(index, phase, items, rates))
    return requests


def _found(account: Account, object_type: str, object_id: str) -> Obj:
    found = account.find(object_type, object_id)
    assert found is not None
    return found


def check_phases(requests: list[PhaseRequest], currency: str | None) -> str:
    """The rules each phase's items follow; returns the schedule's currency."""
    for request in requests:
        currency = currency or request.items[0].price["currency"]
        check_items(request.items, currency)
        if request.index > 0 and request.params.get("trial_end") is not None:
            raise invalid(LATER_TRIAL, param=f"phases[{request.index}][trial_end]")
    assert currency is not None
    return currency


def timeline(requests: list[PhaseRequest], start: int) -> list[tuple[int, int]]:
    """Each phase's (start, end): the first starts at `start`, each next one where the one before
    ends; a phase ends at its `end_date`, after its `duration`, or after `iterations` periods of its
    first item's price."""
    spans = []
    for request in requests:
        params = request.params
        given_start = params.get("start_date")
        if request.index > 0 and isinstance(given_start, int) and given_start != start:
            raise invalid(PHASES_NOT_CONTIGUOUS.format(request.index), param=f"phases[{request.index}][start_date]")
        end = params.get("end_date")
        if end is None:
            duration = params.get("duration")
            if duration is not None:
                end = boundary(start, duration["interval"], duration.get("interval_count") or 1, 1)
            else:
                recurring = request.items[0].price["recurring"]
                iterations = params.get("iterations") or DEFAULT_ITERATIONS
                end = boundary(start, recurring["interval"], recurring["interval_count"], iterations)
        if end <= start:
            raise invalid(PHASE_END_BEFORE_START.format(request.index), param=f"phases[{request.index}][end_date]")
        spans.append((start, end))
        start = end
    return spans


def build_phase(request: PhaseRequest, span: tuple[int, int], currency: str) -> Obj:
    params = request.params
    return {
        "add_invoice_items": [],
        "application_fee_percent": None,
        "automatic_tax": None,
        "billing_cycle_anchor": None,
        "billing_thresholds": None,
        "collection_method": None,
        "currency": currency,
        "default_payment_method": None,
        "default_tax_rates": [dict(rate) for rate in request.tax_rates],
        "description": params.get("description") or None,
        "discounts": [],
        "end_date": span[1],
        "invoice_settings": None,
        "items": [
            {
                "billing_thresholds": None,
                "discounts": [],
                "metadata": {k: v for k, v in (item.metadata or {}).items() if v is not None},
                "plan": item.price["id"],
                "price": item.price["id"],
                "quantity": None if is_metered(item.price) else (1 if item.quantity is None else item.quantity),
                "tax_rates": [dict(rate) for rate in item.tax_rates or []],
            }
            for item in request.items
        ],
        "metadata": dict(params.get("metadata") or {}),
        "on_behalf_of": None,
        "proration_behavior": params.get("proration_behavior") or "create_prorations",
        "start_date": span[0],
        "transfer_data": None,
        "trial": None,
        "trial_end": params.get("trial_end"),
    }


def build_schedule(customer: Obj, now: int, *, end_behavior: str, metadata: dict[str, str], billing_mode: str) -> Obj:
    """A schedule of `customer` without phases yet, `not_started`."""
    return {
        "id": new_id("sub_sched"),
        "object": "subscription_schedule",
        "application": None,
        "billing_mode": {
            "flexible": {"proration_discounts": "included"} if billing_mode == "flexible" else None,
            "type": billing_mode,
            "updated_at": now,
        },
        "canceled_at": None,
        "completed_at": None,
        "created": now,
        "current_phase": None,
        "customer": customer["id"],
        "customer_account": None,
        "default_settings": {
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": "automatic",
            "billing_thresholds": None,
            "collection_method": "charge_automatically",
            "default_payment_method": None,
            "description": None,
            "invoice_settings": {
                "account_tax_ids": None,
                "custom_fields": None,
                "days_until_due": None,
                "description": None,
                "footer": None,
                "issuer": {"type": "self"},
            },
            "on_behalf_of": None,
            "transfer_data": None,
        },
        "end_behavior": end_behavior,
        "livemode": False,
        "metadata": metadata,
        "pause_schedules": [],
        "phases": [],
        "released_at": None,
        "released_subscription": None,
        "status": "not_started",
        "subscription": None,
        "test_clock": customer["test_clock"],
    }


def from_subscription(subscription: Obj, schedule: Obj) -> Obj:
    """The one phase a schedule made from a subscription starts with: its items for its current period."""
    period = licensed_period(subscription) or _span_of(subscription)
    return {
        **build_phase(PhaseRequest(0, {}, [], []), period, subscription["currency"]),
        "default_tax_rates": [dict(rate) for rate in subscription["default_tax_rates"]],
        "items": [
            {
                "billing_thresholds": None,
                "discounts": [],
                "metadata": dict(item["metadata"]),
                "plan": item["price"]["id"],
                "price": item["price"]["id"],
                "quantity": item["quantity"],
                "tax_rates": [dict(rate) for rate in item["tax_rates"]],
            }
            for item in subscription["items"]["data"]
        ],
        "metadata": dict(subscription["metadata"]),
        "trial_end": subscription["trial_end"] if subscription["status"] == "trialing" else None,
    }


def _span_of(subscription: Obj) -> tuple[int, int]:
    items = subscription["items"]["data"]
    return min(i["current_period_start"] for i in items), max(i["current_period_end"] for i in items)


def check_migration(subscription: Obj, param: str = "from_subscription") -> None:
    if subscription["schedule"] is not None:
        raise invalid(ALREADY_SCHEDULED.format(subscription["id"]), param=param)
    if subscription["status"] in collection.ENDED:
        raise invalid(CANCELED_SUBSCRIPTION.format(subscription["status"], subscription["id"]), param=param)


def phase_at(schedule: Obj, moment: int) -> int | None:
    """The index of the phase running at `moment`, or None before the first and after the last."""
    for index, phase in enumerate(schedule["phases"]):
        if phase["start_date"] <= moment < phase["end_date"]:
            return index
    return None


def current_phase(schedule: Obj, moment: int) -> Obj | None:
    index = phase_at(schedule, moment)
    if index is None:
        return None
    phase = schedule["phases"][index]
    return {"end_date": phase["end_date"], "start_date": phase["start_date"]}


class ExpiryNotices:
    """The schedules of an account that announced their end (`subscription_schedule.expiring`)."""

    def __init__(self) -> None:
        self.sent: set[str] = set()


def _expiry_notice(account: Account, schedule: Obj) -> int | None:
    """When a running schedule announces its end, unless it did or that time passed before it was made."""
    if schedule["status"] != "active" or not schedule["phases"] or schedule["id"] in account.service(ExpiryNotices).sent:
        return None
    notice = int(schedule["phases"][-1]["end_date"]) - EXPIRY_NOTICE
    return notice if notice > schedule["created"] else None


def next_moment(account: Account, schedule: Obj) -> int | None:
    """When the schedule next has something to do: its start, its end's notice, or its current phase's end."""
    if schedule["status"] == "not_started" and schedule["phases"]:
        return int(schedule["phases"][0]["start_date"])
    if schedule["status"] == "active" and schedule["current_phase"] is not None:
        notice = _expiry_notice(account, schedule)
        end = int(schedule["current_phase"]["end_date"])
        return end if notice is None else min(notice, end)
    return None


def end_settings(schedule: Obj) -> Obj:
    """What the schedule sets on its subscription about its end: `cancel_at` under `end_behavior=cancel`."""
    if schedule["end_behavior"] == "cancel" and schedule["phases"]:
        return {"cancel_at": schedule["phases"][-1]["end_date"], "cancel_at_period_end": False}
    return {"cancel_at": None}


def start(account: Account, schedule: Obj, now: int, *, stored: bool = True) -> None:
    """Start the schedule's subscription from its first phase, invoiced and charged as a new one (a
    card that fails, or none, leaves it `incomplete` with its first invoice open). A schedule not
    `stored` yet (being created) is stored, active, before its subscription."""
    customer = _found(account, "customer", schedule["customer"])
    phase = schedule["phases"][0]
    currency = phase["currency"]
    check_customer_currency(customer, currency)
    subscription = build_subscription(
        customer, currency, now,
        billing_mode=schedule["billing_mode"]["type"],
        metadata=phase["metadata"],
        description=phase["description"],
        default_tax_rates=phase["default_tax_rates"],
    )
    subscription["schedule"] = schedule["id"]
    trial_end = phase["trial_end"]
    if trial_end is not None and trial_end > now:
        trials.start_trial(subscription, trial_end, now, None)
    items = [_new_item(account, subscription, entry, now) for entry in phase["items"]]
    subscription["items"]["data"].extend(items)
    subscription.update(end_settings(schedule))
    draft = invoicing.first_invoice(account, subscription, customer, now)
    subscription["latest_invoice"] = draft[0]["id"] if draft is not None else None
    payment_method = _payment_method(account, customer)
    charge = draft is not None and invoicing.needs_charge(draft[0]) and payment_method is not None
    if draft is not None and invoicing.needs_charge(draft[0]):
        outcome = payments.outcome(account, payment_method, off_session=True) if payment_method is not None else "no_payment_method"
        subscription["status"] = "active" if outcome is None else "incomplete"
    started = {"status": "active", "subscription": subscription["id"], "current_phase": current_phase(schedule, now)}
    if not stored:
        schedule.update(started)
        account.create(schedule)
    account.update(customer, {"currency": currency})
    account.create(subscription)
    for item in items:
        account.create(item)
    if stored:
        account.update(schedule, started)
    if draft is not None:
        invoicing.issue(account, draft, customer, now, charge=charge, off_session=True)


def _payment_method(account: Account, customer: Obj) -> Obj | None:
    found = customer["invoice_settings"]["default_payment_method"]
    return account.find("payment_method", found) if found is not None else None


def _new_item(account: Account, subscription: Obj, entry: Obj, now: int) -> Obj:
    price = _found(account, "price", entry["price"])
    return build_item(subscription, ItemRequest("", price, entry["quantity"], entry["metadata"], entry["tax_rates"]), now)


def enter_phase(
    account: Account, schedule: Obj, subscription: Obj, phase: Obj, now: int, behavior: str | None = None
) -> None:
    """Move the subscription to `phase`'s items (prorated under `behavior`, by default the phase's own
    `proration_behavior`), its metadata and default tax rates. An item whose price stays keeps its id;
    a new one takes the period the subscription's items are in, so that a change exactly at a
    period's end is billed by that renewal."""
    proration = Proration(account, subscription, behavior or phase["proration_behavior"], None, now)
    items = ItemChanges(account, subscription)
    by_price = {item["price"]["id"]: item for item in subscription["items"]["data"]}
    wanted = {entry["price"] for entry in phase["items"]}
    for item in list(subscription["items"]["data"]):
        if item["price"]["id"] not in wanted:
            items.remove(item)
    for entry in phase["items"]:
        kept = by_price.get(entry["price"])
        if kept is not None:
            quantity = {} if is_metered(kept["price"]) else {"quantity": entry["quantity"]}
            items.update(kept, {**quantity, "tax_rates": [dict(rate) for rate in entry["tax_rates"]]})
            continue
        item = _new_item(account, subscription, entry, now)
        alike = _same_interval(subscription["items"]["data"], item["price"])
        if alike is not None:
            item.update(current_period_start=alike["current_period_start"], current_period_end=alike["current_period_end"])
        items.add(item)
    changes: Obj = {
        "metadata": dict(phase["metadata"]) or subscription["metadata"],
        "default_tax_rates": [dict(rate) for rate in phase["default_tax_rates"]],
    }
    if phase["description"] is not None:
        changes["description"] = phase["description"]
    changes.update(proration.settle(items.listed))
    items.tell(**changes)


def _same_interval(items: list[Obj], price: Obj) -> Obj | None:
    recurring = price["recurring"]
    for item in items:
        other = item["price"]["recurring"]
        if (other["interval"], other["interval_count"]) == (recurring["interval"], recurring["interval_count"]):
            return item
    return None


def advance(account: Account, schedule: Obj, now: int) -> None:
    """Do what is due for the schedule at `now`: start it, enter its next phase, or complete it."""
    if schedule["status"] == "not_started":
        if schedule["phases"] and schedule["phases"][0]["start_date"] <= now:
            customer = _found(account, "customer", schedule["customer"])
            if customer["currency"] not in (None, schedule["phases"][0]["currency"]):
                # UNSURE: what Stripe does with a schedule whose customer took up another currency
                # before it started; it cannot start, so it ends here.
                mark_canceled(account, schedule, now)
                return
            start(account, schedule, now)
        return
    if schedule["status"] != "active":
        return
    subscription = account.find("subscription", schedule["subscription"]) if schedule["subscription"] else None
    if subscription is None or subscription["status"] in collection.ENDED:
        # Its subscription ended some other way (expired unpaid, or deleted with its test clock).
        mark_canceled(account, schedule, now)
        return
    notice = _expiry_notice(account, schedule)
    if notice is not None and notice <= now:
        account.service(ExpiryNotices).sent.add(schedule["id"])
        account.announce(schedule, "expiring")
    index = phase_at(schedule, now)
    if index is None:
        complete(account, schedule, subscription, now)
        return
    current = current_phase(schedule, now)
    if current != schedule["current_phase"]:
        enter_phase(account, schedule, subscription, schedule["phases"][index], now)
        account.update(schedule, {"current_phase": current})


def complete(account: Account, schedule: Obj, subscription: Obj, now: int) -> None:
    """The last phase ended: the schedule lets its subscription go (canceled by its `cancel_at` under
    `end_behavior=cancel`)."""
    if subscription["schedule"] == schedule["id"]:
        account.update(subscription, {"schedule": None})
    account.update(
        schedule, {"status": STATUS_AFTER_LAST_PHASE, "completed_at": now, "current_phase": None}, action="completed"
    )


def release(account: Account, schedule: Obj, now: int, *, preserve_cancel_date: bool) -> None:
    """Stop the schedule, leaving its subscription as it is (its `cancel_at` from the schedule cleared,
    unless `preserve_cancel_date`)."""
    check_changeable(schedule, "release")
    subscription = account.find("subscription", schedule["subscription"]) if schedule["subscription"] else None
    if subscription is not None:
        changes: Obj = {"schedule": None}
        if not preserve_cancel_date and schedule["end_behavior"] == "cancel":
            changes["cancel_at"] = None
        account.update(subscription, changes)
    account.update(
        schedule,
        {
            "status": "released",
            "released_at": now,
            "released_subscription": schedule["subscription"],
            "subscription": None,
            "current_phase": None,
        },
        action="released",
    )


def check_changeable(schedule: Obj, verb: str) -> None:
    """Only a schedule `not_started` or `active` can be changed, released or canceled."""
    if schedule["status"] not in ("not_started", "active"):
        raise invalid(NOT_CHANGEABLE.format(verb, schedule["status"]))


def mark_canceled(account: Account, schedule: Obj, now: int) -> None:
    """The schedule ends without a running subscription."""
    account.update(schedule, {"status": "canceled", "canceled_at": now, "current_phase": None}, action="canceled")


def refuse_if_managed(subscription: Obj) -> None:
    """Stripe's 400 for a cancellation set directly on a subscription its schedule manages."""
    if subscription["schedule"] is not None:
        raise StripeError(
            f"The subscription is managed by the subscription schedule `{subscription['schedule']}`, and updating "
            "any cancelation behavior directly is not allowed. Please update the schedule instead."
        )
