"""Regressions for what adversarial testing found: every bad request is a Stripe-shaped 4xx, never a
500, a hang, a crash on a later read or a traceback in the log."""

from __future__ import annotations

import base64
import json
import logging
import signal
import socket
import sys
import time
from urllib.parse import urlsplit

import pytest
import stripe

from mockstripe import Config, serve_in_thread
from mockstripe.billing.periods import boundary, period_containing
from mockstripe.cli import parse_args
from mockstripe.domain.metering import MAX_DROPPED_PAYLOAD_BYTES
from mockstripe.wire.decode import MAX_NESTING
from mockstripe.wire.params import MAX_AMOUNT, MAX_TIMESTAMP


def assert_stripe_400(reply, param: str | None = None) -> dict:
    assert reply.status == 400, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    error = reply.error
    assert error["type"] == "invalid_request_error" and error["message"]
    if param is not None:
        assert error["param"] == param
    return error


def raw_exchange(url: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `data` as is on a fresh connection; the status, headers and body of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


# The form decoder: deep nesting and huge list indexes, in bodies and query strings.


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 490, 2500])
def test_deep_nesting_is_a_400_in_a_body_and_a_query(raw, levels):
    key = "metadata" + "[b]" * levels
    assert_stripe_400(raw.post("/v1/customers", f"{key}=1"), param="metadata")
    assert_stripe_400(raw.get(f"/v1/customers?{key}=1"), param="metadata")


def test_nesting_up_to_the_cap_is_decoded(raw):
    # Accepted by the decoder; the validator then names the unknown key.
    error = assert_stripe_400(raw.post("/v1/customers", "shipping" + "[a]" * MAX_NESTING + "=1"))
    assert error["code"] == "parameter_unknown"


@pytest.mark.parametrize("digits", [7, 4301, 8000])
def test_huge_list_indexes_are_a_400(raw, digits):
    key = f"expand[{'1' * digits}]"
    assert_stripe_400(raw.post("/v1/customers", f"{key}=x"))
    assert_stripe_400(raw.get(f"/v1/customers?{key}=x"))


# Numbers out of range are refused before anything is stored.


@pytest.fixture
def product(raw) -> str:
    return raw.post("/v1/products", {"name": "Widget"}).body["id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_amount", str(2**62)),
        ("unit_amount", str(MAX_AMOUNT + 1)),
        ("unit_amount_decimal", "99999999999999999999"),
        ("unit_amount_decimal", "1" * 5000),
    ],
)
def test_amounts_out_of_range_are_refused_and_prices_still_list(raw, product, field, value):
    before = raw.get("/v1/prices?limit=100").body["data"]
    assert_stripe_400(raw.post("/v1/prices", {"currency": "usd", "product": product, field: value}), param=field)
    after = raw.get("/v1/prices?limit=100")
    assert after.status == 200 and after.body["data"] == before


def test_the_largest_amount_times_the_largest_quantity_invoices_exactly(stripe_client):
    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": MAX_AMOUNT, "recurring": {"interval": "month"}, "product_data": {"name": "x"}}
    )
    customer = stripe_client.v1.customers.create({"name": "Big"})
    subscription = stripe_client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id, "quantity": 4}], "collection_method": "send_invoice",
         "days_until_due": 30}
    )
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert invoice.total == MAX_AMOUNT * 4
    assert stripe_client.v1.invoices.list({"customer": customer.id}).data[0].total == MAX_AMOUNT * 4


@pytest.mark.parametrize("quantity", [str(2**62), "100000000"])
def test_huge_quantities_are_refused(stripe_client, quantity, raw):
    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 100, "recurring": {"interval": "month"}, "product_data": {"name": "x"}}
    )
    customer = stripe_client.v1.customers.create({"name": "Q"})
    reply = raw.post(
        "/v1/subscriptions", {"customer": customer.id, "items[0][price]": price.id, "items[0][quantity]": quantity}
    )
    assert_stripe_400(reply, param="items[0][quantity]")
    assert raw.get(f"/v1/subscriptions?customer={customer.id}").body["data"] == []


