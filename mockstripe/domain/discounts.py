"""Coupons and promotion codes as they are redeemed: whether each can still be used."""

from __future__ import annotations

from typing import Any

from ..store import Account

Obj = dict[str, Any]


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
