"""`expand[]`: ids become objects along dotted paths, through nested hashes and lists."""

from __future__ import annotations

import copy

import pytest

from mockstripe.store import Account
from mockstripe.wire.errors import StripeError
from mockstripe.wire.expand import check, expand
from mockstripe.wire.lists import list_object
from mockstripe.wire.objects import ListOf, ObjectType, Shape

TYPES = {
    t.name: t
    for t in (
        ObjectType("customer", "customer", expand_only={"greeting": lambda account, obj: {"text": f"hi {obj['id']}"}}),
        ObjectType("product", "product"),
        ObjectType("price", "price", expandable={"product": "product"}),
        ObjectType("subscription_item", "subscription item", expandable={"price": "price"}),
        ObjectType(
            "subscription", "subscription", expandable={"customer": "customer"}, nested={"items": ListOf("subscription_item")}
        ),
        # A line's price sits in nested hashes that carry no `object` of their own.
        ObjectType("line_item", "line item", expandable={"pricing.price_details.price": "price"}),
    )
}


@pytest.fixture
def account() -> Account:
    account = Account(key="sk_test_expand")
    account.collection("customer").add({"id": "cus_1", "object": "customer", "name": "Ada"})
    account.collection("customer").add({"id": "cus_gone", "object": "customer", "deleted": True})
    account.collection("product").add({"id": "prod_1", "object": "product", "name": "Tokens"})
    account.collection("price").add({"id": "price_1", "object": "price", "product": "prod_1"})
    return account


def subscription() -> dict:
    item = {"id": "si_1", "object": "subscription_item", "price": "price_1"}
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "items": list_object([item], False, "/v1/subscription_items?subscription=sub_1"),
    }


def line() -> dict:
    return {
        "id": "il_1",
        "object": "line_item",
        "pricing": {"type": "price_details", "price_details": {"price": "price_1", "product": "prod_1"}},
    }


def cannot(shape: Shape, paths: list[str]) -> str:
    """The error `check` raises for paths on a response of this shape."""
    with pytest.raises(StripeError) as caught:
        check(paths, shape, TYPES)
    assert (caught.value.status, caught.value.param) == (400, "expand")
    return caught.value.message


def test_top_level_id(account):
    expanded = expand(subscription(), ["customer"], TYPES, account)
    assert expanded["customer"] == {"id": "cus_1", "object": "customer", "name": "Ada"}


def test_through_a_nested_list(account):
    expanded = expand(subscription(), ["items.data.price.product"], TYPES, account)
    price = expanded["items"]["data"][0]["price"]
    assert price["id"] == "price_1"
    assert price["product"] == {"id": "prod_1", "object": "product", "name": "Tokens"}
    assert expanded["items"]["url"] == "/v1/subscription_items?subscription=sub_1"


def test_through_nested_hashes_without_an_object(account):
    expanded = expand(line(), ["pricing.price_details.price"], TYPES, account)
    details = expanded["pricing"]["price_details"]
    assert details["price"] == {"id": "price_1", "object": "price", "product": "prod_1"}
    assert details["product"] == "prod_1"
    assert expanded["pricing"]["type"] == "price_details"


def test_nested_path_continues_into_the_expanded_object(account):
    expanded = expand(line(), ["pricing.price_details.price.product"], TYPES, account)
    assert expanded["pricing"]["price_details"]["price"]["product"]["name"] == "Tokens"


def test_several_paths_build_on_each_other(account):
    expanded = expand(line(), ["pricing.price_details.price", "pricing.price_details.price.product"], TYPES, account)
    assert expanded["pricing"]["price_details"]["price"]["product"]["id"] == "prod_1"


def test_the_stored_objects_are_never_modified(account):
    value = subscription()
    before = copy.deepcopy(value)
    expand(value, ["customer", "items.data.price.product"], TYPES, account)
    assert value == before
    assert account.find("price", "price_1")["product"] == "prod_1"


def test_a_top_level_list(account):
    page = list_object([subscription(), subscription()], False, "/v1/subscriptions")
    expanded = expand(page, ["data.customer"], TYPES, account)
    assert [s["customer"]["name"] for s in expanded["data"]] == ["Ada", "Ada"]


def test_expand_only_fields_are_computed(account):
    customer = account.find("customer", "cus_1")
    assert expand(customer, ["greeting"], TYPES, account)["greeting"] == {"text": "hi cus_1"}
    assert "greeting" not in customer


