"""Invoices: `/v1/invoices` (read only) and the preview `POST /v1/invoices/create_preview`."""

from __future__ import annotations

from typing import Any

from ..domain import invoices as invoicing
from ..domain.subscriptions import (
    ItemRequest,
    build_item,
    build_subscription,
    check_customer_currency,
    check_items,
    lookup_price,
)
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range, list_object
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    Boolean,
    Currency,
    Enum,
    Hash,
    List,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    missing,
)
from .subscriptions import MAX_ITEMS, NEW_ITEM

Obj = dict[str, Any]

NOTHING_TO_PREVIEW = (
    "You must provide at least one of: subscription, schedule, subscription_details.items, "
    "schedule_details.phases, invoice_items."
)
DETAILS_WITH_SUBSCRIPTION = (
    "The parameter subscription_details is not supported by mockstripe together with subscription: "
    "previewing changes to an existing subscription is not implemented."
)


def _check_preview(values: Obj, path: str) -> None:
    details = values.get("subscription_details") or {}
    if values.get("subscription") is None and not details.get("items"):
        raise invalid(NOTHING_TO_PREVIEW)
    if values.get("subscription") is not None and details:
        raise invalid(DETAILS_WITH_SUBSCRIPTION, param="subscription_details")
    if values.get("subscription") is None and values.get("customer") is None:
        raise missing("customer")


PREVIEW_ITEM = Hash(
    fields={
        **NEW_ITEM.fields,
        # Changes to the items of an existing subscription are not previewed.
        **{k: Unsupported() for k in ("clear_usage", "deleted", "id")},
    }
)
CREATE_PREVIEW = endpoint(
    subscription=Ref(object_type="subscription", noun="subscription"),
    customer=Ref(object_type="customer", noun="customer"),
    subscription_details=Hash(
        fields={
            "items": List(item=PREVIEW_ITEM, max_items=MAX_ITEMS),
            "billing_mode": Hash(
                fields={
                    "type": Enum("classic", "flexible", required=True),
                    "flexible": Hash(fields={"proration_discounts": Enum("included", "itemized")}),
                }
            ),
            "cancel_at_period_end": Boolean(),
            "metadata": Map(),
            **{
                k: Unsupported()
                for k in (
                    "billing_cycle_anchor", "billing_schedules", "cancel_at", "cancel_now", "default_tax_rates",
                    "pause", "proration_behavior", "proration_date", "resume_at", "start_date", "trial_end",
                )
            },
        }
    ),
    preview_mode=Enum("next", "recurring"),
    currency=Currency(),
    **{
        k: Unsupported()
        for k in (
            "automatic_tax", "customer_account", "customer_details", "discounts", "invoice_items", "issuer",
            "on_behalf_of", "schedule", "schedule_details",
        )
    },
    checks=(_check_preview,),
)
LIST = endpoint(
    **PAGE_PARAMS,
    collection_method=Enum("charge_automatically", "send_invoice"),
    created=CREATED_FILTER,
    customer=String(nullable=False),
    due_date=CREATED_FILTER,
    status=Enum("draft", "open", "paid", "uncollectible", "void"),
    subscription=String(nullable=False),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)
LINES = endpoint(**PAGE_PARAMS, exclusive=PAGE_EXCLUSIVE)

INVOICE = ObjectType(
    name="invoice",
    noun="invoice",
    expandable={
        "customer": "customer",
        "parent.subscription_details.subscription": "subscription",
        "test_clock": "test_helpers.test_clock",
        "application": "application",
        "default_payment_method": "payment_method",
        "default_source": "source",
        "from_invoice.invoice": "invoice",
        "latest_revision": "invoice",
        "on_behalf_of": "account",
    },
    expand_only={
        "payments": lambda account, invoice: list_object([], False, f"/v1/invoices/{invoice['id']}/payments"),
        "confirmation_secret": lambda account, invoice: None,
    },
    nested={"lines": ListOf("line_item"), "payments": ListOf("invoice_payment")},
)
LINE_ITEM = ObjectType(
    name="line_item",
    noun="invoice line item",
    expandable={"pricing.price_details.price": "price", "subscription": "subscription"},
)


def create_preview(call: Call) -> Obj:
    params, account = call.params, call.account
    recurring = params.get("preview_mode") == "recurring"
    if params.get("subscription") is not None:
        subscription = account.find("subscription", params["subscription"])
        assert subscription is not None
        customer = account.find("customer", subscription["customer"])
        if customer is None:  # deleted since: nothing will be invoiced
            raise invoicing.no_upcoming_invoice(subscription["customer"])
        return invoicing.preview(account, subscription, customer, new=False, now=account.clock_for(customer).now())
    customer = account.find("customer", params["customer"])
    assert customer is not None
    subscription = _unsaved_subscription(call, customer, params["subscription_details"])
    return invoicing.preview(
        account, subscription, customer, new=not recurring, now=account.clock_for(customer).now()
    )


def _unsaved_subscription(call: Call, customer: Obj, details: Obj) -> Obj:
    """The subscription `subscription_details` describes, built as creating it would, never stored."""
    account = call.account
    now = account.clock_for(customer).now()
    requests = [
        ItemRequest(
            f"subscription_details[items][{i}]", lookup_price(account, item["price"]), item.get("quantity"),
            item.get("metadata"),
        )
        for i, item in enumerate(details["items"])
    ]
    currency = call.params.get("currency") or requests[0].price["currency"]
    check_items(requests, currency)
    check_customer_currency(customer, currency)
    subscription = build_subscription(
        customer,
        currency,
        now,
        billing_mode=(details.get("billing_mode") or {}).get("type", "flexible"),
        metadata={k: v for k, v in (details.get("metadata") or {}).items() if v is not None},
        cancel_at_period_end=bool(details.get("cancel_at_period_end")),
    )
    for request in requests:
        subscription["items"]["data"].append(build_item(subscription, request, now))
    return subscription


def retrieve(call: Call) -> Obj:
    return call.path_object("invoice")


def _subscription_of(invoice: Obj) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details")
    return details["subscription"] if details else None


def list_invoices(call: Call) -> Obj:
    params = call.params

    def keep(invoice: Obj) -> bool:
        return (
            params.get("customer") in (None, invoice["customer"])
            and params.get("subscription") in (None, _subscription_of(invoice))
            and params.get("status") in (None, invoice["status"])
            and params.get("collection_method") in (None, invoice["collection_method"])
            and (params.get("created") is None or in_range(invoice["created"], params["created"]))
            and (
                params.get("due_date") is None
                or (invoice["due_date"] is not None and in_range(invoice["due_date"], params["due_date"]))
            )
        )

    return call.page("invoice", keep)


def list_lines(call: Call) -> Obj:
    invoice = call.path_object("invoice", "invoice")
    return call.page("line_item", newest_first=invoicing.all_lines(call.account, invoice))


AREA = Area(
    name="invoices",
    types=(INVOICE, LINE_ITEM),
    endpoints=(
        Endpoint(
            "POST", "/v1/invoices/create_preview", create_preview, CREATE_PREVIEW,
            "Preview a subscription's next invoice (or a new subscription's first), without saving it",
            returns="invoice",
        ),
        Endpoint("GET", "/v1/invoices", list_invoices, LIST, "List invoices, newest first", returns=ListOf("invoice")),
        Endpoint("GET", "/v1/invoices/{id}", retrieve, endpoint(), "Retrieve an invoice", returns="invoice"),
        Endpoint(
            "GET", "/v1/invoices/{invoice}/lines", list_lines, LINES, "List an invoice's lines",
            returns=ListOf("line_item"),
        ),
    ),
)
