"""Billing credits: `/v1/billing/credit_grants`, `/v1/billing/credit_balance_summary` and
`/v1/billing/credit_balance_transactions` (see `domain/credits.py`)."""

from __future__ import annotations

from typing import Any

from ..domain import credits
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid, no_such
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    TIMESTAMP,
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
    require_one,
)

Obj = dict[str, Any]

GRANT = ObjectType(
    name=credits.GRANT,
    noun="credit grant",
    expandable={"customer": "customer", "test_clock": "test_helpers.test_clock"},
)
TRANSACTION = ObjectType(
    name=credits.TRANSACTION,
    noun="credit balance transaction",
    expandable={
        "credit_grant": credits.GRANT,
        "test_clock": "test_helpers.test_clock",
        "debit.credits_applied.invoice": "invoice",
        "credit.credits_application_invoice_voided.invoice": "invoice",
    },
)
SUMMARY = ObjectType(name="billing.credit_balance_summary", noun="credit balance summary", expandable={"customer": "customer"})

PRICE_LIST = List(min_items=1, max_items=20, item=Hash(fields={"id": Ref(required=True, object_type="price", noun="price")}))


def _one_scope(values: dict[str, Any], path: str) -> None:
    given = [key for key in ("price_type", "prices") if values.get(key) is not None]
    if len(given) != 1:
        # UNSURE: Stripe's wording for a scope with neither or both.
        raise invalid(
            "You must specify exactly one of price_type or prices in the applicability scope.",
            param=f"{path}[price_type]",
        )


SCOPE = Hash(required=True, fields={"price_type": Enum("metered"), "prices": PRICE_LIST}, checks=(_one_scope,))

CREATE = endpoint(
    customer=Ref(object_type="customer", noun="customer", required=True),
    customer_account=Unsupported(),
    amount=Hash(
        required=True,
        fields={
            "type": Enum("monetary", required=True),
            "monetary": Hash(
                required=True,
                fields={"currency": Currency(required=True), "value": Integer(required=True, minimum=1)},
            ),
        },
    ),
    applicability_config=Hash(required=True, fields={"scope": SCOPE}),
    category=Enum("paid", "promotional"),
    effective_at=TIMESTAMP,
    expires_at=TIMESTAMP,
    metadata=Map(),
    name=String(max_length=100),
    priority=Integer(minimum=0, maximum=100),
)
UPDATE = endpoint(expires_at=TIMESTAMP, metadata=Map())
LIST_GRANTS = endpoint(
    **PAGE_PARAMS, customer=String(nullable=False), customer_account=Unsupported(), exclusive=PAGE_EXCLUSIVE
)
SUMMARY_PARAMS = endpoint(
    customer=Ref(object_type="customer", noun="customer", required=True),
    customer_account=Unsupported(),
    filter=Hash(
        required=True,
        fields={
            "type": Enum("applicability_scope", "credit_grant", required=True),
            "credit_grant": String(nullable=False),
            "applicability_scope": Hash(fields={"price_type": Enum("metered"), "prices": PRICE_LIST}, checks=(_one_scope,)),
        },
    ),
)
LIST_TRANSACTIONS = endpoint(
    **PAGE_PARAMS,
    customer=String(nullable=False),
    credit_grant=String(nullable=False),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
    checks=(require_one("customer", "credit_grant"),),
)


def create(call: Call) -> Obj:
    params = call.params
    customer = call.account.find("customer", params["customer"])
    assert customer is not None
    currency = params["amount"]["monetary"]["currency"]
    if customer["currency"] is not None and customer["currency"] != currency:
        # UNSURE: Stripe's wording for a grant in another currency than the customer's invoices.
        raise invalid(
            f"The credit grant's currency ({currency}) must match the customer's currency ({customer['currency']}).",
            param="amount[monetary][currency]",
        )
    effective_at, expires_at = params.get("effective_at"), params.get("expires_at")
    start = effective_at if effective_at is not None else call.account.clock_for(customer).now()
    if expires_at is not None and expires_at <= start:
        # UNSURE: Stripe's wording.
        raise invalid("expires_at must be after effective_at.", param="expires_at")
    return credits.grant(call.account, customer, params)


def retrieve(call: Call) -> Obj:
    return call.path_object(GRANT.name)


def list_grants(call: Call) -> Obj:
    customer = call.params.get("customer")
    return call.page(GRANT.name, None if customer is None else lambda g: g["customer"] == customer)


def _ended(credit_grant: Obj, action: str) -> None:
    if credit_grant["voided_at"] is not None:
        # UNSURE: Stripe's wording for changing a voided grant.
        raise invalid(f"The credit grant {credit_grant['id']} is voided and cannot be {action}.")


