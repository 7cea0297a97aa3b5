"""The API areas this server implements, one module each."""

from . import customers, invoices, subscription_items, subscriptions

AREAS = (customers.AREA, subscriptions.AREA, subscription_items.AREA, invoices.AREA)
