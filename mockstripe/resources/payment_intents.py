"""PaymentIntents: `/v1/payment_intents`, charging a card once (and capturing later, on request).

Statuses as on Stripe: `requires_payment_method` → `requires_confirmation` → (`requires_action`) →
`succeeded`, or `requires_capture` under manual capture; `canceled`. A refused card answers Stripe's
402 `card_error` with the intent, which is back to `requires_payment_method` with its failed charge.
"""

from __future__ import annotations

from typing import Any

from ..domain import collection, payments
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
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
)

Obj = dict[str, Any]

CAPTURE_METHOD = Enum("automatic", "automatic_async", "manual")
SETUP_FUTURE_USAGE = Enum("off_session", "on_session", nullable=True)
DESCRIPTOR = String(max_length=22)
# Parameters of features this server does not model (Connect, mandates, other payment method types, ...).
_UNSUPPORTED = (
    "allowed_payment_method_types", "amount_details", "application_fee_amount", "confirmation_token",
    "customer_account", "excluded_payment_method_types", "hooks", "mandate", "mandate_data", "on_behalf_of",
    "payment_details", "payment_method_configuration", "payment_method_data", "payment_method_options",
    "radar_options", "shipping", "transfer_data", "transfer_group",
)
_CONFIRM_UNSUPPORTED = (
    "allowed_payment_method_types", "amount_details", "amount_to_confirm", "confirmation_token",
    "excluded_payment_method_types", "hooks", "mandate", "mandate_data", "payment_details", "payment_method_data",
    "payment_method_options", "radar_options", "shipping",
)
_UPDATE_UNSUPPORTED = (
    "allowed_payment_method_types", "amount_details", "application_fee_amount", "customer_account",
    "excluded_payment_method_types", "hooks", "payment_details", "payment_method_configuration",
    "payment_method_data", "payment_method_options", "shipping", "transfer_data", "transfer_group",
)

CREATE = endpoint(
    amount=Integer(required=True, minimum=1),
    currency=Currency(required=True),
    customer=Ref(object_type="customer", noun="customer"),
    payment_method=String(nullable=False),
    confirm=Boolean(),
    off_session=Boolean(),
    error_on_requires_action=Boolean(),
    capture_method=CAPTURE_METHOD,
    confirmation_method=Enum("automatic", "manual"),
    description=String(),
    metadata=Map(),
    receipt_email=String(),
    setup_future_usage=SETUP_FUTURE_USAGE,
    statement_descriptor=DESCRIPTOR,
    statement_descriptor_suffix=DESCRIPTOR,
    payment_method_types=List(item=String()),
    automatic_payment_methods=Hash(
        fields={"enabled": Boolean(required=True), "allow_redirects": Enum("always", "never")}
    ),
    return_url=String(),
    use_stripe_sdk=Boolean(),
    **{k: Unsupported() for k in _UNSUPPORTED},
    exclusive=(("automatic_payment_methods", "payment_method_types"),),
)
CONFIRM = endpoint(
    payment_method=String(nullable=False),
    off_session=Boolean(),
    error_on_requires_action=Boolean(),
    capture_method=CAPTURE_METHOD,
    receipt_email=String(),
    setup_future_usage=SETUP_FUTURE_USAGE,
    return_url=String(),
    use_stripe_sdk=Boolean(),
    **{k: Unsupported() for k in _CONFIRM_UNSUPPORTED},
)
UPDATE = endpoint(
    amount=Integer(minimum=1),
    currency=Currency(),
    customer=Ref(object_type="customer", noun="customer"),
    payment_method=String(nullable=False),
    capture_method=CAPTURE_METHOD,
    description=String(),
    metadata=Map(),
    receipt_email=String(),
    setup_future_usage=SETUP_FUTURE_USAGE,
    statement_descriptor=DESCRIPTOR,
    statement_descriptor_suffix=DESCRIPTOR,
    **{k: Unsupported() for k in _UPDATE_UNSUPPORTED},
)
CANCEL = endpoint(cancellation_reason=Enum("abandoned", "duplicate", "fraudulent", "requested_by_customer"))
CAPTURE = endpoint(
    amount_to_capture=Integer(minimum=1),
    metadata=Map(),
    statement_descriptor=DESCRIPTOR,
    statement_descriptor_suffix=DESCRIPTOR,
    **{
        k: Unsupported()
        for k in ("amount_details", "application_fee_amount", "final_capture", "hooks", "payment_details", "transfer_data")
    },
)
LIST = endpoint(
    **PAGE_PARAMS,
    created=CREATED_FILTER,
    customer=String(nullable=False),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)

PAYMENT_INTENT = ObjectType(
    name="payment_intent",
    noun="payment_intent",
    expandable={
        "customer": "customer",
        "payment_method": "payment_method",
        "latest_charge": "charge",
        "application": "application",
        "on_behalf_of": "account",
        "review": "review",
        "source": "source",
    },
)


def _now(call: Call, customer_id: str | None) -> int:
    """The time of the intent's customer (its test clock's, if it has one)."""
    customer = call.account.find("customer", customer_id) if customer_id is not None else None
    return call.account.clock_for(customer).now()


