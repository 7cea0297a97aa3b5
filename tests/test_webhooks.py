"""Webhook delivery: each event goes, signed, to the endpoints that enable its type; failures are
recorded and retried; a bad receiver never harms the server, the API call or other receivers."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Callable

import orjson
import pytest
import stripe
from aiohttp import web

from conformance.recording import ShapeCheckedAsyncClient, session_checker
from mockstripe.app import STATE, create_app
from mockstripe.config import Config
from mockstripe.delivery import MAX_ANSWER_BYTES, USER_AGENT
from tests.conftest import InProcess, fail_on_shape_violations

RETRIES = (0.1, 0.2, 0.3)
TIMEOUT = 0.5


# --- receivers -------------------------------------------------------------------------------------


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """An aiohttp receiver in the test's loop; the path says how it answers."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.failures_left = 0  # for /flaky: answers 500 this many times, then 200

    async def handle(self, request: web.Request) -> web.StreamResponse:
        behaviour = request.match_info["behaviour"]
        self.hits.append(Hit(behaviour, dict(request.headers), await request.read()))
        if behaviour == "ok":
            return web.Response(text="thanks")
        if behaviour == "fail":
            return web.Response(status=500, text="boom")
        if behaviour == "flaky":
            self.failures_left -= 1
            return web.Response(status=500 if self.failures_left >= 0 else 200)
        if behaviour == "redirect":
            raise web.HTTPFound(location=str(request.url))  # to itself: a loop, if it were followed
        if behaviour == "big":
            return web.Response(body=b"x" * (10 * 1024 * 1024))
        if behaviour == "endless":
            response = web.StreamResponse()
            await response.prepare(request)
            while True:
                await response.write(b"x" * 65536)
        if behaviour == "silent":
            await asyncio.sleep(3600)
        raise AssertionError(behaviour)

    def of(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]


@pytest.fixture
async def receiver(aiohttp_server: Any) -> tuple[Receiver, str]:
    receiving = Receiver()
    app = web.Application()
    app.router.add_post("/{behaviour}", receiving.handle)
    server = await aiohttp_server(app)
    return receiving, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def quick(request: pytest.FixtureRequest, aiohttp_client: Any, stripe_api_key: str) -> Any:
    """An app in the test's loop whose webhooks retry after 0.1, 0.2 and 0.3 s and time out after 0.5 s."""
    app = create_app(Config(webhook_retry_schedule=RETRIES, webhook_timeout=TIMEOUT))
    server = await aiohttp_client(app)
    http = ShapeCheckedAsyncClient(session_checker(request.config))
    url = str(server.make_url("")).rstrip("/")
    setup = InProcess(None, app[STATE].store.account(stripe_api_key), http, url)
    setup.client = setup.client_for(stripe_api_key)
    setup.raw = server  # aiohttp's test client, for the /_mock view
    yield setup
    await http.close_async()
    fail_on_shape_violations(http.violations)


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)


async def endpoint(setup: InProcess, url: str, events: list[str] | None = None) -> stripe.WebhookEndpoint:
    return await setup.client.v1.webhook_endpoints.create_async({"url": url, "enabled_events": events or ["*"]})


async def deliveries(setup: Any, **params: Any) -> dict[str, Any]:
    response = await setup.raw.get(
        "/_mock/webhook_deliveries", params=params, headers={"Authorization": f"Bearer {setup.account.key}"}
    )
    assert response.status == 200
    return await response.json()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- what is sent ---------------------------------------------------------------------------------


def test_an_event_arrives_signed_and_verifiable(stripe_client, stripe_webhooks) -> None:
    customer = stripe_client.v1.customers.create({"name": "Jenny Rosen"})
    event = stripe_webhooks.wait_for("customer.created")
    assert event.data.object.id == customer.id
    assert event.data.object.name == "Jenny Rosen"
    assert event.id == stripe_client.v1.events.list({"type": "customer.created"}).data[0].id
    # The SDK refuses the same delivery under another secret.
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(json.dumps(event.to_dict()), "t=1,v1=00", stripe_webhooks.secret)


