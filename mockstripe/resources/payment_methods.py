"""Payment methods: `/v1/payment_methods` (cards only) and a customer's saved cards.

Cards come from Stripe's test cards (`domain/cards.py`): a token (`card[token]=tok_visa`), a raw
test number, or a ready-made id (`pm_card_visa`) wherever a payment method id is taken.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..domain import cards, payments
from ..routing import Area, Call, Endpoint
from ..wire.errors import StripeError, invalid, no_such
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    Enum,
    Hash,
    Integer,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    merge_metadata,
    missing,
    require_one,
)

Obj = dict[str, Any]

# Payment method types Stripe has and this server does not make (their hashes are refused).
OTHER_TYPES = (
    "acss_debit", "affirm", "afterpay_clearpay", "alipay", "alma", "amazon_pay", "au_becs_debit", "bacs_debit",
    "bancontact", "billie", "bizum", "blik", "boleto", "cashapp", "crypto", "custom", "customer_balance", "eps",
    "fpx", "giropay", "grabpay", "ideal", "interac_present", "kakao_pay", "klarna", "konbini", "kr_card", "link",
    "mb_way", "mobilepay", "multibanco", "naver_pay", "nz_bank_account", "oxxo", "p24", "pay_by_bank", "payco",
    "paynow", "paypal", "paypay", "payto", "pix", "promptpay", "revolut_pay", "samsung_pay", "satispay",
    "scalapay", "sepa_debit", "sequra", "sofort", "sunbit", "swish", "twint", "upi", "us_bank_account",
    "wechat_pay", "zip",
)
ONLY_CARDS = "The payment method type {} is not supported by mockstripe: only `card` payment methods are."
ALLOW_REDISPLAY = Enum("always", "limited", "unspecified")
BILLING_DETAILS = Hash(
    fields={
        "address": Hash(
            nullable=True,
            fields={k: String() for k in ("city", "country", "line1", "line2", "postal_code", "state")},
        ),
        "email": String(),
        "name": String(),
        "phone": String(),
        "tax_id": String(),
    }
)
EXPIRY = {"exp_month": Integer(), "exp_year": Integer()}


def _check_create(values: Obj, path: str) -> None:
    kind = values.get("type")
    if kind is None:
        raise missing("type")
    if kind != "card":
        raise invalid(ONLY_CARDS.format(kind), param="type")
    card = values.get("card")
    if card is None:
        raise missing("card")
    if card.get("token") is None and card.get("number") is None:
        raise missing("card[number]")
    if card.get("number") is not None:
        for key in ("exp_month", "exp_year"):
            if card.get(key) is None:
                raise missing(f"card[{key}]")


CREATE = endpoint(
    type=String(nullable=False),
    card=Hash(
        fields={"token": String(), "number": String(), "cvc": String(), **EXPIRY, "networks": Unsupported()},
        exclusive=(("token", "number"),),
    ),
    billing_details=BILLING_DETAILS,
    metadata=Map(),
    allow_redisplay=ALLOW_REDISPLAY,
    customer=Unsupported(),
    payment_method=Unsupported(),
    radar_options=Unsupported(),
    **{k: Unsupported() for k in OTHER_TYPES},
    checks=(_check_create,),
)
UPDATE = endpoint(
    allow_redisplay=ALLOW_REDISPLAY,
    billing_details=BILLING_DETAILS,
    card=Hash(fields={**EXPIRY, "networks": Unsupported()}),
    metadata=Map(),
    us_bank_account=Unsupported(),
)
ATTACH = endpoint(
    customer=Ref(object_type="customer", noun="customer"),
    customer_account=Unsupported(),
    checks=(require_one("customer"),),
)
LIST = endpoint(
    **PAGE_PARAMS,
    customer=Ref(object_type="customer", noun="customer"),
    type=String(nullable=False),
    allow_redisplay=ALLOW_REDISPLAY,
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)
CUSTOMER_LIST = endpoint(
    **PAGE_PARAMS, type=String(nullable=False), allow_redisplay=ALLOW_REDISPLAY, exclusive=PAGE_EXCLUSIVE
)

PAYMENT_METHOD = ObjectType(name="payment_method", noun="PaymentMethod", expandable={"customer": "customer"})

INVALID_MONTH = "Your card's expiration month is invalid."
INVALID_YEAR = "Your card's expiration year is invalid."


def _expiry_error(message: str, code: str, param: str) -> StripeError:
    return StripeError(message, status=402, type="card_error", code=code, param=param)


def _check_expiry(month: int, year: int, now: int) -> None:
    if not 1 <= month <= 12:
        raise _expiry_error(INVALID_MONTH, "invalid_expiry_month", "exp_month")
    today = datetime.fromtimestamp(now, timezone.utc)
    if year < today.year:
        raise _expiry_error(INVALID_YEAR, "invalid_expiry_year", "exp_year")
    if (year, month) < (today.year, today.month):
        raise _expiry_error(INVALID_MONTH, "invalid_expiry_month", "exp_month")


def create(call: Call) -> Obj:
    params, now = call.params, call.now()
    given = params["card"]
    if given.get("token") is not None:
        card, exp = cards.from_token(given["token"], "card[token]"), None
    else:
        card = cards.from_number(given["number"])
        _check_expiry(given["exp_month"], given["exp_year"], now)
        exp = (given["exp_month"], given["exp_year"])
    return payments.new_payment_method(
        call.account,
        card,
        now,
        details=params.get("billing_details"),
        metadata=params.get("metadata"),
        exp=exp,
        allow_redisplay=params.get("allow_redisplay") or "unspecified",
    )


def _path_payment_method(call: Call) -> Obj:
    return payments.find_payment_method(
        call.account, call.path_params["payment_method"], "payment_method", call.now(), status=404
    )


def retrieve(call: Call) -> Obj:
    return _path_payment_method(call)


def update(call: Call) -> Obj:
    payment_method = _path_payment_method(call)
    if payment_method["customer"] is None:
        raise invalid(payments.UPDATE_NEEDS_CUSTOMER)
    params = call.params
    changes: Obj = {}
    if "metadata" in params:
        changes["metadata"] = merge_metadata(payment_method["metadata"], params["metadata"])
    if params.get("allow_redisplay") is not None:
        changes["allow_redisplay"] = params["allow_redisplay"]
    if "billing_details" in params:
        changes["billing_details"] = payments.billing_details(
            {**payment_method["billing_details"], **(params["billing_details"] or {})}
        )
    expiry = {k: v for k, v in (params.get("card") or {}).items() if v is not None}
    if expiry:
        card = {**payment_method["card"], **expiry}
        _check_expiry(card["exp_month"], card["exp_year"], call.now())
        changes["card"] = card
    return call.account.update(payment_method, changes)


def attach(call: Call) -> Obj:
    payment_method = _path_payment_method(call)
    customer = call.account.find("customer", call.params["customer"])
    assert customer is not None
    return payments.attach(call.account, payment_method, customer)


def detach(call: Call) -> Obj:
    return payments.detach(call.account, _path_payment_method(call))


def _keep(params: Obj, customer: str | None):
    kind, redisplay = params.get("type"), params.get("allow_redisplay")

    def keep(payment_method: Obj) -> bool:
        return (
            (customer is None or payment_method["customer"] == customer)
            and kind in (None, payment_method["type"])
            and redisplay in (None, payment_method["allow_redisplay"])
        )

    return keep


def list_payment_methods(call: Call) -> Obj:
    return call.page("payment_method", _keep(call.params, call.params.get("customer")))


def list_for_customer(call: Call) -> Obj:
    customer = call.path_object("customer", "customer")
    return call.page("payment_method", _keep(call.params, customer["id"]))


def retrieve_for_customer(call: Call) -> Obj:
    customer = call.path_object("customer", "customer")
    payment_method = call.account.find("payment_method", call.path_params["payment_method"])
    if payment_method is None or payment_method["customer"] != customer["id"]:
        raise no_such("PaymentMethod", call.path_params["payment_method"], "payment_method", status=404)
    return payment_method


PATH = "/v1/payment_methods"
AREA = Area(
    name="payment_methods",
    types=(PAYMENT_METHOD,),
    endpoints=(
        Endpoint("POST", PATH, create, CREATE, "Create a card payment method from a test token or number", returns="payment_method"),
        Endpoint("GET", PATH, list_payment_methods, LIST, "List payment methods, newest first", returns=ListOf("payment_method")),
        Endpoint("GET", PATH + "/{payment_method}", retrieve, endpoint(), "Retrieve a payment method", returns="payment_method"),
        Endpoint("POST", PATH + "/{payment_method}", update, UPDATE, "Update a customer's payment method", returns="payment_method"),
        Endpoint(
            "POST", PATH + "/{payment_method}/attach", attach, ATTACH,
            "Attach a payment method to a customer (a declining card is refused)", returns="payment_method",
        ),
        Endpoint(
            "POST", PATH + "/{payment_method}/detach", detach, endpoint(),
            "Detach a payment method from its customer", returns="payment_method",
        ),
        Endpoint(
            "GET", "/v1/customers/{customer}/payment_methods", list_for_customer, CUSTOMER_LIST,
            "List a customer's payment methods", returns=ListOf("payment_method"),
        ),
        Endpoint(
            "GET", "/v1/customers/{customer}/payment_methods/{payment_method}", retrieve_for_customer, endpoint(),
            "Retrieve one of a customer's payment methods", returns="payment_method",
        ),
    ),
)
