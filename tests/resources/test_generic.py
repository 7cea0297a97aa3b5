"""The generic layer: every spec operation not built by hand answers, keeps state, validates its
parameters by the spec with Stripe's errors, and says it is generic."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mockstripe.app import create_app
from mockstripe.config import Config
from mockstripe.wire.errors import StripeError
from mockstripe.wire.spec import Anything

GENERIC = "generic"


def test_a_generic_create_is_stored_retrieved_updated_listed_and_deleted(raw):
    created = raw.post("/v1/radar/value_lists", {"alias": "blocked_emails", "name": "Blocked", "item_type": "email"})
    assert created.status == 200
    assert created.headers["Mockstripe-Fidelity"] == GENERIC
    value_list = created.body
    assert (value_list["object"], value_list["alias"], value_list["item_type"], value_list["name"]) == (
        "radar.value_list",
        "blocked_emails",
        "email",
        "Blocked",
    )
    assert value_list["livemode"] is False
    path = f"/v1/radar/value_lists/{value_list['id']}"
    assert raw.get(path).body == value_list

    updated = raw.post(path, {"name": "Still blocked", "metadata[a]": "1"}).body
    assert (updated["name"], updated["metadata"], updated["alias"]) == ("Still blocked", {"a": "1"}, "blocked_emails")

    other = raw.post("/v1/radar/value_lists", {"alias": "allowed", "name": "Allowed"}).body
    page = raw.get("/v1/radar/value_lists?limit=1").body
    assert ([c["id"] for c in page["data"]], page["has_more"]) == ([other["id"]], True)
    after = raw.get(f"/v1/radar/value_lists?starting_after={other['id']}").body
    assert [c["id"] for c in after["data"]] == [value_list["id"]]

    assert raw.delete(path).body == {"id": value_list["id"], "object": "radar.value_list", "deleted": True}
    gone = raw.get(path)
    assert (gone.status, gone.error["code"]) == (404, "resource_missing")


def test_ids_take_the_prefix_of_stripes_examples(raw):
    customer = raw.post("/v1/customers", "name=x").body
    assert raw.post("/v1/payment_intents", {"amount": "100", "currency": "usd"}).body["id"].startswith("pi_")
    assert raw.post("/v1/setup_intents", {"customer": customer["id"]}).body["id"].startswith("seti_")
    assert raw.post(f"/v1/customers/{customer['id']}/tax_ids", {"type": "eu_vat", "value": "DE1"}).body["id"].startswith("txi_")


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "param", "message"),
    [
        (
            "/v1/shipping_rates",
            {"display_name": "Ground", "type": "fixed_amount", "fixed_amount[amount]": "abc", "fixed_amount[currency]": "usd"},
            400,
            "parameter_invalid_integer",
            "fixed_amount[amount]",
            "Invalid integer: abc",
        ),
        ("/v1/radar/value_lists", {"name": "Blocked"}, 400, "parameter_missing", "alias", "Missing required param: alias."),
        ("/v1/setup_intents", {"bogus": "1"}, 400, "parameter_unknown", "bogus", "Received unknown parameter: bogus"),
        ("/v1/setup_intents", {"usage": "later"}, 400, None, "usage", "Invalid usage: must be one of off_session or on_session"),
        ("/v1/setup_intents", {"customer": "cus_nope"}, 400, "resource_missing", "customer", "No such customer: 'cus_nope'"),
    ],
)
def test_the_spec_validates_parameters_with_stripes_errors(raw, path, body, status, code, param, message):
    reply = raw.post(path, body)
    assert (reply.status, reply.error["code"], reply.error["param"], reply.error["message"]) == (status, code, param, message)
    assert reply.headers["Mockstripe-Fidelity"] == GENERIC
    assert raw.get(path).body["data"] == []


def test_an_action_answers_the_object_in_a_plausible_state_and_records_its_event(raw):
    intent = raw.post("/v1/setup_intents", {}).body
    canceled = raw.post(f"/v1/setup_intents/{intent['id']}/cancel").body
    assert (canceled["id"], canceled["status"]) == (intent["id"], "canceled")
    types = [e["type"] for e in raw.get("/v1/events").body["data"]]
    assert types == ["setup_intent.canceled", "setup_intent.created"]


def test_nothing_of_another_account_or_type(raw, raw_http, mockstripe_url):
    intent = raw.post("/v1/setup_intents", {}).body
    stranger = raw_http(mockstripe_url, "sk_test_someone_else_generic")
    for reply in (
        stranger.get(f"/v1/setup_intents/{intent['id']}"),
        stranger.post(f"/v1/setup_intents/{intent['id']}/cancel"),
        raw.get(f"/v1/payment_intents/{intent['id']}"),
    ):
        assert (reply.status, reply.error["code"]) == (404, "resource_missing")
    assert raw.get(f"/v1/setup_intents/{intent['id']}").body["status"] == intent["status"]


def test_a_nested_resource_needs_its_parent(raw):
    missing = raw.post("/v1/customers/cus_nope/tax_ids", {"type": "eu_vat", "value": "DE1"})
    assert (missing.status, missing.error["message"]) == (404, "No such customer: 'cus_nope'")
    first = raw.post("/v1/customers", "name=a").body["id"]
    second = raw.post("/v1/customers", "name=b").body["id"]
    tax_id = raw.post(f"/v1/customers/{first}/tax_ids", {"type": "eu_vat", "value": "DE1"}).body
    assert (tax_id["customer"], tax_id["owner"]["customer"]) == (first, first)
    assert [t["id"] for t in raw.get(f"/v1/customers/{first}/tax_ids").body["data"]] == [tax_id["id"]]
    assert raw.get(f"/v1/customers/{second}/tax_ids").body["data"] == []
    assert raw.get(f"/v1/customers/{first}/tax_ids/{tax_id['id']}").body == tax_id
    elsewhere = raw.get(f"/v1/customers/{second}/tax_ids/{tax_id['id']}")
    assert (elsewhere.status, elsewhere.error["code"]) == (404, "resource_missing")


def test_search_finds_the_accounts_objects(raw):
    customer = raw.post("/v1/customers", "email=a@example.com").body
    found = raw.get("/v1/customers/search?query=email:'a@example.com'").body
    assert (found["object"], [c["id"] for c in found["data"]]) == ("search_result", [customer["id"]])


def test_hand_built_routes_say_nothing_and_win(raw):
    reply = raw.post("/v1/customers", "name=x")
    assert "Mockstripe-Fidelity" not in reply.headers
    assert reply.body["id"].startswith("cus_")


async def test_strict_endpoints_answer_only_the_hand_built_ones(aiohttp_client):
    client = await aiohttp_client(create_app(Config(strict_endpoints=True)))
    auth = {"Authorization": "Bearer sk_test_strict"}
    assert (await client.get("/v1/radar/value_lists", headers=auth)).status == 404
    assert (await client.get("/v1/customers", headers=auth)).status == 200


def test_coverage_lists_every_operation_of_the_spec(raw):
    coverage = raw.get("/_mock/coverage", auth=False).body
    assert (coverage["operations"], coverage["missing"]) == (594, 0)
    assert coverage["hand_built"] + coverage["generic"] == 594
    by_route = {(row["method"], row["path"]): row["answered_by"] for row in coverage["data"]}
    assert by_route[("POST", "/v1/customers")] == "hand_built"
    assert by_route[("GET", "/v1/customers/{customer}")] == "hand_built"
    assert by_route[("POST", "/v1/coupons")] == "hand_built"
    assert by_route[("POST", "/v1/radar/value_lists")] == "generic"


async def test_coverage_in_strict_mode_shows_the_rest_missing(aiohttp_client):
    client = await aiohttp_client(create_app(Config(strict_endpoints=True)))
    coverage = await (await client.get("/_mock/coverage")).json()
    assert coverage["generic"] == 0
    assert coverage["missing"] == 594 - coverage["hand_built"]


def test_objects_of_hand_built_types_change_only_through_their_own_endpoints(stripe_client, raw):
    customer = stripe_client.v1.customers.create({"name": "x", "payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    price = stripe_client.v1.prices.create({"product_data": {"name": "p"}, "currency": "usd", "unit_amount": 100, "recurring": {"interval": "month"}})
    subscription = stripe_client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    # `migrate` is generic: it answers the subscription as it is.
    migrated = raw.post(f"/v1/subscriptions/{subscription.id}/migrate", {"billing_mode[type]": "flexible"})
    assert (migrated.status, migrated.headers["Mockstripe-Fidelity"]) == (200, GENERIC)
    assert migrated.body == raw.get(f"/v1/subscriptions/{subscription.id}").body
    # Another way of making a subscription would skip what the hand-built one does: refused.
    other = raw.post(f"/v1/customers/{customer.id}/subscriptions", {"items[0][price]": price.id})
    assert (other.status, other.error["type"]) == (400, "invalid_request_error")
    assert other.error["message"].startswith("POST /v1/customers/{customer}/subscriptions is not supported by mockstripe")
    assert [s.id for s in stripe_client.v1.subscriptions.list().data] == [subscription.id]


def test_generic_objects_expand_what_the_spec_marks_expandable(raw):
    customer = raw.post("/v1/customers", "name=Ada").body
    intent = raw.post("/v1/payment_intents", {"amount": "100", "currency": "usd", "customer": customer["id"]}).body
    assert intent["customer"] == customer["id"]
    expanded = raw.get(f"/v1/payment_intents/{intent['id']}?expand[]=customer&expand[]=payment_method").body
    assert (expanded["customer"]["name"], expanded["payment_method"]) == ("Ada", None)
    refused = raw.get(f"/v1/payment_intents/{intent['id']}?expand[]=amount")
    assert (refused.status, refused.error["message"]) == (400, "This property cannot be expanded (amount).")


def test_search_matches_the_equality_clauses_of_the_query(raw):
    ada = raw.post("/v1/customers", {"email": "ada@example.com", "metadata[plan]": "pro"}).body
    bob = raw.post("/v1/customers", {"email": "bob@example.com", "metadata[plan]": "free"}).body

    def found(query: str) -> list[str]:
        return [c["id"] for c in raw.get("/v1/customers/search?" + urlencode({"query": query})).body["data"]]

    assert found("email:'ada@example.com'") == [ada["id"]]
    assert found("metadata['plan']:'free'") == [bob["id"]]
    assert found("email:'ada@example.com' OR metadata['plan']:'free'") == [bob["id"], ada["id"]]
    assert found("email:'ada@example.com' AND metadata['plan']:'free'") == []


def test_a_quotes_pdf_is_a_pdf(raw):
    customer = raw.post("/v1/customers", "name=x").body
    quote = raw.post("/v1/quotes", {"customer": customer["id"]}).body
    pdf = raw.get(f"/v1/quotes/{quote['id']}/pdf")
    assert (pdf.status, pdf.headers["Content-Type"]) == (200, "application/pdf")
    assert pdf.body.startswith("%PDF-")
    assert raw.get("/v1/quotes/qt_nope/pdf").status == 404


def test_a_loosely_typed_parameter_refuses_nesting_no_answer_could_hold():
    """A part of the spec too loose to check is taken as sent, but not nested 300 deep: the
    answer echoing it could not be encoded."""
    deep: object = "v"
    for _ in range(300):
        deep = {"k": deep}
    with pytest.raises(StripeError) as caught:
        Anything().coerce(deep, "payload", None)
    assert (caught.value.param, caught.value.message) == ("payload", "Invalid hash: nested too deeply")
    assert Anything().coerce({"a": {"b": ["c"]}}, "payload", None) == {"a": {"b": ["c"]}}