async def test_headers_body_and_signature_are_stripes(quick, receiver) -> None:
    receiving, base = receiver
    hook = await endpoint(quick, f"{base}/ok", ["customer.created"])
    before = int(time.time())
    customer = await quick.client.v1.customers.create_async({"name": "Jenny Rosen"})
    hit = (await eventually(lambda: receiving.of("ok")))[0]
    assert hit.headers["Content-Type"] == "application/json; charset=utf-8"
    assert hit.headers["User-Agent"] == USER_AGENT
    signature = hit.headers["Stripe-Signature"]
    timestamp = int(signature.split(",")[0].removeprefix("t="))
    assert before <= timestamp <= int(time.time())
    assert signature.split(",")[1].startswith("v1=") and len(signature.split(",")) == 2
    event = stripe.Webhook.construct_event(hit.body.decode(), signature, hook.secret)
    assert (event.type, event.data.object.id) == ("customer.created", customer.id)
    # The body is the event exactly as the API renders it, pending this very delivery.
    stored = await quick.client.v1.events.retrieve_async(event.id)
    served = await (await quick.raw.get(f"/v1/events/{event.id}", headers={"Authorization": f"Bearer {quick.account.key}"})).read()
    assert hit.body == orjson.dumps({**json.loads(served), "pending_webhooks": 1})
    assert stored.pending_webhooks == 0  # answered 2xx


async def test_only_enabled_types_of_enabled_endpoints_of_the_account_are_sent(quick, receiver) -> None:
    receiving, base = receiver
    await endpoint(quick, f"{base}/ok", ["customer.updated"])
    disabled = await endpoint(quick, f"{base}/ok", ["*"])
    await quick.client.v1.webhook_endpoints.update_async(disabled.id, {"disabled": True})
    deleted = await endpoint(quick, f"{base}/ok", ["*"])
    await quick.client.v1.webhook_endpoints.delete_async(deleted.id)
    other = quick.client_for("sk_test_other_account")
    await other.v1.customers.create_async({"name": "Not mine"})

    customer = await quick.client.v1.customers.create_async({"name": "Jenny"})
    await quick.client.v1.customers.update_async(customer.id, {"name": "Jenny Rosen"})
    await eventually(lambda: receiving.hits)
    await asyncio.sleep(0.2)  # time for anything that should not come
    assert [hit.event["type"] for hit in receiving.hits] == ["customer.updated"]
    assert receiving.hits[0].event["data"]["previous_attributes"] == {"name": "Jenny"}


async def test_every_matching_endpoint_gets_its_own_signature(quick, receiver) -> None:
    receiving, base = receiver
    first = await endpoint(quick, f"{base}/ok", ["customer.created"])
    second = await endpoint(quick, f"{base}/ok", ["customer.created", "customer.deleted"])
    await quick.client.v1.customers.create_async({"name": "Jenny"})
    hits = await eventually(lambda: len(receiving.hits) == 2 and receiving.hits)
    verified = set()
    for hit in hits:
        for hook in (first, second):
            try:
                stripe.Webhook.construct_event(hit.body.decode(), hit.headers["Stripe-Signature"], hook.secret)
                verified.add(hook.id)
            except stripe.SignatureVerificationError:
                pass
    assert verified == {first.id, second.id}


async def test_deliveries_to_an_endpoint_keep_event_order(quick, receiver) -> None:
    receiving, base = receiver
    await endpoint(quick, f"{base}/ok", ["customer.created"])
    created = [(await quick.client.v1.customers.create_async({"name": f"n{i}"})).id for i in range(60)]
    await eventually(lambda: len(receiving.hits) == 60)
    assert [hit.event["data"]["object"]["id"] for hit in receiving.hits] == created


