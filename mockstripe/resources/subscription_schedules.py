"""Subscription schedules: `/v1/subscription_schedules`."""

from __future__ import annotations

from typing import Any

from ..domain import invoices as invoicing
from ..domain import prorations, schedules
from ..domain.subscriptions import check_customer_currency
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    QUANTITY,
    TIMESTAMP,
    AnyOf,
    Boolean,
    Currency,
    Enum,
    Hash,
    Integer,
    List,
    Literal,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    merge_metadata,
    missing,
)
from .subscriptions import MAX_ITEMS, PRORATION_BEHAVIOR, TAX_RATES

Obj = dict[str, Any]

MAX_PHASES = 10  # UNSURE: Stripe's limit on a schedule's phases.
NOW = Literal(word="now")
PHASE_ITEM = Hash(
    fields={
        "price": Ref(object_type="price", noun="price", required=True),
        "quantity": QUANTITY,
        "metadata": Map(),
        "tax_rates": TAX_RATES,
        **{k: Unsupported() for k in ("billing_thresholds", "discounts", "plan", "price_data")},
    }
)
# Each phase ends one way: at a date, after a duration, or after a number of its items' periods.
_PHASE_ENDS = (("end_date", "duration", "iterations"),)
_PHASE_FIELDS = dict(
    items=List(item=PHASE_ITEM, max_items=MAX_ITEMS, required=True),
    duration=Hash(fields={"interval": Enum("day", "week", "month", "year", required=True), "interval_count": Integer(minimum=1)}),
    iterations=Integer(minimum=1),
    proration_behavior=PRORATION_BEHAVIOR,
    metadata=Map(),
    default_tax_rates=TAX_RATES,
    currency=Currency(),
    description=String(max_length=500),
    **{
        k: Unsupported()
        for k in (
            "add_invoice_items", "application_fee_percent", "automatic_tax", "billing_cycle_anchor",
            "billing_thresholds", "collection_method", "default_payment_method", "discounts", "invoice_settings",
            "on_behalf_of", "transfer_data", "trial",
        )
    },
)
NEW_PHASE = Hash(fields={**_PHASE_FIELDS, "end_date": TIMESTAMP, "trial_end": TIMESTAMP}, exclusive=_PHASE_ENDS)
CHANGED_PHASE = Hash(
    fields={
        **_PHASE_FIELDS,
        "start_date": AnyOf(TIMESTAMP, NOW),
        "end_date": AnyOf(TIMESTAMP, NOW),
        "trial_end": AnyOf(TIMESTAMP, NOW),
    },
    exclusive=_PHASE_ENDS,
)
END_BEHAVIOR = Enum("cancel", "release")
UNSUPPORTED = {k: Unsupported() for k in ("default_settings", "pause_schedules")}

CREATE = endpoint(
    customer=Ref(object_type="customer", noun="customer"),
    from_subscription=Ref(object_type="subscription", noun="subscription"),
    start_date=AnyOf(TIMESTAMP, NOW),
    end_behavior=END_BEHAVIOR,
    metadata=Map(),
    phases=List(item=NEW_PHASE, max_items=MAX_PHASES),
    billing_mode=Hash(
        fields={
            "type": Enum("classic", "flexible", required=True),
            "flexible": Hash(fields={"proration_discounts": Enum("included", "itemized")}),
        }
    ),
    customer_account=Unsupported(),
    **UNSUPPORTED,
)
UPDATE = endpoint(
    end_behavior=END_BEHAVIOR,
    metadata=Map(),
    phases=List(item=CHANGED_PHASE, max_items=MAX_PHASES),
    proration_behavior=PRORATION_BEHAVIOR,
    **UNSUPPORTED,
)
RELEASE = endpoint(preserve_cancel_date=Boolean())
CANCEL = endpoint(invoice_now=Boolean(), prorate=Boolean())
LIST = endpoint(
    **PAGE_PARAMS,
    canceled_at=CREATED_FILTER,
    completed_at=CREATED_FILTER,
    created=CREATED_FILTER,
    released_at=CREATED_FILTER,
    customer=String(nullable=False),
    scheduled=Boolean(),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)

