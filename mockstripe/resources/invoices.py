"""Invoices: `/v1/invoices` (read only) and the preview `POST /v1/invoices/create_preview`."""

from __future__ import annotations

from typing import Any

from ..domain import collection, payments
from ..domain import discounts as discounting
from ..domain import invoices as invoicing
from ..domain.prorations import Proration
from ..domain.subscriptions import (
    ItemRequest,
    UnsavedItems,
    build_item,
    build_subscription,
    check_customer_currency,
    check_items,
    lookup_price,
    unsaved_copy,
)
from ..routing import Area, Call, Endpoint
from ..wire.errors import StripeError, invalid, no_such
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range, list_object
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    DISCOUNTS,
    TIMESTAMP,
    Boolean,
    Currency,
    Enum,
    Hash,
    Integer,
    List,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    merge_metadata,
    missing,
)
from .subscriptions import MAX_ITEMS, NEW_ITEM, PRORATION_BEHAVIOR, apply_item_plan, plan_item_changes, tax_rates

Obj = dict[str, Any]

NOTHING_TO_PREVIEW = (
    "You must provide at least one of: subscription, schedule, subscription_details.items, "
    "schedule_details.phases, invoice_items."
)


def _check_preview(values: Obj, path: str) -> None:
    details = values.get("subscription_details") or {}
    if values.get("subscription") is None and not details.get("items"):
        raise invalid(NOTHING_TO_PREVIEW)
    if values.get("subscription") is None:
        for i, item in enumerate(details.get("items") or []):
            if item.get("id") is not None:
                raise no_such("subscription item", item["id"], f"subscription_details[items][{i}][id]")
            if item.get("price") is None:
                raise missing(f"subscription_details[items][{i}][price]")
    if values.get("subscription") is None and values.get("customer") is None:
        raise missing("customer")
    if values.get("subscription") is not None:
        # Changes to an existing subscription's items take no discounts here.
        for i, item in enumerate(details.get("items") or []):
            if item.get("discounts") is not None:
                Unsupported().coerce(item["discounts"], f"subscription_details[items][{i}][discounts]", None)


