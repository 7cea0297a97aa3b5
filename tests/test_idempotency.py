"""`Idempotency-Key` on POST: replays, mismatches, concurrent duplicates, scope and expiry."""

from __future__ import annotations

import http.client
import secrets
import socket
import time
from urllib.parse import urlsplit

import pytest
import stripe

from mockstripe.app import create_app
from mockstripe.config import MAX_BODY_BYTES
from mockstripe.idempotency import RETENTION_SECONDS, IdempotencyRecords, Outcome, Recorded
from mockstripe.routing import Area, Endpoint
from mockstripe.wire.errors import StripeError

MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first used with. "
    "Try using a key other than '{}' if you meant to execute a different request."
)


def with_key(key: str, **more: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **more}


def customer_ids(raw, **kwargs) -> list[str]:
    return [c["id"] for c in raw.get("/v1/customers", **kwargs).body["data"]]


# Replays and mismatches.


def test_same_key_and_params_replay_the_first_response(raw):
    first = raw.post("/v1/customers", "name=Ada&metadata[a]=1", headers=with_key("create-ada"))
    again = raw.post("/v1/customers", "name=Ada&metadata[a]=1", headers=with_key("create-ada"))
    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"] == "create-ada"
    assert again.headers["Request-Id"] != first.headers["Request-Id"]
    assert customer_ids(raw) == [first.body["id"]]


def test_same_key_with_different_params_is_an_idempotency_error(raw):
    raw.post("/v1/customers", "name=Ada", headers=with_key("k-mismatch"))
    reply = raw.post("/v1/customers", "name=Grace", headers=with_key("k-mismatch"))
    assert reply.status == 400
    assert reply.error["type"] == "idempotency_error"
    assert reply.error["message"] == MISMATCH.format("k-mismatch")
    assert len(customer_ids(raw)) == 1


def test_same_key_on_another_endpoint_is_an_idempotency_error(raw):
    created = raw.post("/v1/customers", "name=Ada", headers=with_key("k-path")).body
    reply = raw.post(f"/v1/customers/{created['id']}", "name=Ada", headers=with_key("k-path"))
    assert reply.status == 400
    assert reply.error["type"] == "idempotency_error"


def test_sdk_raises_idempotency_error(stripe_client):
    stripe_client.v1.customers.create({"name": "A"}, {"idempotency_key": "sdk-k"})
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create({"name": "B"}, {"idempotency_key": "sdk-k"})


def test_sdk_replay_returns_the_same_object(stripe_client):
    first = stripe_client.v1.customers.create({"email": "a@example.com"}, {"idempotency_key": "sdk-replay"})
    again = stripe_client.v1.customers.create({"email": "a@example.com"}, {"idempotency_key": "sdk-replay"})
    assert again.id == first.id
    assert [c.id for c in stripe_client.v1.customers.list().data] == [first.id]


def test_key_is_ignored_on_get(raw):
    reply = raw.get("/v1/customers", headers=with_key("k-get"))
    assert reply.status == 200
    assert "Idempotency-Key" not in reply.headers


def test_key_longer_than_255_characters(raw):
    reply = raw.post("/v1/customers", "name=x", headers=with_key("k" * 256))
    assert reply.status == 400
    assert reply.error["param"] == "Idempotency-Key"
    assert customer_ids(raw) == []
    assert raw.post("/v1/customers", "name=x", headers=with_key("k" * 255)).status == 200


# What is and is not stored.


def test_a_request_that_fails_validation_is_not_stored(raw):
    invalid = raw.post("/v1/customers", "balance=ten", headers=with_key("k-invalid"))
    assert invalid.status == 400
    # The same invalid request is validated again, not replayed.
    retried = raw.post("/v1/customers", "balance=ten", headers=with_key("k-invalid"))
    assert retried.status == 400
    assert "Idempotent-Replayed" not in retried.headers
    assert retried.body != invalid.body  # a new request log url: it really ran again
    # The key is still free for a corrected request.
    fixed = raw.post("/v1/customers", "balance=10", headers=with_key("k-invalid"))
    assert fixed.status == 200
    assert fixed.body["balance"] == 10


def test_a_handler_error_is_stored_and_replayed(raw):
    first = raw.post("/v1/customers/cus_missing", "name=x", headers=with_key("k-404"))
    assert first.status == 404
    assert first.error["code"] == "resource_missing"
    again = raw.post("/v1/customers/cus_missing", "name=x", headers=with_key("k-404"))
    assert again.status == 404
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.body == first.body  # byte for byte: the first request's log url, not a new one


def test_keys_are_per_account(raw, raw_http, mockstripe_url):
    other_raw = raw_http(mockstripe_url, "sk_test_" + secrets.token_hex(12))
    mine = raw.post("/v1/customers", "name=Mine", headers=with_key("shared-key")).body
    theirs = other_raw.post("/v1/customers", "name=Theirs", headers=with_key("shared-key"))
    assert theirs.status == 200
    assert "Idempotent-Replayed" not in theirs.headers
    connected = raw.post("/v1/customers", "name=Connected", headers=with_key("shared-key", **{"Stripe-Account": "acct_1"}))
    assert connected.status == 200
    assert "Idempotent-Replayed" not in connected.headers
    assert len({mine["id"], theirs.body["id"], connected.body["id"]}) == 3


def test_a_body_too_large_frees_the_key(raw):
    assert raw.post("/v1/customers", "description=" + "x" * MAX_BODY_BYTES, headers=with_key("k-big")).status == 413
    assert raw.post("/v1/customers", "name=small", headers=with_key("k-big")).status == 200


