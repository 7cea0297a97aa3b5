"""Checkout Sessions: `/v1/checkout/sessions`, and `/_mock/checkout/sessions/{id}/complete`, which
pays for one as the hosted page does, for tests without a browser."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..domain import cards, checkout, payments
from ..domain import discounts as discounting
from ..domain.subscriptions import check_customer_currency
from ..routing import Area, Call, Endpoint
from ..store import BY_THE_SERVER, Account
from ..wire.errors import invalid
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range, list_object, paginate_computed
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    QUANTITY,
    TIMESTAMP,
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
    require_one,
)
from . import customers, payment_intents, subscriptions

Obj = dict[str, Any]

MAX_LINE_ITEMS = 100
CUSTOMER_CREATION_IN_SUBSCRIPTION = (
    "`customer_creation` can only be used in `payment` and `setup` mode."
)
SUBSCRIPTION_DATA_OUTSIDE_SUBSCRIPTION = "You can only specify `subscription_data` in `subscription` mode."

URL = String(max_length=5000)
# Parameters of Stripe's that this server refuses (Stripe-shaped 400) rather than ignores.
_NOT_SUPPORTED = (
    "adaptive_pricing",
    "after_expiration",
    "allowed_payment_method_types",
    "automatic_tax",
    "branding_settings",
    "consent_collection",
    "custom_fields",
    "custom_text",
    "customer_account",
    "customer_update",
    "excluded_payment_method_types",
    "integration_identifier",
    "invoice_creation",
    "managed_payments",
    "name_collection",
    "optional_items",
    "origin_context",
    "payment_method_collection",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "permissions",
    "phone_number_collection",
    "redirect_on_completion",
    "return_url",
    "saved_payment_method_options",
    "setup_intent_data",
    "shipping_options",
    "submit_type",
    "tax_id_collection",
    "wallet_options",
)
LINE_ITEM = Hash(
    fields={
        "price": Ref(object_type="price", noun="price", required=True),
        "quantity": QUANTITY,
        "adjustable_quantity": Unsupported(),
        "dynamic_tax_rates": Unsupported(),
        "metadata": Unsupported(),
        "price_data": Unsupported(),
        "tax_rates": Unsupported(),
    }
)
CREATE = endpoint(
    mode=Enum("payment", "setup", "subscription", required=True),
    line_items=List(item=LINE_ITEM, max_items=MAX_LINE_ITEMS),
    customer=Ref(object_type="customer", noun="customer"),
    customer_email=String(max_length=512),
    customer_creation=Enum("always", "if_required"),
    currency=Currency(),
    success_url=URL,
    cancel_url=URL,
    client_reference_id=String(max_length=200),
    metadata=Map(),
    expires_at=TIMESTAMP,
    allow_promotion_codes=Boolean(),
    billing_address_collection=Enum("auto", "required"),
    locale=String(),
    payment_method_types=List(item=Enum("card")),
    ui_mode=Enum("hosted_page"),
    subscription_data=Hash(
        fields={
            "description": String(max_length=500),
            "metadata": Map(),
            "trial_period_days": Unsupported(),
            "trial_end": Unsupported(),
        }
    ),
    # A session takes one coupon or promotion code, or lets the customer type a code.
    discounts=List(
        item=Hash(
            fields={
                "coupon": Ref(object_type="coupon", noun="coupon"),
                "promotion_code": Ref(object_type="promotion_code", noun="promotion code"),
            },
            exclusive=(("coupon", "promotion_code"),),
            checks=(require_one("coupon", "promotion_code"),),
        ),
        max_items=1,
    ),
    payment_intent_data=Unsupported(),
    shipping_address_collection=Unsupported(),
    **{name: Unsupported() for name in _NOT_SUPPORTED},
    exclusive=(("customer", "customer_email"), ("allow_promotion_codes", "discounts")),
)
LIST = endpoint(
    **PAGE_PARAMS,
    created=CREATED_FILTER,
    customer=String(nullable=False),
    customer_details=Hash(fields={"email": String(required=True)}),
    payment_intent=String(nullable=False),
    payment_link=String(nullable=False),
    status=Enum("complete", "expired", "open"),
    subscription=String(nullable=False),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)
LINE_ITEMS = endpoint(**PAGE_PARAMS, exclusive=PAGE_EXCLUSIVE)

CHECKOUT_SESSION = ObjectType(
    name="checkout.session",
    noun="checkout session",
    expandable={
        "customer": "customer",
        "invoice": "invoice",
        "payment_intent": "payment_intent",
        "subscription": "subscription",
    },
    expand_only={"line_items": lambda account, session: _line_items_list(account, session)},
    nested={"line_items": ListOf("item")},
)


def _line_items_list(account: Account, session: Obj) -> Obj:
    items = checkout.items_of(account, session)
    return list_object(items, False, f"/v1/checkout/sessions/{session['id']}/line_items")


def expire_due(account: Account) -> None:
    """Sessions past their `expires_at` expire before they are shown (the server's doing)."""
    with account.caused_by(BY_THE_SERVER):
        checkout.expire_due(account, account.now())


def create(call: Call) -> Obj:
    params, account = call.params, call.account
    mode = params["mode"]
    if params.get("customer_creation") is not None and mode == "subscription":
        raise invalid(CUSTOMER_CREATION_IN_SUBSCRIPTION, param="customer_creation")
    if params.get("subscription_data") is not None and mode != "subscription":
        raise invalid(SUBSCRIPTION_DATA_OUTSIDE_SUBSCRIPTION, param="subscription_data")
    requested = params.get("line_items") or []
    prices = [account.find("price", item["price"]) or {} for item in requested]
    items = checkout.line_items(requested, prices, mode)
    for item in items:
        product = account.find("product", item["price"]["product"])
        item["description"] = product["name"] if product is not None else None
    customer = account.find("customer", params["customer"]) if params.get("customer") else None
    session = checkout.new_session(params, items, customer, call.origin, call.now())
    redemptions = checkout.check_discounts(account, params.get("discounts") or [], session, customer, call.now())
    fields, items = checkout.discounted(account, session, items, redemptions)
    session.update(fields)
    return account.create(session, line_items=items, subscription_data=params.get("subscription_data") or {})


def retrieve(call: Call) -> Obj:
    expire_due(call.account)
    return call.path_object("checkout.session")


def list_sessions(call: Call) -> Obj:
    expire_due(call.account)
    params = call.params
    wanted = {key: params[key] for key in ("customer", "payment_intent", "status", "subscription") if key in params}
    email = (params.get("customer_details") or {}).get("email")

    def keep(session: Obj) -> bool:
        if any(session[key] != value for key, value in wanted.items()):
            return False
        if email is not None and (session["customer_details"] or {}).get("email") != email:
            return False
        return "created" not in params or in_range(session["created"], params["created"])

    return call.page("checkout.session", keep)


def line_items(call: Call) -> Obj:
    session = call.path_object("checkout.session", "session")
    return paginate_computed(
        checkout.items_of(call.account, session), call.params, call.path, noun="line item"
    )


def expire(call: Call) -> Obj:
    session = call.path_object("checkout.session", "session")
    return checkout.expire(call.account, session)



# Paying for a session: the hosted page's "Pay" and `/_mock/checkout/sessions/{id}/complete`.

# UNSURE: on Stripe a card that needs 3-D Secure opens its challenge on the checkout page. There is
# no challenge here: such a card is refused with Stripe's authentication decline, like a declined one.
NEEDS_A_CARD = "Give a test card: `payment_method` (such as pm_card_visa) or `card_number` (such as 4242424242424242)."
NOT_A_TEST_CARD = "No such test card: '{}'. Use a pm_card_* id such as pm_card_visa."

COMPLETE = endpoint(
    payment_method=String(),
    card_number=String(max_length=40),
    email=String(max_length=512),
    promotion_code=String(max_length=500),
    exclusive=(("payment_method", "card_number"),),
)


def test_card(payment_method: str | None, card_number: str | None) -> cards.Card:
    if payment_method:
        card = cards.named(payment_method)
        if card is None:
            raise invalid(NOT_A_TEST_CARD.format(payment_method), param="payment_method")
        return card
    if card_number:
        return cards.from_number(card_number)
    raise invalid(NEEDS_A_CARD, param="payment_method")


def pay(
    call: Call,
    session: Obj,
    *,
    payment_method: str | None,
    card_number: str | None,
    email: str | None,
    promotion_code: str | None = None,
) -> Obj:
    """Complete `session` as Stripe does when its customer pays: the customer (made if needed) gets
    the card, the subscription or PaymentIntent is made and charged through the API's own handlers,
    discounted by the `promotion_code` the customer typed (or the session's `discounts`), and the
    session is `complete` (`checkout.session.completed`). A card that would be refused, or a code
    that cannot be redeemed, is refused before anything is made (the session still open)."""
    account, mode = call.account, session["mode"]
    checkout.check_open(session, account.now())
    card = test_card(payment_method, card_number)
    decline = card.declines if mode == "setup" else card.charge_decline()
    if decline is None and card.requires_authentication and mode != "setup":
        decline = cards.AUTHENTICATION_REQUIRED
    if decline is not None:
        raise payments.card_error(decline)
    email = email or (session["customer_details"] or {}).get("email") or session["customer_email"]
    customer = account.find("customer", session["customer"]) if session["customer"] else None
    now = account.clock_for(customer).now()
    requests = checkout.discount_requests(account, session, promotion_code)
    redemptions = checkout.check_discounts(account, requests, session, customer, now)
    fields, items = checkout.discounted(account, session, checkout.items_of(account, session), redemptions)
    if mode == "payment":
        payments.minimum_amount(fields["amount_total"], session["currency"])
    elif mode == "subscription" and customer is not None:
        check_customer_currency(customer, session["currency"])
    if promotion_code:
        checkout.apply_discounts(account, session, fields, items)
    card_method = payments.new_payment_method(account, card, now, details={"email": email})
    if customer is not None:
        payments.attach(account, card_method, customer)
    elif mode == "subscription" or session["customer_creation"] == "always":
        customer = customers.create(replace(call, params={"email": email, "payment_method": card_method["id"]}))
    customer_id = customer["id"] if customer is not None else None
    if mode == "subscription":
        data = account.collection("checkout.session").private[session["id"]]["subscription_data"]
        items = [
            {"price": item["price"]["id"], **({} if item["quantity"] is None else {"quantity": item["quantity"]})}
            for item in checkout.items_of(account, session)
        ]
        subscription = subscriptions.create(
            replace(
                call,
                params={
                    "customer": customer_id,
                    "items": items,
                    "default_payment_method": card_method["id"],
                    "payment_behavior": "error_if_incomplete",
                    "metadata": data.get("metadata"),
                    "description": data.get("description"),
                    **({"discounts": requests} if requests else {}),
                },
            )
        )
        return checkout.complete(
            account, session, email=email, customer=customer_id, subscription=subscription["id"],
            invoice=subscription["latest_invoice"],
        )
    if mode == "payment":
        intent = payment_intents.create(
            replace(
                call,
                params={
                    "amount": session["amount_total"],
                    "currency": session["currency"],
                    "customer": customer_id,
                    "payment_method": card_method["id"],
                    "confirm": True,
                },
            )
        )
        owner = {"checkout_session": session["id"], "customer": customer_id}
        discounting.redeem(account, discounting.prepare(redemptions, now, belongs_to=owner), now)
        return checkout.complete(account, session, email=email, customer=customer_id, payment_intent=intent["id"])
    return checkout.complete(account, session, email=email, customer=customer_id)


def complete(call: Call) -> Obj:
    session = call.path_object("checkout.session")
    params = call.params
    return pay(
        call, session, payment_method=params.get("payment_method"), card_number=params.get("card_number"),
        email=params.get("email"), promotion_code=params.get("promotion_code"),
    )


AREA = Area(
    name="checkout_sessions",
    types=(CHECKOUT_SESSION, ObjectType(name="item", noun="line item")),
    endpoints=(
        Endpoint(
            "POST", "/v1/checkout/sessions", create, CREATE,
            "Create a Checkout Session; its `url` is a hosted page on this server", returns="checkout.session",
        ),
        Endpoint(
            "GET", "/v1/checkout/sessions", list_sessions, LIST, "List Checkout Sessions, newest first",
            returns=ListOf("checkout.session"),
        ),
        Endpoint(
            "GET", "/v1/checkout/sessions/{id}", retrieve, endpoint(), "Retrieve a Checkout Session",
            returns="checkout.session",
        ),
        Endpoint(
            "GET", "/v1/checkout/sessions/{session}/line_items", line_items, LINE_ITEMS,
            "List a Checkout Session's line items", returns=ListOf("item"),
        ),
        Endpoint(
            "POST", "/v1/checkout/sessions/{session}/expire", expire, endpoint(),
            "Expire an open Checkout Session", returns="checkout.session",
        ),
        Endpoint(
            "POST", "/_mock/checkout/sessions/{id}/complete", complete, COMPLETE,
            "Pay for a Checkout Session as its hosted page does (`payment_method=pm_card_visa` or `card_number`, "
            "and a `promotion_code` the customer typed)",
            returns="checkout.session",
        ),
    ),
)
