"""What the guide promises at each step, asserted on the raw JSON of the responses.

The same assertions hold whether the flow ran through `curl`, stripe-python (sync or async) or
stripe-node (`node/flow.mjs` asserts the same values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

# The guide's numbers: 25 tokens at 0.04 USD per 100 tokens, rounded up to whole packages.
TOKENS = 25
AMOUNT = 4


@dataclass(frozen=True)
class GuideResponses:
    meter: Obj
    price: Obj
    customer: Obj
    subscription: Obj
    meter_event: Obj
    preview: Obj
    event_summaries: Obj

    def all(self) -> list[Obj]:
        return [self.meter, self.price, self.customer, self.subscription, self.meter_event, self.preview, self.event_summaries]


def assert_guide_promises(r: GuideResponses) -> None:
    meter, price, customer, subscription = r.meter, r.price, r.customer, r.subscription

    # 1. The meter sums the `value` of `alpaca_ai_tokens` events per customer id.
    assert meter["object"] == "billing.meter" and meter["id"].startswith("mtr_")
    assert meter["display_name"] == "Alpaca AI tokens"
    assert meter["event_name"] == "alpaca_ai_tokens"
    assert meter["default_aggregation"] == {"formula": "sum"}
    assert meter["customer_mapping"] == {"event_payload_key": "stripe_customer_id", "type": "by_id"}
    assert meter["value_settings"] == {"event_payload_key": "value"}
    assert meter["status"] == "active"

    # 2. A metered monthly price of 4 cents per started 100 tokens, on that meter.
    assert price["object"] == "price" and price["id"].startswith("price_")
    assert (price["currency"], price["unit_amount"], price["unit_amount_decimal"]) == ("usd", 4, "4")
    assert price["billing_scheme"] == "per_unit" and price["type"] == "recurring"
    assert price["transform_quantity"] == {"divide_by": 100, "round": "up"}
    recurring = price["recurring"]
    assert (recurring["usage_type"], recurring["interval"], recurring["interval_count"]) == ("metered", "month", 1)
    assert recurring["meter"] == meter["id"]
    assert price["product"].startswith("prod_")

    # 3. The customer.
    assert customer["object"] == "customer" and customer["id"].startswith("cus_")
    assert customer["name"] == "John Doe"

    # 4. An active subscription with one item for that price; periods live on the item.
    assert subscription["object"] == "subscription" and subscription["id"].startswith("sub_")
    assert subscription["customer"] == customer["id"]
    assert subscription["status"] == "active"
    items = subscription["items"]["data"]
    assert len(items) == 1
    item = items[0]
    assert item["price"]["id"] == price["id"]
    assert item["current_period_start"] <= subscription["created"] < item["current_period_end"]
    assert "current_period_start" not in subscription
    # flexible billing mode: no first invoice for a metered-only subscription
    assert subscription["billing_mode"]["type"] == "flexible"
    assert subscription["latest_invoice"] is None

    # 5. The meter event is accepted with its payload (values stay strings).
    event = r.meter_event
    assert event["object"] == "billing.meter_event"
    assert event["event_name"] == "alpaca_ai_tokens"
    assert event["payload"] == {"stripe_customer_id": customer["id"], "value": str(TOKENS)}
    assert isinstance(event["identifier"], str) and event["identifier"]

    # 6. The preview bills the 25 tokens as one package: 4 cents.
    preview = r.preview
    assert preview["object"] == "invoice"
    assert preview["customer"] == customer["id"]
    assert preview["parent"]["subscription_details"]["subscription"] == subscription["id"]
    assert preview["billing_reason"] == "upcoming" and preview["status"] == "draft"
    assert (preview["period_start"], preview["period_end"]) == (item["current_period_start"], item["current_period_end"])
    lines = preview["lines"]["data"]
    assert len(lines) == 1
    line = lines[0]
    assert line["pricing"]["price_details"]["price"] == price["id"]
    assert line["period"] == {"start": item["current_period_start"], "end": item["current_period_end"]}
    assert line["amount"] == AMOUNT
    assert (preview["subtotal"], preview["total"], preview["amount_due"]) == (AMOUNT, AMOUNT, AMOUNT)

    # Optional step: the usage summary over a period that holds the event.
    summaries = r.event_summaries
    assert summaries["object"] == "list"
    (summary,) = summaries["data"]
    assert summary["object"] == "billing.meter_event_summary"
    assert summary["meter"] == meter["id"]
    assert summary["aggregated_value"] == TOKENS
    assert summary["start_time"] <= event["timestamp"] < summary["end_time"]
