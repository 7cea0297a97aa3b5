"""A meter's usage per hour or day for each customer, from the aggregation event summaries use."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..domain.metering import Metering
from .charts import Bar

WINDOW_SECONDS = {"hour": 3600, "day": 86400}
# Bars per chart: a longer history shows its latest windows.
MAX_BARS = 120
# Usage spanning at most this long is shown per hour unless asked otherwise, else per day.
HOURLY_UP_TO = 2 * 86400
_LABELS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d"}

Chart = tuple[str, list[Bar], Decimal]  # customer, bars, total


def usage_charts(metering: Metering, meter: dict[str, Any], window: str | None = None) -> tuple[str, list[Chart]]:
    """The window used (`window`, or the one that fits) and one chart per customer with events."""
    spans = metering.spans(meter)
    if window not in WINDOW_SECONDS:
        first = min((span[0] for span in spans.values()), default=0)
        last = max((span[1] for span in spans.values()), default=0)
        window = "hour" if last - first <= HOURLY_UP_TO else "day"
    step = WINDOW_SECONDS[window]
    charts = []
    for customer, (first, last) in spans.items():
        end = (last // step + 1) * step
        start = max(first // step * step, end - MAX_BARS * step)
        edges = list(range(start, end + 1, step))
        values = metering.windows(meter, customer, edges)
        bars = [Bar(_label(lo, window), value) for lo, value in zip(edges, values)]
        total = metering.aggregate(meter, customer, first, last + 1)
        charts.append((customer, bars, total))
    return window, charts


def _label(timestamp: int, window: str) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime(_LABELS[window])
