"""The API areas this server implements, one module each."""

from . import customers, invoices, prices, products, subscription_items, subscriptions

AREAS = (customers.AREA, products.AREA, prices.AREA, subscriptions.AREA, subscription_items.AREA, invoices.AREA)
