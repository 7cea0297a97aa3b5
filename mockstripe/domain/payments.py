"""Money moving: payment methods, PaymentIntents, their charges, and refunds.

A payment method is a card from the test card table (`cards.py`), kept as the object's private
`card`. Confirming a PaymentIntent charges it: the card either goes through (a `succeeded` charge;
`requires_capture` under manual capture), is refused (a `failed` charge, the intent back to
`requires_payment_method`, Stripe's 402 `card_error`), or wants 3-D Secure (`requires_action`).
A refused confirmation keeps its intent and failed charge, as Stripe does: the 402 carries them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from ..store import Account
from ..wire.errors import DOC_URL, StripeError, invalid, no_such
from ..wire.ids import new_id, random_tail
from . import cards
from .cards import Card, Decline

Obj = dict[str, Any]

# Statuses in which an intent may still change, be confirmed or be canceled.
UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")
# The default capture method of the API versions this server speaks.
DEFAULT_CAPTURE_METHOD = "automatic_async"

ALREADY_ATTACHED = "The payment method you provided has already been attached to a customer."
NOT_ATTACHED = (
    "The payment method you provided is not attached to a customer so detachment is impossible."
)
# UNSURE: Stripe's code for a default payment method that is not the customer's.
NOT_THE_CUSTOMERS = (
    "The customer does not have a payment method with the ID {}. The payment method must be attached to the "
    "customer."
)
UPDATE_NEEDS_CUSTOMER = "You must save this PaymentMethod to a customer before you can update it."
MISSING_PAYMENT_METHOD = (
    "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the "
    "PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a "
    "payment method."
)
CANNOT = (
    "You cannot {verb} this PaymentIntent because it has a status of {status}. Only a PaymentIntent with one of "
    "the following statuses may be {done}: {allowed}."
)
ALREADY_SUCCEEDED = (
    "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed."
)
CANNOT_UPDATE = (
    "You cannot update this PaymentIntent because it has a status of {status}. Updates are only allowed when "
    "the PaymentIntent has one of the following statuses: requires_payment_method, requires_confirmation, "
    "requires_action."
)
# UNSURE: Stripe's wording for capturing more than was authorized.
CAPTURE_TOO_LARGE = (
    "The amount to capture ({amount}) must be less than or equal to the amount capturable ({capturable})."
)
ALREADY_REFUNDED = "Charge {} has already been refunded."
REFUND_TOO_LARGE = "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
# UNSURE: Stripe's wording for refunding an intent that has no successful charge, or an uncaptured charge.
NOTHING_TO_REFUND = "This PaymentIntent does not have a successful charge to refund."
NOT_CAPTURED = "This charge has not been captured. Cancel its PaymentIntent to release the authorization."
UNPAYABLE_CURRENCY_MINIMUM = "Amount must be at least {minimum} {currency}"
# The smallest amount a charge may be, per currency (in the currency's minor unit).
MINIMUM_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "jpy": 50}


def _doc_url(code: str) -> str:
    return DOC_URL.format(code.replace("_", "-"))


# --- Payment methods -----------------------------------------------------------------------------


def _address(given: Obj | None) -> Obj:
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {k: (given or {}).get(k) for k in keys}


def billing_details(given: Obj | None) -> Obj:
    given = given or {}
    return {
        "address": _address(given.get("address")),
        "email": given.get("email"),
        "name": given.get("name"),
        "phone": given.get("phone"),
        "tax_id": given.get("tax_id"),
    }


def new_payment_method(
    account: Account,
    card: Card,
    created: int,
    *,
    details: Obj | None = None,
    metadata: Obj | None = None,
    exp: tuple[int, int] | None = None,
    allow_redisplay: str = "unspecified",
) -> Obj:
    """Store a card payment method (no event: Stripe sends none for a new one)."""
    if exp is None:
        made = datetime.fromtimestamp(created, timezone.utc)
        exp = (made.month, made.year + cards.EXPIRES_IN_YEARS)
    payment_method = {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": allow_redisplay,
        "billing_details": billing_details(details),
        "card": {
            "brand": card.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "unchecked"},
            "country": card.country,
            "description": None,
            "display_brand": card.display_brand,
            "exp_month": exp[0],
            "exp_year": exp[1],
            "fingerprint": cards.fingerprint(account.key, card),
            "funding": card.funding,
            "generated_from": None,
            "iin": None,
            "issuer": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": created,
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {k: v for k, v in (metadata or {}).items() if v is not None},
        "radar_options": None,
        "type": "card",
    }
    return account.create(payment_method, card=card)


def card_of(account: Account, payment_method: Obj) -> Card:
    return account.collection("payment_method").private[payment_method["id"]]["card"]


def find_payment_method(account: Account, payment_method_id: str, param: str, now: int, *, status: int = 400) -> Obj:
    """A stored payment method, or a new one for a test id such as `pm_card_visa` (each use makes
    another, as on Stripe), or Stripe's `resource_missing`."""
    found = account.find("payment_method", payment_method_id)
    if found is not None:
        return found
    card = cards.named(payment_method_id)
    if card is None:
        raise no_such("PaymentMethod", payment_method_id, param, status=status)
    return new_payment_method(account, card, now)