PREVIEW_ITEM = Hash(
    fields={
        **NEW_ITEM.fields,
        # With `subscription`: changes to its items, as `items[]` of an update has them.
        "id": String(nullable=False),
        "deleted": Boolean(),
        "price": Ref(object_type="price", noun="price"),
        "clear_usage": Unsupported(),
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
            "proration_behavior": PRORATION_BEHAVIOR,
            "proration_date": TIMESTAMP,
            **{
                k: Unsupported()
                for k in (
                    "billing_cycle_anchor", "billing_schedules", "cancel_at", "cancel_now", "default_tax_rates",
                    "pause", "resume_at", "start_date", "trial_end",
                )
            },
        }
    ),
    preview_mode=Enum("next", "recurring"),
    currency=Currency(),
    discounts=DISCOUNTS,
    **{
        k: Unsupported()
        for k in (
            "automatic_tax", "customer_account", "customer_details", "invoice_items", "issuer",
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
# Invoice settings this server does not model (tax, Connect, rendering, shipping, ...).
_NOT_MODELLED = (
    "account_tax_ids", "application_fee_amount", "automatic_tax", "automatically_finalizes_at", "custom_fields",
    "default_source", "default_tax_rates", "effective_at", "issuer", "number", "on_behalf_of",
    "payment_settings", "rendering", "shipping_cost", "shipping_details", "statement_descriptor", "transfer_data",
)
EDITABLE = dict(
    auto_advance=Boolean(),
    collection_method=Enum("charge_automatically", "send_invoice"),
    days_until_due=Integer(minimum=0),
    due_date=TIMESTAMP,
    default_payment_method=String(),
    description=String(max_length=1500),
    footer=String(max_length=5000),
    metadata=Map(),
    discounts=DISCOUNTS,
)
CREATE = endpoint(
    customer=Ref(object_type="customer", noun="customer", required=True),
    currency=Currency(),
    pending_invoice_items_behavior=Enum("exclude", "include"),
    **EDITABLE,
    **{k: Unsupported() for k in (*_NOT_MODELLED, "customer_account", "from_invoice", "subscription")},
    exclusive=(("days_until_due", "due_date"),),
)
UPDATE = endpoint(**EDITABLE, **{k: Unsupported() for k in _NOT_MODELLED}, exclusive=(("days_until_due", "due_date"),))
FINALIZE = endpoint(auto_advance=Boolean())
PAY = endpoint(
    payment_method=String(nullable=False),
    paid_out_of_band=Boolean(),
    off_session=Boolean(),
    **{k: Unsupported() for k in ("forgive", "mandate", "source")},
)
# What a finalized invoice still lets change.
AFTER_FINALIZATION = frozenset({"auto_advance", "default_payment_method", "description", "footer", "metadata"})
DEFAULT_CURRENCY = "usd"
# UNSURE: Stripe's exact wording (and codes) for these refusals.
SEND_INVOICE_NEEDS_DUE = "Invoices with collection_method=send_invoice need either days_until_due or due_date."
DUE_NEEDS_SEND_INVOICE = (
    "The `days_until_due` and `due_date` parameters can only be set when `collection_method` is `send_invoice`."
)
NOT_A_DRAFT_TO_EDIT = "This invoice is {} and can no longer be edited: only drafts can change, beyond its metadata, description, footer, default payment method and auto_advance."
ONLY_DRAFTS_DELETED = "You can only delete draft invoices."
ALREADY_FINALIZED = "This invoice is already finalized, you can't re-finalize a non-draft invoice."
ALREADY_PAID = "Invoice is already paid"
VOID_CANNOT_BE_PAID = "This invoice has been voided and cannot be paid."
ONLY_OPEN_VOIDED = "You can only void an open or uncollectible invoice; this invoice is {}."
ONLY_OPEN_UNCOLLECTIBLE = "You can only mark an open invoice as uncollectible; this invoice is {}."
ONLY_SEND_INVOICE_SENT = "You can only manually send an invoice if its collection method is 'send_invoice'."
ONLY_OPEN_SENT = "You can only send an open invoice; this invoice is {}."
CUSTOMER_DELETED = "This invoice's customer has been deleted."

def _confirmation_secret(account: Any, invoice: Obj) -> Obj | None:
    """What the customer's browser confirms the payment of an open invoice with (Stripe.js)."""
    intent = collection.intent_of(account, invoice) if invoice["status"] == "open" else None
    return None if intent is None else {"client_secret": intent["client_secret"], "type": "payment_intent"}


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
        "discounts": "discount",
    },
    expand_only={
        "payments": lambda account, invoice: list_object(
            collection.payments_of(account, invoice)[:10],
            len(collection.payments_of(account, invoice)) > 10,
            f"/v1/invoices/{invoice['id']}/payments",
        ),
        "confirmation_secret": _confirmation_secret,
    },
    nested={"lines": ListOf("line_item"), "payments": ListOf("invoice_payment")},
)
LINE_ITEM = ObjectType(
    name="line_item",
    noun="invoice line item",
    expandable={"pricing.price_details.price": "price", "subscription": "subscription", "discounts": "discount"},
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
        now = account.clock_for(customer).now()
        discounts = _preview_discounts(call, subscription, customer, now)
        if params.get("subscription_details"):
            return _preview_changes(call, subscription, customer, params["subscription_details"], now, discounts)
        return invoicing.preview(account, subscription, customer, new=False, now=now, discounts=discounts)
    customer = account.find("customer", params["customer"])
    assert customer is not None
    now = account.clock_for(customer).now()
    subscription = _unsaved_subscription(call, customer, params["subscription_details"])
    item_discounts = _preview_item_discounts(call, subscription, customer, now)
    return invoicing.preview(
        account, subscription, customer, new=not recurring, now=now,
        discounts=_preview_discounts(call, subscription, customer, now), unstored=item_discounts,
    )


def _preview_discounts(call: Call, subscription: Obj, customer: Obj, now: int) -> list[Obj] | None:
    """The discounts `discounts` asks a preview to take instead of the subscription's (None: those),
    checked and built as redeeming them would, never stored."""
    if "discounts" not in call.params:
        return None
    purchase = discounting.Purchase(customer, subscription["currency"], "invoice")
    redemptions = discounting.check(
        call.account, call.params["discounts"] or [], "discounts", purchase, now, subscription["discounts"]
    )
    owner = {"customer": customer["id"], "subscription": subscription["id"]}
    return discounting.discounts_of(discounting.prepare(redemptions, now, belongs_to=owner))


def _preview_item_discounts(call: Call, subscription: Obj, customer: Obj, now: int) -> list[Obj]:
    """A previewed new subscription's items' discounts (`subscription_details[items][i][discounts]`),
    set on its items, never stored."""
    purchase = discounting.Purchase(customer, subscription["currency"], "subscription")
    built: list[Obj] = []
    for i, (request, item) in enumerate(
        zip(call.params["subscription_details"]["items"], subscription["items"]["data"], strict=True)
    ):
        path = f"subscription_details[items][{i}][discounts]"
        redemptions = discounting.check(call.account, request.get("discounts") or [], path, purchase, now)
        owner = {"customer": customer["id"], "subscription": subscription["id"], "subscription_item": item["id"]}
        prepared = discounting.discounts_of(discounting.prepare(redemptions, now, belongs_to=owner))
        item["discounts"] = [discount["id"] for discount in prepared]
        built += prepared
    return built


def _preview_changes(
    call: Call, subscription: Obj, customer: Obj, details: Obj, now: int, discounts: list[Obj] | None
) -> Obj:
    """The invoice a change to an existing subscription would bring, with its prorations: the next
    renewal's, or under `always_invoice` the one the change makes now."""
    account = call.account
    prefix = "subscription_details[items]"
    # Planned on a copy, so that the stored subscription and items stay as they are.
    changed = unsaved_copy(subscription)
    plan = plan_item_changes(account, changed, details.get("items") or [], prefix) if details.get("items") else []
    proration = Proration(
        account, subscription, details.get("proration_behavior"), details.get("proration_date"), now,
        param="subscription_details[proration_date]",
    )
    apply_item_plan(account, changed, plan, UnsavedItems(changed), now)
    if details.get("cancel_at_period_end") is not None:
        changed["cancel_at_period_end"] = details["cancel_at_period_end"]
    items = changed["items"]["data"]
    return invoicing.preview(
        account, changed, customer, new=False, now=now,
        prorations=lambda invoice_id: proration.preview_lines(items, customer, invoice_id),
        immediate=proration.behavior == "always_invoice",
        discounts=discounts,
    )


def _unsaved_subscription(call: Call, customer: Obj, details: Obj) -> Obj:
    """The subscription `subscription_details` describes, built as creating it would, never stored."""
    account = call.account
    now = account.clock_for(customer).now()
    requests = [
        ItemRequest(
            f"subscription_details[items][{i}]", lookup_price(account, item["price"]), item.get("quantity"),
            item.get("metadata"), tax_rates(account, item.get("tax_rates")),
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


def _check_terms(collection_method: str, days: int | None, due_date: int | None) -> None:
    if collection_method == "send_invoice":
        if days is None and due_date is None:
            raise invalid(SEND_INVOICE_NEEDS_DUE, param="days_until_due")
    elif days is not None or due_date is not None:
        raise invalid(DUE_NEEDS_SEND_INVOICE, param="days_until_due" if days is not None else "due_date")


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    customer = account.find("customer", params["customer"])
    assert customer is not None
    collection_method = params.get("collection_method") or "charge_automatically"
    _check_terms(collection_method, params.get("days_until_due"), params.get("due_date"))
    default = params.get("default_payment_method")
    if default is not None:
        default = payments.attached_payment_method(account, customer["id"], default, "default_payment_method")["id"]
    currency = params.get("currency") or customer["currency"] or DEFAULT_CURRENCY
    include = params.get("pending_invoice_items_behavior") == "include"
    items = invoicing.pending_items(account, customer["id"], currency) if include else []
    now = account.clock_for(customer).now()
    terms = {
        "collection_method": collection_method,
        "currency": currency,
        "days_until_due": params.get("days_until_due"),
        "due_date": params.get("due_date"),
    }
    fields: Obj = {"default_payment_method": default}
    for key in ("description", "footer"):
        if params.get(key) is not None:
            fields[key] = params[key]
    if params.get("metadata"):
        fields["metadata"] = merge_metadata({}, params["metadata"])
    redemptions = None
    if "discounts" in params:  # "" keeps the customer's discount off too
        purchase = discounting.Purchase(customer, currency, "invoice")
        redemptions = discounting.check(account, params["discounts"] or [], "discounts", purchase, now)
        discounting.check_minimum(redemptions, "discounts", currency, sum(item["amount"] for item in items))
    return invoicing.standalone(
        account, customer, now, terms=terms, items=items, auto_advance=bool(params.get("auto_advance")), fields=fields,
        redemptions=redemptions,
    )


def update(call: Call) -> Obj:
    invoice = call.path_object("invoice")
    params, account = call.params, call.account
    draft = invoice["status"] == "draft"
    editable = set(params) - {"expand"}
    if not draft and editable - AFTER_FINALIZATION:
        raise invalid(NOT_A_DRAFT_TO_EDIT.format(invoice["status"]), code="invoice_not_editable")
    collection_method = params.get("collection_method") or invoice["collection_method"]
    changes: Obj = {}
    if draft and {"collection_method", "days_until_due", "due_date"} & editable:
        days = params.get("days_until_due")
        due_date = params.get("due_date")
        if collection_method == "send_invoice" and days is None and due_date is None:
            due_date = invoice["due_date"]
        _check_terms(collection_method, days, due_date)
        if days is not None:
            due_date = invoice["created"] + days * 86_400
        changes.update(collection_method=collection_method, due_date=due_date)
    if "default_payment_method" in params:
        default = params["default_payment_method"]
        if default is not None:
            default = payments.attached_payment_method(
                account, invoice["customer"], default, "default_payment_method"
            )["id"]
        changes["default_payment_method"] = default
    for key in ("description", "footer"):
        if key in params:
            changes[key] = params[key]
    if "metadata" in params:
        changes["metadata"] = merge_metadata(invoice["metadata"], params["metadata"])
    if params.get("auto_advance") is not None:
        changes["auto_advance"] = params["auto_advance"]
        if draft:
            changes["automatically_finalizes_at"] = invoice["created"] + invoicing.FINALIZATION_DELAY if params["auto_advance"] else None
    if "discounts" in params:  # only on a draft; "" removes them, a list replaces them
        customer = _customer(call, invoice)
        _replace_discounts(call, invoice, customer, params["discounts"] or [], changes)
        invoicing.reprice(account, invoice, customer, changes)
        return invoice
    return account.update(invoice, changes)


def _replace_discounts(call: Call, invoice: Obj, customer: Obj, requests: list[Obj], changes: Obj) -> None:
    """A draft's new `discounts` in `changes`: those asked for redeemed, those it no longer takes
    ended if they were its own (a subscription's stay the subscription's)."""
    account = call.account
    now = account.clock_for(customer).now()
    purchase = discounting.Purchase(customer, invoice["currency"], "invoice")
    redemptions = discounting.check(account, requests, "discounts", purchase, now, invoice["discounts"])
    discounting.check_minimum(redemptions, "discounts", invoice["currency"], invoice["subtotal"])
    owner = {"customer": customer["id"], "invoice": invoice["id"]}
    changes["discounts"] = discounting.redeem(account, discounting.prepare(redemptions, now, belongs_to=owner), now)
    dropped = (account.find("discount", d) for d in invoice["discounts"] if d not in changes["discounts"])
    discounting.remove(account, [d["id"] for d in dropped if d is not None and d["invoice"] == invoice["id"]])


def delete(call: Call) -> Obj:
    invoice = call.path_object("invoice")
    if invoice["status"] != "draft":
        raise invalid(ONLY_DRAFTS_DELETED)
    account = call.account
    for item in account.collection("invoiceitem").newest_first():
        if item["invoice"] == invoice["id"]:
            account.update(item, {"invoice": None})
    return account.delete(invoice)


def _customer(call: Call, invoice: Obj) -> Obj:
    customer = call.account.find("customer", invoice["customer"])
    if customer is None:
        raise invalid(CUSTOMER_DELETED)
    return customer


def finalize(call: Call) -> Obj:
    invoice = call.path_object("invoice")
    if invoice["status"] != "draft":
        raise invalid(ALREADY_FINALIZED, code="invoice_not_editable")
    account, customer = call.account, _customer(call, invoice)
    now = account.clock_for(customer).now()
    if call.params.get("auto_advance") is not None:
        account.update(invoice, {"auto_advance": call.params["auto_advance"]})
    invoicing.finalize(account, invoice, customer, now, charge=False)
    if invoice["status"] == "open" and invoice["auto_advance"] and invoice["collection_method"] == "charge_automatically":
        # Automatic collection charges the card about an hour after finalization.
        account.update(invoice, {"next_payment_attempt": now + invoicing.FINALIZATION_DELAY})
    return invoice


def pay(call: Call) -> Obj:
    invoice = call.path_object("invoice")
    params, account = call.params, call.account
    if invoice["status"] == "paid":
        raise invalid(ALREADY_PAID)
    if invoice["status"] == "void":
        raise invalid(VOID_CANNOT_BE_PAID)
    customer = _customer(call, invoice)
    now = account.clock_for(customer).now()
    payment_method = None
    if params.get("payment_method") is not None:
        payment_method = payments.attached_payment_method(
            account, customer["id"], params["payment_method"], "payment_method"
        )
    elif not params.get("paid_out_of_band") and collection.default_payment_method(account, invoice) is None:
        raise StripeError(collection.NO_PAYMENT_METHOD, code="resource_missing")
    if invoice["status"] == "draft":
        invoicing.finalize(account, invoice, customer, now, charge=False, prepare=not params.get("paid_out_of_band"))
        if invoice["status"] == "paid":
            return invoice
    if params.get("paid_out_of_band"):
        collection.mark_paid(account, invoice, now, paid=invoice["amount_remaining"], out_of_band=True)
        collection.settle_subscription(account, invoice, "paid", now)
        return invoice
    off_session = params.get("off_session", True) is not False
    outcome, decline = collection.collect(
        account, invoice, now, payment_method=payment_method, off_session=off_session, retries=None
    )
    collection.settle_subscription(account, invoice, outcome, now)
    if decline is not None:
        intent = collection.intent_of(account, invoice)
        assert intent is not None
        raise payments.decline_error(account, intent, decline)
    return invoice


def void(call: Call) -> Obj:
    invoice = call.path_object("invoice")
    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid(ONLY_OPEN_VOIDED.format(invoice["status"]))
    now = call.account.clock_for(_customer(call, invoice)).now()
    return collection.void(call.account, invoice, now)


def mark_uncollectible(call: Call) -> Obj:
    invoice = call.path_object("invoice")
    if invoice["status"] != "open":
        raise invalid(ONLY_OPEN_UNCOLLECTIBLE.format(invoice["status"]))
    now = call.account.clock_for(_customer(call, invoice)).now()
    return collection.mark_uncollectible(call.account, invoice, now)


def send(call: Call) -> Obj:
    invoice = call.path_object("invoice")
    if invoice["collection_method"] != "send_invoice":
        raise invalid(ONLY_SEND_INVOICE_SENT)
    if invoice["status"] != "open":
        raise invalid(ONLY_OPEN_SENT.format(invoice["status"]))
    call.account.announce(invoice, "sent")
    return invoice


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
        Endpoint("POST", "/v1/invoices", create, CREATE, "Create a draft invoice (with the customer's pending items, on request)", returns="invoice"),
        Endpoint("GET", "/v1/invoices/{id}", retrieve, endpoint(), "Retrieve an invoice", returns="invoice"),
        Endpoint("POST", "/v1/invoices/{id}", update, UPDATE, "Update an invoice (drafts fully; finalized ones in part)", returns="invoice"),
        Endpoint("DELETE", "/v1/invoices/{id}", delete, endpoint(), "Delete a draft invoice", returns="invoice"),
        Endpoint("POST", "/v1/invoices/{id}/finalize", finalize, FINALIZE, "Finalize a draft invoice", returns="invoice"),
        Endpoint(
            "POST", "/v1/invoices/{id}/pay", pay, PAY,
            "Pay an invoice: charge a card (402 when it declines) or mark it paid out of band", returns="invoice",
        ),
        Endpoint("POST", "/v1/invoices/{id}/void", void, endpoint(), "Void an open invoice", returns="invoice"),
        Endpoint(
            "POST", "/v1/invoices/{id}/mark_uncollectible", mark_uncollectible, endpoint(),
            "Mark an open invoice uncollectible", returns="invoice",
        ),
        Endpoint("POST", "/v1/invoices/{id}/send", send, endpoint(), "Send a send_invoice invoice to its customer", returns="invoice"),
        Endpoint(
            "GET", "/v1/invoices/{invoice}/lines", list_lines, LINES, "List an invoice's lines",
            returns=ListOf("line_item"),
        ),
    ),
)