def update(call: Call) -> Obj:
    credit_grant = call.path_object(GRANT.name)
    _ended(credit_grant, "updated")
    params = call.params
    changes: Obj = {}
    if "expires_at" in params:
        changes["expires_at"] = params["expires_at"]
    if "metadata" in params:
        changes["metadata"] = merge_metadata(credit_grant["metadata"], params["metadata"])
    if changes:
        changes["updated"] = credits.customer_now(call.account, credit_grant["customer"])
        call.account.update(credit_grant, changes)
    return credit_grant


def expire(call: Call) -> Obj:
    credit_grant = call.path_object(GRANT.name)
    _ended(credit_grant, "expired")
    now = credits.customer_now(call.account, credit_grant["customer"])
    if credit_grant["expires_at"] is not None and credit_grant["expires_at"] <= now:
        # UNSURE: Stripe's wording for expiring an expired grant.
        raise invalid(f"The credit grant {credit_grant['id']} has already expired.")
    credits.expire(call.account, credit_grant)
    return credit_grant


def void(call: Call) -> Obj:
    credit_grant = call.path_object(GRANT.name)
    _ended(credit_grant, "voided")
    if credits.is_used(call.account, credit_grant):
        # UNSURE: Stripe's wording for voiding a grant whose credits were applied.
        raise invalid(
            f"The credit grant {credit_grant['id']} cannot be voided because some of its credits have been applied "
            "to invoices. Expire it instead."
        )
    credits.void(call.account, credit_grant)
    return credit_grant


def balance_summary(call: Call) -> Obj:
    params = call.params
    customer_id = params["customer"]
    chosen = params["filter"]
    if chosen["type"] == "credit_grant":
        grant_id = chosen.get("credit_grant")
        if grant_id is None:
            raise invalid("Missing required param: filter[credit_grant].", param="filter[credit_grant]", code="parameter_missing")
        if call.account.find(GRANT.name, grant_id) is None:
            raise no_such(GRANT.noun, grant_id, "filter[credit_grant]")

        def keep(g: Obj) -> bool:
            return g["id"] == grant_id
    else:
        scope = chosen.get("applicability_scope")
        if scope is None:
            raise invalid(
                "Missing required param: filter[applicability_scope].",
                param="filter[applicability_scope]",
                code="parameter_missing",
            )
        prices = [call.account.find("price", p["id"]) for p in scope.get("prices") or ()]

        def keep(g: Obj) -> bool:
            if prices:
                return all(credits.applies_to(g, price) for price in prices if price is not None)
            return g["applicability_config"]["scope"]["price_type"] == "metered"

    now = credits.customer_now(call.account, customer_id)
    return {
        "object": SUMMARY.name,
        "balances": credits.summary(call.account, customer_id, keep, now),
        "customer": customer_id,
        "customer_account": None,
        "livemode": False,
    }


def retrieve_transaction(call: Call) -> Obj:
    return call.path_object(TRANSACTION.name)


def list_transactions(call: Call) -> Obj:
    customer, grant_id = call.params.get("customer"), call.params.get("credit_grant")
    grants = call.account.collection(GRANT.name)

    def keep(transaction: Obj) -> bool:
        owner = grants.objects.get(transaction["credit_grant"]) or {}
        return (grant_id is None or transaction["credit_grant"] == grant_id) and (
            customer is None or owner.get("customer") == customer
        )

    return call.page(TRANSACTION.name, keep)


GRANTS = "/v1/billing/credit_grants"
TRANSACTIONS = "/v1/billing/credit_balance_transactions"

AREA = Area(
    name="credits",
    types=(GRANT, TRANSACTION, SUMMARY),
    endpoints=(
        Endpoint("POST", GRANTS, create, CREATE, "Grant a customer billing credits", returns=GRANT.name),
        Endpoint("GET", GRANTS, list_grants, LIST_GRANTS, "List credit grants, newest first", returns=ListOf(GRANT.name)),
        Endpoint("GET", GRANTS + "/{id}", retrieve, endpoint(), "Retrieve a credit grant", returns=GRANT.name),
        Endpoint("POST", GRANTS + "/{id}", update, UPDATE, "Update a credit grant's expiry or metadata", returns=GRANT.name),
        Endpoint("POST", GRANTS + "/{id}/expire", expire, endpoint(), "Expire a credit grant now", returns=GRANT.name),
        Endpoint("POST", GRANTS + "/{id}/void", void, endpoint(), "Void an unused credit grant", returns=GRANT.name),
        Endpoint(
            "GET", "/v1/billing/credit_balance_summary", balance_summary, SUMMARY_PARAMS,
            "A customer's credit balance, by grant or applicability scope", returns=SUMMARY.name,
        ),
        Endpoint(
            "GET", TRANSACTIONS, list_transactions, LIST_TRANSACTIONS,
            "List credit balance transactions, newest first", returns=ListOf(TRANSACTION.name),
        ),
        Endpoint(
            "GET", TRANSACTIONS + "/{id}", retrieve_transaction, endpoint(),
            "Retrieve a credit balance transaction", returns=TRANSACTION.name,
        ),
    ),
)
