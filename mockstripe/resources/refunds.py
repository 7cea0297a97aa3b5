"""Refunds: `/v1/refunds`, giving back all or part of a captured charge (named directly or by its
PaymentIntent)."""

from __future__ import annotations

from typing import Any

from ..domain import payments
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import CREATED_FILTER, Enum, Integer, Map, Ref, String, Unsupported, endpoint, merge_metadata

Obj = dict[str, Any]

CHARGE_OR_INTENT = "One of the following params should be provided for this request: payment_intent or charge."


def _check_create(values: Obj, path: str) -> None:
    if values.get("charge") is None and values.get("payment_intent") is None:
        raise invalid(CHARGE_OR_INTENT)


CREATE = endpoint(
    charge=Ref(object_type="charge", noun="charge"),
    payment_intent=Ref(object_type="payment_intent", noun="payment_intent"),
    amount=Integer(minimum=1),
    reason=Enum("duplicate", "fraudulent", "requested_by_customer"),
    metadata=Map(),
    instructions_email=String(),
    **{k: Unsupported() for k in ("currency", "customer", "origin", "refund_application_fee", "reverse_transfer")},
    exclusive=(("charge", "payment_intent"),),
    checks=(_check_create,),
)
UPDATE = endpoint(metadata=Map())
LIST = endpoint(
    **PAGE_PARAMS,
    charge=String(nullable=False),
    payment_intent=String(nullable=False),
    created=CREATED_FILTER,
    exclusive=PAGE_EXCLUSIVE,
)

REFUND = ObjectType(
    name="refund",
    noun="refund",
    expandable={
        "charge": "charge",
        "payment_intent": "payment_intent",
        "balance_transaction": "balance_transaction",
        "failure_balance_transaction": "balance_transaction",
        "source_transfer_reversal": "transfer_reversal",
        "transfer_reversal": "transfer_reversal",
    },
)


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    if params.get("charge") is not None:
        charge = account.find("charge", params["charge"])
    else:
        intent = account.find("payment_intent", params["payment_intent"])
        assert intent is not None
        charge = payments.refundable_charge(account, intent)
    assert charge is not None
    customer = account.find("customer", charge["customer"]) if charge["customer"] else None
    return payments.refund(
        account,
        charge,
        params.get("amount"),
        reason=params.get("reason"),
        metadata=params.get("metadata"),
        now=account.clock_for(customer).now(),
    )


def retrieve(call: Call) -> Obj:
    return call.path_object("refund", "refund")


def update(call: Call) -> Obj:
    refund = call.path_object("refund", "refund")
    if "metadata" not in call.params:
        return refund
    return call.account.update(refund, {"metadata": merge_metadata(refund["metadata"], call.params["metadata"])})


def list_refunds(call: Call) -> Obj:
    params = call.params

    def keep(refund: Obj) -> bool:
        return (
            params.get("charge") in (None, refund["charge"])
            and params.get("payment_intent") in (None, refund["payment_intent"])
            and (params.get("created") is None or in_range(refund["created"], params["created"]))
        )

    return call.page("refund", keep)


AREA = Area(
    name="refunds",
    types=(REFUND,),
    endpoints=(
        Endpoint("POST", "/v1/refunds", create, CREATE, "Refund a charge, in full or in part", returns="refund"),
        Endpoint("GET", "/v1/refunds", list_refunds, LIST, "List refunds, newest first", returns=ListOf("refund")),
        Endpoint("GET", "/v1/refunds/{refund}", retrieve, endpoint(), "Retrieve a refund", returns="refund"),
        Endpoint("POST", "/v1/refunds/{refund}", update, UPDATE, "Update a refund's metadata", returns="refund"),
    ),
)
