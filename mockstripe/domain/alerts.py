"""Billing alerts: a `usage_threshold` alert watches one meter, for one customer or for every
customer, and sends `billing.alert.triggered` once per customer (`recurrence: one_time`) when that
customer's usage of the meter in its current period reaches `gte`.

`Alerts` (`account.service(Alerts)`) keeps the active alerts by meter and customer and registers
itself with `Metering` as the watcher of each meter that has any, so recording an event for a meter
without active alerts costs nothing more. An alert is evaluated when usage of its meter arrives
(or an adjustment changes it), not when it is created.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

from ..store import BY_THE_SERVER, Account
from .metering import Metering
from .subscriptions import current_period

Obj = dict[str, Any]

# The usage an alert compares with `gte` is the customer's usage in the current period of its
# subscription item billing the meter. UNSURE: for a customer without such a subscription Stripe's
# window is not documented; here it is all of the customer's recorded usage of the meter.
WITHOUT_SUBSCRIPTION = (0, 2**62)

_LIVE_SUBSCRIPTION = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete", "paused"})


class Alerts:
    """One account's active alerts by meter id and customer (None: every customer), and the
    customers each alert has triggered for."""

    def __init__(self) -> None:
        self._active: dict[str, dict[str | None, list[Obj]]] = {}
        self._triggered: dict[str, set[str]] = {}
        # (meter id, customer id) -> the lowest `gte` of the alerts still to trigger for that
        # customer (None: none left), so most evaluations stop at one comparison.
        self._lowest: dict[tuple[str, str], int | None] = {}
        # (meter id, customer id) -> (start, end, subscriptions stored when it was found).
        self._windows: dict[tuple[str, str], tuple[int, int, int]] = {}

    def watch(self, account: Account, alert: Obj) -> None:
        """Start evaluating `alert`, afresh: it may trigger again for every customer."""
        threshold = alert["usage_threshold"]
        by_customer = self._active.setdefault(threshold["meter"], {})
        by_customer.setdefault(_customer_filter(alert), []).append(alert)
        self._triggered[alert["id"]] = set()
        self._lowest.clear()
        account.service(Metering).watch(threshold["meter"], self.evaluate)

    def unwatch(self, account: Account, alert: Obj) -> None:
        """Stop evaluating `alert` (deactivated or archived)."""
        meter_id = alert["usage_threshold"]["meter"]
        by_customer = self._active.get(meter_id, {})
        key = _customer_filter(alert)
        remaining = [other for other in by_customer.get(key, ()) if other["id"] != alert["id"]]
        if remaining:
            by_customer[key] = remaining
        else:
            by_customer.pop(key, None)
        self._lowest.clear()
        if not by_customer:
            self._active.pop(meter_id, None)
            account.service(Metering).unwatch(meter_id, self.evaluate)

    def evaluate(self, account: Account, meter: Obj, customer_id: str) -> None:
        """The customer's usage of `meter` changed: trigger each active alert it now reaches."""
        key = (meter["id"], customer_id)
        if key in self._lowest:
            lowest = self._lowest[key]
        else:
            lowest = self._lowest[key] = min((a["usage_threshold"]["gte"] for a in self._pending(key)), default=None)
        if lowest is None:
            return
        customer = account.find("customer", customer_id)
        now = account.clock_for(customer).now()
        start, end = self._window(account, meter, customer_id, now)
        used = account.service(Metering).aggregate(meter, customer_id, start, end)
        if used < lowest:
            return
        for alert in self._pending(key):
            if used >= alert["usage_threshold"]["gte"]:
                self._triggered[alert["id"]].add(customer_id)
                _announce(account, alert, customer_id, used, now)
        del self._lowest[key]

    def _pending(self, key: tuple[str, str]) -> list[Obj]:
        """The active alerts on the meter that have yet to trigger for the customer, oldest first."""
        meter_id, customer_id = key
        by_customer = self._active.get(meter_id, {})
        return [
            alert
            for alert in (*by_customer.get(customer_id, ()), *by_customer.get(None, ()))
            if customer_id not in self._triggered[alert["id"]]
        ]

    def _window(self, account: Account, meter: Obj, customer_id: str, now: int) -> tuple[int, int]:
        """The period whose usage counts: remembered until it ends or subscriptions are added."""
        subscriptions = account.collection("subscription")
        key = (meter["id"], customer_id)
        known = self._windows.get(key)
        if known is not None and known[2] == len(subscriptions) and known[0] <= now < known[1]:
            return known[0], known[1]
        start, end = WITHOUT_SUBSCRIPTION
        for subscription in subscriptions.newest_first():
            if subscription["customer"] != customer_id or subscription["status"] not in _LIVE_SUBSCRIPTION:
                continue
            for item in subscription["items"]["data"]:
                recurring = item["price"]["recurring"]
                if recurring is not None and recurring["meter"] == meter["id"]:
                    start, end = current_period(subscription, item["price"], now)
                    break
            else:
                continue
            break
        self._windows[key] = (start, end, len(subscriptions))
        return start, end


def _customer_filter(alert: Obj) -> str | None:
    filters = alert["usage_threshold"]["filters"]
    return filters[0]["customer"] if filters else None


def _announce(account: Account, alert: Obj, customer_id: str, used: Decimal, now: int) -> None:
    triggered = {
        "object": "billing.alert_triggered",
        "alert": alert,
        "created": now,
        "customer": customer_id,
        "livemode": False,
        "value": int(used.to_integral_value(rounding=ROUND_FLOOR)),
    }
    with account.caused_by(BY_THE_SERVER):
        account.announce(triggered, "triggered")
