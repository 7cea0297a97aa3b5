"""Invoices of subscriptions: their lines, totals and finalization, and the next-invoice preview.

Usage-based items bill in arrears: an invoice charges the usage of the item period that just ended.
Licensed items bill in advance: an invoice charges the period that begins. So the first invoice of
a subscription (`subscription_create`) charges licensed items for the first period and, in classic
billing mode only, carries a 0 line for each metered item; the preview of an existing subscription
is the invoice due at the end of the current period: usage so far plus the next licensed period.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Sequence

from ..billing.periods import boundary
from ..billing.pricing import amount_for, billed_quantity
from ..store import Account
from ..wire.errors import StripeError
from ..wire.ids import new_id
from ..wire.lists import list_object
from . import collection, credits, payments, trials
from . import discounts as discounting
from .metering import Metering
from .prices import price_tiers
from .subscriptions import end_subscription, ends_with_period, following_period, is_metered, tax_rates_of
from .taxes import line_taxes_of, taxed_totals

Obj = dict[str, Any]

# How long after its creation a subscription invoice is finalized and charged (Stripe's default).
FINALIZATION_DELAY = 3600
# An amount due under the currency's smallest charge (`payments.MINIMUM_AMOUNTS`) is not charged but
# carried to the customer's balance (a debit the next invoice collects), and the invoice is marked paid.
# What the invoice a subscription ending at its period end (`cancel_at_period_end`) leaves for the
# usage of its last period reports as its billing reason. UNSURE: Stripe's reason for it.
FINAL_USAGE_BILLING_REASON = "subscription_cycle"
# The 0 line a classic first invoice carries for a metered item covers no time (there is no usage
# before the subscription started), rather than the whole first period.
EMPTY_USAGE_PERIOD = True
# A metered line's `quantity` is the raw usage (25 tokens) while its amount is computed on packages
# (1 package of 100); False reports the package count instead. Stripe's choice is unconfirmed.
QUANTITY_IS_RAW_USAGE = True
# What a preview reports as its billing reason, for an existing or a new subscription.
PREVIEW_BILLING_REASON = "upcoming"
# An invoice embeds its first lines; `GET /v1/invoices/{id}/lines` pages through all of them.
LINES_SHOWN = 10
# UNSURE: Stripe's cap on a line's amount; this one keeps every invoice total well within the
# signed 64-bit integers a response can carry, whatever usage a meter collected.
MAX_LINE_AMOUNT = 10**15
# Zero-decimal currencies: amounts are whole units, not hundredths.
_ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def usage(account: Account, customer_id: str, price: Obj, start: int, end: int) -> Decimal:
    """What a metered price's meter recorded for the customer in `[start, end)`; never negative."""
    meter = account.find("billing.meter", price["recurring"]["meter"])
    if meter is None:
        return Decimal(0)
    return max(account.service(Metering).aggregate(meter, customer_id, start, end), Decimal(0))


class ThresholdBilling:
    """How much of each metered item's usage in a period threshold invoices already billed
    (`thresholds.py`), so the period's own invoice bills only the rest: `account_billing(account)`."""

    def __init__(self) -> None:
        self._billed: dict[tuple[str, int], Decimal] = {}

    def billed(self, item_id: str, period_start: int) -> Decimal:
        return self._billed.get((item_id, period_start), Decimal(0))

    def bill(self, item_id: str, period_start: int, used: Decimal) -> None:
        """Record that the usage of the period up to `used` is billed."""
        self._billed[(item_id, period_start)] = used


def account_billing(account: Account) -> ThresholdBilling:
    return account.service(ThresholdBilling)


