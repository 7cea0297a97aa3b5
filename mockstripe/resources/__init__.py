"""The API areas this server implements, one module each."""

from . import customers, prices, products

AREAS = (customers.AREA, products.AREA, prices.AREA)
