"""`/_mock/health` and `/_mock/reset`."""

from __future__ import annotations

import secrets

import pytest
import stripe

from mockstripe import __version__, serve_in_thread


def other_key() -> str:
    return "sk_test_" + secrets.token_hex(12)


def test_health_needs_no_key(raw):
    reply = raw.get("/_mock/health", auth=False)

    assert reply.status == 200
    assert reply.body == {
        "status": "ok",
        "version": __version__,
        "accounts": reply.body["accounts"],
        "objects": reply.body["objects"],
        "rss_bytes": reply.body["rss_bytes"],
    }
    assert reply.body["accounts"] >= 0 and reply.body["objects"] >= 0 and reply.body["rss_bytes"] > 0


def test_reset_one_key_forgets_its_objects_only(raw, raw_http, mockstripe_url):
    customer = raw.post("/v1/customers", {"name": "Jenny"}).body
    other = raw_http(mockstripe_url, other_key())
    kept = other.post("/v1/customers", {"name": "Kept"}).body

    reply = raw.post("/_mock/reset", {"api_key": raw.api_key}, auth=False)

    assert (reply.status, reply.body) == (200, {"reset_accounts": 1})
    gone = raw.get(f"/v1/customers/{customer['id']}")
    assert gone.status == 404
    assert gone.error["code"] == "resource_missing"
    assert gone.error["message"] == f"No such customer: '{customer['id']}'"
    assert raw.get("/v1/customers").body["data"] == []
    assert other.get(f"/v1/customers/{kept['id']}").body == kept


def test_reset_of_an_unknown_key_changes_nothing(raw):
    customer = raw.post("/v1/customers", {"name": "Jenny"}).body

    reply = raw.post("/_mock/reset", {"api_key": other_key()}, auth=False)

    assert reply.body == {"reset_accounts": 0}
    assert raw.get(f"/v1/customers/{customer['id']}").body == customer


def test_reset_refuses_an_empty_key(raw):
    customer = raw.post("/v1/customers", {"name": "Jenny"}).body

    reply = raw.post("/_mock/reset", "api_key=", auth=False)

    assert reply.status == 400
    assert (reply.error["code"], reply.error["param"]) == ("parameter_invalid_empty", "api_key")
    assert raw.get(f"/v1/customers/{customer['id']}").status == 200


def test_reset_without_a_key_forgets_every_account(raw_http):
    # A server of its own: resetting everything would disturb other tests sharing the session's.
    with serve_in_thread() as url:
        clients = [stripe.StripeClient(other_key(), base_addresses={"api": url}) for _ in range(2)]
        customers = [client.v1.customers.create({"name": "Jenny"}) for client in clients]

        reset = raw_http(url, "").post("/_mock/reset", auth=False)

        assert (reset.status, reset.body) == (200, {"reset_accounts": 2})
        for client, customer in zip(clients, customers, strict=True):
            with pytest.raises(stripe.InvalidRequestError) as missing:
                client.v1.customers.retrieve(customer.id)
            assert missing.value.http_status == 404


def test_billing_settings_are_per_account(raw, raw_http, mockstripe_url):
    default = {"retry_days": [3, 5, 7], "after_retries": "cancel"}
    assert raw.get("/_mock/billing_settings").body == default

    reply = raw.post("/_mock/billing_settings", "retry_days[]=1&retry_days[]=2&after_retries=unpaid")

    assert (reply.status, reply.body) == (200, {"retry_days": [1, 2], "after_retries": "unpaid"})
    assert raw.get("/_mock/billing_settings").body == {"retry_days": [1, 2], "after_retries": "unpaid"}
    assert raw_http(mockstripe_url, other_key()).get("/_mock/billing_settings").body == default
    assert raw.post("/_mock/billing_settings", {"retry_days": ""}).body["retry_days"] == []


def test_billing_settings_refuse_bad_input(raw):
    reply = raw.post("/_mock/billing_settings", {"after_retries": "forget"})

    assert (reply.status, reply.error["param"]) == (400, "after_retries")
    assert raw.get("/_mock/billing_settings").body["after_retries"] == "cancel"