def line(
    account: Account,
    subscription: Obj,
    item: Obj,
    quantity: Decimal | int,
    period: tuple[int, int],
    *,
    invoice_id: str,
    id_prefix: str,
    proration: Decimal | None = None,
) -> Obj:
    """One subscription line: `quantity` is the raw usage (or licensed quantity); the amount follows
    the price (packages, tiers) and, for a short first period, `proration` (the part of a period)."""
    price = item["price"]
    amount = amount_for(price, quantity, price_tiers(account, price["id"]))
    if proration is not None:
        amount = int((amount * proration).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if abs(amount) > MAX_LINE_AMOUNT:
        # Only metered usage can get here (amounts and quantities are bounded on the way in).
        raise StripeError(
            f"The amount for {price['id']} is too large to invoice: it must be at most {MAX_LINE_AMOUNT}.",
            code="amount_too_large",
        )
    quantity = Decimal(quantity) if QUANTITY_IS_RAW_USAGE else billed_quantity(price, quantity)
    return {
        "id": new_id(id_prefix),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": describe(account, price, quantity),
        "discount_amounts": [],
        "discountable": True,
        "discounts": list(item.get("discounts") or []),
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(subscription["metadata"]),
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration is not None,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": int(quantity),
        "quantity_decimal": _plain(quantity),
        "subscription": subscription["id"],
        "subtotal": amount,
        "taxes": line_taxes_of(amount, tax_rates_of(subscription, item)),
    }


def creation_lines(
    account: Account, subscription: Obj, *, invoice_id: str, id_prefix: str, prorate: bool = True
) -> list[Obj]:
    """The lines of a subscription's first invoice: licensed items for their first period (prorated
    when a later billing cycle anchor cuts it short; not billed at all without prorations), and a 0
    line for each metered item in classic mode only."""
    classic = subscription["billing_mode"]["type"] == "classic"
    start = subscription["start_date"]
    lines = []
    for item in subscription["items"]["data"]:
        period = (item["current_period_start"], item["current_period_end"])
        if is_metered(item["price"]):
            if classic:
                lines.append(
                    line(
                        account, subscription, item, 0, (start, start) if EMPTY_USAGE_PERIOD else period,
                        invoice_id=invoice_id, id_prefix=id_prefix,
                    )
                )
            continue
        if subscription["status"] == "trialing":
            lines.append(_trial_line(account, subscription, item, period, invoice_id=invoice_id, id_prefix=id_prefix))
            continue
        share = _first_period_share(subscription, item)
        if share is not None and not prorate:
            continue
        # A `cancel_at` within the first period cuts its charge short too.
        cut, billed = _until_cancel_at(subscription, period)
        if cut is not None:
            share = cut * (share if share is not None else 1)
        lines.append(
            line(
                account, subscription, item, item["quantity"], billed,
                invoice_id=invoice_id, id_prefix=id_prefix, proration=share,
            )
        )
    return lines


def _trial_line(
    account: Account, subscription: Obj, item: Obj, period: tuple[int, int], *, invoice_id: str, id_prefix: str
) -> Obj:
    """A licensed item's free line for the trial: `Trial period for Pro`, 0."""
    entry = line(account, subscription, item, item["quantity"], period, invoice_id=invoice_id, id_prefix=id_prefix)
    product = account.find("product", item["price"]["product"])
    name = product["name"] if product is not None else item["price"]["product"]
    entry.update(amount=0, subtotal=0, description=f"Trial period for {name}")
    return entry


def next_lines(
    account: Account, subscription: Obj, *, invoice_id: str, id_prefix: str, items: list[Obj] | None = None
) -> list[Obj]:
    """The lines of the invoice due when the current period ends: each metered item's usage in its
    current period so far, then each licensed item's next period (none if the subscription ends).
    `items` narrows them to the items whose period ends then (all by default)."""
    lines = []
    for item in subscription["items"]["data"] if items is None else items:
        period = (item["current_period_start"], item["current_period_end"])
        if is_metered(item["price"]):
            if not trials.TRIAL_USAGE_BILLED and trials.in_trial(subscription, period[1]):
                continue
            used = usage(account, subscription["customer"], item["price"], *period)
            # Usage a threshold invoice already billed is not billed again.
            used = max(used - account_billing(account).billed(item["id"], period[0]), Decimal(0))
            lines.append(line(account, subscription, item, used, period, invoice_id=invoice_id, id_prefix=id_prefix))
        elif not ends_with_period(subscription, period[1]):
            upcoming = following_period(subscription, item["price"], period[1])
            share, billed = _until_cancel_at(subscription, upcoming)
            lines.append(
                line(
                    account, subscription, item, item["quantity"], billed,
                    invoice_id=invoice_id, id_prefix=id_prefix, proration=share,
                )
            )
    return lines


def _until_cancel_at(subscription: Obj, period: tuple[int, int]) -> tuple[Decimal | None, tuple[int, int]]:
    """A period the subscription's `cancel_at` falls in is billed prorated, up to `cancel_at` only:
    the part of it billed (None for all of it) and the span billed."""
    cancel_at = subscription["cancel_at"]
    if cancel_at is None or not period[0] < cancel_at < period[1]:
        return None, period
    return Decimal(cancel_at - period[0]) / Decimal(period[1] - period[0]), (period[0], cancel_at)


def _first_period_share(subscription: Obj, item: Obj) -> Decimal | None:
    """The part of a whole period covered by a first period that a later billing cycle anchor cuts
    short (Stripe prorates it), or None for a whole period."""
    anchor = subscription["billing_cycle_anchor"]
    if item["current_period_end"] != anchor:
        return None
    recurring = item["price"]["recurring"]
    whole = anchor - boundary(anchor, recurring["interval"], recurring["interval_count"], -1)
    return Decimal(anchor - item["current_period_start"]) / Decimal(whole)


def build_invoice(
    account: Account,
    invoice_id: str,
    subscription: Obj | None,
    lines: list[Obj],
    *,
    billing_reason: str,
    created: int,
    period: tuple[int, int],
    customer: Obj,
    terms: Obj | None = None,
    discounts: Sequence[Obj] = (),
    unstored: Sequence[Obj] = (),
) -> Obj:
    """A draft invoice of `subscription` (or, None, of the customer alone) with `lines` (not stored
    yet), discounted by the lines' own discounts and the invoice's `discounts`, and totalled against
    the customer's balance. `unstored` are line discounts not stored yet. `terms`
    (`collection_method`, `days_until_due`, `currency`) are the subscription's unless given."""
    invoice_ids = [discount["id"] for discount in discounts]
    for entry, changes in zip(lines, discounting.price_lines(account, lines, invoice_ids, [*discounts, *unstored]), strict=True):
        entry.update(changes)
    terms = terms if terms is not None else subscription
    assert terms is not None
    send_invoice = terms["collection_method"] == "send_invoice"
    days = terms["days_until_due"]
    return {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": None,
        "account_tax_ids": None,
        "amount_overpaid": 0,
        "amount_paid_off_stripe": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": False,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": terms["collection_method"],
        "created": created,
        "currency": terms["currency"],
        "custom_fields": customer["invoice_settings"]["custom_fields"],
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": customer["address"],
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_shipping": customer["shipping"],
        "customer_tax_exempt": customer["tax_exempt"],
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": invoice_ids,
        "due_date": created + days * 86_400 if send_invoice and days is not None else None,
        "effective_at": None,
        "ending_balance": None,
        "footer": customer["invoice_settings"]["footer"],
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object(lines[:LINES_SHOWN], len(lines) > LINES_SHOWN, f"/v1/invoices/{invoice_id}/lines"),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None if send_invoice else created + FINALIZATION_DELAY,
        "number": None,
        "on_behalf_of": None,
        "parent": None
        if subscription is None
        else {
            "quote_details": None,
            "subscription_details": {"metadata": dict(subscription["metadata"]), "subscription": subscription["id"]},
            "type": "subscription_details",
        },
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {"amount_tax_display": None, "pdf": {"page_size": "auto"}, "template": None, "template_version": None},
        "shipping_cost": None,
        "shipping_details": None,
        "statement_descriptor": None,
        "status": "draft",
        "status_details": None,
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None, "voided_at": None},
        "test_clock": customer["test_clock"],
        "threshold_reason": None,
        "total_pretax_credit_amounts": [],
        "webhooks_delivered_at": None,
        **taxed_totals(lines, customer["balance"]),
    }


