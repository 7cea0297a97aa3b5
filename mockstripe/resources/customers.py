"""Customers: `/v1/customers`."""

from __future__ import annotations

from typing import Any, Callable

from ..domain import payments
from ..domain.subscriptions import end_subscription
from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.ids import new_id, random_upper
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range, list_object
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    MAX_AMOUNT,
    MAX_INVOICE_SEQUENCE,
    Boolean,
    Enum,
    Hash,
    Integer,
    List,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    invalid,
    merge_metadata,
)

ADDRESS = Hash(
    nullable=True,
    fields={k: String() for k in ("city", "country", "line1", "line2", "postal_code", "state")},
)
SHIPPING = Hash(
    nullable=True,
    fields={"address": Hash(required=True, fields=ADDRESS.fields), "name": String(required=True), "phone": String()},
)
INVOICE_SETTINGS = Hash(
    fields={
        "custom_fields": List(
            nullable=True,
            max_items=4,
            item=Hash(fields={"name": String(required=True, max_length=40), "value": String(required=True, max_length=140)}),
        ),
        "default_payment_method": String(),
        "footer": String(),
        "rendering_options": Hash(
            nullable=True,
            fields={
                "amount_tax_display": Enum("exclude_tax", "include_inclusive_tax", nullable=True),
                "template": String(),
            },
        ),
    }
)


DEFAULT_PAYMENT_METHOD = "invoice_settings[default_payment_method]"


def _check_invoice_prefix(values: dict[str, Any], path: str) -> None:
    prefix = values.get("invoice_prefix")
    if prefix is not None and not (1 <= len(prefix) <= 12 and prefix.isalnum() and prefix == prefix.upper()):
        raise invalid(
            "Invalid invoice_prefix: must be 1-12 uppercase letters or numbers", param="invoice_prefix"
        )


WRITABLE = dict(
    address=ADDRESS,
    balance=Integer(minimum=-MAX_AMOUNT, maximum=MAX_AMOUNT),
    business_name=String(max_length=150),
    cash_balance=Unsupported(),
    description=String(),
    email=String(max_length=512),
    individual_name=String(max_length=150),
    invoice_prefix=String(nullable=False),
    invoice_settings=INVOICE_SETTINGS,
    metadata=Map(),
    name=String(max_length=256),
    next_invoice_sequence=Integer(minimum=1, maximum=MAX_INVOICE_SEQUENCE),
    phone=String(max_length=20),
    preferred_locales=List(item=String(), nullable=True),
    shipping=SHIPPING,
    source=Unsupported(),
    tax=Unsupported(),
    tax_exempt=Enum("none", "exempt", "reverse", nullable=True),
    validate=Boolean(),
)

CREATE = endpoint(
    **WRITABLE,
    payment_method=String(nullable=False),
    tax_id_data=Unsupported(),
    test_clock=Ref(object_type="test_helpers.test_clock", noun="test clock"),
    checks=(_check_invoice_prefix,),
)
UPDATE = endpoint(**WRITABLE, default_source=Unsupported(), checks=(_check_invoice_prefix,))
LIST = endpoint(
    **PAGE_PARAMS,
    created=CREATED_FILTER,
    email=String(max_length=512),
    test_clock=String(nullable=False),
    exclusive=PAGE_EXCLUSIVE,
)


def _empty_list(suffix: str):
    def compute(account: Account, customer: dict[str, Any]) -> dict[str, Any]:
        return list_object([], False, f"/v1/customers/{customer['id']}/{suffix}")

    return compute


def _subscriptions(account: Account, customer: dict[str, Any]) -> dict[str, Any]:
    mine = [s for s in account.collection("subscription").newest_first() if s["customer"] == customer["id"]]
    return list_object(mine[:10], len(mine) > 10, f"/v1/customers/{customer['id']}/subscriptions")


CUSTOMER = ObjectType(
    name="customer",
    noun="customer",
    expandable={"test_clock": "test_helpers.test_clock"},
    expand_only={
        "subscriptions": _subscriptions,
        "sources": _empty_list("sources"),
        "tax_ids": _empty_list("tax_ids"),
        "cash_balance": lambda account, customer: None,
        "invoice_credit_balance": lambda account, customer: {},
        "tax": lambda account, customer: {
            "automatic_tax": "unrecognized_location",
            "ip_address": None,
            "location": None,
            "provider": "stripe",
        },
    },
    nested={"subscriptions": ListOf("subscription")},
)


def _address(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: value.get(k) for k in ADDRESS.fields}


