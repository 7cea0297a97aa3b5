"""Coupons and promotion codes as they are redeemed into discounts, and what discounts take off
invoices.

A request names each discount by a `coupon`, a `promotion_code` or an existing `discount` to keep.
`check` refuses anything that cannot be redeemed before anything changes; `redeem` then makes the
`discount` objects and counts the redemptions. A discount belongs to what it was applied to: a
subscription, one of its items, an invoice, an invoice item or a Checkout Session. `price_lines` puts
the discounts on an invoice's lines: a line's own discounts first, then the invoice's; taxes are
taken of what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from ..billing.discounts import Off, line_discounts
from ..billing.periods import boundary
from ..store import Account
from ..wire.errors import StripeError, invalid
from ..wire.ids import new_id
from .taxes import line_taxes_of

Obj = dict[str, Any]

# UNSURE: Stripe's wordings and codes for the refusals below (the first-time one is Stripe's own).
COUPON_EXPIRED = "Coupon expired: {}"
COUPON_OTHER_CURRENCY = "This coupon's currency ({}) does not match the currency of this {} ({})."
PROMOTION_CODE_INACTIVE = "This promotion code cannot be redeemed because it is inactive."
PROMOTION_CODE_EXPIRED = "This promotion code cannot be redeemed because it has expired."
PROMOTION_CODE_USED_UP = "This promotion code cannot be redeemed because it has been used the maximum number of times."
PROMOTION_CODE_OTHER_CUSTOMER = (
    "This promotion code cannot be redeemed because it is restricted to a different customer."
)
PROMOTION_CODE_NOT_FIRST_TIME = (
    "This promotion code cannot be redeemed because the associated customer has prior transactions."
)
PROMOTION_CODE_MINIMUM = (
    "This promotion code cannot be redeemed because the associated purchase does not meet the minimum "
    "amount requirement."
)
NOT_ITS_DISCOUNT = "The discount {} does not belong to this {}."
SAME_COUPON_TWICE = "The coupon {} cannot be applied more than once."
NO_DISCOUNT = "No active discount for {}: {}"

# UNSURE: Stripe sends `customer.discount.*` for the discounts of a customer and of a subscription;
# discounts of an invoice, an invoice item, a subscription item or a Checkout Session are not news.
QUIET = ("checkout_session", "invoice", "invoice_item", "subscription_item")


@dataclass(frozen=True)
class Redemption:
    """One discount as asked for: a coupon (through a promotion code or not) to redeem, or an existing
    discount to keep."""

    coupon: Obj
    promotion_code: Obj | None = None
    kept: Obj | None = None


@dataclass(frozen=True)
class Purchase:
    """What a discount is redeemed for: the customer and the currency."""

    customer: Obj | None
    currency: str
    noun: str  # "subscription", "invoice", ... in messages


def coupon_still_valid(coupon: Obj, now: int) -> bool:
    """A coupon can be redeemed until it reaches `max_redemptions` or its `redeem_by` passes."""
    limit = coupon["max_redemptions"]
    redeem_by = coupon["redeem_by"]
    return (limit is None or coupon["times_redeemed"] < limit) and (redeem_by is None or now < redeem_by)


def refresh_validity(account: Account, coupon: Obj) -> Obj:
    """The coupon with `valid` brought up to date (a `redeem_by` may have passed since it last changed)."""
    valid = coupon_still_valid(coupon, account.now())
    if coupon["valid"] != valid:
        account.update(coupon, {"valid": valid}, action="validity")
    return coupon


def active_with_code(account: Account, code: str) -> Obj | None:
    """The active promotion code spelled `code` (in any case), if there is one."""
    wanted = code.casefold()
    return next(
        (p for p in account.collection("promotion_code").newest_first() if p["active"] and p["code"].casefold() == wanted),
        None,
    )


def check(
    account: Account, requests: list[Obj], path: str, purchase: Purchase, now: int, current: Iterable[str] = ()
) -> list[Redemption]:
    """The discounts `requests` (at `path`) ask for, each checked: Stripe's 400 for the first that
    cannot be redeemed. `current` are the ids of the discounts that may be kept."""
    keepable = set(current)
    redemptions = []
    seen: set[str] = set()
    for i, request in enumerate(requests):
        at = f"{path}[{i}]"
        if request.get("discount") is not None:
            redemptions.append(_kept(account, request["discount"], keepable, f"{at}[discount]", purchase))
            continue
        promotion_code = None
        if request.get("promotion_code") is not None:
            promotion_code = account.find("promotion_code", request["promotion_code"])
            assert promotion_code is not None  # the validator checked it exists
            _check_promotion_code(account, promotion_code, f"{at}[promotion_code]", purchase, now)
            coupon_id = promotion_code["promotion"]["coupon"]
            param = f"{at}[promotion_code]"
        else:
            coupon_id, param = request["coupon"], f"{at}[coupon]"
        coupon = account.find("coupon", coupon_id)
        if coupon is None or not coupon_still_valid(coupon, now):
            raise StripeError(COUPON_EXPIRED.format(coupon_id), code="coupon_expired", param=param)
        if coupon["amount_off"] is not None and coupon["currency"] != purchase.currency:
            raise invalid(COUPON_OTHER_CURRENCY.format(coupon["currency"], purchase.noun, purchase.currency), param=param)
        if coupon["id"] in seen:
            raise invalid(SAME_COUPON_TWICE.format(coupon["id"]), param=param)
        seen.add(coupon["id"])
        redemptions.append(Redemption(coupon, promotion_code))
    return redemptions


def _kept(account: Account, discount_id: str, keepable: set[str], param: str, purchase: Purchase) -> Redemption:
    discount = account.find("discount", discount_id)
    if discount is None or discount_id not in keepable:
        raise invalid(NOT_ITS_DISCOUNT.format(discount_id, purchase.noun), param=param)
    coupon = account.find_including_deleted("coupon", discount["source"]["coupon"])
    assert coupon is not None
    return Redemption(coupon, kept=discount)


def _check_promotion_code(account: Account, promotion_code: Obj, param: str, purchase: Purchase, now: int) -> None:
    restrictions = promotion_code["restrictions"]
    limit = promotion_code["max_redemptions"]
    expires_at = promotion_code["expires_at"]
    customer_id = purchase.customer["id"] if purchase.customer is not None else None
    if not promotion_code["active"]:
        raise invalid(PROMOTION_CODE_INACTIVE, param=param)
    if expires_at is not None and expires_at <= now:
        raise invalid(PROMOTION_CODE_EXPIRED, param=param, code="coupon_expired")
    if limit is not None and promotion_code["times_redeemed"] >= limit:
        raise invalid(PROMOTION_CODE_USED_UP, param=param)
    if promotion_code["customer"] is not None and promotion_code["customer"] != customer_id:
        raise invalid(PROMOTION_CODE_OTHER_CUSTOMER, param=param)
    if restrictions["first_time_transaction"] and customer_id is not None and _has_paid(account, customer_id):
        raise invalid(PROMOTION_CODE_NOT_FIRST_TIME, param=param, code="promotion_code_customer_not_first_time")


def check_minimum(redemptions: list[Redemption], path: str, currency: str, amount: int) -> None:
    """Stripe's 400 for a promotion code whose `minimum_amount` a purchase of `amount` (before
    discounts) does not reach; `redemptions` as `check` gave them for the discounts at `path`."""
    for i, redemption in enumerate(redemptions):
        if redemption.promotion_code is None:
            continue
        restrictions = redemption.promotion_code["restrictions"]
        minimum = restrictions["minimum_amount"]
        if minimum is not None and (restrictions["minimum_amount_currency"] != currency or amount < minimum):
            raise invalid(PROMOTION_CODE_MINIMUM, param=f"{path}[{i}][promotion_code]")


def _has_paid(account: Account, customer_id: str) -> bool:
    """Whether the customer has made a payment before (a succeeded charge)."""
    return any(
        charge["customer"] == customer_id and charge["status"] == "succeeded"
        for charge in account.collection("charge").newest_first()
    )


@dataclass(frozen=True)
class Prepared:
    """A discount made from a checked redemption, not stored yet (a kept one is stored already)."""

    discount: Obj
    redemption: Redemption


def prepare(redemptions: list[Redemption], now: int, *, belongs_to: Obj) -> list[Prepared]:
    """The discounts of checked `redemptions`, built but not stored (`redeem` does). `belongs_to`
    sets what new ones apply to (`customer`, `subscription`, `invoice`, ...)."""
    prepared = []
    for redemption in redemptions:
        if redemption.kept is not None:
            prepared.append(Prepared(redemption.kept, redemption))
            continue
        coupon, promotion_code = redemption.coupon, redemption.promotion_code
        discount = {
            "id": new_id("di"),
            "object": "discount",
            "checkout_session": None,
            "customer": None,
            "customer_account": None,
            "end": _end(coupon, now),
            "invoice": None,
            "invoice_item": None,
            "promotion_code": promotion_code["id"] if promotion_code is not None else None,
            "source": {"coupon": coupon["id"], "type": "coupon"},
            "start": now,
            "subscription": None,
            "subscription_item": None,
            **belongs_to,
        }
        prepared.append(Prepared(discount, redemption))
    return prepared


def redeem(account: Account, prepared: list[Prepared], now: int) -> list[str]:
    """Store the new discounts and count each coupon's and promotion code's redemption; returns the
    discounts' ids in order."""
    for entry in prepared:
        if entry.redemption.kept is not None:
            continue
        discount, coupon, promotion_code = entry.discount, entry.redemption.coupon, entry.redemption.promotion_code
        # The coupon's terms are kept with it: a discount outlives its coupon's deletion, and the
        # invoices that took it still price it once it ended.
        action = "created" if _is_news(discount) else "attached"
        account.create(discount, action=action, terms=_Terms.of(account, coupon))
        times = coupon["times_redeemed"] + 1
        valid = coupon_still_valid({**coupon, "times_redeemed": times}, now)
        account.update(coupon, {"times_redeemed": times, "valid": valid}, action="redeemed")
        if promotion_code is not None:
            account.update(promotion_code, {"times_redeemed": promotion_code["times_redeemed"] + 1}, action="redeemed")
    return [entry.discount["id"] for entry in prepared]


