"""`/v1/prices` through the official SDK, and the wire details through raw HTTP.

The tests that need an existing billing meter insert one straight into the account (the
`meter` helper) until the meters API lands; they are marked `needs_meter_object`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe

from mockstripe.domain.prices import price_tiers
from mockstripe.store import Account

METERED_WITHOUT_METER = (
    "Starting with Stripe version `2025-03-31.basil`, metered prices must be backed by meters."
)
GRADUATED = [
    {"up_to": 10, "unit_amount": 100},
    {"up_to": 100, "unit_amount_decimal": "50.5", "flat_amount": 1000},
    {"up_to": "inf", "flat_amount_decimal": "2500", "unit_amount": 0},
]


def sdk_fields(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
    return {n for n in names if not n.startswith("_") and n.isidentifier() and n.islower()} - {"deleted"}


def error_of(excinfo: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    body = excinfo.value.json_body["error"]
    return {k: body.get(k) for k in ("type", "code", "param", "message")}


def bad_request(param: str | None, message: str, code: str | None = None) -> dict[str, Any]:
    return {"type": "invalid_request_error", "code": code, "param": param, "message": message}


@pytest.fixture
def product(stripe_client: stripe.StripeClient) -> str:
    return stripe_client.v1.products.create({"name": "Alpaca AI tokens"}).id


def meter(account: Account, meter_id: str = "mtr_test_61Rz", status: str = "active") -> str:
    """A billing meter put straight into the account (the meters API is another area's)."""
    account.collection("billing.meter").add({"id": meter_id, "object": "billing.meter", "status": status})
    return meter_id


# Until the meters API lands, these tests put a meter straight into the account.
needs_meter_object = pytest.mark.needs_meter_object


# Creating -------------------------------------------------------------------------------------


def test_one_time_price_has_stripe_fields_and_defaults(stripe_client: stripe.StripeClient, product: str) -> None:
    price = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 2000, "product": product})
    assert price.id.startswith("price_1") and len(price.id) == len("price_") + 24
    assert set(price.to_dict()) == sdk_fields(stripe.Price) - {"tiers", "currency_options"}
    assert price.to_dict() == {
        "id": price.id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": price.created,
        "currency": "usd",
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product,
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": 2000,
        "unit_amount_decimal": Decimal("2000"),
    }


def test_amounts_on_the_wire(raw, product: str) -> None:
    def amounts(extra: str) -> tuple[Any, Any]:
        body = raw.post("/v1/prices", f"currency=usd&product={product}&{extra}").body
        return body["unit_amount"], body["unit_amount_decimal"]

    assert amounts("unit_amount=4") == (4, "4")
    assert amounts("unit_amount=0") == (0, "0")
    assert amounts("unit_amount_decimal=0.04") == (None, "0.04")
    assert amounts("unit_amount_decimal=123.450") == (None, "123.45")
    assert amounts("unit_amount_decimal=4.00") == (4, "4")
    assert amounts("unit_amount_decimal=100") == (100, "100")
    assert amounts("unit_amount_decimal=0.000000000001") == (None, "0.000000000001")


def test_recurring_price_with_every_simple_field(stripe_client: stripe.StripeClient, product: str) -> None:
    price = stripe_client.v1.prices.create(
        {
            "currency": "EUR",
            "unit_amount_decimal": "1.5",
            "product": product,
            "recurring": {"interval": "week", "interval_count": 2, "trial_period_days": 14},
            "active": False,
            "nickname": "Biweekly",
            "lookup_key": "biweekly",
            "metadata": {"plan": "b"},
            "tax_behavior": "exclusive",
            "transform_quantity": {"divide_by": 100, "round": "up"},
        }
    )
    assert price.currency == "eur"
    assert price.type == "recurring"
    assert price.recurring.to_dict() == {
        "interval": "week",
        "interval_count": 2,
        "meter": None,
        "trial_period_days": 14,
        "usage_type": "licensed",
    }
    assert (price.active, price.nickname, price.lookup_key) == (False, "Biweekly", "biweekly")
    assert price.metadata.to_dict() == {"plan": "b"}
    assert price.tax_behavior == "exclusive"
    assert price.transform_quantity.to_dict() == {"divide_by": 100, "round": "up"}
    assert (price.unit_amount, price.unit_amount_decimal) == (None, Decimal("1.5"))
    assert stripe_client.v1.prices.retrieve(price.id).to_dict() == price.to_dict()