def item_line(item: Obj, invoice_id: str, *, id_prefix: str = "il") -> Obj:
    """The line a pending invoice item becomes on an invoice."""
    return {
        "id": new_id(id_prefix),
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [],
        "discountable": item["discountable"],
        "discounts": list(item["discounts"]),
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": _item_line_parent(item),
        "period": dict(item["period"]),
        "pretax_credit_amounts": [],
        "pricing": item["pricing"],
        "quantity": item["quantity"],
        "quantity_decimal": item["quantity_decimal"],
        "subscription": _subscription_of_item(item),
        "subtotal": item["amount"],
        "taxes": line_taxes_of(item["amount"], item["tax_rates"]),
    }


def _subscription_of_item(item: Obj) -> str | None:
    details = (item["parent"] or {}).get("subscription_details")
    return details["subscription"] if details is not None else None


def _item_line_parent(item: Obj) -> Obj:
    """A proration's line tells its subscription item; any other item's line tells the item."""
    details = (item["parent"] or {}).get("subscription_details")
    if item["proration"] and details is not None:
        return {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": item["id"],
                "proration": True,
                "proration_details": {"credited_items": item["proration_details"]["credited_items"]},
                "subscription": details["subscription"],
                "subscription_item": details["subscription_item"],
            },
            "type": "subscription_item_details",
        }
    return {
        "invoice_item_details": {
            "invoice_item": item["id"],
            "proration": False,
            "proration_details": {"credited_items": None},
            "subscription": _subscription_of_item(item),
        },
        "subscription_item_details": None,
        "type": "invoice_item_details",
    }


