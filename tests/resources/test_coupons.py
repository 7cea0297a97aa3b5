"""`/v1/coupons`, `/v1/promotion_codes` and `/v1/tax_rates` through the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from mockstripe.clock import FrozenClock

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def error_of(excinfo: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    body = excinfo.value.json_body["error"]
    return {k: body.get(k) for k in ("type", "code", "param", "message")}


def event_types(client: stripe.StripeClient) -> list[str]:
    return [event.type for event in reversed(client.v1.events.list({"limit": 100}).data)]


def test_a_percent_off_coupon_has_stripe_defaults(stripe_client: stripe.StripeClient) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 25.5})
    assert len(coupon.id) == 8 and coupon.id.isalnum()
    assert coupon.to_dict() == {
        "id": coupon.id,
        "object": "coupon",
        "amount_off": None,
        "created": coupon.created,
        "currency": None,
        "duration": "once",
        "duration_in_months": None,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": None,
        "percent_off": 25.5,
        "redeem_by": None,
        "times_redeemed": 0,
        "valid": True,
    }
    assert stripe_client.v1.coupons.retrieve(coupon.id).to_dict() == coupon.to_dict()


def test_an_amount_off_repeating_coupon_with_every_field(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create({"name": "Seat"})
    redeem_by = stripe_client.v1.products.retrieve(product.id).created + 86_400
    coupon = stripe_client.v1.coupons.create(
        {
            "id": "SPRING",
            "amount_off": 500,
            "currency": "USD",
            "duration": "repeating",
            "duration_in_months": 3,
            "max_redemptions": 10,
            "redeem_by": redeem_by,
            "applies_to": {"products": [product.id]},
            "metadata": {"campaign": "spring"},
            "name": "5 off",
            "expand": ["applies_to"],
        }
    )
    assert coupon.id == "SPRING"
    assert (coupon.amount_off, coupon.currency, coupon.percent_off) == (500, "usd", None)
    assert (coupon.duration, coupon.duration_in_months, coupon.max_redemptions) == ("repeating", 3, 10)
    assert coupon.redeem_by == redeem_by and coupon.name == "5 off" and coupon.metadata.to_dict() == {"campaign": "spring"}
    assert coupon.applies_to.to_dict() == {"products": [product.id]}
    assert "applies_to" not in stripe_client.v1.coupons.retrieve("SPRING").to_dict()


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({}, "amount_off", "You must pass either amount_off or percent_off."),
        ({"amount_off": 100}, "currency", "You must pass currency when passing amount_off."),
        ({"percent_off": 10, "currency": "usd"}, "currency", "You may only pass currency when passing amount_off."),
        ({"percent_off": 10, "duration": "repeating"}, "duration_in_months", "You must pass duration_in_months when duration is repeating."),
        ({"percent_off": 10, "duration_in_months": 3}, "duration_in_months", "You may only pass duration_in_months when duration is repeating."),
        ({"percent_off": 10, "amount_off": 100}, "amount_off", "You may only specify one of these parameters: amount_off, percent_off."),
        ({"percent_off": 100.5}, "percent_off", "Invalid decimal: 100.5; must be at most 100"),
        ({"percent_off": 10, "redeem_by": 1_000_000}, "redeem_by", "Invalid redeem_by: must be in the future."),
        ({"percent_off": 10, "applies_to": {"products": ["prod_missing"]}}, "applies_to[products][0]", "No such product: 'prod_missing'"),
        ({"percent_off": 10, "currency_options": {"eur": {"amount_off": 1}}}, "currency_options", None),
    ],
)
def test_bad_coupons_are_refused_and_nothing_is_stored(
    stripe_client: stripe.StripeClient, params: dict[str, Any], param: str, message: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.coupons.create(params)
    error = error_of(excinfo)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    if message is not None:
        assert error["message"] == message
    assert stripe_client.v1.coupons.list().data == []
    assert event_types(stripe_client) == []


def test_a_taken_coupon_id_is_refused(stripe_client: stripe.StripeClient) -> None:
    stripe_client.v1.coupons.create({"id": "TAKEN", "percent_off": 10})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.coupons.create({"id": "TAKEN", "percent_off": 20})
    assert error_of(excinfo) == {
        "type": "invalid_request_error",
        "code": "resource_already_exists",
        "param": "id",
        "message": "Coupon already exists.",
    }


def test_update_list_delete_and_their_events(stripe_client: stripe.StripeClient) -> None:
    first = stripe_client.v1.coupons.create({"percent_off": 10})
    second = stripe_client.v1.coupons.create({"amount_off": 100, "currency": "usd", "duration": "forever"})
    updated = stripe_client.v1.coupons.update(first.id, {"name": "Ten", "metadata": {"a": "1"}})
    assert (updated.name, updated.metadata.to_dict(), updated.percent_off) == ("Ten", {"a": "1"}, 10.0)
    assert [c.id for c in stripe_client.v1.coupons.list().data] == [second.id, first.id]
    deleted = stripe_client.v1.coupons.delete(second.id)
    assert deleted.to_dict() == {"id": second.id, "object": "coupon", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.coupons.retrieve(second.id)
    assert excinfo.value.http_status == 404
    assert error_of(excinfo)["message"] == f"No such coupon: '{second.id}'"
    assert event_types(stripe_client) == ["coupon.created", "coupon.created", "coupon.updated", "coupon.deleted"]
    updated_event = stripe_client.v1.events.list({"type": "coupon.updated"}).data[0]
    assert updated_event.data.previous_attributes.to_dict() == {"name": None, "metadata": {"a": None}}


async def test_a_coupon_stops_being_valid_when_its_redeem_by_passes(in_process: Any) -> None:
    clock = in_process.account.clock = FrozenClock(T0)
    client = in_process.client
    coupon = await client.v1.coupons.create_async({"percent_off": 10, "redeem_by": T0 + 3600})
    assert coupon.valid is True
    clock.frozen_time = T0 + 3600
    assert (await client.v1.coupons.retrieve_async(coupon.id)).valid is False
    assert [c.valid for c in (await client.v1.coupons.list_async()).data] == [False]
    events = (await client.v1.events.list_async()).data
    assert [event.type for event in events] == ["coupon.created"]


# --- Promotion codes ---


def test_a_promotion_code_for_a_coupon(stripe_client: stripe.StripeClient) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20})
    customer = stripe_client.v1.customers.create({"name": "Jenny"})
    code = stripe_client.v1.promotion_codes.create(
        {
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "code": "FALL20",
            "customer": customer.id,
            "max_redemptions": 5,
            "metadata": {"k": "v"},
            "restrictions": {"first_time_transaction": True, "minimum_amount": 1000, "minimum_amount_currency": "usd"},
        }
    )
    assert code.id.startswith("promo_1") and len(code.id) == len("promo_1") + 23
    assert code.to_dict() == {
        "id": code.id,
        "object": "promotion_code",
        "active": True,
        "code": "FALL20",
        "created": code.created,
        "customer": customer.id,
        "customer_account": None,
        "expires_at": None,
        "livemode": False,
        "max_redemptions": 5,
        "metadata": {"k": "v"},
        "promotion": {"coupon": coupon.id, "type": "coupon"},
        "restrictions": {"first_time_transaction": True, "minimum_amount": 1000, "minimum_amount_currency": "usd"},
        "times_redeemed": 0,
    }
    expanded = stripe_client.v1.promotion_codes.retrieve(code.id, {"expand": ["promotion.coupon"]})
    assert expanded.promotion.coupon.id == coupon.id and expanded.promotion.coupon.percent_off == 20.0


def test_a_promotion_code_without_a_code_gets_one(stripe_client: stripe.StripeClient) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20})
    code = stripe_client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}})
    assert len(code.code) == 8 and code.code.isalnum() and code.code.upper() == code.code
    assert code.restrictions.to_dict() == {
        "first_time_transaction": False,
        "minimum_amount": None,
        "minimum_amount_currency": None,
    }


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"promotion": {"type": "coupon"}}, "promotion[coupon]"),
        ({"promotion": {"type": "coupon", "coupon": "nope"}}, "promotion[coupon]"),
        ({"code": "FALL 20"}, "code"),
        ({"expires_at": 1_000_000}, "expires_at"),
        ({"restrictions": {"minimum_amount": 100}}, "restrictions[minimum_amount_currency]"),
        ({"customer": "cus_missing"}, "customer"),
    ],
)
def test_bad_promotion_codes_are_refused(stripe_client: stripe.StripeClient, params: dict[str, Any], param: str) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}, **params})
    assert error_of(excinfo)["param"] == param
    assert stripe_client.v1.promotion_codes.list().data == []


def test_an_active_code_is_unique_regardless_of_case(stripe_client: stripe.StripeClient) -> None:
    coupon = stripe_client.v1.coupons.create({"percent_off": 20})
    promotion = {"type": "coupon", "coupon": coupon.id}
    first = stripe_client.v1.promotion_codes.create({"promotion": promotion, "code": "SAVE"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.promotion_codes.create({"promotion": promotion, "code": "save"})
    assert error_of(excinfo)["message"] == "An active promotion code with `code: save` already exists."
    stripe_client.v1.promotion_codes.update(first.id, {"active": False})
    second = stripe_client.v1.promotion_codes.create({"promotion": promotion, "code": "save"})
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.promotion_codes.update(first.id, {"active": True})
    assert [p.id for p in stripe_client.v1.promotion_codes.list({"code": "SAVE"}).data] == [second.id, first.id]
    assert [p.id for p in stripe_client.v1.promotion_codes.list({"active": False}).data] == [first.id]
    assert [p.id for p in stripe_client.v1.promotion_codes.list({"coupon": coupon.id}).data] == [second.id, first.id]
    assert event_types(stripe_client) == [
        "coupon.created",
        "promotion_code.created",
        "promotion_code.updated",
        "promotion_code.created",
    ]


# --- Tax rates ---


def test_a_tax_rate_and_its_events(stripe_client: stripe.StripeClient) -> None:
    rate = stripe_client.v1.tax_rates.create(
        {
            "display_name": "VAT",
            "percentage": 19,
            "inclusive": False,
            "country": "de",
            "jurisdiction": "DE",
            "description": "VAT Germany",
            "tax_type": "vat",
        }
    )
    assert rate.id.startswith("txr_1")
    assert rate.to_dict() == {
        "id": rate.id,
        "object": "tax_rate",
        "active": True,
        "country": "DE",
        "created": rate.created,
        "description": "VAT Germany",
        "display_name": "VAT",
        "effective_percentage": 19.0,
        "flat_amount": None,
        "inclusive": False,
        "jurisdiction": "DE",
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": {},
        "percentage": 19.0,
        "rate_type": "percentage",
        "state": None,
        "tax_type": "vat",
    }
    inclusive = stripe_client.v1.tax_rates.create({"display_name": "GST", "percentage": 7.5, "inclusive": True})
    archived = stripe_client.v1.tax_rates.update(rate.id, {"active": False, "display_name": "Old VAT"})
    assert (archived.active, archived.display_name) == (False, "Old VAT")
    assert [r.id for r in stripe_client.v1.tax_rates.list({"active": True}).data] == [inclusive.id]
    assert [r.id for r in stripe_client.v1.tax_rates.list({"inclusive": False}).data] == [rate.id]
    assert event_types(stripe_client) == ["tax_rate.created", "tax_rate.created", "tax_rate.updated"]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"percentage": 19, "inclusive": False}, "display_name"),
        ({"display_name": "VAT", "inclusive": False}, "percentage"),
        ({"display_name": "VAT", "percentage": 19}, "inclusive"),
        ({"display_name": "VAT", "percentage": 101, "inclusive": False}, "percentage"),
        ({"display_name": "VAT", "percentage": -1, "inclusive": False}, "percentage"),
    ],
)
def test_bad_tax_rates_are_refused(stripe_client: stripe.StripeClient, params: dict[str, Any], param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.tax_rates.create(params)
    assert error_of(excinfo)["param"] == param
    assert stripe_client.v1.tax_rates.list().data == []
