"""The shape checker itself: it must accept what the SDK declares and catch every kind of drift."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conformance.shapes import ShapeChecker
from mockstripe.app import default_areas

METER: dict[str, Any] = {
    "id": "mtr_test_61Q8nQMqIFK9fRQmr41CMAXJrFdZ5MnA",
    "object": "billing.meter",
    "created": 1704824589,
    "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
    "default_aggregation": {"formula": "sum"},
    "display_name": "Alpaca AI tokens",
    "event_name": "alpaca_ai_tokens",
    "event_time_window": None,
    "livemode": False,
    "status": "active",
    "status_transitions": {"deactivated_at": None},
    "updated": 1704824589,
    "value_settings": {"event_payload_key": "value"},
}

PRICE: dict[str, Any] = {
    "id": "price_1MoBy5LkdIwHu7ixZhnattbh",
    "object": "price",
    "active": True,
    "billing_scheme": "per_unit",
    "created": 1679431181,
    "currency": "usd",
    "custom_unit_amount": None,
    "livemode": False,
    "lookup_key": None,
    "metadata": {"plan": "alpaca"},
    "nickname": None,
    "product": "prod_NZKdYqrwEYx6iK",
    "recurring": {
        "interval": "month",
        "interval_count": 1,
        "meter": "mtr_test_61Q8nQMqIFK9fRQmr41CMAXJrFdZ5MnA",
        "trial_period_days": None,
        "usage_type": "metered",
    },
    "tax_behavior": "unspecified",
    "tiers_mode": None,
    "transform_quantity": {"divide_by": 100, "round": "up"},
    "type": "recurring",
    "unit_amount": 4,
    "unit_amount_decimal": "4",
}


@pytest.fixture
def checker() -> ShapeChecker:
    return ShapeChecker()


def changed(obj: dict[str, Any], path: str, value: Any = ..., delete: bool = False) -> dict[str, Any]:
    """A deep copy of `obj` with the dotted `path` set to `value` (or removed)."""
    result = copy.deepcopy(obj)
    *parents, last = path.split(".")
    target = result
    for key in parents:
        target = target[key]
    if delete:
        del target[last]
    else:
        target[last] = value
    return result


def test_well_formed_objects_pass(checker: ShapeChecker) -> None:
    assert checker.check(METER) == []
    assert checker.check(PRICE) == []


def test_every_declared_field_must_be_present_except_expand_only_ones(checker: ShapeChecker) -> None:
    assert checker.check(changed(PRICE, "nickname", delete=True)) == ["price.nickname: missing (the SDK declares it)"]
    assert checker.check(changed(METER, "status_transitions.deactivated_at", delete=True)) == [
        "billing.meter.status_transitions.deactivated_at: missing (the SDK declares it)"
    ]
    assert "tiers" not in PRICE and "currency_options" not in PRICE  # expand-only: not required
    tier = {"flat_amount": None, "flat_amount_decimal": None, "unit_amount": 4, "unit_amount_decimal": "4", "up_to": None}
    assert checker.check(changed(PRICE, "tiers", [tier])) == []


def test_fields_the_sdk_does_not_know_are_reported(checker: ShapeChecker) -> None:
    assert checker.check(changed(PRICE, "aggregate_usage", "sum")) == ["price.aggregate_usage: not a field of Price"]
    assert checker.check(changed(PRICE, "recurring.extra", 1)) == ["price.recurring.extra: not a field of Price.Recurring"]


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("unit_amount", "4", "price.unit_amount: expected int | null, got str '4'"),
        ("unit_amount", 4.0, "price.unit_amount: expected int | null, got float"),
        ("unit_amount_decimal", 4, "price.unit_amount_decimal: expected Decimal | null, got int"),
        ("unit_amount_decimal", "four", "price.unit_amount_decimal: expected Decimal | null, got str 'four'"),
        ("active", 1, "price.active: expected bool, got int 1"),
        ("created", True, "price.created: expected int, got bool True"),
        ("currency", None, "price.currency: expected str, got null None"),
        ("type", None, "price.type: null, but the SDK does not declare it Optional"),
        ("type", "recurrent", "price.type: 'recurrent' is not one of ['one_time', 'recurring']"),
        ("metadata", {"plan": 1}, "price.metadata['plan']: expected str, got int 1"),
        ("metadata", [], "price.metadata: expected a map, got list"),
        ("recurring", "month", "price.recurring: expected Price.Recurring | null, got str 'month'"),
        ("transform_quantity.divide_by", "100", "price.transform_quantity.divide_by: expected int, got str '100'"),
        ("livemode", None, "price.livemode: expected bool, got null None"),
    ],
)
def test_value_types_must_match_the_declarations(checker: ShapeChecker, path: str, value: Any, problem: str) -> None:
    assert checker.check(changed(PRICE, path, value)) == [problem]


def test_expandable_fields_take_an_id_or_the_full_object(checker: ShapeChecker) -> None:
    product = {"id": "prod_NZKdYqrwEYx6iK", "object": "product", "name": "Alpaca AI tokens"}
    problems = checker.check(changed(PRICE, "product", product))
    assert "price.product.active: missing (the SDK declares it)" in problems
    assert checker.check(changed(PRICE, "product", 7)) == ["price.product: expected str | Product, got int"]


def test_list_objects_are_checked_item_by_item(checker: ShapeChecker) -> None:
    listed = {
        "object": "list",
        "data": [METER, changed(METER, "status", "paused")],
        "has_more": False,
        "url": "/v1/billing/meters",
    }
    assert checker.check(listed) == ["list.data[1].status: 'paused' is not one of ['active', 'inactive']"]
    assert checker.check(changed(listed, "has_more", delete=True))[:2] == [
        "list: a list object has exactly ['data', 'has_more', 'object', 'url']; differs in ['has_more']",
        "list.has_more: expected bool, got null",
    ]


def test_deleted_stubs_are_exactly_id_object_deleted(checker: ShapeChecker) -> None:
    assert checker.check({"id": "cus_1", "object": "customer", "deleted": True}) == []
    assert checker.check({"id": "cus_1", "object": "customer", "deleted": True, "name": "x"}) == [
        "customer: a deleted customer is exactly {id, object, deleted}; differs in ['name']"
    ]


def test_a_deleted_discount_keeps_its_fields(checker: ShapeChecker) -> None:
    deleted = {
        "id": "di_1", "object": "discount", "deleted": True, "checkout_session": None, "customer": "cus_1",
        "customer_account": None, "invoice": None, "invoice_item": None, "promotion_code": None,
        "source": {"coupon": "SPRING", "type": "coupon"}, "start": 1, "subscription": "sub_1", "subscription_item": None,
    }
    assert checker.check(deleted) == []
    assert checker.check({"id": "di_1", "object": "discount", "deleted": True}) != []


def test_unknown_object_types_are_reported(checker: ShapeChecker) -> None:
    assert checker.check({"id": "x", "object": "billing.usage_record"}) == [
        "$: object type 'billing.usage_record' is unknown to the SDK"
    ]


def test_coverage_counts_the_declared_fields_returned(checker: ShapeChecker) -> None:
    checker.check(PRICE)
    checker.check(PRICE)
    seen = checker.coverage["price"]
    assert seen.objects == 2
    assert seen.declared - seen.returned == {"currency_options", "tiers"}
    (header, line) = checker.report()
    assert line.split()[:3] == ["price", "2", "19/21"]
    assert line.endswith("currency_options*, tiers*")


def test_every_object_type_the_server_returns_is_known_to_the_sdk(checker: ShapeChecker) -> None:
    names = [t.name for area in default_areas() for t in area.types]
    assert names
    assert [name for name in names if checker.class_for(name) is None] == []


def test_nested_fields_stripe_leaves_out_may_be_absent_and_no_others(checker: ShapeChecker) -> None:
    usd = {"custom_unit_amount": None, "tax_behavior": "unspecified", "unit_amount": 4, "unit_amount_decimal": "4"}
    assert checker.check(changed(PRICE, "currency_options", {"usd": usd})) == []  # no `tiers` unless expanded
    del usd["unit_amount"]
    assert checker.check(changed(PRICE, "currency_options", {"usd": usd})) == [
        "price.currency_options['usd'].unit_amount: missing (the SDK declares it)"
    ]
