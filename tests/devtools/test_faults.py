"""`/_mock/faults`: an account's matching requests fail on purpose, before or after they run."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe

from mockstripe.app import STATE, create_app
from mockstripe.config import Config
from mockstripe.devtools.faults import LOCK_TIMEOUT_MESSAGE, RATE_LIMIT_MESSAGE
from mockstripe.devtools.throttle import REQUESTS_PER_SECOND, Throttle


@pytest.fixture
def fault(raw):
    """`fault(kind="api_error", path="/v1/customers", ...)`: add a fault to the test's account."""

    def add(**params: Any) -> dict[str, Any]:
        reply = raw.post("/_mock/faults", {k: str(v) for k, v in params.items()})
        assert reply.status == 200, reply.body
        return reply.body

    return add


@pytest.fixture
def retrying_client(mockstripe_url, stripe_api_key) -> stripe.StripeClient:
    """The SDK with its own retries on, as production code would configure it."""
    return stripe.StripeClient(
        stripe_api_key,
        base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url},
        max_network_retries=2,
    )


def customers(client: stripe.StripeClient) -> list[str]:
    return [c.id for c in client.v1.customers.list()]


def created_events(client: stripe.StripeClient) -> list[str]:
    return [e.data.object["id"] for e in client.v1.events.list({"type": "customer.created"})]


def logged(raw) -> list[dict[str, Any]]:
    return raw.get("/_mock/requests").body["data"]


# Each kind of fault, as the SDK sees it.


def test_api_error_before_answers_500_and_changes_nothing(stripe_client, fault):
    added = fault(kind="api_error", method="POST", path="/v1/customers")

    with pytest.raises(stripe.APIError) as raised:
        stripe_client.v1.customers.create({"name": "Ada"})

    assert raised.value.http_status == 500
    assert raised.value.error.type == "api_error"
    assert raised.value.error.message == "An unknown error occurred while processing this request."
    assert customers(stripe_client) == []
    assert added["when"] == "before" and added["remaining"] == 1


def test_api_error_after_answers_500_once_the_change_is_made(stripe_client, fault):
    fault(kind="api_error", when="after", path="/v1/customers")

    with pytest.raises(stripe.APIError):
        stripe_client.v1.customers.create({"name": "Ada"})

    assert len(customers(stripe_client)) == 1


def test_the_sdks_retry_with_its_idempotency_key_recovers_from_a_lost_answer(retrying_client, fault, raw):
    fault(kind="api_error", when="after", method="POST", path="/v1/customers")

    customer = retrying_client.v1.customers.create({"name": "Ada"})

    assert customers(retrying_client) == [customer.id]
    assert created_events(retrying_client) == [customer.id]
    retry, first = [e for e in logged(raw) if e["method"] == "POST"]
    assert (first["status"], retry["status"]) == (500, 200)
    assert first["idempotency_key"] == retry["idempotency_key"] is not None
    assert first["fault"] is not None and retry["fault"] is None
    assert retry["answer"]["id"] == customer.id
    assert customer.last_response.headers["Idempotent-Replayed"] == "true"


def test_the_sdks_retry_recovers_from_a_dropped_connection_after_the_change(retrying_client, fault, raw):
    fault(kind="drop", when="after", path="/v1/customers")

    customer = retrying_client.v1.customers.create({"name": "Ada"})

    assert customers(retrying_client) == [customer.id]
    assert created_events(retrying_client) == [customer.id]
    retry, first = [e for e in logged(raw) if e["method"] == "POST"]
    assert first["status"] == 0 and first["answer"] is None
    assert first["idempotency_key"] == retry["idempotency_key"]


def test_a_dropped_connection_is_a_connection_error_to_the_sdk(stripe_client, fault):
    fault(kind="drop", path="/v1/customers")

    with pytest.raises(stripe.APIConnectionError):
        stripe_client.v1.customers.create({"name": "Ada"})

    assert customers(stripe_client) == []