def test_product_data_creates_the_product_inline(stripe_client: stripe.StripeClient) -> None:
    price = stripe_client.v1.prices.create(
        {
            "currency": "usd",
            "unit_amount": 4,
            "product_data": {
                "name": "Alpaca AI tokens",
                "id": "prod_alpaca",
                "active": False,
                "metadata": {"team": "ml"},
                "statement_descriptor": "ALPACA AI",
                "tax_code": "txcd_10103001",
                "unit_label": "token",
            },
            "expand": ["product"],
        }
    )
    product = price.product
    assert product.id == "prod_alpaca"
    assert set(product.to_dict()) == sdk_fields(stripe.Product)
    assert (product.name, product.active, product.type) == ("Alpaca AI tokens", False, "service")
    assert product.metadata.to_dict() == {"team": "ml"}
    assert (product.statement_descriptor, product.tax_code, product.unit_label) == ("ALPACA AI", "txcd_10103001", "token")
    assert (product.default_price, product.description, product.images) == (None, None, [])
    assert stripe_client.v1.products.retrieve("prod_alpaca").to_dict() == product.to_dict()
    assert stripe_client.v1.prices.retrieve(price.id).product == "prod_alpaca"


def test_product_data_without_an_id_gets_a_generated_one(stripe_client: stripe.StripeClient) -> None:
    price = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 4, "product_data": {"name": "A"}})
    assert price.product.startswith("prod_")
    assert [p.id for p in stripe_client.v1.products.list().data] == [price.product]


# Refusals: every one leaves the account untouched ----------------------------------------------