def test_null_and_unknown_ids_stay_as_they_are(account):
    value = {**subscription(), "customer": None}
    assert expand(value, ["customer"], TYPES, account)["customer"] is None
    value = {**subscription(), "customer": "cus_unknown"}
    assert expand(value, ["customer"], TYPES, account)["customer"] == "cus_unknown"


def test_deleted_objects_expand_to_their_stub(account):
    value = {**subscription(), "customer": "cus_gone"}
    assert expand(value, ["customer"], TYPES, account)["customer"] == {"id": "cus_gone", "object": "customer", "deleted": True}


@pytest.mark.parametrize("path", ["bogus", "id", "items.data.bogus", "customer.name", "data.customer"])
def test_paths_that_cannot_be_expanded(path):
    assert cannot("subscription", [path]) == f"This property cannot be expanded ({path})."


def test_a_list_needs_data_and_the_hint_says_where():
    assert cannot(ListOf("subscription"), ["customer"]) == (
        "This property cannot be expanded (customer). You may want to try expanding 'data.customer' instead."
    )
    assert cannot("subscription", ["items.price"]) == (
        "This property cannot be expanded (items.price). You may want to try expanding 'items.data.price' instead."
    )


def test_declared_paths_pass_the_check():
    check(["customer", "items.data.price.product"], "subscription", TYPES)
    check(["pricing.price_details.price.product"], "line_item", TYPES)
    check(["data.customer", "data.items.data.price"], ListOf("subscription"), TYPES)
    check(["greeting"], "customer", TYPES)


def test_at_most_four_levels(account):
    message = cannot("line_item", ["pricing.price_details.price.product.x"])
    assert message == "You cannot expand more than 4 levels of a property. Property: pricing.price_details.price.product.x"
    # `data` segments of lists do not count as levels.
    page = list_object([subscription()], False, "/v1/subscriptions")
    expanded = expand(page, ["data.items.data.price.product"], TYPES, account)
    assert expanded["data"][0]["items"]["data"][0]["price"]["product"]["id"] == "prod_1"


# Over HTTP, on customers.


def test_null_test_clock_stays_null(raw):
    customer = raw.post("/v1/customers", "name=x").body
    assert raw.get(f"/v1/customers/{customer['id']}?expand[]=test_clock").body["test_clock"] is None


def test_subscriptions_expand_to_a_list(raw):
    customer = raw.post("/v1/customers", "name=x&expand[]=subscriptions").body
    assert customer["subscriptions"] == {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/customers/{customer['id']}/subscriptions",
    }
    fetched = raw.get(f"/v1/customers/{customer['id']}?expand[0]=subscriptions&expand[1]=tax_ids").body
    assert fetched["subscriptions"]["data"] == []
    assert fetched["tax_ids"]["url"] == f"/v1/customers/{customer['id']}/tax_ids"
    assert "subscriptions" not in raw.get(f"/v1/customers/{customer['id']}").body


def test_bogus_expansion(raw):
    customer = raw.post("/v1/customers", "name=x").body
    reply = raw.get(f"/v1/customers/{customer['id']}?expand[]=bogus")
    assert reply.status == 400
    assert reply.error["message"] == "This property cannot be expanded (bogus)."
    assert reply.error["param"] == "expand"


def test_a_failed_expansion_on_create_changes_nothing(raw):
    reply = raw.post("/v1/customers", "name=x&expand[]=bogus")
    assert reply.status == 400
    assert reply.error["message"] == "This property cannot be expanded (bogus)."
    assert raw.get("/v1/customers").body["data"] == []


def test_lists_need_data(raw):
    raw.post("/v1/customers", "name=x")
    reply = raw.get("/v1/customers?expand[]=subscriptions")
    assert reply.status == 400
    assert reply.error["message"] == (
        "This property cannot be expanded (subscriptions). You may want to try expanding 'data.subscriptions' instead."
    )
    page = raw.get("/v1/customers?expand[]=data.subscriptions").body
    assert page["data"][0]["subscriptions"]["object"] == "list"


def test_more_than_four_levels(raw):
    reply = raw.get("/v1/customers?expand[]=data.a.b.c.d.e")
    assert reply.status == 400
    assert reply.error["message"].startswith("You cannot expand more than 4 levels of a property.")


def test_sdk_expand(stripe_client):
    customer = stripe_client.v1.customers.create({"expand": ["subscriptions", "test_clock"]})
    assert customer.subscriptions.data == []
    assert customer.test_clock is None