async def test_a_test_clock_advance_delivers_what_it_billed_in_order(quick, receiver) -> None:
    receiving, base = receiver
    client = quick.client
    clock = await client.v1.test_helpers.test_clocks.create_async({"frozen_time": 1_705_276_800})  # 2024-01-15
    price = await client.v1.prices.create_async(
        {"currency": "usd", "unit_amount": 1000, "recurring": {"interval": "month"}, "product_data": {"name": "Seat"}}
    )
    customer = await client.v1.customers.create_async({"name": "Clocked", "test_clock": clock.id})
    await client.v1.subscriptions.create_async({"customer": customer.id, "items": [{"price": price.id}]})
    await endpoint(quick, f"{base}/ok")
    before = int(time.time())
    await client.v1.test_helpers.test_clocks.advance_async(clock.id, {"frozen_time": 1_705_276_800 + 45 * 86_400})

    recorded = list(reversed((await client.v1.events.list_async({"limit": 100})).data))
    since = [e for e in recorded if e.type == "test_helpers.test_clock.advancing"]
    expected = [e.id for e in recorded[recorded.index(since[0]):]]
    assert {"invoice.created", "invoice.paid", "customer.subscription.updated"} <= {
        e.type for e in recorded[recorded.index(since[0]):]
    }
    await eventually(lambda: len(receiving.hits) == len(expected))
    assert [hit.event["id"] for hit in receiving.hits] == expected
    for hit in receiving.hits:
        # Signed in wall-clock time, whatever time the clock's events show.
        signed_at = int(hit.headers["Stripe-Signature"].split(",")[0].removeprefix("t="))
        assert before <= signed_at <= int(time.time())
        stripe.Webhook.construct_event(hit.body.decode(), hit.headers["Stripe-Signature"], _secret_of(quick))
    # ... while the events show the clock's simulated time.
    billed = [hit.event for hit in receiving.hits if hit.event["type"].startswith("invoice.")]
    assert billed and all(event["created"] < before - 86_400 for event in billed)


def _secret_of(setup: InProcess) -> str:
    endpoints = setup.account.collection("webhook_endpoint")
    (private,) = endpoints.private.values()
    return private["secret"]


# --- failures, retries and the deliveries view ----------------------------------------------------


async def test_a_failing_endpoint_is_retried_on_the_schedule_and_listed_as_failed(quick, receiver) -> None:
    receiving, base = receiver
    hook = await endpoint(quick, f"{base}/fail", ["customer.created"])
    await quick.client.v1.customers.create_async({"name": "Jenny"})
    hits = await eventually(lambda: len(receiving.of("fail")) == 4 and receiving.of("fail"))
    gaps = [later.at - earlier.at for earlier, later in pairwise(hits)]
    # Never early; late only by what a busy machine adds.
    assert all(delay - 0.02 <= gap < delay + 1.0 for gap, delay in zip(gaps, RETRIES, strict=True)), gaps
    await asyncio.sleep(0.4)
    assert len(receiving.of("fail")) == 4  # 3 retries, then no more
    (event,) = (await quick.client.v1.events.list_async({"delivery_success": False})).data
    assert (event.type, event.pending_webhooks) == ("customer.created", 1)
    assert (await quick.client.v1.events.list_async({"delivery_success": True})).data == []

    view = await deliveries(quick)
    attempts = view["data"]
    assert [a["attempt"] for a in attempts] == [4, 3, 2, 1]
    assert {(a["status"], a["error"], a["event"], a["event_type"], a["webhook_endpoint"], a["url"]) for a in attempts} == {
        (500, None, event.id, "customer.created", hook.id, f"{base}/fail")
    }
    assert attempts[0]["next_retry_at"] is None
    assert all(a["next_retry_at"] is not None and a["next_retry_at"] >= a["attempted_at"] for a in attempts[1:])
    assert all(isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0 for a in attempts)
    assert all(a["id"].startswith("whdel_") and a["object"] == "webhook_delivery" for a in attempts)