def test_rate_limit_answers_stripes_429(stripe_client, fault, raw):
    fault(kind="rate_limit", path="/v1/customers")

    with pytest.raises(stripe.RateLimitError) as raised:
        stripe_client.v1.customers.create({"name": "Ada"})

    assert raised.value.http_status == 429
    assert raised.value.error.code == "rate_limit"
    assert raised.value.error.type == "invalid_request_error"
    assert raised.value.error.message == RATE_LIMIT_MESSAGE
    assert raised.value.headers["Stripe-Should-Retry"] == "true"


def test_the_sdk_retries_a_rate_limit_it_is_told_to_retry(retrying_client, fault):
    fault(kind="rate_limit", path="/v1/customers")

    customer = retrying_client.v1.customers.create({"name": "Ada"})

    assert customers(retrying_client) == [customer.id]


def test_lock_timeout_answers_409(stripe_client, fault):
    fault(kind="lock_timeout", method="POST", path="/v1/customers/*")
    customer = stripe_client.v1.customers.create({"name": "Ada"})

    with pytest.raises(stripe.APIError) as raised:
        stripe_client.v1.customers.update(customer.id, {"name": "Grace"})

    assert raised.value.http_status == 409
    assert raised.value.error.code == "lock_timeout"
    assert raised.value.error.message == LOCK_TIMEOUT_MESSAGE
    assert raised.value.headers["Stripe-Should-Retry"] == "true"
    assert stripe_client.v1.customers.retrieve(customer.id).name == "Ada"


def test_card_declined_answers_402(stripe_client, fault):
    fault(kind="card_declined", path="/v1/subscriptions")

    with pytest.raises(stripe.CardError) as raised:
        stripe_client.v1.subscriptions.create({"customer": "cus_x", "items": [{"price": "price_x"}]})

    assert raised.value.http_status == 402
    assert raised.value.code == "card_declined"
    assert raised.value.error.decline_code == "generic_decline"
    assert raised.value.error.type == "card_error"
    assert raised.value.user_message == "Your card was declined."


def test_delay_holds_the_answer(stripe_client, fault):
    fault(kind="delay", delay_ms=300, path="/v1/customers")

    started = time.monotonic()
    customer = stripe_client.v1.customers.create({"name": "Ada"})

    assert time.monotonic() - started >= 0.3
    assert customer.name == "Ada"


# Which requests a fault strikes, and how often.


def test_a_fault_strikes_only_matching_requests(stripe_client, fault):
    fault(kind="api_error", method="POST", path="/v1/customers", param="metadata[tier]", value="gold")

    stripe_client.v1.customers.create({"name": "Ada", "metadata": {"tier": "silver"}})
    stripe_client.v1.customers.list()
    with pytest.raises(stripe.APIError):
        stripe_client.v1.customers.create({"name": "Bo", "metadata": {"tier": "gold"}})

    assert len(customers(stripe_client)) == 1


def test_a_fault_strikes_count_times(stripe_client, fault, raw):
    fault(kind="api_error", path="/v1/products", count=2)

    for _ in range(2):
        with pytest.raises(stripe.APIError):
            stripe_client.v1.products.list()
    stripe_client.v1.products.list()

    assert raw.get("/_mock/faults").body["data"] == []


def test_faults_are_listed_and_cleared(raw, fault):
    first = fault(kind="api_error", path="/v1/customers*", count=3)
    second = fault(kind="delay", delay_ms=10)

    listed = raw.get("/_mock/faults").body
    assert [f["id"] for f in listed["data"]] == [first["id"], second["id"]]
    assert first["id"].startswith("fault_")
    assert first["object"] == "mock.fault"
    assert (first["kind"], first["path"], first["method"], first["remaining"]) == ("api_error", "/v1/customers*", None, 3)
    assert second["path"] == "*"

    assert raw.delete("/_mock/faults").body == {"object": "mock.faults", "cleared": 2}
    assert raw.get("/_mock/faults").body["data"] == []