def card_error(decline: Decline, **details: Any) -> StripeError:
    """Stripe's 402: the decline's code and message, and the objects involved (`charge`,
    `payment_intent`, `payment_method`)."""
    return StripeError(
        decline.message,
        status=402,
        type="card_error",
        code=decline.code,
        param=decline.param,
        decline_code=decline.decline_code,
        details=details,
    )


def check_attachable(account: Account, payment_method: Obj, customer_id: str | None) -> None:
    """Refuse, before anything changes, a card attached elsewhere or one its issuer declines (Stripe
    checks a card with its issuer when it is saved: a 402)."""
    if payment_method["customer"] is not None and payment_method["customer"] != customer_id:
        raise invalid(ALREADY_ATTACHED, code="payment_method_unexpected_state")
    decline = card_of(account, payment_method).declines
    if decline is not None:
        raise card_error(decline, payment_method=dict(payment_method))


def attach(account: Account, payment_method: Obj, customer: Obj) -> Obj:
    """Save a card to a customer (`check_attachable` first)."""
    check_attachable(account, payment_method, customer["id"])
    if payment_method["customer"] == customer["id"]:
        return payment_method
    return account.update(payment_method, {"customer": customer["id"]}, action="attached")


def attached_payment_method(account: Account, customer_id: str, payment_method_id: str, param: str) -> Obj:
    """A payment method saved to the customer, as a default must be, or Stripe's 400."""
    found = account.find("payment_method", payment_method_id)
    if found is None and cards.named(payment_method_id) is None:
        raise no_such("PaymentMethod", payment_method_id, param)
    if found is None or found["customer"] != customer_id:
        raise invalid(NOT_THE_CUSTOMERS.format(payment_method_id), param=param, code="resource_missing")
    return found


def detach(account: Account, payment_method: Obj) -> Obj:
    """Take a card off its customer; a customer whose default it was has no default after."""
    customer_id = payment_method["customer"]
    if customer_id is None:
        raise invalid(NOT_ATTACHED, code="payment_method_unexpected_state")
    customer = account.find("customer", customer_id)
    if customer is not None and customer["invoice_settings"]["default_payment_method"] == payment_method["id"]:
        account.update(customer, {"invoice_settings": {**customer["invoice_settings"], "default_payment_method": None}})
    return account.update(payment_method, {"customer": None}, action="detached")


# --- Charges ---------------------------------------------------------------------------------------


def _outcome(decline: Decline | None) -> Obj:
    return {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network" if decline is None else "declined_by_network",
        "reason": None if decline is None else decline.decline_code,
        "risk_level": "normal",
        "risk_score": None,
        "rule": None,
        "seller_message": "Payment complete." if decline is None else decline.seller_message,
        "type": "authorized" if decline is None else "issuer_declined",
    }


