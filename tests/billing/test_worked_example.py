"""The reference's "Alpaca AI" example end to end: 0.04 USD per 100 tokens, partial packages round up."""

from datetime import datetime, timezone

import pytest

from mockstripe.billing.aggregation import UsageLog
from mockstripe.billing.invoice import invoice_totals
from mockstripe.billing.periods import period_containing
from mockstripe.billing.pricing import amount_for

PRICE = {
    "billing_scheme": "per_unit",
    "unit_amount": 4,
    "unit_amount_decimal": "4",
    "transform_quantity": {"divide_by": 100, "round": "up"},
    "tiers_mode": None,
}
ANCHOR = int(datetime(2025, 1, 31, 8, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize("tokens, due", [(25, 4), (250, 12), (1_000_001, 40_004)])
def test_preview_amount_due(tokens, due):
    now = int(datetime(2025, 2, 10, tzinfo=timezone.utc).timestamp())
    start, end = period_containing(ANCHOR, "month", 1, now)
    log = UsageLog()
    log.add("cus_a", start - 1, 999)  # before the period
    log.add("cus_a", now, tokens)
    log.add("cus_b", now, 999)  # someone else
    log.cancel(log.add("cus_a", now, 999))

    usage = log.aggregate("cus_a", start, end, "sum")

    assert usage == tokens
    totals = invoice_totals([amount_for(PRICE, usage)])
    assert (totals.subtotal, totals.total, totals.amount_due, totals.amount_remaining) == (due, due, due, due)