def test_days_until_due_out_of_range_is_refused(raw, product):
    customer = raw.post("/v1/customers", {"name": "D"}).body["id"]
    price = raw.post(
        "/v1/prices", {"currency": "usd", "product": product, "unit_amount": "100", "recurring[interval]": "month"}
    ).body["id"]
    reply = raw.post(
        "/v1/subscriptions",
        {"customer": customer, "items[0][price]": price, "collection_method": "send_invoice",
         "days_until_due": str(2**63 - 1)},
    )
    assert_stripe_400(reply, param="days_until_due")


@pytest.mark.parametrize("frozen_time", [str(2**63), str(-(2**63)), str(2**63 - 1), "-1", str(MAX_TIMESTAMP + 1)])
def test_test_clock_times_outside_years_1970_to_9999_are_refused(raw, frozen_time):
    assert_stripe_400(raw.post("/v1/test_helpers/test_clocks", {"frozen_time": frozen_time}), param="frozen_time")
    assert raw.get("/v1/test_helpers/test_clocks").status == 200


def test_a_subscription_at_the_end_of_year_9999_bills_without_crashing(stripe_client):
    clock = stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": MAX_TIMESTAMP - 86_400})
    card = {"payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"}}
    customer = stripe_client.v1.customers.create({"name": "Late", "test_clock": clock.id, **card})
    price = stripe_client.v1.prices.create(
        {"currency": "usd", "unit_amount": 500, "recurring": {"interval": "year", "interval_count": 3},
         "product_data": {"name": "x"}}
    )
    subscription = stripe_client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    item = subscription["items"].data[0]
    assert item.current_period_end - item.current_period_start == 1096 * 86_400  # year 10000 is a leap year
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": MAX_TIMESTAMP})
    assert stripe_client.v1.invoices.list({"customer": customer.id}).data[0].total == 500


def test_periods_past_year_9999_follow_the_calendar():
    anchor = MAX_TIMESTAMP - 10 * 86_400  # 9999-12-21T23:59:59Z
    assert [boundary(anchor, "month", 1, n) - anchor for n in (1, 2)] == [31 * 86_400, (31 + 31) * 86_400]
    # Month ends clamp the same 400 years on: 10000-02-29 exists, as 2000-02-29 did.
    jan31 = 253_402_387_200 + 30 * 86_400  # 10000-01-31T00:00:00Z
    assert boundary(jan31, "month", 1, 1) - jan31 == 29 * 86_400
    start, end = period_containing(anchor, "month", 1, anchor + 40 * 86_400)
    assert (start, end) == (boundary(anchor, "month", 1, 1), boundary(anchor, "month", 1, 2))


# v2 timestamps whose offset moves them off the calendar.


@pytest.mark.parametrize("timestamp", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01"])
def test_extreme_v2_offsets_are_a_400(raw, timestamp):
    body = json.dumps({"event_name": "e", "payload": {"value": "1"}, "timestamp": timestamp})
    reply = raw.post("/v2/billing/meter_events", body, headers={"Content-Type": "application/json"})
    assert reply.status == 400, reply.body
    assert (reply.error["type"], reply.error["param"]) == ("invalid_request_error", "timestamp")


# Dropped meter events keep a bounded part of their payload.


def test_dropped_events_keep_a_bounded_payload(raw, stripe_client):
    payload = {f"key_{i}": "v" * 400 for i in range(40)}
    stripe_client.v1.billing.meter_events.create({"event_name": "no_such_meter_here", "payload": payload})
    (error,) = raw.get("/_mock/meter_event_errors?limit=1").body["data"]
    assert error["payload_truncated"] is True
    kept = error["payload"]
    assert 0 < sum(len(k) + len(v) for k, v in kept.items()) <= MAX_DROPPED_PAYLOAD_BYTES
    assert kept == {k: payload[k] for k in kept}


# Clients that go away, and requests aiohttp cannot parse.


def test_a_client_dropping_the_connection_mid_body_logs_no_error(caplog):
    with serve_in_thread() as url, caplog.at_level(logging.DEBUG, logger="mockstripe"):
        parts = urlsplit(url)
        for _ in range(20):
            connection = socket.create_connection((parts.hostname, parts.port))
            connection.sendall(
                b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_gone\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=J"
            )
            time.sleep(0.01)
            # An abortive close (RST), as a killed client leaves it.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            connection.close()
        time.sleep(0.2)
        status, _, body = raw_exchange(url, b"GET /_mock/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 200 and json.loads(body)["status"] == "ok"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


@pytest.fixture(scope="module")
def own_server() -> str:
    with serve_in_thread() as url:
        yield url


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v1/customers?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
        b"GET /v1/customers HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n",
        b"GET /v1/\xff\xfe\x00customers HTTP/1.1\r\nHost: x\r\n\r\n",
        b"BREW /v1/customers HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G@T /v1/customers HTTP/1.1\r\nHost: x\r\n\r\n",
        b"not http at all\r\n\r\n",
    ],
    ids=["long-url", "long-header", "many-headers", "raw-bytes-in-path", "unknown-method", "bad-method", "garbage"],
)
def test_unparseable_requests_get_stripe_shaped_json(own_server, request_bytes, caplog):
    with caplog.at_level(logging.INFO):
        status, headers, body = raw_exchange(own_server, request_bytes)
    assert 400 <= status < 500
    assert headers["content-type"].startswith("application/json")
    assert headers["request-id"].startswith("req_")
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith("Invalid request")
    assert b"aaaa" not in body and b"customers" not in body  # the request line is not echoed
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


