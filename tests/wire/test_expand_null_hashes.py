"""`expand[]` through a nested hash that is null: nothing to expand, and no error (as on Stripe)."""

from __future__ import annotations

import pytest

from mockstripe.store import Account
from mockstripe.wire.errors import StripeError
from mockstripe.wire.expand import check, expand
from mockstripe.wire.objects import ObjectType

TYPES = {
    t.name: t
    for t in (
        ObjectType("invoice", "invoice", expandable={"from_invoice.invoice": "invoice", "customer": "customer"}),
        ObjectType("customer", "customer"),
    )
}


def invoice(**fields: object) -> dict:
    return {"id": "in_1", "object": "invoice", "customer": "cus_1", "from_invoice": None, **fields}


def test_a_null_hash_on_a_declared_path_stays_null() -> None:
    check(["from_invoice.invoice"], "invoice", TYPES)
    assert expand(invoice(), ["from_invoice.invoice"], TYPES, Account(key="sk_test_x")) == invoice()


def test_a_path_that_is_not_declared_is_still_refused() -> None:
    with pytest.raises(StripeError) as caught:
        check(["from_invoice.customer"], "invoice", TYPES)
    assert caught.value.message == "This property cannot be expanded (from_invoice.customer)."
