"""The API areas this server implements, one module each."""

from . import customers

AREAS = (customers.AREA,)