# Prefixes of request bodies: a new product, and a valid tiered recurring price but for its tiers.
NEW = "product_data[name]=B&"
TIERED = "product_data[name]=B&billing_scheme=tiered&tiers_mode=volume&recurring[interval]=month&"
REFUSALS = [
    # (body after currency=usd, param, code, message)
    (
        "unit_amount=1",
        "product",
        "parameter_missing",
        "You must specify either `product` or `product_data` when creating a price.",
    ),
    (
        "unit_amount=1&product={p}&product_data[name]=B",
        "product",
        None,
        "You may only specify one of these parameters: product, product_data.",
    ),
    ("unit_amount=1&product=prod_nope", "product", "resource_missing", "No such product: 'prod_nope'"),
    (
        "unit_amount=1&product_data[active]=true",
        "product_data[name]",
        "parameter_missing",
        "Missing required param: product_data[name].",
    ),
    (
        "unit_amount=1&product_data[name]=B&product_data[type]=good",
        "product_data[type]",
        "parameter_unknown",
        "Received unknown parameter: product_data[type]",
    ),
    (
        "unit_amount=1&product_data[name]=B&product_data[statement_descriptor]=" + "S" * 23,
        "product_data[statement_descriptor]",
        None,
        "Invalid string: SSSSSSSSSSSSSSSSSSSS...; must be at most 22 characters",
    ),
    (
        "unit_amount=1&product_data[name]=B&product_data[id]={p}",
        "product_data[id]",
        "resource_already_exists",
        "Product already exists.",
    ),
    (
        "product_data[name]=B",
        None,
        None,
        "Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.",
    ),
    (
        NEW + "recurring[interval]=month",
        None,
        None,
        "Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.",
    ),
    (
        NEW + "unit_amount=1&unit_amount_decimal=1",
        "unit_amount",
        None,
        "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
    ),
    (NEW + "unit_amount=-1", "unit_amount", "parameter_invalid_integer", "Invalid non-negative integer"),
    (NEW + "unit_amount=1.5", "unit_amount", "parameter_invalid_integer", "Invalid integer: 1.5"),
    (
        NEW + "unit_amount_decimal=-0.5",
        "unit_amount_decimal",
        None,
        "Invalid decimal: -0.5; must be at least 0",
    ),
    (
        NEW + "unit_amount_decimal=0.0000000000001",
        "unit_amount_decimal",
        None,
        "Invalid decimal: 0.0000000000001; must have at most 12 decimal places",
    ),
    (NEW + "unit_amount_decimal=abc", "unit_amount_decimal", None, "Invalid decimal: abc"),
    (
        NEW + "unit_amount=1&billing_scheme=flat",
        "billing_scheme",
        None,
        "Invalid billing_scheme: must be one of per_unit or tiered",
    ),
    (
        NEW + "unit_amount=1&tax_behavior=maybe",
        "tax_behavior",
        None,
        "Invalid tax_behavior: must be one of exclusive, inclusive, or unspecified",
    ),
    (
        NEW + "unit_amount=1&lookup_key=" + "k" * 201,
        "lookup_key",
        None,
        "Invalid string: kkkkkkkkkkkkkkkkkkkk...; must be at most 200 characters",
    ),
    (NEW + "unit_amount=1&currency_options[eur][unit_amount]=1", "currency_options", None, None),
    (NEW + "custom_unit_amount[enabled]=true", "custom_unit_amount", None, None),
    (
        NEW + "unit_amount=1&product_data[tax_details][tax_code]=txcd_1",
        "product_data[tax_details]",
        None,
        None,
    ),
    # transform_quantity
    (
        NEW + "unit_amount=1&transform_quantity[divide_by]=10",
        "transform_quantity[round]",
        "parameter_missing",
        "Missing required param: transform_quantity[round].",
    ),
    (
        NEW + "unit_amount=1&transform_quantity[round]=up",
        "transform_quantity[divide_by]",
        "parameter_missing",
        "Missing required param: transform_quantity[divide_by].",
    ),
    (
        NEW + "unit_amount=1&transform_quantity[divide_by]=0&transform_quantity[round]=up",
        "transform_quantity[divide_by]",
        "parameter_invalid_integer",
        "Invalid positive integer",
    ),
    (
        NEW + "unit_amount=1&transform_quantity[divide_by]=2&transform_quantity[round]=half",
        "transform_quantity[round]",
        None,
        "Invalid transform_quantity[round]: must be one of up or down",
    ),
    # recurring
    (
        NEW + "unit_amount=1&recurring[interval_count]=2",
        "recurring[interval]",
        "parameter_missing",
        "Missing required param: recurring[interval].",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=fortnight",
        "recurring[interval]",
        None,
        "Invalid recurring[interval]: must be one of day, week, month, or year",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=month&recurring[interval_count]=0",
        "recurring[interval_count]",
        "parameter_invalid_integer",
        "Invalid positive integer",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=month&recurring[interval_count]=37",
        "recurring[interval_count]",
        None,
        "The maximum billing interval is 3 years (1095 days, 156 weeks, 36 months or 3 years).",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=week&recurring[interval_count]=157",
        "recurring[interval_count]",
        None,
        "The maximum billing interval is 3 years (1095 days, 156 weeks, 36 months or 3 years).",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=day&recurring[interval_count]=1096",
        "recurring[interval_count]",
        None,
        "The maximum billing interval is 3 years (1095 days, 156 weeks, 36 months or 3 years).",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=year&recurring[interval_count]=4",
        "recurring[interval_count]",
        None,
        "The maximum billing interval is 3 years (1095 days, 156 weeks, 36 months or 3 years).",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=month&recurring[usage_type]=metered",
        "recurring[meter]",
        None,
        METERED_WITHOUT_METER,
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=month&recurring[usage_type]=metered&recurring[meter]=mtr_nope",
        "recurring[meter]",
        "resource_missing",
        "No such billing meter: 'mtr_nope'",
    ),
    (
        NEW + "unit_amount=1&recurring[interval]=month&recurring[usage_type]=rented",
        "recurring[usage_type]",
        None,
        "Invalid recurring[usage_type]: must be one of licensed or metered",
    ),
    # tiers
    (
        NEW + "billing_scheme=tiered&tiers_mode=volume&tiers[0][up_to]=inf&tiers[0][unit_amount]=1&transform_quantity[divide_by]=2&transform_quantity[round]=up",
        "tiers",
        None,
        "You may only specify one of these parameters: tiers, transform_quantity.",
    ),
    (
        NEW + "tiers_mode=volume&tiers[0][up_to]=inf&tiers[0][unit_amount]=1&recurring[interval]=month",
        "tiers",
        None,
        "The `tiers` parameter can only be used with `billing_scheme=tiered`.",
    ),
    (
        NEW + "unit_amount=1&tiers_mode=volume",
        "tiers_mode",
        None,
        "The `tiers_mode` parameter can only be used with `billing_scheme=tiered`.",
    ),
    (
        NEW + "billing_scheme=tiered&tiers_mode=volume&recurring[interval]=month",
        "tiers",
        "parameter_missing",
        "Missing required param: tiers.",
    ),
    (
        NEW + "billing_scheme=tiered&tiers[0][up_to]=inf&tiers[0][unit_amount]=1&recurring[interval]=month",
        "tiers_mode",
        "parameter_missing",
        "Missing required param: tiers_mode.",
    ),
    (
        NEW + "billing_scheme=tiered&tiers_mode=graduated&tiers[0][up_to]=inf&tiers[0][unit_amount]=1&recurring[interval]=month&unit_amount=5",
        "unit_amount",
        None,
        "The `unit_amount` parameter cannot be used with `billing_scheme=tiered`; set amounts on the tiers.",
    ),
    (
        NEW + "billing_scheme=tiered&tiers_mode=volume&tiers[0][up_to]=inf&tiers[0][unit_amount]=500",
        "interval",
        None,
        "Prices with `type=one_time` are not supported with tiered billing.",
    ),
    (
        TIERED + "tiers[0][up_to]=5&tiers[0][unit_amount]=1&tiers[1][up_to]=inf",
        "tiers[1]",
        None,
        "An entry in the tiers array is missing an amount.",
    ),
    (
        TIERED + "tiers[0][up_to]=inf&tiers[0][unit_amount]=1&tiers[0][unit_amount_decimal]=1",
        "tiers[0][unit_amount]",
        None,
        "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
    ),
    (
        TIERED + "tiers[0][up_to]=inf&tiers[0][flat_amount]=1&tiers[0][flat_amount_decimal]=1",
        "tiers[0][flat_amount]",
        None,
        "You may only specify one of these parameters: flat_amount, flat_amount_decimal.",
    ),
    (
        TIERED + "tiers[0][up_to]=5&tiers[0][unit_amount]=1&tiers[1][unit_amount]=1",
        "tiers[1][up_to]",
        "parameter_missing",
        "Missing required param: tiers[1][up_to].",
    ),
    (
        TIERED + "tiers[0][up_to]=five&tiers[0][unit_amount]=1",
        "tiers[0][up_to]",
        "parameter_invalid_integer",
        "Invalid integer: five",
    ),
    (
        TIERED + "tiers[0][up_to]=5&tiers[0][unit_amount]=1",
        "tiers[0][up_to]",
        None,
        "The last entry in the tiers array must have `up_to` set to `inf`.",
    ),
    (
        TIERED + "tiers[0][up_to]=inf&tiers[0][unit_amount]=1&tiers[1][up_to]=inf&tiers[1][unit_amount]=1",
        "tiers[0][up_to]",
        None,
        "Only the last entry in the tiers array may have `up_to` set to `inf`.",
    ),
    (
        TIERED + "tiers[0][up_to]=10&tiers[0][unit_amount]=1&tiers[1][up_to]=10&tiers[1][unit_amount]=1&tiers[2][up_to]=inf&tiers[2][unit_amount]=1",
        "tiers[1][up_to]",
        None,
        "The entries in the tiers array must be in ascending order of `up_to`.",
    ),
    (
        NEW + "billing_scheme=tiered&tiers_mode=stepped&recurring[interval]=month&tiers[0][up_to]=inf&tiers[0][unit_amount]=1",
        "tiers_mode",
        None,
        "Invalid tiers_mode: must be one of graduated or volume",
    ),
    (
        TIERED + "tiers[0][up_to]=inf&tiers[0][flat_amount]=-3",
        "tiers[0][flat_amount]",
        "parameter_invalid_integer",
        "Invalid non-negative integer",
    ),
]