async def test_a_retry_that_succeeds_clears_the_failure(quick, receiver) -> None:
    receiving, base = receiver
    receiving.failures_left = 2
    await endpoint(quick, f"{base}/flaky", ["customer.created"])
    await quick.client.v1.customers.create_async({"name": "Jenny"})
    await eventually(lambda: len(receiving.hits) == 3)
    event = (await quick.client.v1.events.list_async()).data[0]
    await eventually(lambda: quick.account.collection("event").get(event.id)["pending_webhooks"] == 0)
    assert (await quick.client.v1.events.list_async({"delivery_success": False})).data == []
    assert [e.id for e in (await quick.client.v1.events.list_async({"delivery_success": True})).data] == [event.id]
    assert [(a["attempt"], a["status"]) for a in (await deliveries(quick))["data"]] == [(3, 200), (2, 500), (1, 500)]


async def test_the_deliveries_view_pages_newest_first(quick, receiver) -> None:
    receiving, base = receiver
    await endpoint(quick, f"{base}/ok", ["customer.created"])
    for i in range(5):
        await quick.client.v1.customers.create_async({"name": f"n{i}"})
    await eventually(lambda: len(receiving.hits) == 5)
    everything = (await deliveries(quick))["data"]
    events = [e.id for e in (await quick.client.v1.events.list_async()).data]
    assert [a["event"] for a in everything] == events  # newest first
    page = await deliveries(quick, limit=2)
    assert ([a["id"] for a in page["data"]], page["has_more"], page["url"]) == (
        [a["id"] for a in everything[:2]], True, "/_mock/webhook_deliveries"
    )
    after = await deliveries(quick, starting_after=everything[1]["id"])
    assert [a["id"] for a in after["data"]] == [a["id"] for a in everything[2:]]
    response = await quick.raw.get(
        "/_mock/webhook_deliveries", params={"starting_after": "whdel_nope"},
        headers={"Authorization": f"Bearer {quick.account.key}"},
    )
    assert response.status == 400 and (await response.json())["error"]["param"] == "starting_after"


@pytest.mark.parametrize(
    "behaviour, status, error",
    [
        ("fail", 500, None),
        ("redirect", 302, None),
        ("silent", None, f"timed out after {TIMEOUT:g} s"),
        ("closed", None, "connection refused"),
    ],
)
async def test_a_bad_receiver_is_a_recorded_failure_that_blocks_no_one(quick, receiver, behaviour, status, error) -> None:
    receiving, base = receiver
    url = f"http://127.0.0.1:{closed_port()}/hook" if behaviour == "closed" else f"{base}/{behaviour}"
    bad = await endpoint(quick, url, ["customer.created"])
    await endpoint(quick, f"{base}/ok", ["customer.created"])
    started = time.monotonic()
    created = [await quick.client.v1.customers.create_async({"name": f"n{i}"}) for i in range(6)]
    # Waiting for a silent receiver would take 6 x TIMEOUT, here and for the good endpoint below.
    blocked = 6 * TIMEOUT
    assert time.monotonic() - started < blocked - 0.5  # the API calls never wait for a receiver
    # The good endpoint gets everything at once, whatever the bad one does.
    await eventually(lambda: len(receiving.of("ok")) == 6, timeout=blocked - 0.5)
    first_try = await _attempts_at(quick, bad.id, 1)
    assert (first_try["status"], first_try["error"]) == (status, error)
    assert first_try["next_retry_at"] is not None
    if behaviour == "redirect":
        await asyncio.sleep(0.3)
        assert all(hit.path == "redirect" for hit in receiving.hits if hit.path != "ok")
        assert len(receiving.of("redirect")) <= 4 * 6  # each attempt is one request: no redirect is followed
    stored = await quick.client.v1.events.list_async({"type": "customer.created"})
    assert {e.data.object.id for e in stored.data} == {c.id for c in created}
    assert len((await quick.client.v1.events.list_async({"delivery_success": False})).data) >= 1
    health = await quick.raw.get("/_mock/health")
    assert health.status == 200


