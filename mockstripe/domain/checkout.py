"""Checkout Sessions: what a session sells, what it costs, and how it ends (completed or expired).

A session keeps its line items private (they are listed at `/line_items`, not rendered in the
session). Paying for it is done by the API layer, which creates the customer, payment method,
subscription or PaymentIntent through the same handlers as the API, then calls `complete` here.
"""

from __future__ import annotations

from typing import Any

from ..store import Account
from ..wire.errors import StripeError, invalid
from ..wire.ids import new_id
from ..wire.params import merge_metadata
from . import discounts as discounting
from .subscriptions import METERED_QUANTITY, is_metered

Obj = dict[str, Any]

# A session expires 24 hours after it is created, unless `expires_at` says sooner (not before 30 minutes).
DEFAULT_LIFETIME = 24 * 3600
SHORTEST_LIFETIME = 30 * 60
# Where this server serves the hosted page of a session (Stripe's is checkout.stripe.com/c/pay/{id}).
PAGE_PATH = "/c/pay/"
SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}"

# UNSURE: Stripe's wording of these refusals.
NO_LINE_ITEMS = "You must specify `line_items` in `{mode}` mode."
LINE_ITEMS_IN_SETUP = "You cannot pass `line_items` in `setup` mode."
RECURRING_IN_PAYMENT = (
    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use "
    "only one-time prices."
)
NO_RECURRING_IN_SUBSCRIPTION = (
    "You must provide at least one recurring price in `subscription` mode when using prices."
)
QUANTITY_REQUIRED = "Quantity is required. Add `quantity` to `line_items[{index}]`"
MIXED_CURRENCIES = "All prices must use the same currency. `line_items[{index}][price]` uses `{currency}`."
EXPIRES_TOO_SOON = "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
EXPIRES_TOO_LATE = "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
NOT_OPEN = "This Checkout Session is no longer active."
ONLY_OPEN_EXPIRE = "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\"."
SETUP_NEEDS_CURRENCY = "Checkout Sessions in `setup` mode must specify `currency`."
# UNSURE: what the hosted page says of a code no active promotion code has, and of a code given to a
# session that does not take them.
INVALID_CODE = "This code is invalid."
NO_PROMOTION_CODES = "This Checkout Session does not accept promotion codes."
DISCOUNTS_IN_SETUP = "You cannot pass `discounts` in `setup` mode."


def line_items(items: list[Obj], prices: list[Obj], mode: str) -> list[Obj]:
    """The session's line items from `line_items[]` and the prices they name, after every check."""
    if mode == "setup":
        if items:
            raise invalid(LINE_ITEMS_IN_SETUP, param="line_items")
        return []
    if not items:
        raise invalid(NO_LINE_ITEMS.format(mode=mode), param="line_items")
    currency = prices[0]["currency"]
    built = []
    for index, (item, price) in enumerate(zip(items, prices, strict=True)):
        recurring = price["type"] == "recurring"
        if recurring and mode == "payment":
            raise invalid(RECURRING_IN_PAYMENT, param=f"line_items[{index}][price]")
        quantity = item.get("quantity")
        if recurring and is_metered(price):
            if quantity is not None:
                raise invalid(METERED_QUANTITY, param=f"line_items[{index}][quantity]")
        elif quantity is None:
            raise invalid(QUANTITY_REQUIRED.format(index=index), param=f"line_items[{index}][quantity]")
        if price["currency"] != currency:
            raise invalid(
                MIXED_CURRENCIES.format(index=index, currency=price["currency"]), param=f"line_items[{index}][price]"
            )
        amount = 0 if quantity is None else (price["unit_amount"] or 0) * quantity
        built.append(
            {
                "id": new_id("li"),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": currency,
                "description": None,  # the product's name, filled in by the caller
                "adjustable_quantity": None,
                "discounts": [],
                "metadata": {},
                "price": price,
                "quantity": quantity,
                "taxes": [],
            }
        )
    if mode == "subscription" and not any(p["type"] == "recurring" for p in prices):
        raise invalid(NO_RECURRING_IN_SUBSCRIPTION, param="line_items")
    return built