SUBSCRIPTION_SCHEDULE = ObjectType(
    name="subscription_schedule",
    noun="subscription schedule",
    expandable={
        "customer": "customer",
        "subscription": "subscription",
        "test_clock": "test_helpers.test_clock",
        "application": "application",
    },
)


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    if params.get("from_subscription") is not None:
        return _from_subscription(call)
    if params.get("customer") is None:
        raise missing("customer")
    if not params.get("phases"):
        raise missing("phases")
    customer = account.find("customer", params["customer"])
    assert customer is not None
    now = account.clock_for(customer).now()
    start = params.get("start_date", "now")
    start = now if start == "now" else start
    if start < now:
        raise invalid(schedules.START_IN_PAST, param="start_date")
    requests = schedules.phase_requests(account, params["phases"])
    currency = schedules.check_phases(requests, None)
    check_customer_currency(customer, currency)
    spans = schedules.timeline(requests, start)
    schedule = schedules.build_schedule(
        customer, now,
        end_behavior=params.get("end_behavior") or "release",
        metadata=merge_metadata({}, params.get("metadata") or {}),
        billing_mode=(params.get("billing_mode") or {}).get("type", "flexible"),
    )
    schedule["phases"] = [schedules.build_phase(r, span, currency) for r, span in zip(requests, spans, strict=True)]
    if start <= now:
        schedules.start(account, schedule, now, stored=False)
    else:
        account.create(schedule)
    return schedule


def _from_subscription(call: Call) -> Obj:
    params, account = call.params, call.account
    given = [key for key in params if key not in ("from_subscription", "expand")]
    if given:
        raise invalid(schedules.FROM_SUBSCRIPTION_ALONE.format(given[0]), param=given[0])
    subscription = account.find("subscription", params["from_subscription"])
    assert subscription is not None
    schedules.check_migration(subscription)
    customer = account.find("customer", subscription["customer"])
    assert customer is not None
    now = account.clock_for(subscription).now()
    schedule = schedules.build_schedule(
        customer, now, end_behavior="release", metadata={}, billing_mode=subscription["billing_mode"]["type"]
    )
    schedule["phases"] = [schedules.from_subscription(subscription, schedule)]
    schedule.update(status="active", subscription=subscription["id"], current_phase=schedules.current_phase(schedule, now))
    account.create(schedule)
    account.update(subscription, {"schedule": schedule["id"]})
    return schedule


def retrieve(call: Call) -> Obj:
    return call.path_object("subscription_schedule", "schedule")


def update(call: Call) -> Obj:
    schedule = call.path_object("subscription_schedule", "schedule")
    params, account = call.params, call.account
    schedules.check_changeable(schedule, "update")
    now = account.clock_for(schedule).now()
    subscription = account.find("subscription", schedule["subscription"]) if schedule["subscription"] else None
    changes: Obj = {}
    if params.get("end_behavior") is not None:
        changes["end_behavior"] = params["end_behavior"]
    if "metadata" in params:
        changes["metadata"] = merge_metadata(schedule["metadata"], params["metadata"])
    entered: Obj | None = None
    if params.get("phases"):
        phases = [_resolve_now(phase, now) for phase in params["phases"]]
        anchor = phases[0].get("start_date")
        if anchor is None:
            raise invalid(schedules.NO_ANCHOR, param="phases")
        requests = schedules.phase_requests(account, phases)
        currency = schedules.check_phases(requests, schedule["phases"][0]["currency"] if schedule["phases"] else None)
        customer = account.find("customer", schedule["customer"])
        assert customer is not None
        check_customer_currency(customer, currency)
        spans = schedules.timeline(requests, anchor)
        new_phases = [schedules.build_phase(r, span, currency) for r, span in zip(requests, spans, strict=True)]
        entered = _check_timing(schedule, new_phases, now)
        changes["phases"] = new_phases
    if subscription is not None:
        after = {**schedule, **changes}
        settings = schedules.end_settings(after)
        if entered is not None:
            schedules.enter_phase(account, schedule, subscription, entered, now, params.get("proration_behavior") or "create_prorations")
        account.update(subscription, settings)
        changes["current_phase"] = schedules.current_phase(after, now)
    account.update(schedule, changes)
    schedules.advance(account, schedule, now)
    return schedule