async def _attempts_at(setup: InProcess, endpoint_id: str, count: int, timeout: float = 3.0) -> dict[str, Any]:
    """The first attempt at `endpoint_id`, once `count` attempts were made there."""
    deadline = time.monotonic() + timeout
    while True:
        attempts = [a for a in (await deliveries(setup, limit=100))["data"] if a["webhook_endpoint"] == endpoint_id]
        if len(attempts) >= count:
            return attempts[-1]
        assert time.monotonic() < deadline, "no attempt recorded"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("behaviour", ["big", "endless"])
async def test_a_huge_answer_is_not_read(quick, receiver, behaviour) -> None:
    receiving, base = receiver
    await endpoint(quick, f"{base}/{behaviour}", ["customer.created"])
    for i in range(3):
        await quick.client.v1.customers.create_async({"name": f"n{i}"})
    attempts = await eventually(lambda: len(_kept(quick)) >= 3 and _kept(quick))
    # A 2xx is a success however long the answer: it is left unread and its connection closed.
    assert [(a["status"], a["error"]) for a in attempts] == [(200, None)] * 3
    assert (await quick.client.v1.events.list_async({"delivery_success": False})).data == []
    assert MAX_ANSWER_BYTES < 10 * 1024 * 1024


def _kept(setup: InProcess) -> list[dict[str, Any]]:
    from mockstripe.domain.webhooks import DeliveryLog  # noqa: PLC0415 (only this helper needs the domain)

    return list(setup.account.service(DeliveryLog).attempts)


async def test_an_endpoint_disabled_meanwhile_gets_no_more_retries(quick, receiver) -> None:
    receiving, base = receiver
    hook = await endpoint(quick, f"{base}/fail", ["customer.created"])
    await quick.client.v1.customers.create_async({"name": "Jenny"})
    await eventually(lambda: len(receiving.of("fail")) == 1)
    await quick.client.v1.webhook_endpoints.update_async(hook.id, {"disabled": True})
    await asyncio.sleep(0.5)
    assert len(receiving.of("fail")) == 1


async def test_a_url_changed_meanwhile_takes_the_next_deliveries(quick, receiver) -> None:
    receiving, base = receiver
    hook = await endpoint(quick, f"http://127.0.0.1:{closed_port()}/hook", ["customer.created"])
    await quick.client.v1.customers.create_async({"name": "Jenny"})
    await _attempts_at(quick, hook.id, 1)
    await quick.client.v1.webhook_endpoints.update_async(hook.id, {"url": f"{base}/ok"})
    hit = (await eventually(lambda: receiving.of("ok")))[0]  # the retry goes to the new URL
    assert hit.event["type"] == "customer.created"


RAW_ANSWERS = {
    "garbled": (b"nonsense\r\n\r\n", None, "not an HTTP answer: b'nonsense'"),
    "cut short": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", None, "the connection closed in the middle of the answer"),
    "closed at once": (b"", None, "the connection closed without an answer"),
    "interim first": (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, None),
    "huge headers": (b"HTTP/1.1 200 OK\r\nX-Pad: " + b"x" * (MAX_ANSWER_BYTES + 10) + b"\r\n\r\n", None,
                     f"the answer's headers exceed {MAX_ANSWER_BYTES} bytes"),
}


@pytest.mark.parametrize("answer", RAW_ANSWERS, ids=list(RAW_ANSWERS))
async def test_a_malformed_answer_is_a_recorded_failure(quick, answer) -> None:
    raw_answer, status, error = RAW_ANSWERS[answer]

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw_answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        hook = await endpoint(quick, f"http://127.0.0.1:{port}/hook", ["customer.created"])
        await quick.client.v1.customers.create_async({"name": "Jenny"})
        first = await _attempts_at(quick, hook.id, 1)
        assert (first["status"], first["error"]) == (status, error)
        assert (await quick.raw.get("/_mock/health")).status == 200
    finally:
        server.close()
