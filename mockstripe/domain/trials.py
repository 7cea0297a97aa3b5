"""Trials: a subscription `trialing` until `trial_end`, which is its billing cycle anchor. Its first
invoice bills nothing; `customer.subscription.trial_will_end` comes `TRIAL_NOTICE` before the end;
at the end the first paid period starts, unless the customer has no payment method and the trial's
`end_behavior.missing_payment_method` says to cancel or pause instead.
"""

from __future__ import annotations

from typing import Any

from ..store import Account
from ..wire.errors import invalid

Obj = dict[str, Any]

DAY = 86_400
# How long before a trial ends Stripe sends `customer.subscription.trial_will_end`.
TRIAL_NOTICE = 3 * DAY
MAX_TRIAL_DAYS = 730
# UNSURE: whether metered usage recorded during a trial is billed when it ends. Chosen: it is not
# (the trial is free; the first metered period starts at the trial's end).
TRIAL_USAGE_BILLED = False
TRIAL_END_IN_PAST = (
    "Invalid timestamp: must be an integer Unix timestamp in the future."
)
# UNSURE: Stripe's wording for a trial longer than two years.
TRIAL_TOO_LONG = f"The trial cannot be longer than {MAX_TRIAL_DAYS} days."
TRIAL_WITH_ANCHOR = (
    "billing_cycle_anchor together with a trial is not supported by mockstripe: the trial's end is the "
    "billing cycle anchor. Leave billing_cycle_anchor out, or see the README for what is implemented."
)


def requested_trial_end(params: Obj, prices: list[Obj], now: int) -> int | None:
    """When the trial a create request asks for ends (`trial_end`, else `trial_period_days`, else with
    `trial_from_plan` the prices' longest `trial_period_days`), or None for no trial (`trial_end=now`)."""
    end = params.get("trial_end")
    if end == "now":
        return None
    if end is not None:
        if end <= now:
            raise invalid(TRIAL_END_IN_PAST, param="trial_end")
        if end > now + MAX_TRIAL_DAYS * DAY:
            raise invalid(TRIAL_TOO_LONG, param="trial_end")
        return int(end)
    days = params.get("trial_period_days")
    if days is None and params.get("trial_from_plan"):
        days = max(
            (p["recurring"]["trial_period_days"] or 0 for p in prices), default=0
        )
    if not days:
        return None
    if params.get("billing_cycle_anchor") is not None:
        raise invalid(TRIAL_WITH_ANCHOR, param="billing_cycle_anchor")
    return now + int(days) * DAY


def start_trial(
    subscription: Obj, end: int, now: int, missing_payment_method: str | None
) -> None:
    """Make a subscription not stored yet trial until `end`."""
    subscription.update(
        status="trialing", trial_start=now, trial_end=end, billing_cycle_anchor=end
    )
    if missing_payment_method is not None:
        subscription["trial_settings"] = {
            "end_behavior": {
                "billing_cycle_anchor": None,
                "missing_payment_method": missing_payment_method,
            }
        }


def in_trial(subscription: Obj, period_end: int) -> bool:
    """Whether the period ending at `period_end` is the subscription's trial."""
    return (
        subscription["trial_end"] is not None
        and period_end <= subscription["trial_end"]
    )


class TrialNotices:
    """The trials whose end an account's subscriptions announced (`trial_will_end`)."""

    def __init__(self) -> None:
        self.sent: set[tuple[str, int]] = set()


def notice_due(account: Account, subscription: Obj) -> int | None:
    """When `trial_will_end` is due for a trialing subscription, unless it was sent."""
    end = subscription["trial_end"]
    if subscription["status"] != "trialing" or end is None:
        return None
    if (subscription["id"], end) in account.service(TrialNotices).sent:
        return None
    return max(end - TRIAL_NOTICE, subscription["trial_start"] or end)


def announce_end(account: Account, subscription: Obj, now: int) -> None:
    due = notice_due(account, subscription)
    if due is None or due > now:
        return
    account.service(TrialNotices).sent.add(
        (subscription["id"], subscription["trial_end"])
    )
    account.announce(subscription, "trial_will_end")


def has_payment_method(account: Account, subscription: Obj) -> bool:
    customer = account.find("customer", subscription["customer"])
    candidates = (
        subscription["default_payment_method"],
        customer["invoice_settings"]["default_payment_method"]
        if customer is not None
        else None,
    )
    return any(
        pm is not None and account.find("payment_method", pm) is not None
        for pm in candidates
    )