def _confirm(call: Call, intent: Obj, payment_method_id: str | None, params: Obj) -> Obj:
    """Charge the intent's card; a refusal is Stripe's 402 with the intent as it now is."""
    account = call.account
    now = _now(call, intent["customer"])
    payment_method = payments.find_payment_method(
        account, payment_method_id or intent["payment_method"], "payment_method", now
    )
    off_session = bool(params.get("off_session") or params.get("error_on_requires_action"))
    decline = payments.attempt(account, intent, payment_method, off_session=off_session, now=now)
    if decline is not None:
        raise payments.decline_error(account, intent, decline)
    if intent["status"] == "succeeded":
        collection.intent_succeeded(account, intent, now)
    if (
        intent["status"] == "succeeded"
        and intent["setup_future_usage"] is not None
        and intent["customer"] is not None
        and payment_method["customer"] is None
    ):
        customer = account.find("customer", intent["customer"])
        if customer is not None:
            payments.attach(account, payment_method, customer)
    return intent


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    payments.minimum_amount(params["amount"], params["currency"])
    now = _now(call, params.get("customer"))
    payment_method = None
    if params.get("payment_method") is not None:
        payment_method = payments.find_payment_method(account, params["payment_method"], "payment_method", now)
    if params.get("confirm") and payment_method is None:
        raise invalid(payments.MISSING_PAYMENT_METHOD, code="payment_intent_unexpected_state")
    intent = payments.new_intent(
        account,
        amount=params["amount"],
        currency=params["currency"],
        now=now,
        customer=params.get("customer"),
        payment_method=None if payment_method is None else payment_method["id"],
        capture_method=params.get("capture_method") or payments.DEFAULT_CAPTURE_METHOD,
        description=params.get("description"),
        metadata=params.get("metadata"),
        payment_method_types=params.get("payment_method_types"),
        receipt_email=params.get("receipt_email"),
        setup_future_usage=params.get("setup_future_usage"),
        statement_descriptor=params.get("statement_descriptor"),
        statement_descriptor_suffix=params.get("statement_descriptor_suffix"),
    )
    if params.get("confirm"):
        _confirm(call, intent, None, params)
    return intent


def retrieve(call: Call) -> Obj:
    return call.path_object("payment_intent", "intent")


_SETTABLE = (
    "amount", "currency", "customer", "capture_method", "description", "receipt_email", "setup_future_usage",
    "statement_descriptor", "statement_descriptor_suffix",
)


def update(call: Call) -> Obj:
    intent = call.path_object("payment_intent", "intent")
    payments.check_updatable(intent)
    params, account = call.params, call.account
    changes: Obj = {key: params[key] for key in _SETTABLE if key in params}
    if "amount" in params or "currency" in params:
        payments.minimum_amount(params.get("amount", intent["amount"]), params.get("currency") or intent["currency"])
    if "metadata" in params:
        changes["metadata"] = merge_metadata(intent["metadata"], params["metadata"])
    if params.get("payment_method") is not None:
        payment_method = payments.find_payment_method(
            account, params["payment_method"], "payment_method", _now(call, intent["customer"])
        )
        changes.update(payment_method=payment_method["id"], status="requires_confirmation", next_action=None)
    return account.update(intent, changes)


def confirm(call: Call) -> Obj:
    intent = call.path_object("payment_intent", "intent")
    params = call.params
    payments.check_confirmable(intent, params.get("payment_method") is not None)
    settings: Obj = {
        key: params[key] for key in ("capture_method", "receipt_email", "setup_future_usage") if key in params
    }
    if settings:
        call.account.update(intent, settings)
    return _confirm(call, intent, params.get("payment_method"), params)


def cancel(call: Call) -> Obj:
    intent = call.path_object("payment_intent", "intent")
    return payments.cancel(call.account, intent, call.params.get("cancellation_reason"), _now(call, intent["customer"]))


def capture(call: Call) -> Obj:
    intent = call.path_object("payment_intent", "intent")
    params = call.params
    captured = payments.capture(call.account, intent, params.get("amount_to_capture"))
    if "metadata" in params:
        call.account.update(captured, {"metadata": merge_metadata(captured["metadata"], params["metadata"])})
    return captured


def list_intents(call: Call) -> Obj:
    params = call.params

    def keep(intent: Obj) -> bool:
        return params.get("customer") in (None, intent["customer"]) and (
            params.get("created") is None or in_range(intent["created"], params["created"])
        )

    return call.page("payment_intent", keep)


PATH = "/v1/payment_intents"
AREA = Area(
    name="payment_intents",
    types=(PAYMENT_INTENT,),
    endpoints=(
        Endpoint("POST", PATH, create, CREATE, "Create a PaymentIntent (and confirm it with `confirm=true`)", returns="payment_intent"),
        Endpoint("GET", PATH, list_intents, LIST, "List PaymentIntents, newest first", returns=ListOf("payment_intent")),
        Endpoint("GET", PATH + "/{intent}", retrieve, endpoint(client_secret=String()), "Retrieve a PaymentIntent", returns="payment_intent"),
        Endpoint("POST", PATH + "/{intent}", update, UPDATE, "Update an unconfirmed PaymentIntent", returns="payment_intent"),
        Endpoint(
            "POST", PATH + "/{intent}/confirm", confirm, CONFIRM,
            "Confirm a PaymentIntent: charge its card (402 when the card declines)", returns="payment_intent",
        ),
        Endpoint("POST", PATH + "/{intent}/cancel", cancel, CANCEL, "Cancel a PaymentIntent", returns="payment_intent"),
        Endpoint(
            "POST", PATH + "/{intent}/capture", capture, CAPTURE,
            "Capture an authorized (manual capture) PaymentIntent, in full or in part", returns="payment_intent",
        ),
    ),
)