@pytest.mark.parametrize(("body", "param", "code", "message"), REFUSALS)
def test_create_refusals_change_nothing(raw, product: str, body: str, param: str | None, code: str | None, message: str | None) -> None:
    reply = raw.post("/v1/prices", "currency=usd&" + body.format(p=product))
    assert reply.status == 400
    assert reply.error["type"] == "invalid_request_error"
    assert (reply.error["param"], reply.error["code"]) == (param, code)
    if message is None:
        assert "not supported by mockstripe" in reply.error["message"]
    else:
        assert reply.error["message"] == message
    # No price, and no inline product beyond the one the test made.
    assert raw.get("/v1/prices").body["data"] == []
    assert [p["id"] for p in raw.get("/v1/products").body["data"]] == [product]


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ("unit_amount=1", "currency", "Missing required param: currency."),
        ("currency=&unit_amount=1", "currency", "Missing required param: currency."),
        ("currency=us&unit_amount=1", "currency", "Invalid currency: us."),
        ("currency=u5d&unit_amount=1", "currency", "Invalid currency: u5d."),
    ],
)
def test_currency_is_required_and_three_letters(raw, product: str, body: str, param: str, message: str) -> None:
    reply = raw.post("/v1/prices", f"product={product}&{body}")
    assert reply.status == 400
    assert (reply.error["param"], reply.error["message"]) == (param, message)


