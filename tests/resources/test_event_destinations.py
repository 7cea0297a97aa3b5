"""Event destinations and thin events (v2): CRUD through the SDK's v2 client, and meter error
reports delivered signed, as `StripeClient.parse_event_notification` accepts them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
import stripe
from aiohttp import web

from mockstripe.app import STATE, create_app
from mockstripe.config import Config

WAIT_SECONDS = 5


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP endpoint on loopback that records what it is sent."""

    url: str
    received: list[Delivery] = field(default_factory=list)
    status: int = 200

    def wait_for(self, count: int) -> list[Delivery]:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.received) == count, f"expected {count} deliveries, got {len(self.received)}"
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            holder[0].received.append(Delivery(self.path, dict(self.headers), body))
            self.send_response(holder[0].status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks"))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield holder[0]
    server.shutdown()
    server.server_close()


def thin_destination(client: stripe.StripeClient, url: str, **params: Any) -> stripe.v2.core.EventDestination:
    return client.v2.core.event_destinations.create(
        {
            "name": "Meter errors",
            "type": "webhook_endpoint",
            "event_payload": "thin",
            "enabled_events": ["v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found"],
            "webhook_endpoint": {"url": url},
            "include": ["webhook_endpoint.signing_secret", "webhook_endpoint.url"],
            **params,
        }
    )


def flush(raw) -> list[dict[str, Any]]:
    reply = raw.post("/_mock/meter_error_reports/flush")
    assert reply.status == 200
    return reply.body["data"]


def test_create_retrieve_update_and_delete(stripe_client: stripe.StripeClient, receiver: Receiver) -> None:
    destinations = stripe_client.v2.core.event_destinations
    created = thin_destination(stripe_client, receiver.url, description="Ops", metadata={"team": "billing"})
    assert created.id.startswith("ed_test_61")
    secret = created.webhook_endpoint.signing_secret
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 32
    assert created.to_dict() == {
        "id": created.id,
        "object": "v2.core.event_destination",
        "amazon_eventbridge": None,
        "azure_event_grid": None,
        "created": created.created,
        "description": "Ops",
        "enabled_events": ["v1.billing.meter.error_report_triggered", "v1.billing.meter.no_meter_found"],
        "event_payload": "thin",
        "events_from": ["@self"],
        "livemode": False,
        "metadata": {"team": "billing"},
        "name": "Meter errors",
        "snapshot_api_version": None,
        "status": "enabled",
        "status_details": None,
        "type": "webhook_endpoint",
        "updated": created.created,
        "webhook_endpoint": {"signing_secret": secret, "url": receiver.url},
    }
    retrieved = destinations.retrieve(created.id)
    assert retrieved.webhook_endpoint.to_dict() == {"signing_secret": None, "url": None}
    assert destinations.retrieve(created.id, {"include": ["webhook_endpoint.url"]}).webhook_endpoint.url == receiver.url
    updated = destinations.update(
        created.id, {"name": "Errors", "enabled_events": ["v1.billing.meter.no_meter_found"], "metadata": {"team": None}}
    )
    assert (updated.name, updated.enabled_events, updated.metadata.to_dict()) == (
        "Errors",
        ["v1.billing.meter.no_meter_found"],
        {},
    )
    disabled = destinations.disable(created.id)
    assert (disabled.status, disabled.status_details.to_dict()) == ("disabled", {"disabled": {"reason": "user"}})
    enabled = destinations.enable(created.id)
    assert (enabled.status, enabled.status_details) == ("enabled", None)
    other = thin_destination(stripe_client, receiver.url, name="Second")
    assert [d.id for d in destinations.list().data] == [other.id, created.id]
    assert [d.id for d in destinations.list({"limit": 1}).auto_paging_iter()] == [other.id, created.id]
    deleted = destinations.delete(created.id)
    assert deleted.to_dict() == {"id": created.id, "object": "v2.core.event_destination"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        destinations.retrieve(created.id)
    assert caught.value.http_status == 404
    assert [d.id for d in destinations.list().data] == [other.id]


def test_bad_destinations_are_refused(stripe_client: stripe.StripeClient, receiver: Receiver) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v2.core.event_destinations.create(
            {
                "name": "Orders",
                "type": "webhook_endpoint",
                "event_payload": "snapshot",
                "enabled_events": ["invoice.paid", "invoice.nope"],
                "webhook_endpoint": {"url": receiver.url},
            }
        )
    assert caught.value.http_status == 400
    assert "invoice.nope" in caught.value.user_message
    assert stripe_client.v2.core.event_destinations.list().data == []


def test_ping_is_delivered_signed(stripe_client: stripe.StripeClient, receiver: Receiver) -> None:
    destination = thin_destination(stripe_client, receiver.url)
    secret = destination.webhook_endpoint.signing_secret
    event = stripe_client.v2.core.event_destinations.ping(destination.id)
    assert event.type == "v2.core.event_destination.ping"
    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["Content-Type"] == "application/json; charset=utf-8"
    assert delivery.headers["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    notification = stripe_client.parse_event_notification(delivery.body, delivery.headers["Stripe-Signature"], secret)
    assert (notification.id, notification.type) == (event.id, "v2.core.event_destination.ping")
    assert notification.related_object.id == destination.id
    assert notification.fetch_related_object().id == destination.id


def test_dropped_events_are_reported_once_per_meter_as_thin_events(
    stripe_client: stripe.StripeClient, receiver: Receiver, raw, lenient: None
) -> None:
    meter = stripe_client.v1.billing.meters.create(
        {"display_name": "Tokens", "event_name": "tokens", "default_aggregation": {"formula": "sum"}}
    )
    destination = thin_destination(stripe_client, receiver.url)
    secret = destination.webhook_endpoint.signing_secret
    for identifier in ("e1", "e2", "e3"):
        stripe_client.v1.billing.meter_events.create(
            {"event_name": "tokens", "payload": {"stripe_customer_id": "cus_unknown", "value": "5"}, "identifier": identifier}
        )
    assert receiver.received == []  # reports wait for their window
    (sent,) = flush(raw)
    (delivery,) = receiver.wait_for(1)
    body, signature = delivery.body, delivery.headers["Stripe-Signature"]
    assert json.loads(body) == {
        "id": sent["id"],
        "object": "v2.core.event",
        "type": "v1.billing.meter.error_report_triggered",
        "livemode": False,
        "created": sent["created"],
        "related_object": {"id": meter.id, "type": "billing.meter", "url": f"/v1/billing/meters/{meter.id}"},
    }
    notification = stripe_client.parse_event_notification(body, signature, secret)
    assert isinstance(notification, stripe.events.V1BillingMeterErrorReportTriggeredEventNotification)
    assert notification.related_object.id == meter.id
    with pytest.raises(ValueError):
        stripe.Webhook.construct_event(body, signature, secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe_client.parse_event_notification(body, signature, "whsec_wrong")
    event = notification.fetch_event()
    assert event.data.to_dict() == {
        "developer_message_summary": "There are 3 invalid events",
        "reason": {
            "error_count": 3,
            "error_types": [
                {
                    "code": "meter_event_customer_not_found",
                    "error_count": 3,
                    "sample_errors": [
                        {"error_message": "No such customer: 'cus_unknown'", "request": {"identifier": i}}
                        for i in ("e1", "e2", "e3")
                    ],
                }
            ],
        },
        "validation_end": event.data.validation_end,
        "validation_start": event.data.validation_start,
    }
    assert event.data.validation_start <= event.data.validation_end
    assert notification.fetch_related_object().id == meter.id
    assert flush(raw) == []  # reported once


def test_events_without_a_meter_are_reported_as_no_meter_found(
    stripe_client: stripe.StripeClient, receiver: Receiver, raw, lenient: None
) -> None:
    thin_destination(stripe_client, receiver.url)
    for _ in range(2):
        stripe_client.v1.billing.meter_events.create({"event_name": "nothing", "payload": {"value": "1"}})
    (sent,) = flush(raw)
    assert sent["type"] == "v1.billing.meter.no_meter_found"
    assert "related_object" not in sent
    (delivery,) = receiver.wait_for(1)
    notification = stripe_client.parse_event_notification_without_verification(delivery.body)
    assert notification.type == "v1.billing.meter.no_meter_found"
    event = stripe_client.v2.core.events.retrieve(sent["id"])
    (error_type,) = event.data.reason.error_types
    assert (error_type.code, error_type.error_count) == ("no_meter", 2)


def test_a_flood_of_dropped_events_makes_one_report_per_meter(
    stripe_client: stripe.StripeClient, mockstripe_url: str, raw, lenient: None
) -> None:
    meters = [
        stripe_client.v1.billing.meters.create(
            {"display_name": "Tokens", "event_name": name, "default_aggregation": {"formula": "sum"}}
        )
        for name in ("a", "b")
    ]
    session = stripe_client.v2.billing.meter_event_session.create()
    stream = stripe.StripeClient(
        session.authentication_token, base_addresses={"api": mockstripe_url, "meter_events": mockstripe_url}
    )
    for _ in range(30):
        events = [
            {"event_name": name, "payload": {"stripe_customer_id": "cus_gone", "value": "1"}}
            for name in ("a", "b") * 50
        ]
        stream.v2.billing.meter_event_stream.create({"events": events})
    stream.v2.billing.meter_event_stream.create(
        {"events": [{"event_name": "a", "payload": {"value": "1"}}, {"event_name": "c", "payload": {}}]}
    )
    sent = flush(raw)
    assert sorted((e["type"], e.get("related_object", {}).get("id")) for e in sent) == sorted(
        [
            ("v1.billing.meter.error_report_triggered", meters[0].id),
            ("v1.billing.meter.error_report_triggered", meters[1].id),
            ("v1.billing.meter.no_meter_found", None),
        ]
    )
    by_meter = {e.get("related_object", {}).get("id"): e["data"]["reason"] for e in sent}
    assert by_meter[meters[0].id]["error_count"] == 1501
    assert [(t["code"], t["error_count"], len(t["sample_errors"])) for t in by_meter[meters[0].id]["error_types"]] == [
        ("meter_event_customer_not_found", 1500, 5),
        ("meter_event_no_customer_defined", 1, 1),
    ]
    assert by_meter[meters[1].id]["error_count"] == 1500
    listed = stripe_client.v2.core.events.list({"types": ["v1.billing.meter.no_meter_found"]}).data
    assert [e.id for e in listed] == [e["id"] for e in sent if e["type"] == "v1.billing.meter.no_meter_found"]
    by_object = stripe_client.v2.core.events.list({"object_id": meters[1].id}).data
    assert [e.id for e in by_object] == [by_meter_event["id"] for by_meter_event in sent if by_meter_event.get("related_object", {}).get("id") == meters[1].id]


def test_disabled_destinations_and_other_types_receive_nothing(
    stripe_client: stripe.StripeClient, receiver: Receiver, raw, lenient: None
) -> None:
    disabled = thin_destination(stripe_client, receiver.url)
    stripe_client.v2.core.event_destinations.disable(disabled.id)
    thin_destination(stripe_client, receiver.url, enabled_events=["v1.billing.meter.no_meter_found"])
    stripe_client.v1.billing.meters.create(
        {"display_name": "Tokens", "event_name": "tokens", "default_aggregation": {"formula": "sum"}}
    )
    stripe_client.v1.billing.meter_events.create({"event_name": "tokens", "payload": {"value": "1"}})
    assert len(flush(raw)) == 1
    time.sleep(0.2)
    assert receiver.received == []


def test_snapshot_destinations_receive_v1_events(stripe_client: stripe.StripeClient, receiver: Receiver) -> None:
    destination = stripe_client.v2.core.event_destinations.create(
        {
            "name": "Alerts",
            "type": "webhook_endpoint",
            "event_payload": "snapshot",
            "enabled_events": ["billing.alert.triggered"],
            "webhook_endpoint": {"url": receiver.url},
            "include": ["webhook_endpoint.signing_secret"],
        }
    )
    assert destination.snapshot_api_version == "2026-10-28.endive"
    meter = stripe_client.v1.billing.meters.create(
        {"display_name": "Tokens", "event_name": "tokens", "default_aggregation": {"formula": "sum"}}
    )
    customer = stripe_client.v1.customers.create({"name": "Jenny"})
    stripe_client.v1.billing.alerts.create(
        {
            "alert_type": "usage_threshold",
            "title": "Ten tokens",
            "usage_threshold": {"gte": 10, "meter": meter.id, "recurrence": "one_time"},
        }
    )
    stripe_client.v1.billing.meter_events.create(
        {"event_name": "tokens", "payload": {"stripe_customer_id": customer.id, "value": "10"}}
    )
    (delivery,) = receiver.wait_for(1)
    event = stripe.Webhook.construct_event(
        delivery.body, delivery.headers["Stripe-Signature"], destination.webhook_endpoint.signing_secret
    )
    assert (event.type, event.data.object.customer) == ("billing.alert.triggered", customer.id)
    with pytest.raises(ValueError):
        stripe_client.parse_event_notification(
            delivery.body, delivery.headers["Stripe-Signature"], destination.webhook_endpoint.signing_secret
        )


async def test_reports_are_sent_when_their_window_closes(aiohttp_client, stripe_api_key: str) -> None:
    received: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response()

    sink = web.Application()
    sink.router.add_post("/hooks", hook)
    sink_client = await aiohttp_client(sink)
    app = create_app(Config(meter_error_report_window=0.05))
    server = await aiohttp_client(app)
    http = stripe.AIOHTTPClient()
    client = stripe.StripeClient(
        stripe_api_key, base_addresses={"api": str(server.make_url("")).rstrip("/")}, http_client=http
    )
    await client.v2.core.event_destinations.create_async(
        {
            "name": "Errors",
            "type": "webhook_endpoint",
            "event_payload": "thin",
            "enabled_events": ["v1.billing.meter.no_meter_found"],
            "webhook_endpoint": {"url": str(sink_client.make_url("/hooks"))},
        }
    )
    await client.v1.billing.meter_events.create_async({"event_name": "nothing", "payload": {"value": "1"}})
    for _ in range(200):
        if received:
            break
        await asyncio.sleep(0.01)
    await http.close_async()
    (body,) = received
    assert json.loads(body)["type"] == "v1.billing.meter.no_meter_found"
    assert app[STATE].store.account(stripe_api_key).collection("v2.core.event")


def test_an_updated_url_receives_the_next_deliveries(stripe_client: stripe.StripeClient, receiver: Receiver) -> None:
    destination = thin_destination(stripe_client, receiver.url)
    moved = receiver.url.replace("/hooks", "/moved")
    updated = stripe_client.v2.core.event_destinations.update(
        destination.id, {"webhook_endpoint": {"url": moved}, "include": ["webhook_endpoint.url"]}
    )
    assert updated.webhook_endpoint.to_dict() == {"signing_secret": None, "url": moved}
    stripe_client.v2.core.event_destinations.ping(destination.id)
    (delivery,) = receiver.wait_for(1)
    assert delivery.path == "/moved"


def test_thin_events_list_by_type_object_and_time(stripe_client: stripe.StripeClient, receiver: Receiver) -> None:
    first = thin_destination(stripe_client, receiver.url)
    second = thin_destination(stripe_client, receiver.url)
    pings = [stripe_client.v2.core.event_destinations.ping(d.id) for d in (first, second, first)]
    events = stripe_client.v2.core.events
    assert [e.id for e in events.list().data] == [p.id for p in reversed(pings)]
    assert [e.id for e in events.list({"object_id": first.id}).data] == [pings[2].id, pings[0].id]
    assert events.list({"types": ["v1.billing.meter.no_meter_found"]}).data == []
    assert [e.id for e in events.list({"limit": 2}).auto_paging_iter()] == [p.id for p in reversed(pings)]
    assert events.list({"created": {"lt": pings[0].created}}).data == []
    assert len(events.list({"created": {"gte": pings[0].created}}).data) == 3
    retrieved = events.retrieve(pings[1].id)
    assert isinstance(retrieved, stripe.events.V2CoreEventDestinationPingEvent)
    assert retrieved.related_object.id == second.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        events.retrieve("evt_test_nope")
    assert caught.value.http_status == 404
