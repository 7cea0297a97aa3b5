"""Meter event summaries: `GET /v1/billing/meters/{id}/event_summaries`.

Summaries are computed on each request from the meter's events; their ids derive from what they
summarize, so they are stable and work as pagination cursors.
"""

from __future__ import annotations

from typing import Any

from ..domain.metering import Metering
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.ids import stable_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, paginate_computed
from ..wire.objects import ListOf, ObjectType
from ..wire.params import MAX_TIMESTAMP, Enum, Integer, Ref, endpoint
from .meters import METER

SUMMARY = ObjectType(name="billing.meter_event_summary", noun="billing meter event summary")

WINDOW_SECONDS = {"hour": 3600, "day": 86400}
# UNSURE: Stripe's order of windowed summaries and whether windows without events appear.
# Here: newest window first, as every other Stripe list, and windows without events left out.
NEWEST_FIRST = True
INCLUDE_EMPTY_WINDOWS = False
# Windows are computed per request: this bounds one request's work (over eleven years of hours).
MAX_WINDOWS = 100_000


def _check_times(values: dict[str, Any], path: str) -> None:
    # UNSURE: Stripe's wording for misaligned or inverted ranges.
    window = values.get("value_grouping_window")
    unit, seconds = (window, WINDOW_SECONDS[window]) if window else ("minute", 60)
    for name in ("start_time", "end_time"):
        if values[name] % seconds:
            raise invalid(
                f"{name} must be aligned with {unit} boundaries"
                + (" (00:00 UTC)." if unit == "day" else "."),
                param=name,
            )
    if values["start_time"] >= values["end_time"]:
        raise invalid("start_time must be before end_time.", param="start_time")
    if window and (values["end_time"] - values["start_time"]) // seconds > MAX_WINDOWS:
        raise invalid(
            f"The range holds more than {MAX_WINDOWS} {window} windows; mockstripe computes at most "
            f"{MAX_WINDOWS} per request. Ask for a shorter range.",
            param="end_time",
        )


LIST = endpoint(
    customer=Ref(required=True, object_type="customer", noun="customer"),
    start_time=Integer(required=True, minimum=0, maximum=MAX_TIMESTAMP),
    end_time=Integer(required=True, minimum=0, maximum=MAX_TIMESTAMP),
    value_grouping_window=Enum("day", "hour"),
    **PAGE_PARAMS,
    exclusive=PAGE_EXCLUSIVE,
    checks=(_check_times,),
)


def _summary(meter_id: str, customer: str, start: int, end: int, value: Any) -> dict[str, Any]:
    return {
        "id": stable_id("mtrusg", meter_id, customer, start, end),
        "object": "billing.meter_event_summary",
        "aggregated_value": float(value),
        "end_time": end,
        "livemode": False,
        "meter": meter_id,
        "start_time": start,
    }


def list_summaries(call: Call) -> dict[str, Any]:
    meter = call.path_object(METER.name)
    params = call.params
    customer, start, end = params["customer"], params["start_time"], params["end_time"]
    metering = call.account.service(Metering)
    window = params.get("value_grouping_window")
    if window is None:
        value = metering.aggregate(meter, customer, start, end)
        summaries = [_summary(meter["id"], customer, start, end, value)]
    else:
        edges = list(range(start, end + 1, WINDOW_SECONDS[window]))
        summaries = [
            _summary(meter["id"], customer, lo, hi, value or 0)
            for lo, hi, value in zip(edges, edges[1:], metering.windows(meter, customer, edges), strict=False)
            if value is not None or INCLUDE_EMPTY_WINDOWS
        ]
        if NEWEST_FIRST:
            summaries.reverse()
    url = f"/v1/billing/meters/{meter['id']}/event_summaries"
    return paginate_computed(summaries, params, url, noun=SUMMARY.noun)


AREA = Area(
    name="meter_event_summaries",
    types=(SUMMARY,),
    endpoints=(
        Endpoint(
            "GET",
            "/v1/billing/meters/{id}/event_summaries",
            list_summaries,
            LIST,
            "Aggregate a customer's meter events over a range, or per hour or day",
            returns=ListOf("billing.meter_event_summary"),
        ),
    ),
)