def _card_details(payment_method: Obj, amount: int, decline: Decline | None, captured: bool) -> Obj:
    card = payment_method["card"]
    return {
        "card": {
            "amount_authorized": None if decline is not None else amount,
            "authorization_code": None,
            "brand": card["brand"],
            "capture_before": None,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "fail" if decline is cards.INCORRECT_CVC else "pass",
            },
            "country": card["country"],
            "description": None,
            "electronic_commerce_indicator": None,
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "iin": None,
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "issuer": None,
            "last4": card["last4"],
            "mandate": None,
            "moto": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "network_transaction_id": None,
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": card["regulated_status"],
            "setup_credential_usage": None,
            "stored_credential_usage": None,
            "three_d_secure": None,
            "transaction_link_id": None,
            "wallet": None,
        },
        "type": "card",
    }


def _charge(intent: Obj, payment_method: Obj, decline: Decline | None, now: int) -> Obj:
    """A charge of `intent` on `payment_method`, failed with `decline` or else authorized (and
    captured unless the intent captures manually)."""
    amount = intent["amount"]
    succeeded = decline is None
    captured = succeeded and intent["capture_method"] != "manual"
    return {
        "id": new_id("ch"),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "authorization_code": None,
        "balance_transaction": new_id("txn") if captured else None,
        "billing_details": payment_method["billing_details"],
        "calculated_statement_descriptor": None,
        "captured": captured,
        "created": now,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if decline is None else decline.code,
        "failure_message": None if decline is None else decline.message,
        "fraud_details": {},
        "level3": None,
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": _outcome(decline),
        "paid": succeeded,
        "payment_intent": intent["id"],
        "payment_method": payment_method["id"],
        "payment_method_details": _card_details(payment_method, amount, decline, captured),
        "presentment_details": None,
        "radar_options": None,
        "receipt_email": intent["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": intent["statement_descriptor"],
        "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
        "status": "succeeded" if succeeded else "failed",
        "transfer": None,
        "transfer_data": None,
        "transfer_group": None,
    }


# --- PaymentIntents --------------------------------------------------------------------------------


def minimum_amount(amount: int, currency: str) -> None:
    minimum = MINIMUM_AMOUNTS.get(currency)
    if minimum is not None and amount < minimum:
        shown = f"${minimum / 100:.2f}" if currency == "usd" else str(minimum)
        raise invalid(UNPAYABLE_CURRENCY_MINIMUM.format(minimum=shown, currency=currency), "amount", "amount_too_small")


def new_intent(
    account: Account,
    *,
    amount: int,
    currency: str,
    now: int,
    customer: str | None = None,
    payment_method: str | None = None,
    capture_method: str = DEFAULT_CAPTURE_METHOD,
    description: str | None = None,
    metadata: Obj | None = None,
    payment_method_types: list[str] | None = None,
    receipt_email: str | None = None,
    setup_future_usage: str | None = None,
    statement_descriptor: str | None = None,
    statement_descriptor_suffix: str | None = None,
) -> Obj:
    """Store a new PaymentIntent (`payment_intent.created`), waiting for a payment method or for
    its confirmation."""
    intent_id = new_id("pi")
    automatic = payment_method_types is None
    intent: Obj = {
        "id": intent_id,
        "object": "payment_intent",
        "allowed_payment_method_types": None,
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True} if automatic else None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{intent_id}_secret_{random_tail(25)}",
        "confirmation_method": "automatic",
        "created": now,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "hooks": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": {k: v for k, v in (metadata or {}).items() if v is not None},
        "next_action": None,
        "on_behalf_of": None,
        "payment_details": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": payment_method_types or ["card"],
        "payment_record": None,
        "presentment_details": None,
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": setup_future_usage,
        "shipping": None,
        "source": None,
        "statement_descriptor": statement_descriptor,
        "statement_descriptor_suffix": statement_descriptor_suffix,
        "status": "requires_payment_method" if payment_method is None else "requires_confirmation",
        "transfer_data": None,
        "transfer_group": None,
    }
    return account.create(intent)