def _shipping(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    # `carrier` and `tracking_number` exist on the object but not among a customer's params.
    return {
        "address": _address(value["address"]),
        "carrier": None,
        "name": value["name"],
        "phone": value.get("phone"),
        "tracking_number": None,
    }


def _invoice_settings(current: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    settings = dict(current)
    for key, value in (given or {}).items():
        if key == "rendering_options" and value is not None:
            value = {"amount_tax_display": value.get("amount_tax_display"), "template": value.get("template")}
        settings[key] = value
    return settings


# How a param is written onto the customer when it needs more than a copy.
_WRITERS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "metadata": lambda customer, value: merge_metadata(customer["metadata"], value),
    "address": lambda customer, value: _address(value),
    "shipping": lambda customer, value: _shipping(value),
    "invoice_settings": lambda customer, value: _invoice_settings(customer["invoice_settings"], value),
    "preferred_locales": lambda customer, value: value or [],
    "tax_exempt": lambda customer, value: value or "none",
}
_NOT_STORED = frozenset({"expand", "validate", "payment_method"})


def _changes(customer: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What the writable params given in a create or update change on the customer."""
    changes = {}
    for key, value in params.items():
        if key not in _NOT_STORED:
            writer = _WRITERS.get(key)
            changes[key] = value if writer is None else writer(customer, value)
    return changes


def create(call: Call) -> dict[str, Any]:
    customer: dict[str, Any] = {
        "id": new_id("cus"),
        "object": "customer",
        "address": None,
        "balance": 0,
        "business_name": None,
        # A customer created on a test clock lives in the clock's time from the start.
        "created": call.account.clock_for(call.params).now(),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": random_upper(8),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    params, account = call.params, call.account
    # The card to save, checked before anything is stored; a default may name it as given.
    saved = None
    if params.get("payment_method") is not None:
        saved = payments.find_payment_method(account, params["payment_method"], "payment_method", customer["created"])
        payments.check_attachable(account, saved, None)
    default = (params.get("invoice_settings") or {}).get("default_payment_method")
    if default is not None and (saved is None or default not in (params["payment_method"], saved["id"])):
        payments.attached_payment_method(account, customer["id"], default, DEFAULT_PAYMENT_METHOD)
    customer.update(_changes(customer, params))
    if default is not None:
        customer["invoice_settings"]["default_payment_method"] = saved["id"]  # type: ignore[index]
    account.create(customer)
    if saved is not None:
        payments.attach(account, saved, customer)
    return customer


def retrieve(call: Call) -> dict[str, Any]:
    customers = call.account.collection("customer")
    found = customers.objects.get(call.path_params["id"])
    # A deleted customer still retrieves, as its deletion stub.
    return found if found is not None else call.path_object("customer")


def update(call: Call) -> dict[str, Any]:
    customer = call.path_object("customer")
    default = (call.params.get("invoice_settings") or {}).get("default_payment_method")
    if default is not None:
        payments.attached_payment_method(call.account, customer["id"], default, DEFAULT_PAYMENT_METHOD)
    return call.account.update(customer, _changes(customer, call.params))


def delete(call: Call) -> dict[str, Any]:
    customer = call.path_object("customer")
    # As on Stripe, deleting a customer cancels its subscriptions at once.
    account = call.account
    now = account.clock_for(customer).now()
    for subscription in list(account.collection("subscription").newest_first()):
        if subscription["customer"] == customer["id"] and subscription["status"] != "canceled":
            end_subscription(account, subscription, now)
    return account.delete(customer)


def list_customers(call: Call) -> dict[str, Any]:
    params = call.params
    email, created, test_clock = params.get("email"), params.get("created"), params.get("test_clock")

    def keep(customer: dict[str, Any]) -> bool:
        return (
            (email is None or customer["email"] == email)
            and (created is None or in_range(customer["created"], created))
            and test_clock in (None, customer["test_clock"])
        )

    return call.page("customer", keep)


def list_sources(call: Call) -> dict[str, Any]:
    """A customer's payment sources: none, since no source can be attached here."""
    customer = call.path_object("customer")
    return list_object([], False, f"/v1/customers/{customer['id']}/sources")


AREA = Area(
    name="customers",
    types=(CUSTOMER,),
    endpoints=(
        Endpoint("POST", "/v1/customers", create, CREATE, "Create a customer", returns="customer"),
        Endpoint("GET", "/v1/customers", list_customers, LIST, "List customers, newest first", returns=ListOf("customer")),
        Endpoint("GET", "/v1/customers/{id}", retrieve, endpoint(), "Retrieve a customer (or its deletion stub)", returns="customer"),
        Endpoint("POST", "/v1/customers/{id}", update, UPDATE, "Update a customer", returns="customer"),
        Endpoint("DELETE", "/v1/customers/{id}", delete, endpoint(), "Delete a customer", returns="customer"),
        Endpoint(
            "GET",
            "/v1/customers/{id}/sources",
            list_sources,
            endpoint(**PAGE_PARAMS, object=String(), exclusive=PAGE_EXCLUSIVE),
            "List a customer's payment sources (always none)",
        ),
    ),
)