def pending_items(account: Account, customer_id: str, currency: str | None) -> list[Obj]:
    """The customer's invoice items waiting for an invoice (in `currency`, if given), oldest first."""
    return [
        item
        for item in reversed(list(account.collection("invoiceitem").newest_first()))
        if item["customer"] == customer_id and item["invoice"] is None and currency in (None, item["currency"])
    ]


def standalone(
    account: Account,
    customer: Obj,
    now: int,
    *,
    terms: Obj,
    items: list[Obj],
    auto_advance: bool,
    fields: Obj,
    redemptions: list[discounting.Redemption] | None = None,
) -> Obj:
    """Store a draft invoice of the customer alone (`POST /v1/invoices`), with `items` as its lines
    and `fields` (description, metadata, ...) set, discounted by the checked `redemptions` (None: the
    customer's discount)."""
    invoice_id = new_id("in")
    lines = [item_line(item, invoice_id) for item in items]
    if redemptions is None:
        prepared: list[discounting.Prepared] = []
        discounts = discounting.invoice_discounts(account, None, customer, now)
    else:
        owner = {"customer": customer["id"], "invoice": invoice_id}
        prepared = discounting.prepare(redemptions, now, belongs_to=owner)
        discounts = discounting.discounts_of(prepared)
    invoice = build_invoice(
        account,
        invoice_id, None, lines, billing_reason="manual", created=now, period=(now, now), customer=customer, terms=terms,
        discounts=discounts,
    )
    invoice["auto_advance"] = auto_advance
    invoice["automatically_finalizes_at"] = now + FINALIZATION_DELAY if auto_advance else None
    if terms.get("due_date") is not None:
        invoice["due_date"] = terms["due_date"]
    invoice.update(fields)
    stored = store(account, (invoice, lines))
    discounting.redeem(account, prepared, now)
    return stored


def add_item(account: Account, invoice: Obj, item: Obj, customer: Obj) -> None:
    """Put an invoice item on a draft invoice: a new line, and the totals again."""
    lines = all_lines(account, invoice)
    entry = account.create(item_line(item, invoice["id"]))
    lines.append(entry)
    reprice(account, invoice, customer)
    account.update(item, {"invoice": invoice["id"]})