def test_rejected_product_data_leaves_no_product(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.prices.create({"currency": "usd", "product_data": {"name": "Ghost"}})
    assert error_of(excinfo) == bad_request(None, "Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.")
    assert stripe_client.v1.products.list().data == []
    assert stripe_client.v1.prices.list().data == []


# Tiers ----------------------------------------------------------------------------------------


def test_tiered_price_shows_its_tiers_only_when_expanded(stripe_client: stripe.StripeClient, raw, product: str) -> None:
    created = stripe_client.v1.prices.create(
        {
            "currency": "usd",
            "product": product,
            "billing_scheme": "tiered",
            "tiers_mode": "graduated",
            "tiers": GRADUATED,
            "recurring": {"interval": "month"},
        }
    )
    assert (created.billing_scheme, created.tiers_mode) == ("tiered", "graduated")
    assert (created.unit_amount, created.unit_amount_decimal) == (None, None)
    assert "tiers" not in raw.get(f"/v1/prices/{created.id}").body

    expected = [
        {"flat_amount": None, "flat_amount_decimal": None, "unit_amount": 100, "unit_amount_decimal": "100", "up_to": 10},
        {"flat_amount": 1000, "flat_amount_decimal": "1000", "unit_amount": None, "unit_amount_decimal": "50.5", "up_to": 100},
        {"flat_amount": 2500, "flat_amount_decimal": "2500", "unit_amount": 0, "unit_amount_decimal": "0", "up_to": None},
    ]
    assert raw.get(f"/v1/prices/{created.id}?expand[]=tiers").body["tiers"] == expected
    listed = raw.get("/v1/prices?expand[]=data.tiers").body["data"]
    assert [p["tiers"] for p in listed] == [expected]

    expanded = stripe_client.v1.prices.retrieve(created.id, {"expand": ["tiers"]})
    assert expanded.tiers[1].unit_amount_decimal == Decimal("50.5")
    assert expanded.tiers[2].up_to is None
    assert stripe_client.v1.prices.create(
        {"currency": "usd", "product": product, "billing_scheme": "tiered", "tiers_mode": "volume", "tiers": GRADUATED,
         "recurring": {"interval": "month"}, "expand": ["tiers"]}
    ).tiers[0].up_to == 10


async def test_price_tiers_gives_the_rendered_tiers(in_process) -> None:
    prices = in_process.client.v1.prices
    tiered = await prices.create_async(
        {"currency": "usd", "product_data": {"name": "A"}, "billing_scheme": "tiered", "tiers_mode": "volume",
         "tiers": [{"up_to": 5, "unit_amount": 7}, {"up_to": "inf", "flat_amount": 3}], "recurring": {"interval": "month"}}
    )
    flat = await prices.create_async({"currency": "usd", "product_data": {"name": "B"}, "unit_amount": 1})
    tiers = price_tiers(in_process.account, tiered.id)
    assert tiers == [
        {"flat_amount": None, "flat_amount_decimal": None, "unit_amount": 7, "unit_amount_decimal": "7", "up_to": 5},
        {"flat_amount": 3, "flat_amount_decimal": "3", "unit_amount": None, "unit_amount_decimal": None, "up_to": None},
    ]
    tiers[0]["up_to"] = 99  # callers get copies
    assert price_tiers(in_process.account, tiered.id)[0]["up_to"] == 5
    assert price_tiers(in_process.account, flat.id) is None
    assert "tiers" not in in_process.account.find("price", tiered.id)


# Meters (these insert a meter object directly: see the module docstring) ------------------------


@needs_meter_object
async def test_metered_price_is_backed_by_an_active_meter(in_process) -> None:
    meter_id = meter(in_process.account)
    price = await in_process.client.v1.prices.create_async(
        {
            "currency": "usd",
            "unit_amount": 4,
            "billing_scheme": "per_unit",
            "transform_quantity": {"divide_by": 100, "round": "up"},
            "recurring": {"usage_type": "metered", "interval": "month", "meter": meter_id},
            "product_data": {"name": "Alpaca AI tokens"},
        }
    )
    assert price.recurring.to_dict() == {
        "interval": "month",
        "interval_count": 1,
        "meter": meter_id,
        "trial_period_days": None,
        "usage_type": "metered",
    }
    assert (price.unit_amount, price.unit_amount_decimal) == (4, Decimal("4"))
    listed = await in_process.client.v1.prices.list_async({"recurring": {"meter": meter_id}})
    assert [p.id for p in listed.data] == [price.id]
    assert (await in_process.client.v1.prices.list_async({"recurring": {"meter": "mtr_other"}})).data == []


@needs_meter_object
async def test_an_inactive_meter_cannot_back_a_price(in_process) -> None:
    meter_id = meter(in_process.account, status="inactive")
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await in_process.client.v1.prices.create_async(
            {"currency": "usd", "unit_amount": 4, "product_data": {"name": "A"},
             "recurring": {"usage_type": "metered", "interval": "month", "meter": meter_id}}
        )
    assert error_of(excinfo) == bad_request(
        "recurring[meter]", f"The billing meter `{meter_id}` is inactive and cannot be attached to a price."
    )
    assert (await in_process.client.v1.products.list_async()).data == []


@needs_meter_object
async def test_a_licensed_price_cannot_have_a_meter(in_process) -> None:
    meter_id = meter(in_process.account)
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        await in_process.client.v1.prices.create_async(
            {"currency": "usd", "unit_amount": 4, "product_data": {"name": "A"},
             "recurring": {"interval": "month", "meter": meter_id}}
        )
    assert error_of(excinfo) == bad_request(
        "recurring[meter]", "A meter can only be set on prices with `usage_type=metered`."
    )


# Lookup keys ----------------------------------------------------------------------------------


def test_lookup_keys_are_unique_unless_transferred(stripe_client: stripe.StripeClient, product: str) -> None:
    prices = stripe_client.v1.prices
    holder = prices.create({"currency": "usd", "unit_amount": 1, "product": product, "lookup_key": "pro"})
    prices.update(holder.id, {"active": False})  # an archived holder still holds its key
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        prices.create({"currency": "usd", "unit_amount": 2, "product_data": {"name": "Ghost"}, "lookup_key": "pro"})
    assert error_of(excinfo) == bad_request("lookup_key", f"A price (`{holder.id}`) already uses that lookup key.")
    assert [p.id for p in stripe_client.v1.products.list().data] == [product]

    successor = prices.create(
        {"currency": "usd", "unit_amount": 2, "product": product, "lookup_key": "pro", "transfer_lookup_key": True}
    )
    assert successor.lookup_key == "pro"
    assert prices.retrieve(holder.id).lookup_key is None
    assert [p.id for p in prices.list({"lookup_keys": ["pro"]}).data] == [successor.id]


def test_update_moves_or_clears_a_lookup_key(stripe_client: stripe.StripeClient, product: str) -> None:
    prices = stripe_client.v1.prices
    one = prices.create({"currency": "usd", "unit_amount": 1, "product": product, "lookup_key": "k"})
    two = prices.create({"currency": "usd", "unit_amount": 2, "product": product})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        prices.update(two.id, {"lookup_key": "k"})
    assert error_of(excinfo) == bad_request("lookup_key", f"A price (`{one.id}`) already uses that lookup key.")
    assert prices.update(two.id, {"lookup_key": "k", "transfer_lookup_key": True}).lookup_key == "k"
    assert prices.retrieve(one.id).lookup_key is None
    assert prices.update(two.id, {"lookup_key": "k"}).lookup_key == "k"  # its own key is no conflict
    assert prices.update(two.id, {"lookup_key": ""}).lookup_key is None
    assert prices.create({"currency": "usd", "unit_amount": 3, "product": product, "lookup_key": "k"}).lookup_key == "k"


# Reading, updating, listing -------------------------------------------------------------------


def test_retrieve_expands_the_product_and_unknown_ids_are_404(stripe_client: stripe.StripeClient, raw, product: str) -> None:
    price = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 1, "product": product})
    expanded = stripe_client.v1.prices.retrieve(price.id, {"expand": ["product"]})
    assert expanded.product.to_dict() == stripe_client.v1.products.retrieve(product).to_dict()
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.prices.retrieve("price_nope")
    assert excinfo.value.http_status == 404
    assert error_of(excinfo) == bad_request("price", "No such price: 'price_nope'", "resource_missing")
    reply = raw.get(f"/v1/prices/{price.id}?expand[]=nickname")
    assert (reply.status, reply.error["message"]) == (400, "This property cannot be expanded (nickname).")


