"""API keys: Bearer and Basic auth, Stripe's 401s, and one isolated account per key and connected account."""

from __future__ import annotations

import base64
import secrets

import pytest
import stripe

from mockstripe import auth
from mockstripe.wire.errors import StripeError


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:".encode()).decode()


def unauthorized(raw, headers: dict[str, str | bytes]) -> dict:
    reply = raw.get("/v1/customers", headers=headers)
    assert reply.status == 401, reply.body
    assert reply.error["type"] == "invalid_request_error"
    assert reply.headers["Request-Id"].startswith("req_")
    return reply.error


# Accepted keys.


def test_bearer_auth(raw, stripe_api_key):
    assert raw.get("/v1/customers", headers={"Authorization": f"Bearer {stripe_api_key}"}).status == 200


def test_basic_auth_reaches_the_same_account_as_bearer(raw, stripe_api_key):
    created = raw.post("/v1/customers", "name=Basic", headers={"Authorization": basic(stripe_api_key)}).body
    assert raw.get(f"/v1/customers/{created['id']}").body["name"] == "Basic"


def test_restricted_test_keys_work(raw):
    assert raw.get("/v1/customers", headers={"Authorization": "Bearer rk_test_restricted1"}).status == 200


def test_sdk_authenticates(stripe_client):
    assert stripe_client.v1.customers.list().data == []


# Refused keys.


def test_missing_key(raw):
    reply = raw.get("/v1/customers", auth=False)
    assert reply.status == 401
    assert reply.error["message"] == auth.NO_KEY
    assert reply.error["message"].startswith("You did not provide an API key.")


def test_basic_auth_with_an_empty_user_is_a_missing_key(raw):
    assert unauthorized(raw, {"Authorization": basic("")})["message"] == auth.NO_KEY


def test_publishable_key(raw):
    error = unauthorized(raw, {"Authorization": "Bearer pk_test_abc123"})
    assert error["message"].startswith("This API call cannot be made with a publishable API key.")


def test_live_key_is_refused_by_a_test_server(raw):
    error = unauthorized(raw, {"Authorization": "Bearer sk_live_abcdef123456"})
    assert error["message"].startswith("Invalid API Key provided: sk_live_********3456.")
    assert "test server" in error["message"]


@pytest.mark.parametrize("key", ["sk_test_", "sk_abc", "secret", "sk_test_with-dash", "rk_live_x1234"])
def test_keys_that_do_not_look_like_test_keys(raw, key):
    assert unauthorized(raw, {"Authorization": f"Bearer {key}"})["message"].startswith("Invalid API Key provided: ")


@pytest.mark.parametrize(
    "header",
    ["Token sk_test_abc", "Bearer", "Bearer   ", "Basic", "Basic !!!notbase64", "Basic " + base64.b64encode(b"\xff\xfe:").decode(), "sk_test_abc"],
)
def test_malformed_authorization_headers_are_401s(raw, header):
    unauthorized(raw, {"Authorization": header})


def test_non_ascii_basic_credentials_are_a_401(raw):
    unauthorized(raw, {"Authorization": b"Basic " + "clé".encode("latin-1")})


def test_sdk_maps_a_bad_key_to_authentication_error(mockstripe_url):
    client = stripe.StripeClient("sk_live_abcdef", base_addresses={"api": mockstripe_url})
    with pytest.raises(stripe.AuthenticationError) as caught:
        client.v1.customers.list()
    assert caught.value.http_status == 401


def test_health_needs_no_key(raw):
    reply = raw.get("/_mock/health", auth=False)
    assert reply.status == 200
    assert reply.body["status"] == "ok"


# Unit: masking and header parsing.


def test_mask_keeps_the_prefix_and_last_four():
    assert auth.mask("sk_test_abcdef1234") == "sk_test_******1234"
    assert auth.mask("rk_live_1234") == "rk_live_1234"
    assert auth.mask("whatever99") == "******er99"


def test_bearer_token_parsing():
    assert auth.bearer_token("Bearer sk_test_x") == "sk_test_x"
    assert auth.bearer_token("bearer  sk_test_x ") == "sk_test_x"
    assert auth.bearer_token(basic("sk_test_y")) == "sk_test_y"
    for header in (None, "", "Token x"):
        with pytest.raises(StripeError) as caught:
            auth.bearer_token(header)
        assert caught.value.status == 401


# Isolation: every key, and every connected account under a key, is its own world.


def test_objects_are_invisible_to_other_keys(raw, raw_http, mockstripe_url):
    other_raw = raw_http(mockstripe_url, "sk_test_" + secrets.token_hex(12))
    created = raw.post("/v1/customers", "name=Mine").body
    reply = other_raw.get(f"/v1/customers/{created['id']}")
    assert reply.status == 404
    assert reply.error["message"] == f"No such customer: '{created['id']}'"
    assert other_raw.get("/v1/customers").body["data"] == []
    assert other_raw.post(f"/v1/customers/{created['id']}", "name=Theirs").status == 404
    assert raw.get(f"/v1/customers/{created['id']}").body["name"] == "Mine"


def test_stripe_account_is_its_own_namespace(raw):
    connected = {"Stripe-Account": "acct_123"}
    on_connected = raw.post("/v1/customers", "name=Connected", headers=connected).body
    on_platform = raw.post("/v1/customers", "name=Platform").body
    assert raw.get(f"/v1/customers/{on_connected['id']}").status == 404
    assert raw.get(f"/v1/customers/{on_platform['id']}", headers=connected).status == 404
    assert raw.get(f"/v1/customers/{on_connected['id']}", headers=connected).body["name"] == "Connected"
    assert [c["id"] for c in raw.get("/v1/customers", headers=connected).body["data"]] == [on_connected["id"]]
    assert [c["id"] for c in raw.get("/v1/customers").body["data"]] == [on_platform["id"]]


def test_sdk_stripe_account_option(stripe_client):
    connected = stripe_client.v1.customers.create({"name": "C"}, {"stripe_account": "acct_sdk"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.customers.retrieve(connected.id)
    assert caught.value.http_status == 404
    assert stripe_client.v1.customers.retrieve(connected.id, options={"stripe_account": "acct_sdk"}).name == "C"


def test_stripe_account_must_be_an_account_id(raw):
    reply = raw.get("/v1/customers", headers={"Stripe-Account": "cus_123"})
    assert reply.status == 403
    assert reply.error["code"] == "account_invalid"
