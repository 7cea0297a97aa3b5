"""Stripe's test cards: what each test number, `pm_card_*` id and `tok_*` token is, and how it
answers when attached or charged.

Stripe's test mode recognises fixed card numbers (4242 4242 4242 4242 succeeds, 4000 0000 0000 0002
declines, ...), each also reachable as a ready-made payment method id (`pm_card_visa`) or token
(`tok_visa`). A number outside the table that passes the Luhn check behaves like a card that
succeeds, with its brand read from its leading digits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..wire.errors import StripeError

# The id and token forms of a test card's name: `pm_card_visa`, `tok_visa`.
PAYMENT_METHOD_PREFIX = "pm_card_"
TOKEN_PREFIX = "tok_"
# What a test card's `exp_month`/`exp_year` are: the month it was made, this many years ahead.
# UNSURE: Stripe's exact expiry for `pm_card_*` and `tok_*` cards.
EXPIRES_IN_YEARS = 1
FINGERPRINT_LENGTH = 16
_FINGERPRINT_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class Decline:
    """Why the issuer refused a card: the error's `code`, `decline_code`, message and `param`."""

    code: str
    decline_code: str
    message: str
    param: str | None = None

    @property
    def seller_message(self) -> str:
        if self.decline_code == "generic_decline":
            return "The bank did not return any further details with this decline."
        return f"The bank returned the decline code `{self.decline_code}`."


GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")
INSUFFICIENT_FUNDS = Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.")
LOST_CARD = Decline("card_declined", "lost_card", "Your card was declined.")
STOLEN_CARD = Decline("card_declined", "stolen_card", "Your card was declined.")
EXPIRED_CARD = Decline("expired_card", "expired_card", "Your card has expired.", "exp_month")
INCORRECT_CVC = Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc")
PROCESSING_ERROR = Decline(
    "processing_error", "processing_error", "An error occurred while processing your card. Try again in a little bit."
)
# An off-session charge on a card that needs 3-D Secure.
AUTHENTICATION_REQUIRED = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)


@dataclass(frozen=True)
class Card:
    number: str
    brand: str  # `visa`, `mastercard`, `amex`, `discover`
    funding: str = "credit"
    country: str = "US"
    # Refused when attached to a customer and when charged.
    declines: Decline | None = None
    # Attaches, then refuses every charge (Stripe's renewal-failure card).
    charges_decline: Decline | None = None
    # Every charge needs 3-D Secure: on session the intent waits in `requires_action`.
    requires_authentication: bool = False

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def display_brand(self) -> str:
        return "american_express" if self.brand == "amex" else self.brand

    def charge_decline(self) -> Decline | None:
        """How a charge on this card is refused, or None if it goes through."""
        return self.declines or self.charges_decline


# Name (as in `pm_card_<name>` and `tok_<name>`) -> card.
CARDS: dict[str, Card] = {
    "visa": Card("4242424242424242", "visa"),
    "visa_debit": Card("4000056655665556", "visa", funding="debit"),
    "mastercard": Card("5555555555554444", "mastercard"),
    "mastercard_debit": Card("5200828282828210", "mastercard", funding="debit"),
    "amex": Card("378282246310005", "amex"),
    "discover": Card("6011111111111117", "discover"),
    "chargeDeclined": Card("4000000000000002", "visa", declines=GENERIC),
    "chargeDeclinedInsufficientFunds": Card("4000000000009995", "visa", declines=INSUFFICIENT_FUNDS),
    "chargeDeclinedLostCard": Card("4000000000009987", "visa", declines=LOST_CARD),
    "chargeDeclinedStolenCard": Card("4000000000009979", "visa", declines=STOLEN_CARD),
    "chargeDeclinedExpiredCard": Card("4000000000000069", "visa", declines=EXPIRED_CARD),
    "chargeDeclinedIncorrectCvc": Card("4000000000000127", "visa", declines=INCORRECT_CVC),
    "chargeDeclinedProcessingError": Card("4000000000000119", "visa", declines=PROCESSING_ERROR),
    "chargeCustomerFail": Card("4000000000000341", "visa", charges_decline=GENERIC),
    "authenticationRequired": Card("4000002760003184", "visa", requires_authentication=True),
    "threeDSecure2Required": Card("4000000000003220", "visa", requires_authentication=True),
}
_BY_NUMBER = {card.number: card for card in CARDS.values()}

INCORRECT_NUMBER = "Your card number is incorrect."
NO_SUCH_TOKEN = "No such token: '{}'"


def named(payment_method_id: str) -> Card | None:
    """The test card a `pm_card_*` id names, or None."""
    if not payment_method_id.startswith(PAYMENT_METHOD_PREFIX):
        return None
    return CARDS.get(payment_method_id[len(PAYMENT_METHOD_PREFIX) :])


def from_token(token: str, param: str) -> Card:
    """The test card a `tok_*` token stands for, or Stripe's 400."""
    card = CARDS.get(token[len(TOKEN_PREFIX) :]) if token.startswith(TOKEN_PREFIX) else None
    if card is None:
        raise StripeError(NO_SUCH_TOKEN.format(token), code="resource_missing", param=param)
    return card


def from_number(number: str) -> Card:
    """The card a raw number is: a test card, or a succeeding card of the brand its digits say;
    Stripe's 402 `incorrect_number` when it fails the Luhn check."""
    digits = number.replace(" ", "")
    found = _BY_NUMBER.get(digits)
    if found is not None:
        return found
    if not (digits.isdigit() and 12 <= len(digits) <= 19 and _luhn(digits)):
        raise StripeError(INCORRECT_NUMBER, status=402, type="card_error", code="incorrect_number", param="number")
    return Card(digits, _brand(digits))


def fingerprint(account_key: str, card: Card) -> str:
    """Stable per card number within an account, and different across accounts, as Stripe's."""
    digest = hashlib.blake2b(f"{account_key}:{card.number}".encode(), digest_size=FINGERPRINT_LENGTH).digest()
    return "".join(_FINGERPRINT_ALPHABET[byte % len(_FINGERPRINT_ALPHABET)] for byte in digest)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _brand(digits: str) -> str:
    if digits.startswith(("34", "37")):
        return "amex"
    if digits.startswith(("51", "52", "53", "54", "55")) or "2221" <= digits[:4] <= "2720":
        return "mastercard"
    if digits.startswith(("6011", "65")):
        return "discover"
    if digits.startswith("4"):
        return "visa"
    return "unknown"
