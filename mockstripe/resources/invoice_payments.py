"""Invoice payments: `/v1/invoice_payments`, the payments made (or attempted) for each invoice."""

from __future__ import annotations

from typing import Any

from ..routing import Area, Call, Endpoint
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import CREATED_FILTER, Enum, Hash, String, endpoint

Obj = dict[str, Any]

LIST = endpoint(
    **PAGE_PARAMS,
    created=CREATED_FILTER,
    invoice=String(nullable=False),
    payment=Hash(
        fields={
            "type": Enum("payment_intent", "payment_record", required=True),
            "payment_intent": String(),
            "payment_record": String(),
        }
    ),
    status=Enum("canceled", "open", "paid"),
    exclusive=PAGE_EXCLUSIVE,
)

INVOICE_PAYMENT = ObjectType(
    name="invoice_payment",
    noun="invoice payment",
    expandable={
        "invoice": "invoice",
        "payment.payment_intent": "payment_intent",
        "payment.charge": "charge",
        "payment.payment_record": "payment_record",
    },
)


def retrieve(call: Call) -> Obj:
    return call.path_object("invoice_payment", "invoice_payment")


def list_payments(call: Call) -> Obj:
    params = call.params
    wanted = params.get("payment") or {}

    def keep(payment: Obj) -> bool:
        return (
            params.get("invoice") in (None, payment["invoice"])
            and params.get("status") in (None, payment["status"])
            and wanted.get("type") in (None, payment["payment"]["type"])
            and wanted.get("payment_intent") in (None, payment["payment"].get("payment_intent"))
            and (params.get("created") is None or in_range(payment["created"], params["created"]))
        )

    return call.page("invoice_payment", keep)


AREA = Area(
    name="invoice_payments",
    types=(INVOICE_PAYMENT,),
    endpoints=(
        Endpoint(
            "GET", "/v1/invoice_payments", list_payments, LIST, "List invoice payments, newest first",
            returns=ListOf("invoice_payment"),
        ),
        Endpoint(
            "GET", "/v1/invoice_payments/{invoice_payment}", retrieve, endpoint(), "Retrieve an invoice payment",
            returns="invoice_payment",
        ),
    ),
)
