"""Payments benchmarks: the cost of charging a card when a subscription is created, and a year of
failed renewals with their retries on one test clock.

    python3 bench/payments.py                  # both, against this checkout
    python3 bench/payments.py --unpaid-create  # the subscription create without a card (for comparing
                                               # with a checkout from before invoices were charged)

Runs mockstripe in this process (`serve_in_thread`) and talks plain HTTP/1.1 with keep-alive, so
the figures are request latencies of one client, not throughput.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mockstripe import serve_in_thread
from mockstripe.config import Config

KEY = "sk_test_bench_payments"
T0 = 1704067200  # 2024-01-01 00:00 UTC
# A year, two months at a time (the most a clock with monthly subscriptions may advance at once).
ADVANCES = [int(datetime(2024 + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc).timestamp()) for month in range(2, 13, 2)]


class Client:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port)

    def post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, urlencode(params))

    def get(self, path: str) -> dict[str, Any]:
        return self.request("GET", path, None)

    def request(self, method: str, path: str, body: str | None) -> dict[str, Any]:
        self.connection.request(
            method, path, body=body,
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = self.connection.getresponse()
        body = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body}")
        return body


def _price(client: Client, **params: str) -> str:
    return client.post("/v1/prices", {"currency": "usd", "product_data[name]": "Bench", **params})["id"]


def subscription_creates(client: Client, count: int, *, paid: bool) -> list[float]:
    """Seconds per (customer, subscription) pair: with a Visa card charged $10, or without a card."""
    price = _price(client, unit_amount="1000", **{"recurring[interval]": "month"})
    card = {"payment_method": "pm_card_visa", "invoice_settings[default_payment_method]": "pm_card_visa"}
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        customer = client.post("/v1/customers", {"name": "Jenny", **(card if paid else {})})
        client.post("/v1/subscriptions", {"customer": customer["id"], "items[0][price]": price})
        timings.append(time.perf_counter() - started)
    return timings


def failed_year(client: Client, subscriptions: int) -> tuple[float, dict[str, Any]]:
    """`subscriptions` metered subscriptions on one clock, paying with a card that declines, each
    with usage in its first month; then the clock advances a year (two months at a time, Stripe's
    limit). Returns the seconds the advances took and the last subscription as it ended."""
    meter = client.post(
        "/v1/billing/meters",
        {
            "display_name": "Tokens", "event_name": "bench_tokens", "default_aggregation[formula]": "sum",
            "customer_mapping[event_payload_key]": "stripe_customer_id", "customer_mapping[type]": "by_id",
            "value_settings[event_payload_key]": "value",
        },
    )
    price = _price(
        client, unit_amount="4", **{"transform_quantity[divide_by]": "100", "transform_quantity[round]": "up",
                                    "recurring[usage_type]": "metered", "recurring[interval]": "month",
                                    "recurring[meter]": meter["id"]},
    )
    clock = client.post("/v1/test_helpers/test_clocks", {"frozen_time": str(T0)})
    card = "pm_card_chargeCustomerFail"
    last = None
    for _ in range(subscriptions):
        customer = client.post(
            "/v1/customers",
            {"test_clock": clock["id"], "payment_method": card, "invoice_settings[default_payment_method]": card},
        )
        last = client.post("/v1/subscriptions", {"customer": customer["id"], "items[0][price]": price})
        client.post(
            "/v1/billing/meter_events",
            {"event_name": "bench_tokens", "payload[stripe_customer_id]": customer["id"], "payload[value]": "5000",
             "timestamp": str(T0 + 60)},
        )
    started = time.perf_counter()
    for target in ADVANCES:
        client.post(f"/v1/test_helpers/test_clocks/{clock['id']}/advance", {"frozen_time": str(target)})
    elapsed = time.perf_counter() - started
    assert last is not None
    return elapsed, client.get(f"/v1/subscriptions/{last['id']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--unpaid-create", action="store_true", help="only the create without a card")
    args = parser.parse_args()
    with serve_in_thread(Config(port=0, log_level="warning")) as url:
        client = Client(url)
        if args.unpaid_create:
            timings = subscription_creates(client, args.creates, paid=False)
            print(f"unpaid customer+subscription create: median {statistics.median(timings) * 1000:.2f} ms")
            return
        timings = subscription_creates(client, args.creates, paid=True)
        print(f"paid customer+subscription create:   median {statistics.median(timings) * 1000:.2f} ms")
        elapsed, ended = failed_year(client, args.subscriptions)
        print(
            f"a year of failed renewals, {args.subscriptions} metered subscriptions: {elapsed:.2f} s "
            f"(each ends {ended['status']}: {ended['cancellation_details']['reason']})"
        )


if __name__ == "__main__":
    main()
