"""The request pipeline: Stripe-shaped errors for everything, Request-Id and Stripe-Version headers."""

from __future__ import annotations

import re

import pytest
import stripe

from mockstripe.app import STATE, create_app, default_areas
from mockstripe.config import DEFAULT_API_VERSION
from mockstripe.routing import Area, Endpoint
from mockstripe.wire.errors import StripeError

ERROR_FIELDS = {"type", "code", "message", "param", "doc_url", "request_log_url"}
REQUEST_ID = re.compile(r"^req_[A-Za-z0-9]{14}$")


def assert_stripe_error(reply, status: int) -> dict:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    assert set(reply.body) == {"error"}
    error = reply.error
    assert set(error) == ERROR_FIELDS
    rid = reply.headers["Request-Id"]
    assert REQUEST_ID.match(rid)
    assert re.match(rf"^https://dashboard\.stripe\.com/test/logs/{rid}\?t=\d+$", error["request_log_url"])
    if error["code"]:
        assert error["doc_url"] == "https://stripe.com/docs/error-codes/" + error["code"].replace("_", "-")
    else:
        assert error["doc_url"] is None
    return error


# Every failure is JSON with the same fields.


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("POST", "/v1/customers", "bogus=1", 400),
        ("GET", "/v1/customers/cus_nope", None, 404),
        ("GET", "/v1/customers?limit=0", None, 400),
        ("POST", "/v1/nope", "", 404),
        ("PUT", "/v1/customers", "", 404),
    ],
)
def test_errors_have_stripes_shape(raw, method, path, body, status):
    assert_stripe_error(raw.request(method, path, body), status)


def test_resource_missing_has_a_doc_url(raw):
    error = assert_stripe_error(raw.get("/v1/customers/cus_nope"), 404)
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/resource-missing"


def test_unknown_url(raw):
    error = assert_stripe_error(raw.post("/v1/nope", "a=1"), 404)
    assert error["message"] == (
        "Unrecognized request URL (POST: /v1/nope). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/."
    )
    assert error["type"] == "invalid_request_error"


def test_an_unknown_url_with_a_newline_is_still_stripe_shaped(raw):
    error = assert_stripe_error(raw.get("/v1/products/a%0Ab/"), 404)
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/products/a")


@pytest.mark.parametrize("method, path", [("PUT", "/v1/customers"), ("PATCH", "/v1/customers/cus_1"), ("DELETE", "/v1/customers")])
def test_wrong_method_is_an_unrecognized_url(raw, method, path):
    error = assert_stripe_error(raw.request(method, path), 404)
    assert error["message"].startswith(f"Unrecognized request URL ({method}: {path}).")


def _explode(call):
    raise ZeroDivisionError("a bug")


@pytest.fixture
async def crashing_client(aiohttp_client):
    area = Area(
        name="crash",
        types=(),
        endpoints=(Endpoint("GET", "/v1/explode", _explode), Endpoint("POST", "/v1/explode", _explode)),
    )
    return await aiohttp_client(create_app(areas=(area,)))


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_unexpected_exception_is_a_500_api_error(crashing_client, method, caplog):
    response = await crashing_client.request(method, "/v1/explode", headers={"Authorization": "Bearer sk_test_x"})
    assert response.status == 500
    body = await response.json()
    assert set(body["error"]) == ERROR_FIELDS
    assert body["error"]["type"] == "api_error"
    assert body["error"]["message"] == "An unknown error occurred while processing this request."
    assert "Traceback" not in await response.text()
    assert REQUEST_ID.match(response.headers["Request-Id"])
    assert "unexpected error on" in caplog.text  # the traceback goes to the log instead


async def test_create_app_serves_only_the_given_areas(crashing_client):
    response = await crashing_client.get("/v1/customers", headers={"Authorization": "Bearer sk_test_x"})
    assert response.status == 404


def test_default_areas_include_customers_and_admin():
    names = [area.name for area in default_areas()]
    assert "customers" in names and "admin" in names


def test_app_state_collects_object_types():
    state = create_app()[STATE]
    assert state.types["customer"].noun == "customer"


# Headers.


def test_request_id_on_every_response(raw):
    replies = [
        raw.get("/v1/customers"),
        raw.post("/v1/customers", "name=x"),
        raw.post("/v1/customers", "bogus=1"),
        raw.get("/v1/customers", auth=False),
        raw.get("/v1/nope"),
        raw.get("/_mock/health", auth=False),
    ]
    ids = [reply.headers["Request-Id"] for reply in replies]
    assert all(REQUEST_ID.match(rid) for rid in ids)
    assert len(set(ids)) == len(ids)


def test_sdk_sees_the_request_id(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.retrieve("cus_nope")
    assert REQUEST_ID.match(caught.value.request_id)


def test_default_stripe_version_is_echoed(raw):
    assert raw.get("/v1/customers").headers["Stripe-Version"] == DEFAULT_API_VERSION


@pytest.mark.parametrize("version", ["2024-06-20", "2025-03-31.basil", "2026-10-28.endive"])
def test_well_formed_stripe_versions_are_accepted_and_echoed(raw, version):
    reply = raw.post("/v1/customers", "name=x", headers={"Stripe-Version": version})
    assert reply.status == 200
    assert reply.headers["Stripe-Version"] == version


@pytest.mark.parametrize("version", ["x", "2024-06", "2024-06-20.", "2024-06-20.Basil", "basil", "2024-06-20 basil"])
def test_malformed_stripe_version(raw, version):
    error = assert_stripe_error(raw.get("/v1/customers", headers={"Stripe-Version": version}), 400)
    assert error["message"] == f"Invalid Stripe API version: {version}"
    assert error["type"] == "invalid_request_error"


def test_non_utf8_header_text_is_a_json_error_not_a_crash(raw):
    error = assert_stripe_error(raw.get("/v1/customers", headers={"Stripe-Version": b"2024-01-01\xe9"}), 400)
    assert error["message"].startswith("Invalid Stripe API version: 2024-01-01")


def test_sdk_sends_its_pinned_version(stripe_client):
    customer = stripe_client.v1.customers.create()
    assert customer.last_response.headers["Stripe-Version"] == stripe.api_version


# Unit: the error body.


def test_error_body_fields():
    error = StripeError("No such thing", status=404, code="resource_missing", param="id")
    body = error.body("req_abc", 1700000000)["error"]
    assert body == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "message": "No such thing",
        "param": "id",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_abc?t=1700000000",
    }


def test_error_body_is_always_valid_utf8():
    body = StripeError("bad \udce9 byte", param="p\udcff").body("req_x", 0)["error"]
    assert (body["message"], body["param"]) == ("bad ? byte", "p?")