def reprice(account: Account, invoice: Obj, customer: Obj, changes: Obj | None = None) -> None:
    """Discount, tax and total a stored draft's lines again (a line added, usage recounted, its
    discounts changed), with `changes` to the invoice itself."""
    changes = changes or {}
    lines = all_lines(account, invoice)
    invoice_ids: list[str] = changes["discounts"] if "discounts" in changes else invoice["discounts"]
    for entry, priced in zip(lines, discounting.price_lines(account, lines, invoice_ids), strict=True):
        account.update(entry, priced)
    shown = list_object(lines[:LINES_SHOWN], len(lines) > LINES_SHOWN, f"/v1/invoices/{invoice['id']}/lines")
    account.update(invoice, {**changes, **taxed_totals(lines, customer["balance"]), "lines": shown})


def needs_charge(invoice: Obj) -> bool:
    """Whether finalizing the invoice charges a card: collected automatically, and at least the
    currency's minimum due (less is carried to the customer's balance)."""
    due = invoice["amount_due"]
    return invoice["collection_method"] == "charge_automatically" and due >= payments.MINIMUM_AMOUNTS.get(invoice["currency"], 1)


def finalize(
    account: Account,
    invoice: Obj,
    customer: Obj,
    now: int,
    *,
    charge: bool = True,
    off_session: bool = True,
    retries: bool = True,
    prepare: bool = True,
) -> collection.Outcome | None:
    """Number the invoice, settle the customer's balance against it, then collect: nothing due makes
    it paid; under `charge_automatically` the card is charged (unless `charge` is False: the invoice
    then waits, with its PaymentIntent unless not to `prepare` one, for a payment); `send_invoice`
    leaves it open until its due date. Returns how the charge went, or None when no card was charged."""
    number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
    account.update(customer, {"next_invoice_sequence": customer["next_invoice_sequence"] + 1}, action="numbered")
    # Billing credits go first, before the customer's balance.
    credited = credits.apply(account, invoice, all_lines(account, invoice), invoice["starting_balance"], now)
    settled = {"total": invoice["total"], "amount_due": invoice["amount_due"], **credited}
    total = settled["total"]
    balance = min(total + invoice["starting_balance"], 0)
    automatic = invoice["collection_method"] == "charge_automatically"
    due = settled["amount_due"]
    carried = automatic and 0 < due < payments.MINIMUM_AMOUNTS.get(invoice["currency"], 0)
    if carried:
        balance += due
    account.update(customer, {"balance": balance})
    finalized = {**invoice["status_transitions"], "finalized_at": now}
    account.update(
        invoice,
        {
            **credited,
            "number": number,
            "ending_balance": balance,
            "status": "open",
            "effective_at": now,
            "status_transitions": finalized,
            "webhooks_delivered_at": now,
            "automatically_finalizes_at": None,
            "next_payment_attempt": None,
        },
        action="finalized",
    )
    if due == 0 or carried:
        account.update(
            invoice,
            {
                "attempted": True,
                "attempt_count": 0,
                "amount_paid": 0,
                "amount_remaining": 0,
                "status": "paid",
                "status_transitions": {**finalized, "paid_at": now},
            },
            action="paid",
        )
        return None
    if not automatic:
        return None
    if not charge:
        if prepare:
            collection.open_intent(account, invoice, now)
        return None
    return collection.collect(account, invoice, now, off_session=off_session, retries=retries)[0]


Draft = tuple[Obj, list[Obj]]  # an invoice not stored yet, with all its lines


