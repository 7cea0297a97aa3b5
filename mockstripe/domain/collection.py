"""Collecting an invoice: charging the customer's card for what it owes, and retrying when it declines.

An invoice collected automatically is charged through a PaymentIntent of its own, recorded as an
`invoice_payment` (`invoice.payments`). A success pays the invoice; a decline (or no payment method
at all) leaves it open with `attempt_count` up by one and, when retries apply, `next_payment_attempt`
set by the account's retry schedule (`DunningSettings`); the subscription then follows
(`settle_subscription`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Literal

from ..store import Account
from ..wire.ids import new_id
from . import credits, payments
from .subscriptions import end_schedule, end_subscription

Obj = dict[str, Any]

DAY = 86_400
# Days after the previous attempt that each retry of a declined renewal comes. Stripe's default is
# Smart Retries (up to 8 attempts within 2 weeks, timed by a model); this fixed schedule stands in.
DEFAULT_RETRY_DAYS = (3, 5, 7)
# What becomes of a subscription whose renewal invoice failed its last retry (Stripe's default cancels).
AFTER_RETRIES = ("cancel", "unpaid", "past_due")
# How long a subscription whose first payment failed waits in `incomplete` before it expires.
INCOMPLETE_EXPIRES_AFTER = 23 * 3600
# The PaymentIntent description Stripe gives an invoice's charge, by billing reason.
INTENT_DESCRIPTIONS = {
    "subscription_create": "Subscription creation",
    "subscription_cycle": "Subscription update",
    "subscription_update": "Subscription update",
}

Outcome = Literal["paid", "failed", "requires_action"]
# UNSURE: the exact tail of Stripe's message, and its code.
NO_PAYMENT_METHOD = (
    "This customer has no attached payment source or default payment method. Please consider adding a default "
    "payment method. For more information, visit "
    "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority."
)


@dataclass
class DunningSettings:
    """One account's Billing settings for failed payments (`POST /_mock/billing_settings`)."""

    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS
    after_retries: str = "cancel"


def subscription_of(account: Account, invoice: Obj) -> Obj | None:
    details = (invoice.get("parent") or {}).get("subscription_details")
    return account.find("subscription", details["subscription"]) if details else None


def default_payment_method(account: Account, invoice: Obj) -> Obj | None:
    """The card an invoice charges: its own default, else its subscription's, else its customer's."""
    subscription = subscription_of(account, invoice)
    customer = account.find("customer", invoice["customer"])
    candidates = (
        invoice.get("default_payment_method"),
        subscription.get("default_payment_method") if subscription is not None else None,
        customer["invoice_settings"]["default_payment_method"] if customer is not None else None,
    )
    for payment_method_id in candidates:
        if payment_method_id is not None:
            found = account.find("payment_method", payment_method_id)
            if found is not None:
                return found
    return None


class InvoicePayments:
    """One account's invoice payments by invoice and by PaymentIntent (an invoice has at most one
    payment in progress), so collecting many invoices never scans them all."""

    def __init__(self) -> None:
        self.by_invoice: dict[str, list[Obj]] = {}
        self.by_intent: dict[str, Obj] = {}

    @classmethod
    def of(cls, payments: Iterable[Obj]) -> InvoicePayments:
        """The index of an account's invoice payments (oldest first), made again after a restart."""
        index = cls()
        for payment in payments:
            if not payment.get("deleted"):
                index.by_invoice.setdefault(payment["invoice"], []).append(payment)
                index.by_intent[payment["payment"]["payment_intent"]] = payment
        return index


def _open_payment(account: Account, invoice: Obj) -> Obj | None:
    """The invoice's payment still in progress, if any."""
    mine = account.service(InvoicePayments).by_invoice.get(invoice["id"], ())
    return next((payment for payment in mine if payment["status"] == "open"), None)


def payments_of(account: Account, invoice: Obj) -> list[Obj]:
    """The invoice's payments, newest first."""
    return list(reversed(account.service(InvoicePayments).by_invoice.get(invoice["id"], ())))