def test_the_servers_own_endpoints_are_never_struck(raw, fault):
    fault(kind="api_error", count=5)

    assert raw.get("/_mock/faults").status == 200
    assert raw.delete("/_mock/faults").status == 200


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"kind": "delay"}, "delay_ms", "A delay fault needs delay_ms."),
        ({"kind": "api_error", "delay_ms": "5"}, "delay_ms", "Only a delay fault takes delay_ms."),
        ({"kind": "api_error", "value": "x"}, "value", "value matches a parameter: name it with param."),
        ({"kind": "boom"}, "kind", None),
        ({"kind": "api_error", "count": "0"}, "count", None),
    ],
)
def test_a_bad_fault_is_refused(raw, params, param, message):
    reply = raw.post("/_mock/faults", params)

    assert reply.status == 400
    assert reply.error["param"] == param
    if message:
        assert reply.error["message"] == message
    assert raw.get("/_mock/faults").body["data"] == []


async def test_a_fault_expires_on_the_account_clock(aiohttp_client):
    client = await aiohttp_client(create_app(Config(freeze_time=1_767_225_600)))
    auth = {"Authorization": "Bearer sk_test_expiring_fault"}
    added = await (await client.post("/_mock/faults", data="kind=api_error&count=5&expires_in=60", headers=auth)).json()
    assert added["expires_at"] == 1_767_225_660

    assert (await client.get("/v1/customers", headers=auth)).status == 500
    await client.post("/_mock/clock/advance", data="seconds=60", headers=auth)

    assert (await client.get("/v1/customers", headers=auth)).status == 200
    assert (await (await client.get("/_mock/faults", headers=auth)).json())["data"] == []


async def test_v2_faults_answer_in_the_v2_envelope(aiohttp_client):
    client = await aiohttp_client(create_app())
    auth = {"Authorization": "Bearer sk_test_v2_fault"}
    await client.post("/_mock/faults", data="kind=rate_limit&path=/v2/*", headers=auth)

    reply = await client.post("/v2/billing/meter_event_session", json={}, headers=auth)

    assert reply.status == 429
    assert await reply.json() == {"error": {"type": "rate_limit", "code": "rate_limit", "message": RATE_LIMIT_MESSAGE}}


# --rate-limit


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limit_admits_stripes_test_mode_rate_per_second(aiohttp_client):
    app = create_app(Config(rate_limit=True))
    clock = app[STATE].throttle.clock = FakeTime()
    client = await aiohttp_client(app)
    auth = {"Authorization": "Bearer sk_test_rate_limited"}
    other = {"Authorization": "Bearer sk_test_rate_limited_other"}

    statuses = [(await client.get("/v1/customers", headers=auth)).status for _ in range(REQUESTS_PER_SECOND["api"] + 1)]

    assert statuses == [200] * REQUESTS_PER_SECOND["api"] + [429]
    refused = await client.get("/v1/customers", headers=auth)
    assert refused.headers["Stripe-Should-Retry"] == "true"
    assert (await refused.json())["error"]["code"] == "rate_limit"
    assert (await client.get("/v1/customers", headers=other)).status == 200  # per account
    clock.now += 1
    assert (await client.get("/v1/customers", headers=auth)).status == 200
    assert (await client.get("/_mock/requests", headers=auth)).status == 200  # never limited


async def test_a_request_refused_by_the_rate_limit_is_logged_with_its_body(aiohttp_client):
    app = create_app(Config(rate_limit=True))
    app[STATE].throttle.clock = FakeTime()
    client = await aiohttp_client(app)
    auth = {"Authorization": "Bearer sk_test_refused_body"}
    for _ in range(REQUESTS_PER_SECOND["api"]):
        await client.get("/v1/customers", headers=auth)

    refused = await client.post("/v1/customers", data="name=Refused", headers=auth)

    assert refused.status == 429
    logged = (await (await client.get("/_mock/requests", headers=auth)).json())["data"][0]
    assert (logged["method"], logged["status"], logged["body"]) == ("POST", 429, "name=Refused")
    assert logged["params"] == {"name": "Refused"}
    assert logged["error"]["code"] == "rate_limit"


def test_the_stream_has_its_own_higher_limit():
    assert REQUESTS_PER_SECOND["meter_event_stream"] > REQUESTS_PER_SECOND["api"]
    assert isinstance(create_app(Config(rate_limit=True))[STATE].throttle, Throttle)
    assert create_app(Config())[STATE].throttle is None
