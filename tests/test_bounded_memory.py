"""Bounded memory for a long-running shared server: a cap on accounts, bounded idempotency
records, and what `/_mock/health` reports."""

from __future__ import annotations

import logging

import pytest
import stripe

from mockstripe import Config, idempotency, serve_in_thread
from mockstripe.cli import parse_args
from mockstripe.domain import events
from mockstripe.idempotency import IdempotencyRecords, Outcome, Recorded


def client(url: str, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": url}, max_network_retries=0)


def test_the_least_recently_used_account_is_forgotten_past_the_cap(caplog, raw_http):
    with serve_in_thread(Config(port=0, max_accounts=2)) as url, caplog.at_level(logging.INFO, "mockstripe"):
        first, second, third = (client(url, f"sk_test_cap_{n}") for n in ("a", "b", "c"))
        kept = first.v1.customers.create({"name": "First"})
        forgotten = second.v1.customers.create({"name": "Second"})
        first.v1.customers.retrieve(kept.id)  # the first is now the more recently used
        third.v1.customers.create({"name": "Third"})

        assert first.v1.customers.retrieve(kept.id).name == "First"
        with pytest.raises(stripe.InvalidRequestError) as missing:
            second.v1.customers.retrieve(forgotten.id)
        assert missing.value.http_status == 404
        health = raw_http(url, "").get("/_mock/health", auth=False).body
        assert health["accounts"] == 2
    # The second one went first (asking for it again then made room by forgetting the next).
    line = next(r.getMessage() for r in caplog.records if "forgot" in r.getMessage())
    assert "key ...ap_b, objects: " in line and "at most 2 accounts" in line


def test_health_counts_accounts_and_objects_and_reports_memory(raw_http):
    with serve_in_thread() as url:
        api = client(url, "sk_test_health")
        for name in ("a", "b"):
            api.v1.customers.create({"name": name})
        events = len(api.v1.events.list({"limit": 100}).data)
        health = raw_http(url, "").get("/_mock/health", auth=False).body
        assert (health["accounts"], health["objects"]) == (1, 2 + events)
        assert health["rss_bytes"] > 10 * 2**20


def test_max_accounts_comes_from_the_flag_or_the_environment(monkeypatch, capsys):
    assert parse_args([]).max_accounts is None
    monkeypatch.setenv("MOCKSTRIPE_MAX_ACCOUNTS", "500")
    assert parse_args([]).max_accounts == 500
    assert parse_args(["--max-accounts", "7"]).max_accounts == 7
    with pytest.raises(SystemExit):
        parse_args(["--max-accounts", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def record(body: bytes) -> Recorded:
    return Recorded(("POST", "/v1/customers", {}), Outcome(200, body), at=0, request_bytes=10)


def test_idempotency_records_are_capped_in_number(monkeypatch):
    monkeypatch.setattr(idempotency, "MAX_RECORDS", 3)
    records = IdempotencyRecords()
    for n in range(5):
        assert records.begin(f"k{n}", now=0) is None
        records.finish(f"k{n}", record(b"{}"))
    assert len(records) == 3
    assert records.begin("k4", now=0) is not None  # the newest are kept
    assert records.begin("k0", now=0) is None  # the oldest is free again


def test_idempotency_records_are_capped_in_bytes(monkeypatch):
    monkeypatch.setattr(idempotency, "MAX_RECORDED_BYTES", 2_500)
    records = IdempotencyRecords()
    for n in range(5):
        records.begin(f"k{n}", now=0)
        records.finish(f"k{n}", record(b"x" * 1000))
    assert len(records) == 2  # 2 x 1,010 bytes fit; a third would not


async def test_each_account_keeps_a_bounded_number_of_events(in_process, monkeypatch):
    monkeypatch.setattr(events, "MAX_EVENTS_KEPT", 5)
    monkeypatch.setattr(events, "EVICTION_BATCH", 3)
    customers = [await in_process.client.v1.customers.create_async({"name": f"c{n}"}) for n in range(8)]
    assert len(in_process.account.collection("event")) == 8  # up to the cap and a batch

    customers.append(await in_process.client.v1.customers.create_async({"name": "c8"}))
    listed = (await in_process.client.v1.events.list_async({"limit": 100})).data
    assert [e.data.object["id"] for e in listed] == [c.id for c in reversed(customers[4:])]
    assert len(in_process.account.collection("event")) == 5  # the oldest are forgotten, not just hidden
