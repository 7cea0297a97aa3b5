"""The API areas this server implements, one module each."""

from . import (
    accounts,
    customers,
    events,
    invoices,
    meter_event_summaries,
    meter_events,
    meter_events_v2,
    meters,
    plans,
    prices,
    products,
    subscription_items,
    subscriptions,
    test_clocks,
    webhook_endpoints,
)

AREAS = (
    customers.AREA,
    products.AREA,
    prices.AREA,
    meters.AREA,
    meter_event_summaries.AREA,
    meter_events.AREA,
    meter_events_v2.AREA,
    subscriptions.AREA,
    subscription_items.AREA,
    invoices.AREA,
    test_clocks.AREA,
    events.AREA,
    accounts.AREA,
    plans.AREA,
    webhook_endpoints.AREA,
)