def lifetime_end(expires_at: int | None, now: int) -> int:
    if expires_at is None:
        return now + DEFAULT_LIFETIME
    if expires_at < now + SHORTEST_LIFETIME:
        raise invalid(EXPIRES_TOO_SOON, param="expires_at")
    if expires_at > now + DEFAULT_LIFETIME:
        raise invalid(EXPIRES_TOO_LATE, param="expires_at")
    return expires_at


def new_session(params: Obj, items: list[Obj], customer: Obj | None, origin: str, now: int) -> Obj:
    """A new `open` session (not yet stored); `origin` is the scheme and host the request came to."""
    mode = params["mode"]
    currency = items[0]["currency"] if items else params.get("currency")
    if mode == "setup" and currency is None:
        raise invalid(SETUP_NEEDS_CURRENCY, param="currency")
    subtotal = sum(item["amount_subtotal"] for item in items) if mode != "setup" else None
    session_id = new_id("cs_test")
    email = customer["email"] if customer is not None else params.get("customer_email")
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": params.get("allow_promotion_codes"),
        "allowed_payment_method_types": None,
        "amount_subtotal": subtotal,
        "amount_total": subtotal,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": params.get("billing_address_collection"),
        "branding_settings": None,
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None, "shipping_address": None, "submit": None, "terms_of_service_acceptance": None,
        },
        "customer": customer["id"] if customer is not None else None,
        "customer_account": None,
        "customer_creation": None if customer is not None or mode == "subscription" else (
            params.get("customer_creation") or "if_required"
        ),
        "customer_details": None if customer is None else _details(email),
        "customer_email": params.get("customer_email"),
        "discounts": [],
        "excluded_payment_method_types": None,
        "expires_at": lifetime_end(params.get("expires_at"), now),
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": None if mode != "payment" else {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None,
                "issuer": None, "metadata": {}, "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": params.get("locale"),
        "managed_payments": None,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "mode": mode,
        "name_collection": None,
        "optional_items": None,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always" if mode == "subscription" else None,
        "payment_method_configuration_details": None,
        "payment_method_options": None,
        "payment_method_types": ["card"],
        "payment_status": "no_payment_required" if mode == "setup" else "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "presentment_details": None,
        "recovered_from": None,
        "redirect_on_completion": None,
        "return_url": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": params.get("success_url"),
        "tax_id_collection": None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0} if mode != "setup" else None,
        "ui_mode": "hosted_page",
        "url": f"{origin}{PAGE_PATH}{session_id}",
        "wallet_options": None,
    }


def _details(email: str | None) -> Obj:
    return {
        "address": None, "business_name": None, "email": email, "individual_name": None,
        "name": None, "phone": None, "tax_exempt": "none", "tax_ids": [],
    }


def items_of(account: Account, session: Obj) -> list[Obj]:
    return account.collection("checkout.session").private.get(session["id"], {}).get("line_items", [])


def check_open(session: Obj, now: int) -> None:
    if session["status"] != "open" or now >= session["expires_at"]:
        raise StripeError(NOT_OPEN, code="checkout_session_expired" if session["status"] == "expired" else None)


def success_url(session: Obj) -> str | None:
    url = session["success_url"]
    return None if url is None else url.replace(SESSION_ID_TEMPLATE, session["id"])


def complete(
    account: Account,
    session: Obj,
    *,
    email: str | None,
    customer: str | None,
    payment_intent: str | None = None,
    subscription: str | None = None,
    invoice: str | None = None,
) -> Obj:
    """Mark a paid session `complete` (sends `checkout.session.completed`)."""
    changes: Obj = {
        "status": "complete",
        "payment_status": "no_payment_required" if session["mode"] == "setup" else "paid",
        "customer": customer,
        "customer_details": _details(email),
        "payment_intent": payment_intent,
        "subscription": subscription,
        "invoice": invoice,
    }
    return account.update(session, changes, action="completed")