def replace(
    account: Account, current: list[str], redemptions: list[Redemption], now: int, *, belongs_to: Obj
) -> list[str]:
    """Something's discounts (`current`) become those of checked `redemptions` (kept ones stay, new
    ones are made for `belongs_to`, the others end); returns the new ids."""
    kept = redeem(account, prepare(redemptions, now, belongs_to=belongs_to), now)
    remove(account, [d for d in current if d not in kept])
    return kept


def discounts_of(prepared: list[Prepared]) -> list[Obj]:
    return [entry.discount for entry in prepared]


def _end(coupon: Obj, start: int) -> int | None:
    """When a discount of `coupon` starting at `start` ends: `duration_in_months` calendar months
    later for a repeating coupon, never for the others."""
    if coupon["duration"] != "repeating":
        return None
    return boundary(start, "month", 1, coupon["duration_in_months"])


def _is_news(discount: Obj) -> bool:
    """Whether the discount is a customer's or a subscription's (not one of its items', nor an
    invoice's, an invoice item's or a Checkout Session's)."""
    return all(discount[part] is None for part in QUIET)


def remove(account: Account, discount_ids: Iterable[str]) -> None:
    """End the discounts named (a subscription's replaced discounts, an ended one)."""
    for discount_id in discount_ids:
        discount = account.find("discount", discount_id)
        if discount is not None:
            account.delete(discount, action="deleted" if _is_news(discount) else "removed")


