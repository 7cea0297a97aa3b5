"""Invoice items: `/v1/invoiceitems`, one-off amounts a customer owes, waiting (pending) for the
customer's next invoice.

An item is an `amount` in a `currency`, or a one-time `pricing[price]` times a `quantity`, or a
`unit_amount_decimal` times a `quantity`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..domain import discounts as discounting
from ..domain import invoices as invoicing
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    DISCOUNTS,
    Boolean,
    Currency,
    DecimalString,
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

Obj = dict[str, Any]

RECURRING_PRICE = (
    "The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`."
)
CURRENCY_MISMATCH = "The price's currency ({price}) does not match the invoice item's currency ({given})."
# UNSURE: Stripe's wording for an invoice item with neither an amount nor a price.
NO_AMOUNT = "You must specify either `amount`, `pricing[price]` or `unit_amount_decimal`."
# UNSURE: Stripe's wording for these.
NOT_A_DRAFT = "Invoice items can only be added to draft invoices."
OTHER_CUSTOMER = "The invoice {} belongs to another customer."
ON_A_FINALIZED_INVOICE = "This invoice item is on the invoice {}, which is no longer a draft: it cannot change."
# Not modelled: changing or removing an item on a draft (Stripe updates the draft's line with it).
ON_A_DRAFT = (
    "This invoice item is on a draft invoice: mockstripe changes only its metadata there. Delete the draft "
    "to release the item."
)
PERIOD = Hash(fields={"start": Integer(required=True), "end": Integer(required=True)})
PRICING = Hash(fields={"price": Ref(object_type="price", noun="price")})
AMOUNTS = (("amount", "pricing", "unit_amount_decimal"),)


def _check_amount(values: Obj, path: str) -> None:
    if all(values.get(key) is None for key in AMOUNTS[0]):
        raise invalid(NO_AMOUNT)


# What both create and update set on an invoice item.
WRITABLE = dict(
    amount=Integer(),
    description=String(),
    discountable=Boolean(),
    metadata=Map(),
    period=PERIOD,
    pricing=PRICING,
    quantity=Integer(minimum=0),
    unit_amount_decimal=DecimalString(),
)
CREATE = endpoint(
    customer=Ref(object_type="customer", noun="customer", required=True),
    invoice=Ref(object_type="invoice", noun="invoice"),
    currency=Currency(),
    **WRITABLE,
    **{
        k: Unsupported()
        for k in (
            "customer_account", "price_data", "quantity_decimal", "subscription",
            "tax_behavior", "tax_code",
        )
    },
    discounts=DISCOUNTS,
    tax_rates=List(item=Ref(object_type="tax_rate", noun="tax rate")),
    exclusive=AMOUNTS,
    checks=(_check_amount,),
)
UPDATE = endpoint(
    **WRITABLE,
    **{
        k: Unsupported()
        for k in ("invoicing_rules", "price_data", "quantity_decimal", "tax_behavior", "tax_code", "tax_rates")
    },
    discounts=DISCOUNTS,
    exclusive=AMOUNTS,
)
LIST = endpoint(
    **PAGE_PARAMS,
    created=CREATED_FILTER,
    customer=String(nullable=False),
    invoice=String(nullable=False),
    pending=Boolean(),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)

INVOICE_ITEM = ObjectType(
    name="invoiceitem",
    noun="invoiceitem",
    expandable={
        "customer": "customer",
        "invoice": "invoice",
        "test_clock": "test_helpers.test_clock",
        "pricing.price_details.price": "price",
        "discounts": "discount",
    },
)


def _pricing(call: Call, current: Obj | None, params: Obj) -> tuple[int, str | None, Obj, int, str | None]:
    """The item's amount, currency, pricing, quantity and description from `params` over `current`."""
    account = call.account
    quantity = params.get("quantity")
    if quantity is None:
        quantity = current["quantity"] if current is not None else 1
    currency = params.get("currency") or (current["currency"] if current is not None else None)
    description = params.get("description", current["description"] if current is not None else None)
    price_id = (params.get("pricing") or {}).get("price")
    given_amount = params.get("amount")
    unit_decimal = params.get("unit_amount_decimal")
    if price_id is None and given_amount is None and unit_decimal is None and current is not None:
        # Nothing new about the amount: the current pricing, times the (new) quantity.
        details = current["pricing"]["price_details"]
        price_id = details["price"] if details is not None else None
        if price_id is None:
            unit_decimal = Decimal(current["pricing"]["unit_amount_decimal"])
            if current["quantity"] == quantity:
                given_amount = current["amount"]
    if price_id is not None:
        price = account.find("price", price_id)
        assert price is not None
        if price["type"] != "one_time":
            raise invalid(RECURRING_PRICE, param="pricing[price]")
        if currency is not None and currency != price["currency"]:
            raise invalid(CURRENCY_MISMATCH.format(price=price["currency"], given=currency), param="currency")
        unit = Decimal(price["unit_amount_decimal"])
        amount = int((unit * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if description is None:
            product = account.find("product", price["product"])
            description = product["name"] if product is not None else None
        pricing = {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        }
        return amount, price["currency"], pricing, quantity, description
    if given_amount is not None:
        amount = given_amount
        unit = Decimal(given_amount) / quantity if quantity else Decimal(given_amount)
    else:
        assert unit_decimal is not None  # one of amount, price and unit_amount_decimal is always given
        unit = unit_decimal
        amount = int((unit * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    pricing = {"price_details": None, "type": "price_details", "unit_amount_decimal": _plain(unit)}
    return amount, currency, pricing, quantity, description


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    customer = account.find("customer", params["customer"])
    assert customer is not None
    amount, currency, pricing, quantity, description = _pricing(call, None, params)
    currency = currency or customer["currency"]
    if currency is None:
        raise missing("currency")
    invoice = account.find("invoice", params["invoice"]) if params.get("invoice") is not None else None
    if invoice is not None:
        _check_draft_of(invoice, customer["id"], currency)
    now = account.clock_for(customer).now()
    period = params.get("period") or {"start": now, "end": now}
    item_id = new_id("ii")
    purchase = discounting.Purchase(customer, currency, "invoice item")
    redemptions = discounting.check(account, params.get("discounts") or [], "discounts", purchase, now)
    discounting.check_minimum(redemptions, "discounts", currency, amount)
    discounts = discounting.prepare(redemptions, now, belongs_to={"customer": customer["id"], "invoice_item": item_id})
    item = {
        "id": item_id,
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "date": now,
        "description": description,
        "discountable": params.get("discountable", True) is not False,
        "discounts": [entry.discount["id"] for entry in discounts],
        "frozen_fields": None,
        "invoice": None,
        "invoicing_rules": None,
        "livemode": False,
        "metadata": {k: v for k, v in (params.get("metadata") or {}).items() if v is not None},
        "net_amount": amount,
        "parent": None,
        "period": {"end": period["end"], "start": period["start"]},
        "pricing": pricing,
        "proration": False,
        "proration_details": None,
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        # The validator checked that each rate exists; the item embeds them as they are now.
        "tax_rates": [dict(account.find("tax_rate", rate_id) or {}) for rate_id in params.get("tax_rates") or []],
        "test_clock": customer["test_clock"],
    }
    account.create(item)
    discounting.redeem(account, discounts, now)
    if invoice is not None:
        invoicing.add_item(account, invoice, item, customer)
    return item


def _check_draft_of(invoice: Obj, customer_id: str, currency: str) -> None:
    if invoice["status"] != "draft":
        raise invalid(NOT_A_DRAFT, param="invoice")
    if invoice["customer"] != customer_id:
        raise invalid(OTHER_CUSTOMER.format(invoice["id"]), param="invoice")
    if invoice["currency"] != currency:
        raise invalid(CURRENCY_MISMATCH.format(price=invoice["currency"], given=currency), param="currency")


def _check_changeable(call: Call, item: Obj) -> None:
    """An item on an invoice changes only while that invoice is a draft."""
    invoice = call.account.find("invoice", item["invoice"]) if item["invoice"] is not None else None
    if invoice is not None and invoice["status"] != "draft":
        raise invalid(ON_A_FINALIZED_INVOICE.format(invoice["id"]))


def retrieve(call: Call) -> Obj:
    return call.path_object("invoiceitem", "invoiceitem")


def update(call: Call) -> Obj:
    item = call.path_object("invoiceitem", "invoiceitem")
    _check_changeable(call, item)
    if item["invoice"] is not None and set(call.params) - {"metadata", "expand"}:
        raise invalid(ON_A_DRAFT)
    params = call.params
    amount, currency, pricing, quantity, description = _pricing(call, item, params)
    changes: Obj = {
        "amount": amount,
        "currency": currency,
        "description": description,
        "net_amount": amount,
        "pricing": pricing,
        "quantity": quantity,
        "quantity_decimal": str(quantity),
    }
    if "metadata" in params:
        changes["metadata"] = merge_metadata(item["metadata"], params["metadata"])
    if params.get("discountable") is not None:
        changes["discountable"] = params["discountable"]
    if params.get("period") is not None:
        changes["period"] = {"end": params["period"]["end"], "start": params["period"]["start"]}
    if "discounts" in params:  # "" removes them; a list replaces them, `discount` keeping one
        _replace_discounts(call, item, params["discounts"] or [], amount, changes)
    return call.account.update(item, changes)


def _replace_discounts(call: Call, item: Obj, requests: list[Obj], amount: int, changes: Obj) -> None:
    account = call.account
    customer = account.find("customer", item["customer"])
    now = account.clock_for(customer).now()
    purchase = discounting.Purchase(customer, item["currency"], "invoice item")
    redemptions = discounting.check(account, requests, "discounts", purchase, now, item["discounts"])
    discounting.check_minimum(redemptions, "discounts", item["currency"], amount)
    owner = {"customer": item["customer"], "invoice_item": item["id"]}
    changes["discounts"] = discounting.replace(account, item["discounts"], redemptions, now, belongs_to=owner)


def delete(call: Call) -> Obj:
    item = call.path_object("invoiceitem", "invoiceitem")
    _check_changeable(call, item)
    if item["invoice"] is not None:
        raise invalid(ON_A_DRAFT)
    return call.account.delete(item)


def list_items(call: Call) -> Obj:
    params = call.params

    def keep(item: Obj) -> bool:
        return (
            params.get("customer") in (None, item["customer"])
            and params.get("invoice") in (None, item["invoice"])
            and (params.get("pending") is None or (item["invoice"] is None) == params["pending"])
            and (params.get("created") is None or in_range(item["date"], params["created"]))
        )

    return call.page("invoiceitem", keep)


PATH = "/v1/invoiceitems"
AREA = Area(
    name="invoice_items",
    types=(INVOICE_ITEM,),
    endpoints=(
        Endpoint("POST", PATH, create, CREATE, "Create a pending invoice item for a customer", returns="invoiceitem"),
        Endpoint("GET", PATH, list_items, LIST, "List invoice items, newest first", returns=ListOf("invoiceitem")),
        Endpoint("GET", PATH + "/{invoiceitem}", retrieve, endpoint(), "Retrieve an invoice item", returns="invoiceitem"),
        Endpoint("POST", PATH + "/{invoiceitem}", update, UPDATE, "Update an invoice item", returns="invoiceitem"),
        Endpoint("DELETE", PATH + "/{invoiceitem}", delete, endpoint(), "Delete an invoice item", returns="invoiceitem"),
    ),
)