# Crashes: recorded like any other outcome, never left claimed.


def _crash(call):
    raise RuntimeError("boom")


async def test_a_crash_is_a_500_that_is_stored_and_replayed(aiohttp_client):
    area = Area(name="crash", types=(), endpoints=(Endpoint("POST", "/v1/crash", _crash),))
    client = await aiohttp_client(create_app(areas=(area,)))
    headers = {"Authorization": "Bearer sk_test_crash", "Idempotency-Key": "k-crash"}
    first = await client.post("/v1/crash", headers=headers)
    assert first.status == 500
    assert (await first.json())["error"]["type"] == "api_error"
    again = await client.post("/v1/crash", headers=headers)
    assert again.status == 500  # not a 409 from a key left in flight
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.read() == await first.read()


# A duplicate that arrives while the first request is still running.


class SlowRequest:
    """A POST whose body arrives in two parts, so the server is mid-request in between."""

    def __init__(self, base_url: str, api_key: str, key: str, body: bytes) -> None:
        parts = urlsplit(base_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.body = body
        head = (
            "POST /v1/customers HTTP/1.1\r\n"
            f"Host: {parts.hostname}\r\n"
            f"Authorization: Bearer {api_key}\r\n"
            f"Idempotency-Key: {key}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            # The server answers `100 Continue` once the handler has started: then the key is claimed.
            "Expect: 100-continue\r\n\r\n"
        )
        self.sock.sendall(head.encode())
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += self.sock.recv(1)
        assert interim.startswith(b"HTTP/1.1 100")
        self.sock.sendall(body[: len(body) // 2])

    def finish(self) -> http.client.HTTPResponse:
        self.sock.sendall(self.body[len(self.body) // 2 :])
        response = http.client.HTTPResponse(self.sock)
        response.begin()
        return response

    def close(self) -> None:
        self.sock.close()


def test_a_concurrent_duplicate_gets_a_409(raw, mockstripe_url):
    slow = SlowRequest(mockstripe_url, raw.api_key, "k-concurrent", b"name=First&description=slow")
    try:
        duplicate = raw.post("/v1/customers", "name=First&description=slow", headers=with_key("k-concurrent"))
        assert duplicate.status == 409
        assert duplicate.error["type"] == "idempotency_error"
        assert "another in-progress request" in duplicate.error["message"]
        assert duplicate.headers["Request-Id"].startswith("req_")
        response = slow.finish()
        assert response.status == 200
        assert response.getheader("Idempotency-Key") == "k-concurrent"
        assert b'"name":"First"' in response.read()
    finally:
        slow.close()
    assert len(customer_ids(raw)) == 1
    replay = raw.post("/v1/customers", "name=First&description=slow", headers=with_key("k-concurrent"))
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_a_client_that_hangs_up_mid_body_frees_the_key(raw, mockstripe_url):
    SlowRequest(mockstripe_url, raw.api_key, "k-hangup", b"name=Gone&description=never+finished").close()
    deadline = time.monotonic() + 5
    while (reply := raw.post("/v1/customers", "name=Kept", headers=with_key("k-hangup"))).status == 409:
        assert time.monotonic() < deadline, "the abandoned key was never released"
        time.sleep(0.01)
    assert reply.status == 200
    assert [c["name"] for c in raw.get("/v1/customers").body["data"]] == ["Kept"]


# Unit: the records and their 24 hours.


def recorded(at: int) -> Recorded:
    return Recorded(("POST", "/v1/x", {}), Outcome(200, b"{}"), at)


def test_records_replay_within_24_hours_and_expire_after():
    records = IdempotencyRecords()
    assert records.begin("k", now=1_000) is None
    records.finish("k", recorded(1_000))
    assert records.begin("k", now=1_000 + RETENTION_SECONDS - 1) == recorded(1_000)
    # A day later the key is new again: this begin claims it.
    assert records.begin("k", now=1_000 + RETENTION_SECONDS) is None


def test_expiry_keeps_younger_keys():
    records = IdempotencyRecords()
    for key, at in (("old", 0), ("young", 50_000)):
        records.begin(key, now=at)
        records.finish(key, recorded(at))
    assert records.begin("young", now=RETENTION_SECONDS + 10) == recorded(50_000)
    assert records.begin("old", now=RETENTION_SECONDS + 10) is None


def test_claimed_key_is_in_flight_until_finished_or_abandoned():
    records = IdempotencyRecords()
    assert records.begin("k", now=0) is None
    with pytest.raises(StripeError) as caught:
        records.begin("k", now=1)
    assert (caught.value.status, caught.value.type) == (409, "idempotency_error")
    assert caught.value.headers == {"Stripe-Should-Retry": "true"}
    records.abandon("k")
    assert records.begin("k", now=2) is None


def test_abandon_never_drops_a_finished_record():
    records = IdempotencyRecords()
    records.begin("k", now=0)
    records.finish("k", recorded(0))
    records.abandon("k")
    assert records.begin("k", now=1) == recorded(0)


def test_outcome_replay_marks_the_headers():
    outcome = Outcome(404, b"{}", {"Stripe-Should-Retry": "false"})
    assert outcome.replayed().headers == {"Stripe-Should-Retry": "false", "Idempotent-Replayed": "true"}
    assert outcome.headers == {"Stripe-Should-Retry": "false"}