def test_prices_cannot_be_deleted(raw, product: str) -> None:
    price = raw.post("/v1/prices", f"currency=usd&unit_amount=1&product={product}").body
    reply = raw.delete(f"/v1/prices/{price['id']}")
    assert reply.status == 404
    assert reply.error["message"].startswith(f"Unrecognized request URL (DELETE: /v1/prices/{price['id']})")
    assert raw.get(f"/v1/prices/{price['id']}").status == 200


def test_update_changes_only_the_mutable_fields(stripe_client: stripe.StripeClient, raw, product: str) -> None:
    prices = stripe_client.v1.prices
    price = prices.create({"currency": "usd", "unit_amount": 1, "product": product, "nickname": "n", "metadata": {"a": "1", "b": "2"}})
    updated = prices.update(price.id, {"active": False, "nickname": "", "metadata": {"b": "", "c": "3"}, "tax_behavior": "inclusive"})
    assert (updated.active, updated.nickname, updated.tax_behavior) == (False, None, "inclusive")
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    assert prices.update(price.id, {"metadata": ""}).metadata.to_dict() == {}
    assert prices.retrieve(price.id).to_dict() == {**updated.to_dict(), "metadata": {}}

    for param in ("unit_amount=5", "currency=eur", "recurring[interval]=month", "product=prod_x"):
        reply = raw.post(f"/v1/prices/{price.id}", param)
        name = param.split("=")[0].split("[")[0]
        assert reply.status == 400
        assert (reply.error["code"], reply.error["param"]) == ("parameter_unknown", name)
        assert reply.error["message"] == f"Received unknown parameter: {name}"
    reply = raw.post(f"/v1/prices/{price.id}", "currency_options[eur][unit_amount]=1")
    assert (reply.status, reply.error["param"]) == (400, "currency_options")