def first_invoice(
    account: Account,
    subscription: Obj,
    customer: Obj,
    now: int,
    *,
    prorate: bool = True,
    discounts: Sequence[Obj] = (),
    unstored: Sequence[Obj] = (),
) -> Draft | None:
    """The `subscription_create` invoice of a subscription not stored yet, built but not stored
    (`issue` does that once the subscription is), unless it would be empty (a flexible-mode
    subscription of metered items only has none). `discounts` are the invoice's (not stored yet, as
    `unstored`, the items' discounts)."""
    invoice_id = new_id("in")
    lines = creation_lines(account, subscription, invoice_id=invoice_id, id_prefix="il", prorate=prorate)
    if not lines:
        return None
    invoice = build_invoice(
        account,
        invoice_id, subscription, lines,
        billing_reason="subscription_create", created=now, period=(now, now), customer=customer,
        discounts=discounts, unstored=unstored,
    )
    return invoice, lines


def issue(
    account: Account, draft: Draft, customer: Obj, now: int, *, charge: bool, off_session: bool, retries: bool = False
) -> Obj:
    """Store a subscription invoice made on the spot with its lines, finalize it and collect it
    (`charge`); a declined first payment is not retried (`retries` for one that is, as a threshold's)."""
    invoice = store(account, draft)
    outcome = finalize(account, invoice, customer, now, charge=charge, off_session=off_session, retries=retries)
    if outcome is not None:
        collection.settle_subscription(account, invoice, outcome, now)
    return invoice


def store(account: Account, draft: Draft) -> Obj:
    """Store a draft invoice and its lines (all of them, beyond the first `LINES_SHOWN` it embeds)."""
    invoice, lines = draft
    for entry in lines:
        account.create(entry)
    stored = account.create(invoice, lines=lines)
    for entry in lines:
        details = entry["parent"]["invoice_item_details"] or entry["parent"]["subscription_item_details"]
        item_id = details["invoice_item"] if details is not None else None
        item = account.find("invoiceitem", item_id) if item_id is not None else None
        if item is not None:
            account.update(item, {"invoice": invoice["id"]})
    subscription = collection.subscription_of(account, stored)
    if subscription is not None:
        discounting.use_up(account, subscription, stored)
    return stored


def cycle_invoice(account: Account, subscription: Obj, customer: Obj, items: list[Obj], now: int) -> Draft | None:
    """The draft invoice due as `items`' periods end, at `now`, not stored yet (`store` does): their
    usage in the period that ended (arrears) and licensed items' next period (advance). None if it
    has no lines. It finalizes `FINALIZATION_DELAY` later (`finalize_when_due`)."""
    invoice_id = new_id("in")
    lines = next_lines(account, subscription, invoice_id=invoice_id, id_prefix="il", items=items)
    if not lines:
        return None
    # The customer's pending invoice items come along on its next subscription invoice.
    pending = pending_items(account, customer["id"], subscription["currency"])
    lines += [item_line(item, invoice_id) for item in pending]
    cycling = not ends_with_period(subscription, now)
    invoice = build_invoice(
        account,
        invoice_id, subscription, lines,
        billing_reason="subscription_cycle" if cycling else FINAL_USAGE_BILLING_REASON,
        created=now, period=(min(i["current_period_start"] for i in items), now), customer=customer,
        discounts=discounting.invoice_discounts(account, subscription, customer, now),
    )
    # A subscription whose collection is paused with `keep_as_draft` leaves its invoices drafts.
    kept = (subscription["pause_collection"] or {}).get("behavior") == "keep_as_draft"
    invoice["auto_advance"] = not kept
    invoice["automatically_finalizes_at"] = None if kept else now + FINALIZATION_DELAY
    return invoice, lines


# UNSURE: the billing reason of the invoice a new cycle starting now (a resumed subscription, a trial
# ended early) begins with.
NEW_CYCLE_BILLING_REASON = "subscription_update"


def new_cycle_invoice(
    account: Account, subscription: Obj, customer: Obj, now: int, items: list[Obj] | None = None
) -> Draft | None:
    """The invoice of a billing cycle starting now, not stored yet: the licensed items' (of `items`,
    by default the subscription's) new period."""
    invoice_id = new_id("in")
    lines = [
        line(
            account, subscription, item, item["quantity"], (item["current_period_start"], item["current_period_end"]),
            invoice_id=invoice_id, id_prefix="il",
        )
        for item in (subscription["items"]["data"] if items is None else items)
        if not is_metered(item["price"])
    ]
    if not lines:
        return None
    invoice = build_invoice(
        account,
        invoice_id, subscription, lines,
        billing_reason=NEW_CYCLE_BILLING_REASON, created=now, period=(now, now), customer=customer,
        discounts=discounting.invoice_discounts(account, subscription, customer, now),
    )
    return invoice, lines