def check_confirmable(intent: Obj, payment_method_given: bool) -> None:
    """Stripe's 400s for confirming an intent that cannot be: finished, or with nothing to charge."""
    status = intent["status"]
    if status == "succeeded":
        raise invalid(ALREADY_SUCCEEDED, code="payment_intent_unexpected_state")
    if status not in UPDATABLE:
        raise _unexpected(intent, "confirm", "confirmed", UPDATABLE)
    if intent["payment_method"] is None and not payment_method_given:
        raise invalid(MISSING_PAYMENT_METHOD, code="payment_intent_unexpected_state")


def check_updatable(intent: Obj) -> None:
    if intent["status"] not in UPDATABLE:
        raise invalid(CANNOT_UPDATE.format(status=intent["status"]), code="payment_intent_unexpected_state")


def _unexpected(intent: Obj, verb: str, done: str, allowed: tuple[str, ...]) -> StripeError:
    return invalid(
        CANNOT.format(verb=verb, status=intent["status"], done=done, allowed=", ".join(allowed)),
        code="payment_intent_unexpected_state",
    )


def outcome(
    account: Account, payment_method: Obj, *, off_session: bool, authenticated: bool = False
) -> Decline | Literal["requires_action"] | None:
    """How charging the card goes (test cards answer the same every time): its decline, a wait for
    3-D Secure on session (an off-session charge is declined instead), or None when it goes through."""
    card = card_of(account, payment_method)
    decline = card.charge_decline()
    if decline is None and card.requires_authentication and not authenticated:
        return cards.AUTHENTICATION_REQUIRED if off_session else "requires_action"
    return decline


def attempt(account: Account, intent: Obj, payment_method: Obj, *, off_session: bool, now: int) -> Decline | None:
    """Confirm `intent` with `payment_method`: charge the card and record the outcome. Returns the
    decline when the card was refused (the intent is then back to `requires_payment_method`)."""
    # Confirming an intent that waits in `requires_action` stands for the customer passing 3-D Secure
    # (there is no browser here). UNSURE: on Stripe the customer does it on a test page.
    authenticated = intent["status"] == "requires_action"
    decline = outcome(account, payment_method, off_session=off_session, authenticated=authenticated)
    if decline == "requires_action":
        account.update(
            intent,
            {
                "payment_method": payment_method["id"],
                "status": "requires_action",
                "next_action": {
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": "", "source": None},
                },
            },
            action="requires_action",
        )
        return None
    charge = _charge(intent, payment_method, decline, now)
    if decline is not None:
        error = {
            "advice_code": None,
            "charge": charge["id"],
            "code": decline.code,
            "decline_code": decline.decline_code,
            "doc_url": _doc_url(decline.code),
            "message": decline.message,
            "network_advice_code": None,
            "network_decline_code": None,
            "param": decline.param,
            "payment_intent": None,
            "payment_method": dict(payment_method),
            "payment_method_type": "card",
            "request_log_url": None,
            "setup_intent": None,
            "source": None,
            "type": "card_error",
        }
        account.create(charge, action="failed")
        account.update(
            intent,
            {
                "latest_charge": charge["id"],
                "last_payment_error": error,
                "next_action": None,
                "payment_method": None,
                "status": "requires_payment_method",
            },
            action="payment_failed",
        )
        return decline
    manual = intent["capture_method"] == "manual"
    changes = {
        "latest_charge": charge["id"],
        "last_payment_error": None,
        "next_action": None,
        "payment_method": payment_method["id"],
    }
    if manual:
        changes.update(status="requires_capture", amount_capturable=intent["amount"])
        account.update(intent, changes, action="amount_capturable_updated")
    else:
        changes.update(status="succeeded", amount_received=intent["amount"])
        account.update(intent, changes, action="succeeded")
    account.create(charge, action="succeeded")
    return None