def test_tax_behavior_is_fixed_once_chosen(stripe_client: stripe.StripeClient, product: str) -> None:
    prices = stripe_client.v1.prices
    price = prices.create({"currency": "usd", "unit_amount": 1, "product": product, "tax_behavior": "exclusive"})
    assert prices.update(price.id, {"tax_behavior": "exclusive"}).tax_behavior == "exclusive"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        prices.update(price.id, {"tax_behavior": "inclusive"})
    assert error_of(excinfo) == bad_request(
        "tax_behavior", "The tax behavior of a price cannot be changed once it is `inclusive` or `exclusive`."
    )
    assert prices.retrieve(price.id).tax_behavior == "exclusive"


def test_list_pages_newest_first_and_expands_products(stripe_client: stripe.StripeClient, raw, product: str) -> None:
    prices = stripe_client.v1.prices
    ids = [prices.create({"currency": "usd", "unit_amount": i, "product": product}).id for i in range(5)][::-1]
    page = prices.list({"limit": 2, "expand": ["data.product"]})
    assert [p.id for p in page.data] == ids[:2]
    assert page.has_more is True and page.url == "/v1/prices"
    assert page.data[0].product.id == product
    assert [p.id for p in prices.list({"limit": 2, "starting_after": ids[1]}).data] == ids[2:4]
    last = prices.list({"limit": 2, "starting_after": ids[3]})
    assert ([p.id for p in last.data], last.has_more) == (ids[4:], False)
    assert [p.id for p in prices.list({"limit": 2, "ending_before": ids[4]}).data] == ids[2:4]
    assert [p.id for p in prices.list({"limit": 2}).auto_paging_iter()] == ids
    reply = raw.get("/v1/prices?starting_after=price_nope")
    assert (reply.status, reply.error["code"], reply.error["param"]) == (400, "resource_missing", "starting_after")
    reply = raw.get("/v1/prices?expand[]=product")
    assert reply.error["message"] == "This property cannot be expanded (product). You may want to try expanding 'data.product' instead."