def final_invoice(account: Account, subscription: Obj, customer: Obj, now: int) -> Draft | None:
    """The invoice of a subscription canceled now with `invoice_now`, not stored yet: its metered
    items' usage so far and the customer's pending items (its prorations among them). None if empty."""
    invoice_id = new_id("in")
    lines = [
        line(
            account, subscription, item, usage(account, subscription["customer"], item["price"], item["current_period_start"], now),
            (item["current_period_start"], now), invoice_id=invoice_id, id_prefix="il",
        )
        for item in subscription["items"]["data"]
        if is_metered(item["price"])
    ]
    lines += [item_line(item, invoice_id) for item in pending_items(account, customer["id"], subscription["currency"])]
    if not lines:
        return None
    start = min(item["current_period_start"] for item in subscription["items"]["data"])
    invoice = build_invoice(
        account,
        invoice_id, subscription, lines,
        billing_reason=FINAL_USAGE_BILLING_REASON, created=now, period=(start, now), customer=customer,
        discounts=discounting.invoice_discounts(account, subscription, customer, now),
    )
    return invoice, lines


def end_with_final_invoice(
    account: Account, subscription: Obj, customer: Obj, now: int, *, invoice: bool, details: Obj | None = None
) -> None:
    """Cancel `subscription` as of `now`; with `invoice`, what it still owes (`final_invoice`) is
    invoiced and finalized, and becomes its `latest_invoice`."""
    draft = final_invoice(account, subscription, customer, now) if invoice else None
    latest = {"latest_invoice": draft[0]["id"]} if draft is not None else {}
    end_subscription(account, subscription, now, details, changes=latest)
    if draft is not None:
        finalize(account, store(account, draft), customer, now)


def finalize_when_due(account: Account, invoice: Obj, customer: Obj, now: int) -> None:
    """Finalize a draft subscription invoice whose time came. Usage is counted again first: events
    that arrived late for the period it bills still count until then."""
    lines = all_lines(account, invoice)
    for entry in lines:
        details = entry["parent"]["subscription_item_details"]
        if details is None:  # an invoice item's line: nothing to recount
            continue
        price = account.find("price", entry["pricing"]["price_details"]["price"])
        subscription = account.find("subscription", details["subscription"])
        if price is None or subscription is None or not is_metered(price):
            continue
        period = (entry["period"]["start"], entry["period"]["end"])
        used = usage(account, invoice["customer"], price, *period)
        used = max(used - account_billing(account).billed(details["subscription_item"], period[0]), Decimal(0))
        stored = account.find("subscription_item", details["subscription_item"])
        item = {"id": details["subscription_item"], "price": price, "tax_rates": stored["tax_rates"] if stored else []}
        recounted = line(account, subscription, item, used, period, invoice_id=invoice["id"], id_prefix="il")
        account.update(entry, {**recounted, "id": entry["id"], "discounts": entry["discounts"]})
    reprice(account, invoice, customer)
    subscription = collection.subscription_of(account, invoice)
    paused = subscription["pause_collection"] if subscription is not None else None
    if paused is not None:
        # Collection paused: the invoice is finalized but not charged, then voided or written off.
        finalize(account, invoice, customer, now, charge=False, prepare=False)
        if invoice["status"] == "open":
            settle = collection.void if paused["behavior"] == "void" else collection.mark_uncollectible
            settle(account, invoice, now)
        return
    outcome = finalize(account, invoice, customer, now)
    if outcome is not None:
        collection.settle_subscription(account, invoice, outcome, now)


