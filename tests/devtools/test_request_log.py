"""`GET /_mock/requests`: each account's recent API requests, newest first."""

from __future__ import annotations

import stripe

from mockstripe.app import create_app
from mockstripe.config import Config


def logged(raw, query: str = "") -> list[dict]:
    reply = raw.get(f"/_mock/requests{query}")
    assert reply.status == 200, reply.body
    return reply.body["data"]


def test_the_log_holds_each_call_the_sdk_made_newest_first(stripe_client, raw):
    customer = stripe_client.v1.customers.create(
        {"name": "Jenny Rosen", "metadata": {"plan": "pro"}}, {"idempotency_key": "create-jenny"}
    )
    stripe_client.v1.customers.retrieve(customer.id)
    stripe_client.v1.customers.list({"limit": 3})

    entries = logged(raw)

    assert [(e["method"], e["path"]) for e in entries] == [
        ("GET", "/v1/customers"),
        ("GET", f"/v1/customers/{customer.id}"),
        ("POST", "/v1/customers"),
    ]
    listing, retrieval, creation = entries
    assert creation["params"] == {"name": "Jenny Rosen", "metadata": {"plan": "pro"}}
    assert creation["body"] == "name=Jenny+Rosen&metadata[plan]=pro"
    assert creation["status"] == 200
    assert creation["object_id"] == customer.id
    assert creation["error"] is None
    assert creation["idempotency_key"] == "create-jenny"
    assert creation["answer"]["id"] == customer.id
    assert creation["object"] == "mock.request"
    assert creation["id"].startswith("req_") and creation["id"] == customer.last_response.request_id
    assert creation["duration_ms"] > 0
    assert creation["fault"] is None
    assert listing["query"] == "limit=3"
    assert listing["params"] == {"limit": "3"}
    assert listing["object_id"] is None  # a list has no id
    assert retrieval["idempotency_key"] is None


def test_an_error_is_logged_with_its_type_code_and_message(stripe_client, raw):
    try:
        stripe_client.v1.customers.retrieve("cus_missing")
    except stripe.InvalidRequestError:
        pass

    [entry] = logged(raw)

    assert entry["status"] == 404
    assert entry["object_id"] is None
    assert entry["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "message": "No such customer: 'cus_missing'",
        "param": "id",
    }


def test_validation_errors_are_logged_too(raw):
    raw.post("/v1/customers", "unknown=1")

    [entry] = logged(raw)

    assert entry["status"] == 400
    assert entry["error"]["code"] == "parameter_unknown"
    assert entry["params"] == {"unknown": "1"}


def test_v2_json_bodies_are_decoded(stripe_client, raw, mockstripe_url):
    session = stripe_client.v2.billing.meter_event_session.create()
    stream = stripe.StripeClient(
        session.authentication_token, base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url}
    )
    events = [{"event_name": "tokens", "payload": {"stripe_customer_id": "cus_x", "value": "25"}}]
    stream.v2.billing.meter_event_stream.create({"events": events})

    stream_entry, session_entry = logged(raw)[:2]

    assert stream_entry["path"] == "/v2/billing/meter_event_stream"
    assert stream_entry["params"] == {"events": events}
    assert session_entry["path"] == "/v2/billing/meter_event_session"


def test_the_log_is_per_account(raw, raw_http, mockstripe_url):
    raw.post("/v1/customers", "name=Ada")
    other = raw_http(mockstripe_url, "sk_test_request_log_other_account")
    other.post("/_mock/reset", {"api_key": other.api_key}, auth=False)

    assert logged(other) == []
    assert len(logged(raw)) == 1


def test_the_servers_own_endpoints_are_not_logged(raw):
    raw.get("/_mock/faults")
    raw.get("/_mock/requests")
    raw.get("/_mock/health")

    assert logged(raw) == []


def test_filters_by_method_path_and_status(raw):
    raw.post("/v1/customers", "name=Ada")
    raw.get("/v1/customers")
    raw.get("/v1/products/prod_missing")

    assert [e["path"] for e in logged(raw, "?method=POST")] == ["/v1/customers"]
    assert [e["path"] for e in logged(raw, "?path=products")] == ["/v1/products/prod_missing"]
    assert [e["status"] for e in logged(raw, "?status=4xx")] == [404]
    assert [e["method"] for e in logged(raw, "?status=200")] == ["GET", "POST"]
    assert [e["method"] for e in logged(raw, "?limit=1")] == ["GET"]


def test_delete_empties_the_log(raw):
    raw.post("/v1/customers", "name=Ada")

    assert raw.delete("/_mock/requests").body == {"object": "mock.request_log", "cleared": 1}
    assert logged(raw) == []


async def test_the_log_keeps_only_its_configured_size(aiohttp_client):
    client = await aiohttp_client(create_app(Config(request_log_size=2)))
    auth = {"Authorization": "Bearer sk_test_small_log"}
    for name in ("a", "b", "c"):
        await client.post("/v1/customers", data=f"name={name}", headers=auth)

    body = await (await client.get("/_mock/requests", headers=auth)).json()

    assert [e["params"]["name"] for e in body["data"]] == ["c", "b"]


async def test_a_size_of_zero_keeps_no_log(aiohttp_client):
    client = await aiohttp_client(create_app(Config(request_log_size=0)))
    auth = {"Authorization": "Bearer sk_test_no_log"}
    await client.post("/v1/customers", data="name=a", headers=auth)

    body = await (await client.get("/_mock/requests", headers=auth)).json()

    assert body["data"] == []