def test_list_filters(stripe_client: stripe.StripeClient, raw, product: str) -> None:
    prices = stripe_client.v1.prices
    other = stripe_client.v1.products.create({"name": "Other"}).id
    one_time = prices.create({"currency": "usd", "unit_amount": 1, "product": product, "lookup_key": "once"})
    monthly = prices.create({"currency": "usd", "unit_amount": 1, "product": product, "recurring": {"interval": "month"}, "lookup_key": "monthly"})
    yearly_eur = prices.create({"currency": "eur", "unit_amount": 1, "product": other, "recurring": {"interval": "year"}})
    archived = prices.create({"currency": "usd", "unit_amount": 1, "product": other, "active": False})

    def ids(**params: Any) -> list[str]:
        return [p.id for p in prices.list(params).data]

    assert ids() == [archived.id, yearly_eur.id, monthly.id, one_time.id]
    assert ids(active=True) == [yearly_eur.id, monthly.id, one_time.id]
    assert ids(active=False) == [archived.id]
    assert ids(product=product) == [monthly.id, one_time.id]
    assert ids(currency="EUR") == [yearly_eur.id]
    assert ids(type="one_time") == [archived.id, one_time.id]
    assert ids(type="recurring", product=product) == [monthly.id]
    assert ids(recurring={"interval": "year"}) == [yearly_eur.id]
    assert ids(recurring={"usage_type": "licensed"}) == [yearly_eur.id, monthly.id]
    assert ids(lookup_keys=["monthly", "once", "nope"]) == [monthly.id, one_time.id]
    assert ids(created={"gte": one_time.created}) == [archived.id, yearly_eur.id, monthly.id, one_time.id]
    assert ids(created={"lt": one_time.created}) == []

    reply = raw.get("/v1/prices?product=prod_nope")
    assert (reply.status, reply.error["code"], reply.error["message"]) == (400, "resource_missing", "No such product: 'prod_nope'")
    reply = raw.get("/v1/prices?" + "&".join(f"lookup_keys[{i}]=k{i}" for i in range(11)))
    assert (reply.status, reply.error["message"]) == (400, "Array lookup_keys exceeded maximum 10 allowed elements.")
    reply = raw.get("/v1/prices?type=monthly")
    assert (reply.status, reply.error["param"]) == (400, "type")
