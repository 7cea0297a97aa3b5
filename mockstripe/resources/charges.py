"""Charges: `/v1/charges`, read (and annotated) only: charges come from confirming PaymentIntents."""

from __future__ import annotations

from typing import Any

from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range, list_object
from ..wire.objects import ListOf, ObjectType
from ..wire.params import CREATED_FILTER, Map, String, Unsupported, endpoint, merge_metadata

Obj = dict[str, Any]

# A charge embeds its newest refunds when `refunds` is expanded.
REFUNDS_SHOWN = 10

LIST = endpoint(
    **PAGE_PARAMS,
    created=CREATED_FILTER,
    customer=String(nullable=False),
    payment_intent=String(nullable=False),
    transfer_group=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)
UPDATE = endpoint(
    description=String(),
    metadata=Map(),
    receipt_email=String(),
    **{k: Unsupported() for k in ("customer", "fraud_details", "shipping", "transfer_group")},
)


def _refunds(account: Account, charge: Obj) -> Obj:
    mine = [r for r in account.collection("refund").newest_first() if r["charge"] == charge["id"]]
    return list_object(mine[:REFUNDS_SHOWN], len(mine) > REFUNDS_SHOWN, f"/v1/charges/{charge['id']}/refunds")


CHARGE = ObjectType(
    name="charge",
    noun="charge",
    expandable={
        "customer": "customer",
        "payment_intent": "payment_intent",
        "balance_transaction": "balance_transaction",
        "application": "application",
        "application_fee": "application_fee",
        "failure_balance_transaction": "balance_transaction",
        "on_behalf_of": "account",
        "review": "review",
        "source_transfer": "transfer",
        "transfer": "transfer",
    },
    expand_only={"refunds": _refunds},
    nested={"refunds": ListOf("refund")},
)


def retrieve(call: Call) -> Obj:
    return call.path_object("charge", "charge")


def update(call: Call) -> Obj:
    charge = call.path_object("charge", "charge")
    params = call.params
    changes: Obj = {key: params[key] for key in ("description", "receipt_email") if key in params}
    if "metadata" in params:
        changes["metadata"] = merge_metadata(charge["metadata"], params["metadata"])
    return call.account.update(charge, changes)


def list_charges(call: Call) -> Obj:
    params = call.params

    def keep(charge: Obj) -> bool:
        return (
            params.get("customer") in (None, charge["customer"])
            and params.get("payment_intent") in (None, charge["payment_intent"])
            and (params.get("created") is None or in_range(charge["created"], params["created"]))
        )

    return call.page("charge", keep)


AREA = Area(
    name="charges",
    types=(CHARGE,),
    endpoints=(
        Endpoint("GET", "/v1/charges", list_charges, LIST, "List charges, newest first", returns=ListOf("charge")),
        Endpoint("GET", "/v1/charges/{charge}", retrieve, endpoint(), "Retrieve a charge", returns="charge"),
        Endpoint("POST", "/v1/charges/{charge}", update, UPDATE, "Update a charge's description or metadata", returns="charge"),
    ),
)