def decline_error(account: Account, intent: Obj, decline: Decline) -> StripeError:
    """The 402 a refused confirmation answers, carrying the intent, its failed charge and the card."""
    return card_error(
        decline,
        charge=intent["latest_charge"],
        payment_intent=dict(intent),
        payment_method=intent["last_payment_error"]["payment_method"],
    )


def cancel(account: Account, intent: Obj, reason: str | None, now: int) -> Obj:
    if intent["status"] not in CANCELABLE:
        raise _unexpected(intent, "cancel", "canceled", CANCELABLE)
    if intent["status"] == "requires_capture":
        charge = account.find("charge", intent["latest_charge"])
        if charge is not None:
            account.update(charge, {"amount_refunded": charge["amount"], "refunded": True}, action="refunded")
    return account.update(
        intent,
        {
            "amount_capturable": 0,
            "canceled_at": now,
            "cancellation_reason": reason,
            "next_action": None,
            "status": "canceled",
        },
        action="canceled",
    )


def capture(account: Account, intent: Obj, amount: int | None) -> Obj:
    if intent["status"] != "requires_capture":
        raise _unexpected(intent, "capture", "captured", ("requires_capture",))
    capturable = intent["amount_capturable"]
    amount = capturable if amount is None else amount
    if amount > capturable:
        raise invalid(
            CAPTURE_TOO_LARGE.format(amount=amount, capturable=capturable), "amount_to_capture", "amount_too_large"
        )
    charge = account.find("charge", intent["latest_charge"])
    assert charge is not None
    account.update(
        charge,
        {
            "amount_captured": amount,
            "amount_refunded": charge["amount"] - amount,
            "balance_transaction": new_id("txn"),
            "captured": True,
        },
        action="captured",
    )
    return account.update(
        intent, {"amount_capturable": 0, "amount_received": amount, "status": "succeeded"}, action="succeeded"
    )


# --- Refunds ---------------------------------------------------------------------------------------


def _money(amount: int, currency: str) -> str:
    if currency == "usd":
        return f"${amount / 100:.2f}"
    return f"{amount} {currency.upper()}"


def refundable_charge(account: Account, intent: Obj) -> Obj:
    charge = account.find("charge", intent["latest_charge"]) if intent["latest_charge"] else None
    if charge is None or charge["status"] != "succeeded":
        raise invalid(NOTHING_TO_REFUND, param="payment_intent")
    return charge


def refund(account: Account, charge: Obj, amount: int | None, *, reason: str | None, metadata: Obj | None, now: int) -> Obj:
    """Give back `amount` (all that is left by default) of a captured charge (`refund.created`,
    then `charge.refunded`)."""
    if not charge["captured"]:
        raise invalid(NOT_CAPTURED, param="charge")
    if charge["refunded"]:
        raise invalid(ALREADY_REFUNDED.format(charge["id"]), code="charge_already_refunded", param="charge")
    left = charge["amount_captured"] - charge["amount_refunded"]
    amount = left if amount is None else amount
    if amount > left:
        currency = charge["currency"]
        raise invalid(
            REFUND_TOO_LARGE.format(amount=_money(amount, currency), left=_money(left, currency)), param="amount"
        )
    created = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "description": None,
        "destination_details": {
            "card": {"reference": None, "reference_status": "pending", "reference_type": None, "type": "refund"},
            "type": "card",
        },
        "failure_balance_transaction": None,
        "failure_reason": None,
        "instructions_email": None,
        "metadata": {k: v for k, v in (metadata or {}).items() if v is not None},
        "next_action": None,
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "pending_reason": None,
        "presentment_details": None,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    account.create(created)
    refunded = charge["amount_refunded"] + amount
    account.update(
        charge, {"amount_refunded": refunded, "refunded": refunded == charge["amount_captured"]}, action="refunded"
    )
    return created
