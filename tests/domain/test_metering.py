"""`Metering`: the per-account event store, driven directly with a frozen clock."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal

import pytest

from mockstripe.clock import FrozenClock
from mockstripe.domain.metering import Metering
from mockstripe.store import Account
from mockstripe.wire.errors import StripeError

T0 = 1_750_000_000
DAY = 86400


@pytest.fixture
def account() -> Account:
    account = Account(key="sk_test_metering", clock=FrozenClock(T0))
    account.collection("customer").add({"id": "cus_a", "object": "customer"})
    account.collection("customer").add({"id": "cus_b", "object": "customer"})
    return account


def meter(account: Account, formula: str = "sum", event_name: str = "tokens") -> dict:
    created = {
        "id": f"mtr_{event_name}_{formula}",
        "event_name": event_name,
        "status": "active",
        "default_aggregation": {"formula": formula},
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "value_settings": {"event_payload_key": "value"},
    }
    account.collection("billing.meter").add(created)
    account.service(Metering).activate(created)
    return created


def record(account: Account, value: str = "1", *, customer: str = "cus_a", timestamp: int | None = None,
           identifier: str | None = None, event_name: str = "tokens", strict: bool = False) -> str:
    return account.service(Metering).record(
        account,
        event_name,
        {"stripe_customer_id": customer, "value": value},
        T0 if timestamp is None else timestamp,
        identifier,
        strict,
    )


def total(account: Account, m: dict, customer: str = "cus_a") -> Decimal:
    return account.service(Metering).aggregate(m, customer, T0 - 40 * DAY, T0 + DAY)


def advance(account: Account, seconds: int) -> None:
    assert isinstance(account.clock, FrozenClock)
    account.clock.frozen_time += seconds


def test_aggregates_are_per_meter_and_customer(account: Account) -> None:
    tokens, calls = meter(account), meter(account, "count", "calls")
    record(account, "2.5")
    record(account, "-1")
    record(account, "10", customer="cus_b")
    record(account, "7", event_name="calls")
    assert total(account, tokens) == Decimal("1.5")
    assert total(account, tokens, "cus_b") == 10
    assert total(account, calls) == 1
    assert account.service(Metering).aggregate(tokens, "cus_a", T0 + 1, T0 + 60) == 0


def test_windows_mark_the_ones_without_events(account: Account) -> None:
    m = meter(account, "last")
    record(account, "3", timestamp=T0 - 7200)
    record(account, "0", timestamp=T0)
    edges = [T0 - 7200, T0 - 3600, T0, T0 + 3600]
    assert account.service(Metering).windows(m, "cus_a", edges) == [Decimal(3), None, Decimal(0)]
    assert account.service(Metering).windows(meter(account, event_name="other"), "cus_a", edges) == [None] * 3


def test_timestamp_window_boundaries(account: Account) -> None:
    meter(account)
    record(account, timestamp=T0 - 35 * DAY)
    record(account, timestamp=T0 + 300)
    for timestamp in (T0 - 35 * DAY - 1, T0 + 301):
        with pytest.raises(StripeError) as caught:
            record(account, timestamp=timestamp)
        assert caught.value.param == "timestamp"


def test_identifiers_are_unique_for_a_day_then_free(account: Account) -> None:
    m = meter(account)
    record(account, "1", identifier="once")
    advance(account, DAY - 1)
    with pytest.raises(StripeError) as caught:
        record(account, "2", identifier="once")
    assert caught.value.headers == {"Stripe-Should-Retry": "false"}
    advance(account, 1)
    record(account, "4", identifier="once", timestamp=T0)
    assert total(account, m) == 5


def test_identifiers_outlive_the_store_rotation(account: Account) -> None:
    meter(account)
    record(account)  # the store rotates a day after this
    advance(account, DAY // 2)
    record(account, identifier="mid")
    advance(account, DAY // 2)
    record(account)  # rotates: "mid" moves to the older generation
    advance(account, DAY // 4)
    with pytest.raises(StripeError):
        record(account, identifier="mid")
    advance(account, DAY // 4)
    record(account, identifier="mid")


def test_generated_identifiers_are_taken_without_being_stored(account: Account) -> None:
    meter(account)
    generated = record(account)
    with pytest.raises(StripeError):
        record(account, identifier=generated)
    # A client that sends the next generated-looking identifier first does not collide with it.
    prefix, row = generated.rsplit("-", 1)
    taken = f"{prefix}-{int(row) + 1}"
    record(account, identifier=taken)
    assert record(account) not in (generated, taken)
    assert account.service(Metering)._identifiers._recent == {taken: 1}


def test_cancel_within_a_day_only(account: Account) -> None:
    m = meter(account)
    metering = account.service(Metering)
    kept = record(account, "1")
    gone = record(account, "10", identifier="gone")
    metering.cancel(account, "tokens", gone, T0 + DAY - 1)
    assert total(account, m) == 1
    with pytest.raises(StripeError) as caught:
        metering.cancel(account, "tokens", kept, T0 + DAY)
    assert caught.value.param == "cancel[identifier]"
    with pytest.raises(StripeError):
        metering.cancel(account, "other", kept, T0)
    assert total(account, m) == 1


def test_dropped_events_are_kept_newest_first_and_capped(account: Account, monkeypatch) -> None:
    metering = account.service(Metering)
    meter(account)
    record(account, customer="cus_nobody")
    record(account, event_name="nothing", identifier="second")
    assert [(d["code"], d["identifier"]) for d in metering.dropped] == [
        ("no_meter", "second"),
        ("meter_event_customer_not_found", metering.dropped[1]["identifier"]),
    ]
    with pytest.raises(StripeError) as caught:
        record(account, event_name="nothing", strict=True)
    assert caught.value.code == "no_meter"
    assert len(metering.dropped) == 2
    for _ in range(metering.dropped.maxlen):
        record(account, event_name="nothing")
    assert len(metering.dropped) == metering.dropped.maxlen


def test_event_names_are_claimed_by_one_active_meter(account: Account) -> None:
    metering = account.service(Metering)
    first = meter(account)
    with pytest.raises(StripeError) as caught:
        metering.ensure_available("tokens")
    assert caught.value.param == "event_name"
    metering.deactivate(first)
    metering.ensure_available("tokens")
    record(account, customer="cus_a")
    assert metering.dropped[0]["code"] == "archived_meter"


def test_memory_per_event(account: Account) -> None:
    """Events without a client identifier (the common case) cost well under 250 bytes each."""
    meter(account)
    record(account)  # first-use allocations are not per event
    count = 10_000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        record(account, "3", timestamp=T0 - count + i)
    per_event = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    assert per_event < 100, per_event