# Two regex gaps: `$` before a trailing newline, `\d` beyond ASCII.


def test_a_key_with_a_trailing_newline_is_refused(raw, stripe_api_key):
    basic = base64.b64encode(f"{stripe_api_key}\n:".encode()).decode()
    reply = raw.get("/v1/customers", headers={"Authorization": f"Basic {basic}"})
    assert reply.status == 401
    assert reply.error["message"].startswith("Invalid API Key provided")


@pytest.mark.parametrize("version", ["２０２４-06-20", "2024-٠٦-20"])
def test_stripe_versions_with_other_digits_are_refused(raw, version):
    reply = raw.get("/v1/customers", headers={"Stripe-Version": version.encode()})
    assert reply.status == 400
    assert "Stripe-Version" not in reply.headers


# `/_mock/reset` behind an opt-in admin token.


def test_reset_needs_the_admin_token_when_one_is_set():
    with serve_in_thread(Config(port=0, admin_token="s3cret")) as url:
        client = stripe.StripeClient("sk_test_admin_guard", base_addresses={"api": url})
        customer = client.v1.customers.create({"name": "Kept"})

        # Raw requests: the SDK would always send its key.
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer sk_test_admin_guard"}):
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            status, _, body = raw_exchange(
                url, f"POST /_mock/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n{head}\r\n".encode()
            )
            assert status == 401, body
            assert json.loads(body)["error"]["type"] == "invalid_request_error"
        assert client.v1.customers.retrieve(customer.id).name == "Kept"

        status, _, body = raw_exchange(
            url, b"POST /_mock/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n"
            b"Authorization: Bearer s3cret\r\n\r\n",
        )
        assert (status, json.loads(body)) == (200, {"reset_accounts": 1})


def test_admin_token_comes_from_the_flag_or_the_environment(monkeypatch):
    assert parse_args([]).admin_token is None
    monkeypatch.setenv("MOCKSTRIPE_ADMIN_TOKEN", "from-env")
    assert parse_args([]).admin_token == "from-env"
    assert parse_args(["--admin-token", "from-flag"]).admin_token == "from-flag"


# Stopping while a request body is still arriving.


def test_sigterm_with_a_half_sent_body_exits_within_two_seconds(spawn_server):
    server = spawn_server([sys.executable, "-m", "mockstripe", "--port", "0"])
    connection = socket.create_connection(("127.0.0.1", server.port))
    connection.sendall(
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_slow\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nname=Half"
    )
    time.sleep(0.2)
    started = time.monotonic()
    code, out, err = server.stop(signal.SIGTERM)
    elapsed = time.monotonic() - started
    connection.close()
    assert code == 0, err
    assert elapsed < 2, elapsed
    assert "Traceback" not in err