def _new_payment(account: Account, invoice: Obj, intent: Obj, now: int) -> Obj:
    payment = {
        "id": new_id("inpay"),
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": intent["amount"],
        "created": now,
        "currency": intent["currency"],
        "invoice": invoice["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"payment_intent": intent["id"], "type": "payment_intent"},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }
    index = account.service(InvoicePayments)
    index.by_invoice.setdefault(invoice["id"], []).append(payment)
    index.by_intent[intent["id"]] = payment
    return account.create(payment)


def open_intent(account: Account, invoice: Obj, now: int) -> Obj:
    """Give an open invoice its PaymentIntent without charging it (a subscription created with
    `payment_behavior=default_incomplete`: the customer confirms it)."""
    return _intent_for(account, invoice, default_payment_method(account, invoice), now)


def _intent_for(account: Account, invoice: Obj, payment_method: Obj | None, now: int) -> Obj:
    """The invoice's PaymentIntent: the one of its open payment (retried), else a new one."""
    payment = _open_payment(account, invoice)
    if payment is not None:
        intent = account.find("payment_intent", payment["payment"]["payment_intent"])
        if intent is not None and intent["status"] in payments.UPDATABLE:
            return intent
    intent = payments.new_intent(
        account,
        amount=invoice["amount_remaining"],
        currency=invoice["currency"],
        now=now,
        customer=invoice["customer"],
        payment_method=None if payment_method is None else payment_method["id"],
        description=INTENT_DESCRIPTIONS.get(invoice["billing_reason"]),
        payment_method_types=["card"],
    )
    _new_payment(account, invoice, intent, now)
    return intent


def intent_of(account: Account, invoice: Obj) -> Obj | None:
    """The PaymentIntent of the invoice's payment in progress."""
    payment = _open_payment(account, invoice)
    return None if payment is None else account.find("payment_intent", payment["payment"]["payment_intent"])


def collect(
    account: Account,
    invoice: Obj,
    now: int,
    *,
    payment_method: Obj | None = None,
    off_session: bool = True,
    retries: bool | None = True,
) -> tuple[Outcome, payments.Decline | None]:
    """Charge an open invoice's `amount_remaining` to `payment_method` (by default the one
    `default_payment_method` finds). `retries`: a decline schedules the next attempt (False: none;
    None: the schedule stays as it was, for a payment asked for by hand)."""
    payment_method = payment_method or default_payment_method(account, invoice)
    if payment_method is None:
        _failed(account, invoice, now, retries)
        return "failed", None
    intent = _intent_for(account, invoice, payment_method, now)
    decline = payments.attempt(account, intent, payment_method, off_session=off_session, now=now)
    if decline is not None:
        _failed(account, invoice, now, retries)
        return "failed", decline
    if intent["status"] == "requires_action":
        account.update(
            invoice,
            {"attempted": True, "attempt_count": invoice["attempt_count"] + 1, "next_payment_attempt": None},
            action="payment_action_required",
        )
        return "requires_action", None
    mark_paid(account, invoice, now, paid=intent["amount_received"])
    return "paid", None


def mark_paid(account: Account, invoice: Obj, now: int, *, paid: int, out_of_band: bool = False) -> None:
    """The invoice is settled: `paid` came through Stripe (`out_of_band`: outside it); its open payment
    is paid (`invoice.paid`, `invoice.payment_succeeded`, then `invoice_payment.paid`)."""
    changes: Obj = {
        "amount_paid": invoice["amount_paid"] + (0 if out_of_band else paid),
        "amount_remaining": 0,
        "next_payment_attempt": None,
        "status": "paid",
        "status_transitions": {**invoice["status_transitions"], "paid_at": now},
    }
    if out_of_band:
        changes["amount_paid_off_stripe"] = invoice["amount_paid_off_stripe"] + invoice["amount_remaining"]
    else:
        changes.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
    account.update(invoice, changes, action="paid_out_of_band" if out_of_band else "paid")
    payment = _open_payment(account, invoice)
    if payment is None:
        return
    if out_of_band:
        cancel_payment(account, payment, now)
        return
    account.update(
        payment,
        {
            "amount_paid": paid,
            "status": "paid",
            "status_transitions": {**payment["status_transitions"], "paid_at": now},
        },
        action="paid",
    )


def cancel_payment(account: Account, payment: Obj, now: int) -> None:
    """An invoice settled otherwise (voided, paid out of band): its payment in progress is dropped."""
    intent = account.find("payment_intent", payment["payment"]["payment_intent"])
    if intent is not None and intent["status"] in payments.CANCELABLE:
        payments.cancel(account, intent, None, now)
    account.update(
        payment,
        {"status": "canceled", "status_transitions": {**payment["status_transitions"], "canceled_at": now}},
        action="canceled",
    )


def cancel_open_payment(account: Account, invoice: Obj, now: int) -> None:
    payment = _open_payment(account, invoice)
    if payment is not None:
        cancel_payment(account, payment, now)


def _failed(account: Account, invoice: Obj, now: int, retries: bool | None) -> None:
    attempts = invoice["attempt_count"] + 1
    schedule = account.service(DunningSettings).retry_days
    # Attempt n (1-based) is followed by retry n, if the schedule has one.
    next_attempt = now + schedule[attempts - 1] * DAY if retries and attempts <= len(schedule) else None
    if retries is None:
        next_attempt = invoice["next_payment_attempt"]
    account.update(
        invoice,
        {"attempted": True, "attempt_count": attempts, "next_payment_attempt": next_attempt},
        action="payment_failed",
    )


def void(account: Account, invoice: Obj, now: int) -> Obj:
    """Void an open invoice: nothing more is collected, its payment in progress is dropped, and the
    billing credits applied to it go back to their grants."""
    cancel_open_payment(account, invoice, now)
    account.update(
        invoice,
        {
            "auto_advance": False,
            "next_payment_attempt": None,
            "status": "void",
            "status_transitions": {**invoice["status_transitions"], "voided_at": now},
        },
        action="voided",
    )
    credits.reinstate(account, invoice, now)
    return invoice


def mark_uncollectible(account: Account, invoice: Obj, now: int) -> Obj:
    """An open invoice that will not be collected. Billing credits applied to it stay used: Stripe
    gives them back only when an invoice is voided."""
    transitions = {**invoice["status_transitions"], "marked_uncollectible_at": now}
    return account.update(
        invoice,
        {"status": "uncollectible", "next_payment_attempt": None, "status_transitions": transitions},
        action="marked_uncollectible",
    )


def settle_subscription(account: Account, invoice: Obj, outcome: Outcome, now: int) -> None:
    """What a subscription becomes after a payment of its invoice: paid makes it `active` again; a
    failed renewal makes it `past_due`, and after its last retry what the account's settings say. A
    failed first payment leaves it `incomplete` (set when it was created)."""
    subscription = subscription_of(account, invoice)
    if subscription is None or subscription["status"] in ENDED:
        return
    status = subscription["status"]
    if outcome == "paid":
        if status in ("incomplete", "past_due", "unpaid"):
            account.update(subscription, {"status": "active"})
        return
    if invoice["billing_reason"] == "subscription_create":
        return
    if invoice["next_payment_attempt"] is not None:
        if status == "active":
            account.update(subscription, {"status": "past_due"})
        return
    after = account.service(DunningSettings).after_retries
    if after == "cancel":
        end_subscription(account, subscription, now, reason="payment_failed")
    elif status != after:
        account.update(subscription, {"status": after})


def intent_succeeded(account: Account, intent: Obj, now: int) -> None:
    """An invoice's PaymentIntent confirmed directly (after `default_incomplete`, or 3-D Secure):
    the invoice is paid and its subscription follows."""
    payment = account.service(InvoicePayments).by_intent.get(intent["id"])
    if payment is None or payment["status"] != "open":
        return
    invoice = account.find("invoice", payment["invoice"])
    if invoice is not None and invoice["status"] == "open":
        mark_paid(account, invoice, now, paid=intent["amount_received"])
        settle_subscription(account, invoice, "paid", now)


def retry(account: Account, invoice: Obj, now: int) -> None:
    """The scheduled retry of a declined invoice."""
    outcome, _ = collect(account, invoice, now)
    settle_subscription(account, invoice, outcome, now)


def expire(account: Account, subscription: Obj, now: int) -> None:
    """A subscription whose first payment never came: `incomplete_expired`, its invoice voided."""
    invoice = account.find("invoice", subscription["latest_invoice"]) if subscription["latest_invoice"] else None
    if invoice is not None and invoice["status"] == "open":
        void(account, invoice, now)
    account.update(
        subscription, {"status": "incomplete_expired", "canceled_at": now, "ended_at": now}, action="expired"
    )
    end_schedule(account, subscription, now, aborted=True)


ENDED = ("canceled", "incomplete_expired")