def owned_by(subscription: Obj) -> list[str]:
    """The ids of a subscription's discounts and its items'."""
    return [*subscription["discounts"], *(d for item in subscription["items"]["data"] for d in item["discounts"])]


def detach(account: Account, subscription: Obj, ending: set[str]) -> None:
    """Take the discounts `ending` off a subscription and its items, and end them."""
    if not ending:
        return
    remove(account, [d for d in owned_by(subscription) if d in ending])
    for item in subscription["items"]["data"]:
        if ending & set(item["discounts"]):
            account.update(item, {"discounts": [d for d in item["discounts"] if d not in ending]})
    account.update(subscription, {"discounts": [d for d in subscription["discounts"] if d not in ending]})


def use_up(account: Account, subscription: Obj, invoice: Obj) -> None:
    """After an invoice of the subscription took something off with them, its `once` discounts are
    spent. UNSURE: a trial's free first invoice leaves them for the first paid one."""
    taken = {entry["discount"] for entry in invoice["total_discount_amounts"] if entry["amount"] > 0}
    spent = {d for d in owned_by(subscription) if d in taken and _coupon_duration(account, d) == "once"}
    detach(account, subscription, spent)


def expire(account: Account, subscription: Obj, now: int) -> None:
    """End the subscription's discounts whose `end` has come."""
    found = (account.find("discount", d) for d in owned_by(subscription))
    detach(account, subscription, {d["id"] for d in found if d is not None and d["end"] is not None and d["end"] <= now})


def ends(account: Account, subscription: Obj) -> list[int]:
    """When the subscription's discounts end (repeating ones)."""
    found = (account.find("discount", d) for d in owned_by(subscription))
    return [d["end"] for d in found if d is not None and d["end"] is not None]


@dataclass(frozen=True)
class _Terms:
    """What a discount takes off: its coupon's terms when it was redeemed."""

    percent_off: Decimal | None
    amount_off: int | None
    duration: str
    products: frozenset[str] | None  # `applies_to.products`, None for all

    @classmethod
    def of(cls, account: Account, coupon: Obj) -> _Terms:
        percent = coupon["percent_off"]
        return cls(
            percent_off=Decimal(str(percent)) if percent is not None else None,
            amount_off=coupon["amount_off"],
            duration=coupon["duration"],
            products=_products(account, coupon),
        )