def _resolve_now(phase: Obj, now: int) -> Obj:
    return {key: now if value == "now" and key in ("start_date", "end_date", "trial_end") else value for key, value in phase.items()}


def _check_timing(schedule: Obj, phases: list[Obj], now: int) -> Obj | None:
    """New phases keep the current phase's start and end in the future; returns the new current phase
    when its settings differ from the running one's (to apply now), else None."""
    if schedule["status"] == "not_started":
        if phases[0]["start_date"] < now:
            raise invalid(schedules.START_IN_PAST, param="phases[0][start_date]")
        return None
    index = schedules.phase_at({"phases": phases}, now)
    current = schedule["current_phase"]
    if index is None or current is None or phases[index]["start_date"] != current["start_date"]:
        raise invalid(schedules.CURRENT_START_CHANGED, param="phases")
    running = schedules.phase_at(schedule, now)
    old = schedule["phases"][running] if running is not None else None
    new = phases[index]
    settled = ("items", "default_tax_rates", "metadata")
    if old is not None and all(old[key] == new[key] for key in settled):
        return None
    return new


def list_schedules(call: Call) -> Obj:
    params = call.params

    def in_bounds(schedule: Obj, field: str) -> bool:
        bounds = params.get(field)
        return bounds is None or (schedule[field] is not None and in_range(schedule[field], bounds))

    def keep(schedule: Obj) -> bool:
        return (
            params.get("customer") in (None, schedule["customer"])
            and (params.get("scheduled") is None or params["scheduled"] == (schedule["status"] == "not_started"))
            and all(in_bounds(schedule, field) for field in ("canceled_at", "completed_at", "created", "released_at"))
        )

    return call.page("subscription_schedule", keep)


def release(call: Call) -> Obj:
    schedule = call.path_object("subscription_schedule", "schedule")
    now = call.account.clock_for(schedule).now()
    schedules.release(call.account, schedule, now, preserve_cancel_date=bool(call.params.get("preserve_cancel_date")))
    return schedule


def cancel(call: Call) -> Obj:
    """Cancel the schedule and, if it runs one, its subscription now: its unused time credited
    (`prorate`, by default) and a final invoice of what is pending (`invoice_now`, by default)."""
    schedule = call.path_object("subscription_schedule", "schedule")
    account, params = call.account, call.params
    schedules.check_changeable(schedule, "cancel")
    now = account.clock_for(schedule).now()
    subscription = account.find("subscription", schedule["subscription"]) if schedule["subscription"] else None
    if subscription is None or subscription["status"] in ("canceled", "incomplete_expired"):
        schedules.mark_canceled(account, schedule, now)
        return schedule
    customer = account.find("customer", subscription["customer"])
    assert customer is not None
    if params.get("prorate", True):
        prorations.credit_unused(account, subscription, customer, now)
    invoicing.end_with_final_invoice(account, subscription, customer, now, invoice=params.get("invoice_now", True))
    return schedule


AREA = Area(
    name="subscription_schedules",
    types=(SUBSCRIPTION_SCHEDULE,),
    endpoints=(
        Endpoint("POST", "/v1/subscription_schedules", create, CREATE, "Create a subscription schedule", returns="subscription_schedule"),
        Endpoint("GET", "/v1/subscription_schedules", list_schedules, LIST, "List subscription schedules, newest first", returns=ListOf("subscription_schedule")),
        Endpoint("GET", "/v1/subscription_schedules/{schedule}", retrieve, endpoint(), "Retrieve a subscription schedule", returns="subscription_schedule"),
        Endpoint("POST", "/v1/subscription_schedules/{schedule}", update, UPDATE, "Update a subscription schedule's phases and end", returns="subscription_schedule"),
        Endpoint("POST", "/v1/subscription_schedules/{schedule}/release", release, RELEASE, "Release a subscription schedule, keeping its subscription", returns="subscription_schedule"),
        Endpoint("POST", "/v1/subscription_schedules/{schedule}/cancel", cancel, CANCEL, "Cancel a subscription schedule and its subscription", returns="subscription_schedule"),
    ),
)
