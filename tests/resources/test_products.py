"""`/v1/products` through the official SDK, and the wire details through raw HTTP."""

from __future__ import annotations

import pytest
import stripe

from mockstripe.clock import FrozenClock


def sdk_fields(cls: type) -> set[str]:
    """The fields the SDK declares for an object (a deletion stub's `deleted` aside)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
    return {n for n in names if not n.startswith("_") and n.isidentifier() and n.islower()} - {"deleted"}


def error_of(excinfo: pytest.ExceptionInfo[stripe.StripeError]) -> dict:
    body = excinfo.value.json_body["error"]
    return {k: body.get(k) for k in ("type", "code", "param", "message")}


def test_create_with_only_a_name_has_stripe_defaults(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create({"name": "T-shirt"})
    assert product.id.startswith("prod_") and len(product.id) == len("prod_") + 14
    assert set(product.to_dict()) == sdk_fields(stripe.Product)
    assert product.to_dict() == {
        "id": product.id,
        "object": "product",
        "active": True,
        "created": product.created,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": "T-shirt",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "tax_details": None,
        "type": "service",
        "unit_label": None,
        "updated": product.created,
        "url": None,
    }


def test_create_sets_every_implemented_field(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create(
        {
            "id": "prod_tshirt",
            "name": "T-shirt",
            "active": False,
            "description": "Comfortable gray cotton t-shirt",
            "images": ["https://example.com/a.png", "https://example.com/b.png"],
            "marketing_features": [{"name": "Soft"}, {"name": "Warm"}],
            "metadata": {"sku": "ts-1"},
            "package_dimensions": {"height": 1.5, "length": 10, "weight": 7.25, "width": 3},
            "shippable": True,
            "statement_descriptor": "TSHIRT SHOP",
            "tax_code": "txcd_99999999",
            "type": "good",
            "unit_label": "shirt",
            "url": "https://example.com/tshirt",
        }
    )
    assert product.id == "prod_tshirt"
    assert product.active is False
    assert product.description == "Comfortable gray cotton t-shirt"
    assert product.images == ["https://example.com/a.png", "https://example.com/b.png"]
    assert [f.name for f in product.marketing_features] == ["Soft", "Warm"]
    assert product.metadata.to_dict() == {"sku": "ts-1"}
    assert product.package_dimensions.to_dict() == {"height": 1.5, "length": 10.0, "weight": 7.25, "width": 3.0}
    assert product.shippable is True
    assert product.statement_descriptor == "TSHIRT SHOP"
    assert product.tax_code == "txcd_99999999"
    assert product.type == "good"
    assert product.unit_label == "shirt"
    assert product.url == "https://example.com/tshirt"
    assert stripe_client.v1.products.retrieve("prod_tshirt").to_dict() == product.to_dict()


def test_a_chosen_id_can_only_be_used_once(stripe_client: stripe.StripeClient) -> None:
    stripe_client.v1.products.create({"id": "prod_mine", "name": "One"})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.products.create({"id": "prod_mine", "name": "Two"})
    assert excinfo.value.http_status == 400
    assert error_of(excinfo) == {
        "type": "invalid_request_error",
        "code": "resource_already_exists",
        "param": "id",
        "message": "Product already exists.",
    }
    assert stripe_client.v1.products.retrieve("prod_mine").name == "One"


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        ("description=x", "name", "parameter_missing", "Missing required param: name."),
        ("name=", "name", "parameter_missing", "Missing required param: name."),
        ("name=A&colour=red", "colour", "parameter_unknown", "Received unknown parameter: colour"),
        ("name=A&type=thing", "type", None, "Invalid type: must be one of good or service"),
        ("name=A&shippable=maybe", "shippable", None, "Invalid boolean: maybe"),
        (
            "name=A&statement_descriptor=" + "x" * 23,
            "statement_descriptor",
            None,
            "Invalid string: xxxxxxxxxxxxxxxxxxxx...; must be at most 22 characters",
        ),
        (
            "name=A&" + "&".join(f"images[{i}]=https://example.com/{i}" for i in range(9)),
            "images",
            None,
            "Array images exceeded maximum 8 allowed elements.",
        ),
        (
            "name=A&package_dimensions[height]=1&package_dimensions[length]=1&package_dimensions[weight]=1",
            "package_dimensions[width]",
            "parameter_missing",
            "Missing required param: package_dimensions[width].",
        ),
        (
            "name=A&marketing_features[0][name]=" + "y" * 81,
            "marketing_features[0][name]",
            None,
            "Invalid string: yyyyyyyyyyyyyyyyyyyy...; must be at most 80 characters",
        ),
    ],
)
def test_create_rejects_bad_params(raw, body: str, param: str, code: str | None, message: str) -> None:
    reply = raw.post("/v1/products", body)
    assert reply.status == 400
    assert reply.error["type"] == "invalid_request_error"
    assert (reply.error["param"], reply.error["code"], reply.error["message"]) == (param, code, message)
    assert raw.get("/v1/products").body["data"] == []


@pytest.mark.parametrize("param", ["default_price_data[currency]=usd", "tax_details[tax_code]=txcd_1"])
def test_unimplemented_params_are_refused_clearly(raw, param: str) -> None:
    reply = raw.post("/v1/products", f"name=A&{param}")
    assert reply.status == 400
    assert reply.error["param"] == param.split("[")[0]
    assert "not supported by mockstripe" in reply.error["message"]


def test_retrieving_an_unknown_product_is_a_404(stripe_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.products.retrieve("prod_nope")
    assert excinfo.value.http_status == 404
    assert error_of(excinfo) == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "id",
        "message": "No such product: 'prod_nope'",
    }


async def test_update_writes_fields_and_bumps_updated(in_process) -> None:
    in_process.account.clock = FrozenClock(1_700_000_000)
    products = in_process.client.v1.products
    product = await products.create_async({"name": "Old", "description": "d", "images": ["https://e.com/1"]})
    in_process.account.clock = FrozenClock(1_700_000_500)
    updated = await products.update_async(
        product.id,
        {
            "name": "New",
            "active": False,
            "description": "",
            "images": "",
            "marketing_features": [{"name": "Fast"}],
            "package_dimensions": {"height": 1, "length": 2, "weight": 3, "width": 4.5},
            "shippable": False,
            "statement_descriptor": "NEW",
            "tax_code": "txcd_10000000",
            "unit_label": "seat",
            "url": "https://example.com",
        },
    )
    assert updated.created == 1_700_000_000
    assert updated.updated == 1_700_000_500
    assert (updated.name, updated.active, updated.description, updated.images) == ("New", False, None, [])
    assert [f.name for f in updated.marketing_features] == ["Fast"]
    assert updated.package_dimensions.width == 4.5
    assert (updated.shippable, updated.statement_descriptor, updated.unit_label) == (False, "NEW", "seat")
    assert (updated.tax_code, updated.url) == ("txcd_10000000", "https://example.com")
    assert (await products.retrieve_async(product.id)).to_dict() == updated.to_dict()


def test_update_merges_metadata(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create({"name": "A", "metadata": {"a": "1", "b": "2"}})
    products = stripe_client.v1.products
    assert products.update(product.id, {"metadata": {"b": "", "c": "3"}}).metadata.to_dict() == {"a": "1", "c": "3"}
    assert products.update(product.id, {"metadata": ""}).metadata.to_dict() == {}


def test_update_rejects_what_only_create_accepts(raw) -> None:
    product = raw.post("/v1/products", "name=A").body
    reply = raw.post(f"/v1/products/{product['id']}", "type=good")
    assert reply.status == 400
    assert (reply.error["code"], reply.error["param"]) == ("parameter_unknown", "type")


def test_default_price_must_be_one_of_the_products_prices(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create({"name": "A"})
    other = stripe_client.v1.products.create({"name": "B"})
    own = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 100, "product": product.id})
    foreign = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 100, "product": other.id})

    updated = stripe_client.v1.products.update(product.id, {"default_price": own.id, "expand": ["default_price"]})
    assert updated.default_price.id == own.id
    assert updated.default_price.unit_amount == 100
    assert stripe_client.v1.products.retrieve(product.id).default_price == own.id

    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.products.update(product.id, {"default_price": foreign.id})
    assert excinfo.value.error.param == "default_price"
    assert foreign.id in excinfo.value.error.message
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.products.update(product.id, {"default_price": "price_nope"})
    assert error_of(excinfo) == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "default_price",
        "message": "No such price: 'price_nope'",
    }
    assert stripe_client.v1.products.retrieve(product.id).default_price == own.id


def test_delete_returns_the_stub_and_the_product_is_gone(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create({"name": "A"})
    deleted = stripe_client.v1.products.delete(product.id)
    assert deleted.to_dict() == {"id": product.id, "object": "product", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.products.retrieve(product.id)
    assert excinfo.value.http_status == 404
    assert stripe_client.v1.products.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.products.delete(product.id)
    assert excinfo.value.http_status == 404


def test_a_product_with_prices_cannot_be_deleted(stripe_client: stripe.StripeClient) -> None:
    product = stripe_client.v1.products.create({"name": "A"})
    price = stripe_client.v1.prices.create({"currency": "usd", "unit_amount": 100, "product": product.id})
    stripe_client.v1.prices.update(price.id, {"active": False})  # archived prices still count
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        stripe_client.v1.products.delete(product.id)
    assert excinfo.value.http_status == 400
    assert error_of(excinfo) == {
        "type": "invalid_request_error",
        "code": None,
        "param": None,
        "message": "This product cannot be deleted because it has one or more user-created prices.",
    }
    assert stripe_client.v1.products.retrieve(product.id).id == product.id


def test_list_is_newest_first_and_pages_both_ways(stripe_client: stripe.StripeClient) -> None:
    ids = [stripe_client.v1.products.create({"name": f"P{i}"}).id for i in range(5)]
    newest_first = ids[::-1]
    page = stripe_client.v1.products.list({"limit": 2})
    assert [p.id for p in page.data] == newest_first[:2]
    assert page.has_more is True
    assert page.url == "/v1/products"
    after = stripe_client.v1.products.list({"limit": 2, "starting_after": newest_first[1]})
    assert [p.id for p in after.data] == newest_first[2:4]
    before = stripe_client.v1.products.list({"limit": 2, "ending_before": newest_first[4]})
    assert [p.id for p in before.data] == newest_first[2:4]
    assert before.has_more is True
    assert [p.id for p in stripe_client.v1.products.list({"limit": 2}).auto_paging_iter()] == newest_first


def test_list_filters(stripe_client: stripe.StripeClient) -> None:
    products = stripe_client.v1.products
    shirt = products.create({"name": "Shirt", "type": "good", "shippable": True, "url": "https://e.com/shirt"})
    archived = products.create({"name": "Old", "active": False})
    service = products.create({"name": "Support"})

    def ids(**params) -> list[str]:
        return [p.id for p in products.list(params).data]

    assert ids(active=True) == [service.id, shirt.id]
    assert ids(active=False) == [archived.id]
    assert ids(type="good") == [shirt.id]
    assert ids(type="service") == [service.id, archived.id]
    assert ids(shippable=True) == [shirt.id]
    assert ids(url="https://e.com/shirt") == [shirt.id]
    assert ids(ids=[shirt.id, archived.id]) == [archived.id, shirt.id]
    assert ids(created={"gte": shirt.created}) == [service.id, archived.id, shirt.id]
    assert ids(created={"lt": shirt.created}) == []


def test_list_ids_cannot_be_combined_with_a_cursor(raw) -> None:
    product = raw.post("/v1/products", "name=A").body
    reply = raw.get(f"/v1/products?ids[]={product['id']}&starting_after={product['id']}")
    assert reply.status == 400
    assert reply.error["message"] == "You may only specify one of these parameters: ids, starting_after."


def test_a_name_cannot_be_unset_with_an_empty_string(raw):
    created = raw.post("/v1/products", "name=Shirt").body
    reply = raw.post(f"/v1/products/{created['id']}", "name=")
    assert reply.status == 400
    assert reply.error["code"] == "parameter_invalid_empty"
    assert reply.error["param"] == "name"
    assert reply.error["message"].startswith("You passed an empty string for 'name'.")
    assert raw.get(f"/v1/products/{created['id']}").body["name"] == "Shirt"