def _terms(account: Account, discount_id: str) -> _Terms | None:
    """The terms of a stored discount, ended or not."""
    terms: _Terms | None = account.collection("discount").private.get(discount_id, {}).get("terms")
    return terms


def _coupon_duration(account: Account, discount_id: str) -> str | None:
    terms = _terms(account, discount_id)
    return terms.duration if terms is not None else None


def active(account: Account, discount_ids: Iterable[str], now: int) -> list[Obj]:
    """The discounts named that still apply at `now` (a repeating one ends at its `end`)."""
    found = (account.find("discount", discount_id) for discount_id in discount_ids)
    return [d for d in found if d is not None and (d["end"] is None or now < d["end"])]


def invoice_discounts(account: Account, subscription: Obj | None, customer: Obj, now: int) -> list[Obj]:
    """The discounts an invoice of `subscription` (or of the customer alone) takes: the subscription's,
    or when it has none the customer's."""
    if subscription is not None:
        own = active(account, subscription["discounts"], now)
        if own:
            return own
    customer_discount = customer["discount"]
    return active(account, [customer_discount["id"]], now) if customer_discount is not None else []


def price_lines(account: Account, lines: list[Obj], invoice_ids: list[str], unstored: Iterable[Obj] = ()) -> list[Obj]:
    """Each line's `discount_amounts` (its own `discounts` first, then the invoice's `invoice_ids`)
    and its `taxes` on the amount left, as changes in line order (for lines not stored yet, apply
    them in place). `unstored` are discounts not stored yet; an ended discount still counts on the
    invoices that took it."""
    line_ids = list(dict.fromkeys(d for entry in lines for d in entry["discounts"] if d not in invoice_ids))
    if not invoice_ids and not line_ids and not any(entry["discount_amounts"] for entry in lines):
        return [{} for _ in lines]  # nothing to take off, nor to put back: the lines stand as built
    # Discounts not stored yet are of coupons just checked.
    new = {d["id"]: account.find("coupon", d["source"]["coupon"]) for d in unstored}
    offs: list[Off] = []
    order: list[str] = []
    for discount_id in [*line_ids, *invoice_ids]:
        coupon = new.get(discount_id)
        terms = _Terms.of(account, coupon) if coupon is not None else _terms(account, discount_id)
        if terms is None:
            continue
        invoice_wide = discount_id in invoice_ids
        eligible = [
            entry["discountable"]
            and (invoice_wide or discount_id in entry["discounts"])
            and (terms.products is None or _product(entry) in terms.products)
            for entry in lines
        ]
        offs.append(Off(eligible, percent_off=terms.percent_off, amount_off=terms.amount_off))
        order.append(discount_id)
    amounts = line_discounts([entry["amount"] for entry in lines], offs)
    changes = []
    for index, (entry, taken) in enumerate(zip(lines, amounts, strict=True)):
        discount_amounts = [
            {"amount": taken[k], "discount": discount_id} for k, discount_id in enumerate(order) if offs[k].eligible[index]
        ]
        left = entry["amount"] - sum(taken)
        if left == entry["amount"] and not entry["discount_amounts"]:
            changes.append({"discount_amounts": discount_amounts})  # taxed as built
            continue
        rates = (account.find_including_deleted("tax_rate", tax["tax_rate_details"]["tax_rate"]) for tax in entry["taxes"])
        taxes = line_taxes_of(left, [rate for rate in rates if rate is not None])
        changes.append({"discount_amounts": discount_amounts, "taxes": taxes})
    return changes


def amounts_off(account: Account, coupon: Obj, lines: list[tuple[int, str | None]]) -> list[int]:
    """What `coupon` takes off each of `lines` (amount, product), as on an invoice's lines."""
    terms = _Terms.of(account, coupon)
    eligible = [terms.products is None or product in terms.products for _, product in lines]
    off = Off(eligible, percent_off=terms.percent_off, amount_off=terms.amount_off)
    return [taken[0] for taken in line_discounts([amount for amount, _ in lines], [off])]


def _products(account: Account, coupon: Obj) -> frozenset[str] | None:
    """The products a coupon is limited to (`applies_to.products`), or None for all."""
    products = account.collection("coupon").private.get(coupon["id"], {}).get("products") or []
    return frozenset(products) if products else None


def _product(entry: Obj) -> str | None:
    pricing = entry["pricing"] or {}
    return (pricing.get("price_details") or {}).get("product")