def expire(account: Account, session: Obj) -> Obj:
    if session["status"] != "open":
        raise invalid(ONLY_OPEN_EXPIRE.format(session["status"]))
    return account.update(session, {"status": "expired", "url": None}, action="expired")


def expire_due(account: Account, now: int) -> None:
    """Open sessions past their `expires_at` expire (as Stripe's do, within minutes)."""
    for session in list(account.collection("checkout.session").newest_first()):
        if session["status"] == "open" and session["expires_at"] <= now:
            expire(account, session)


def discount_requests(account: Account, session: Obj, code: str | None) -> list[Obj]:
    """What the session is discounted by when paid: the promotion code the customer typed (`code`),
    where the session allows them, else the `discounts` it was created with; as `discounts[]`."""
    if not code:
        return [
            {"promotion_code": d["promotion_code"]} if d["promotion_code"] else {"coupon": d["coupon"]}
            for d in session["discounts"]
        ]
    if not session["allow_promotion_codes"]:
        raise invalid(NO_PROMOTION_CODES, param="promotion_code")
    promotion_code = discounting.active_with_code(account, code)
    if promotion_code is None:
        raise invalid(INVALID_CODE, param="promotion_code")
    return [{"promotion_code": promotion_code["id"]}]


def check_discounts(
    account: Account, requests: list[Obj], session: Obj, customer: Obj | None, now: int
) -> list[discounting.Redemption]:
    """The session's discounts checked as redeeming them would be, for `customer` (None: a new one)."""
    if not requests:
        return []
    if session["mode"] == "setup":
        raise invalid(DISCOUNTS_IN_SETUP, param="discounts")
    purchase = discounting.Purchase(customer, session["currency"], "Checkout Session")
    redemptions = discounting.check(account, requests, "discounts", purchase, now)
    discounting.check_minimum(redemptions, "discounts", session["currency"], session["amount_subtotal"] or 0)
    return redemptions


def discounted(
    account: Account, session: Obj, items: list[Obj], redemptions: list[discounting.Redemption]
) -> tuple[Obj, list[Obj]]:
    """The session's fields under checked `redemptions` (none: no discount), and its line items
    with their `amount_discount` and `amount_total`. A setup session has no amounts."""
    if session["mode"] == "setup":
        return {}, items
    items = [dict(item) for item in items]
    taken = [0] * len(items)
    for redemption in redemptions:
        lines = [(item["amount_subtotal"] - off, item["price"]["product"]) for item, off in zip(items, taken, strict=True)]
        taken = [a + b for a, b in zip(taken, discounting.amounts_off(account, redemption.coupon, lines), strict=True)]
    for item, off in zip(items, taken, strict=True):
        item.update(amount_discount=off, amount_total=item["amount_subtotal"] - off)
    subtotal = session["amount_subtotal"] or 0
    fields = {
        "discounts": [
            {
                "coupon": r.coupon["id"],
                "promotion_code": r.promotion_code["id"] if r.promotion_code is not None else None,
            }
            for r in redemptions
        ],
        "amount_total": subtotal - sum(taken),
        "total_details": {**session["total_details"], "amount_discount": sum(taken)},
    }
    return fields, items


def apply_code(account: Account, session: Obj, code: str, now: int) -> None:
    """Discount an open session by the promotion code the customer typed (the page's "Apply"), as
    paying with it would be checked; the code stays applied until the session is paid."""
    check_open(session, now)
    customer = account.find("customer", session["customer"]) if session["customer"] else None
    redemptions = check_discounts(account, discount_requests(account, session, code), session, customer, now)
    apply_discounts(account, session, *discounted(account, session, items_of(account, session), redemptions))


def apply_discounts(account: Account, session: Obj, fields: Obj, items: list[Obj]) -> None:
    """Store what `discounted` gave for a stored session: its fields, and its line items (kept
    privately with it)."""
    account.collection("checkout.session").private[session["id"]]["line_items"] = items
    account.update(session, fields)