def all_lines(account: Account, invoice: Obj) -> list[Obj]:
    """Every line of a stored invoice, in invoice order."""
    return account.collection("invoice").private[invoice["id"]]["lines"]


def preview(
    account: Account,
    subscription: Obj,
    customer: Obj,
    *,
    new: bool,
    now: int,
    prorations: Callable[[str], list[Obj]] | None = None,
    immediate: bool = False,
    discounts: Sequence[Obj] | None = None,
    unstored: Sequence[Obj] = (),
) -> Obj:
    """The invoice a subscription will produce next, never stored: for a `new` one its first invoice,
    else the one at the end of the current period. `prorations(invoice_id)` gives the lines of a
    previewed change's prorations: on that invoice, or (`immediate`, under `always_invoice`) alone on
    the invoice the change makes now. `discounts` replace those the subscription would take; `unstored`
    are its items' discounts not stored (a new subscription's)."""
    invoice_id = new_id("upcoming_in")

    def taken(at: int) -> Sequence[Obj]:
        return discounting.invoice_discounts(account, subscription, customer, at) if discounts is None else discounts

    if immediate:
        lines = prorations(invoice_id) if prorations is not None else []
        return build_invoice(
            account,
            invoice_id, subscription, lines,
            billing_reason=PREVIEW_BILLING_REASON, created=now, period=(now, now), customer=customer,
            discounts=taken(now),
        )
    if new:
        lines = creation_lines(account, subscription, invoice_id=invoice_id, id_prefix="il_tmp")
        created, period = now, (now, now)
    else:
        if subscription["status"] == "canceled":
            raise no_upcoming_invoice(customer["id"])
        lines = next_lines(account, subscription, invoice_id=invoice_id, id_prefix="il_tmp")
        # The customer's pending invoice items (prorations among them) come along on the renewal.
        pending = pending_items(account, customer["id"], subscription["currency"])
        lines += [item_line(item, invoice_id) for item in pending]
        if prorations is not None:
            lines += prorations(invoice_id)
        period = _current_window(subscription)
        created = period[1]
    invoice = build_invoice(
        account,
        invoice_id, subscription, lines,
        billing_reason=PREVIEW_BILLING_REASON, created=created, period=period, customer=customer,
        discounts=taken(created), unstored=unstored,
    )
    credits.preview(account, invoice, lines, now)
    return invoice


def _current_window(subscription: Obj) -> tuple[int, int]:
    """The span of the items' current periods: what the next invoice closes."""
    items = subscription["items"]["data"]
    return min(i["current_period_start"] for i in items), max(i["current_period_end"] for i in items)


def no_upcoming_invoice(customer_id: str) -> StripeError:
    return StripeError(f"No upcoming invoices for customer: {customer_id}", code="invoice_upcoming_none")


def describe(account: Account, price: Obj, quantity: Decimal) -> str:
    """A line's label, e.g. `25 × Alpaca AI tokens (at $0.04 per 100 units / month)`."""
    product = account.find("product", price["product"])
    name = product["name"] if product is not None else price["product"]
    recurring = price["recurring"]
    count = recurring["interval_count"]
    per = recurring["interval"] if count == 1 else f"{count} {recurring['interval']}s"
    if price["billing_scheme"] == "tiered":
        return f"{_plain(quantity)} × {name} (tiered / {per})"
    rate = _money(price["currency"], Decimal(price["unit_amount_decimal"] or 0))
    transform = price["transform_quantity"]
    if transform is not None:
        rate += f" per {transform['divide_by']} units"
    return f"{_plain(quantity)} × {name} (at {rate} / {per})"


def _money(currency: str, minor: Decimal) -> str:
    if currency in _ZERO_DECIMAL:
        text = _plain(minor)
    else:
        major = minor / 100
        cents = major.quantize(Decimal("0.01"))
        text = format(cents, "f") if major == cents else _plain(major)
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def _plain(number: Decimal | int) -> str:
    """A decimal without exponent or trailing zeros: `1000001`, `0.5`."""
    return format(Decimal(number).normalize(), "f")
