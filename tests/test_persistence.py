"""`--data-dir`: what a user sees before a restart, they see after it (objects, lists, events,
idempotent replays, meter usage, test clocks, alerts, pending webhooks, seeded ids, clocks).

Each test runs twice: with the journal alone, and with a snapshot written after every request (so
that the restart loads snapshots and the journal after them)."""

from __future__ import annotations

import contextlib
import http.server
import json
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest
import stripe

from conformance.recording import ShapeCheckedClient, session_checker
from mockstripe import Config, serve_in_thread
from mockstripe.app import STATE, create_app
from mockstripe.cli import parse_args
from mockstripe.persistence import restore, write_snapshot
from mockstripe.store import Store
from tests import test_every_operation as every_operation
from tests.conftest import RawHTTP, fail_on_shape_violations
from tests.resources.conftest import Catalog

KEY = "sk_test_persisted"
DAY = 86400


class Restarts:
    """Servers started one after another on the same data directory."""

    def __init__(self, request: pytest.FixtureRequest, directory: Path, **config: Any) -> None:
        self.request = request
        self.directory = directory
        self.config = config

    @contextlib.contextmanager
    def serving(self, key: str = KEY, **config: Any) -> Iterator[stripe.StripeClient]:
        settings = Config(port=0, data_dir=str(self.directory), **{**self.config, **config})
        with serve_in_thread(settings) as url:
            http_client = ShapeCheckedClient(session_checker(self.request.config))
            self.url = url
            yield stripe.StripeClient(key, base_addresses={"api": url, "meter_events": url}, http_client=http_client)
            fail_on_shape_violations(http_client.violations)

    def raw(self, key: str = KEY) -> RawHTTP:
        return RawHTTP(self.url, key)


@pytest.fixture(params=["journal", "snapshots"])
def restarts(request: pytest.FixtureRequest, tmp_path: Path) -> Restarts:
    if request.param == "snapshots":
        return Restarts(request, tmp_path, snapshot_after_bytes=1)
    return Restarts(request, tmp_path)


def listed(client: stripe.StripeClient, resource: Any, **params: Any) -> list[dict[str, Any]]:
    return [obj.to_dict() for obj in resource.list({"limit": 100, **params}).auto_paging_iter()]


def test_objects_lists_and_events_are_the_same_after_a_restart(restarts):
    with restarts.serving() as client:
        customers = [client.v1.customers.create({"name": f"Customer {n}", "metadata": {"n": str(n)}}) for n in range(5)]
        client.v1.customers.update(customers[1].id, {"email": "one@example.com", "metadata": {"n": None}})
        client.v1.customers.delete(customers[2].id)
        price = client.v1.prices.create({"currency": "usd", "unit_amount": 500, "product_data": {"name": "Shirt"}})
        session = client.v1.checkout.sessions.create(
            {"mode": "payment", "line_items": [{"price": price.id, "quantity": 2}], "success_url": "https://example.com"}
        )
        before = {
            "customers": listed(client, client.v1.customers),
            "events": listed(client, client.v1.events),
            "deleted": client.v1.customers.retrieve(customers[2].id).to_dict(),
            "session": client.v1.checkout.sessions.retrieve(session.id).to_dict(),
            "products": listed(client, client.v1.products),
        }
    with restarts.serving() as client:
        after = {
            "customers": listed(client, client.v1.customers),
            "events": listed(client, client.v1.events),
            "deleted": client.v1.customers.retrieve(customers[2].id).to_dict(),
            "session": client.v1.checkout.sessions.retrieve(session.id).to_dict(),
            "products": listed(client, client.v1.products),
        }
        assert after == before
        assert [c["id"] for c in after["customers"]] == [customers[n].id for n in (4, 3, 1, 0)]
        assert after["deleted"] == {"id": customers[2].id, "object": "customer", "deleted": True}
        # Still live objects: they change and send events as before.
        client.v1.customers.update(customers[0].id, {"name": "Renamed"})
        assert client.v1.events.list({"limit": 1}).data[0].type == "customer.updated"
        expired = client.v1.checkout.sessions.expire(session.id)
        assert expired.status == "expired"


def test_idempotent_requests_replay_after_a_restart(restarts):
    with restarts.serving() as client:
        first = client.v1.customers.create({"name": "Once"}, {"idempotency_key": "signup-1"})
    with restarts.serving() as client:
        raw = restarts.raw()
        replayed = raw.post("/v1/customers", {"name": "Once"}, headers={"Idempotency-Key": "signup-1"})
        assert (replayed.status, replayed.body) == (200, first.to_dict())
        assert replayed.headers["Idempotent-Replayed"] == "true"
        other = raw.post("/v1/customers", {"name": "Twice"}, headers={"Idempotency-Key": "signup-1"})
        assert (other.status, other.error["type"]) == (400, "idempotency_error")
        assert [c.id for c in client.v1.customers.list()] == [first.id]


def test_meter_usage_identifiers_and_cancels_survive_a_restart(restarts):
    end = (int(time.time()) // 60 + 10) * 60
    window = {"start_time": end - 40 * DAY, "end_time": end}
    with restarts.serving() as client:
        catalog = Catalog(client)
        meter = catalog.meter("tokens")
        customer = catalog.customer()
        catalog.use(meter, customer, 25, identifier="first")
        catalog.use(meter, customer, 10)
        catalog.use(meter, customer, 1000, identifier="mistake")
        client.v1.billing.meter_event_adjustments.create(
            {"event_name": "tokens", "type": "cancel", "cancel": {"identifier": "mistake"}}
        )
        summaries = client.v1.billing.meters.event_summaries.list(meter.id, {"customer": customer.id, **window})
        assert summaries.data[0].aggregated_value == 35
    with restarts.serving() as client:
        again = client.v1.billing.meters.event_summaries.list(meter.id, {"customer": customer.id, **window})
        assert again.to_dict() == summaries.to_dict()
        with pytest.raises(stripe.InvalidRequestError) as caught:
            Catalog(client).use(meter, customer, 1, identifier="first")
        assert caught.value.param == "identifier"
        Catalog(client).use(meter, customer, 5)  # a generated identifier, unlike any before
        total = client.v1.billing.meters.event_summaries.list(meter.id, {"customer": customer.id, **window})
        assert total.data[0].aggregated_value == 40


T0 = int(datetime(2024, 1, 15, tzinfo=timezone.utc).timestamp())
P1 = int(datetime(2024, 2, 15, tzinfo=timezone.utc).timestamp())
P2 = int(datetime(2024, 3, 15, tzinfo=timezone.utc).timestamp())


def test_a_test_clock_goes_on_billing_after_a_restart(restarts):
    with restarts.serving() as client:
        catalog = Catalog(client)
        clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        customer = catalog.customer(test_clock=clock.id)
        meter = catalog.meter()
        subscription = catalog.subscribe(customer, catalog.metered_price(meter))
        catalog.use(meter, customer, 250, timestamp=T0 + 60)
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": P1 + 7200})
        invoices = listed(client, client.v1.invoices)
        assert [i["amount_due"] for i in invoices] == [12]
    with restarts.serving() as client:
        assert listed(client, client.v1.invoices) == invoices
        assert client.v1.test_helpers.test_clocks.retrieve(clock.id).frozen_time == P1 + 7200
        Catalog(client).use(meter, customer, 100, timestamp=P1 + 7200)
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": P2 + 7200})
        billed, first = client.v1.invoices.list({"subscription": subscription.id}).data
        assert first.to_dict() == invoices[0]
        assert (billed.status, billed.billing_reason, billed.period_end) == ("paid", "subscription_cycle", P2)
        assert billed.amount_due > 0


def test_invoice_payments_are_found_by_invoice_after_a_restart(restarts):
    with restarts.serving() as client:
        catalog = Catalog(client)
        subscription = catalog.subscribe(catalog.customer(), catalog.licensed_price())
        invoice = subscription.latest_invoice
        payments = listed(client, client.v1.invoice_payments, invoice=invoice)
        assert [(p["status"], p["amount_paid"]) for p in payments] == [("paid", 1000)]
    with restarts.serving() as client:
        assert listed(client, client.v1.invoice_payments, invoice=invoice) == payments
        again = Catalog(client).subscribe(Catalog(client).customer(), Catalog(client).licensed_price())
        assert client.v1.invoices.retrieve(again.latest_invoice).status == "paid"


def test_an_alert_triggers_once_across_restarts(restarts):
    with restarts.serving() as client:
        catalog = Catalog(client)
        meter = catalog.meter()
        customer = catalog.customer()
        catalog.subscribe(customer, catalog.metered_price(meter))
        client.v1.billing.alerts.create(
            {
                "alert_type": "usage_threshold",
                "title": "API usage",
                "usage_threshold": {"gte": 1000, "meter": meter.id, "recurrence": "one_time"},
            }
        )
        catalog.use(meter, customer, 600)
    with restarts.serving() as client:
        Catalog(client).use(meter, customer, 500)
        assert len(client.v1.events.list({"type": "billing.alert.triggered"}).data) == 1
    with restarts.serving() as client:
        Catalog(client).use(meter, customer, 500)
        assert len(client.v1.events.list({"type": "billing.alert.triggered"}).data) == 1


class Receiver:
    """A webhook receiver on a fixed port that answers 500 until told to accept."""

    def __init__(self) -> None:
        self.accepting = False
        self.received: list[bytes] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.accepting:
                    receiver.received.append(body)
                self.send_response(200 if receiver.accepting else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int) -> list[bytes]:
        deadline = time.monotonic() + 10
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


def test_webhooks_not_yet_delivered_are_sent_after_a_restart(restarts):
    receiver = Receiver()
    try:
        # Retries far off: the failed delivery is still pending when the server stops.
        with restarts.serving(webhook_retry_schedule=(600.0,)) as client:
            client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["customer.created"]})
            customer = client.v1.customers.create({"name": "Pending"})
            event = client.v1.events.list({"type": "customer.created"}).data[0]
            deadline = time.monotonic() + 10
            while client.v1.events.list({"delivery_success": False}).data == [] and time.monotonic() < deadline:
                time.sleep(0.02)
            assert client.v1.events.retrieve(event.id).pending_webhooks == 1
        receiver.accepting = True
        with restarts.serving() as client:
            (body,) = receiver.wait_for(1)
            assert json.loads(body)["data"]["object"]["id"] == customer.id
            deadline = time.monotonic() + 10
            while client.v1.events.retrieve(event.id).pending_webhooks and time.monotonic() < deadline:
                time.sleep(0.02)
            assert client.v1.events.retrieve(event.id).pending_webhooks == 0
        with restarts.serving():
            time.sleep(0.3)
            assert len(receiver.received) == 1  # delivered once, not again on the next start
    finally:
        receiver.server.shutdown()


def test_a_seeded_server_draws_the_same_ids_with_or_without_a_restart(request, tmp_path):
    restarted = Restarts(request, tmp_path / "restarted", seed=7, freeze_time=T0)
    with restarted.serving() as client:
        ids = [client.v1.customers.create({"name": "A"}).id for _ in range(3)]
    with restarted.serving() as client:
        ids += [client.v1.customers.create({"name": "B"}).id for _ in range(2)]
    straight = Restarts(request, tmp_path / "straight", seed=7, freeze_time=T0)
    with straight.serving() as client:
        assert [client.v1.customers.create({"name": "C"}).id for _ in range(5)] == ids


def test_an_advanced_account_clock_stays_advanced(restarts):
    with restarts.serving(freeze_time=T0):
        assert restarts.raw().post("/_mock/clock/advance", "seconds=3600").body["frozen_time"] == T0 + 3600
    with restarts.serving(freeze_time=T0) as client:
        assert client.v1.customers.create({"name": "Later"}).created == T0 + 3600


def test_a_reset_stays_reset(restarts):
    with restarts.serving() as client:
        client.v1.customers.create({"name": "Gone"})
        assert restarts.raw().post("/_mock/reset", f"api_key={KEY}").status == 200
        kept = client.v1.customers.create({"name": "Kept"})
    with restarts.serving() as client:
        assert [c.id for c in client.v1.customers.list()] == [kept.id]


def test_a_write_cut_short_is_ignored(request, tmp_path):
    restarts = Restarts(request, tmp_path)
    with restarts.serving() as client:
        kept = client.v1.customers.create({"name": "Kept"})
    (journal,) = tmp_path.glob("journal.*")
    with journal.open("ab") as file:  # what a kill in the middle of a frame leaves
        file.write(b"\x40\x00\x00\x00\x01\x02\x03\x04half a frame")
    with restarts.serving() as client:
        assert [c.id for c in client.v1.customers.list()] == [kept.id]
        later = client.v1.customers.create({"name": "Later"})
    with restarts.serving() as client:
        assert [c.id for c in client.v1.customers.list()] == [later.id, kept.id]


def test_a_snapshot_replaces_the_files_before_it(request, tmp_path):
    restarts = Restarts(request, tmp_path, snapshot_after_bytes=4096)
    with restarts.serving() as client:
        created = [client.v1.customers.create({"name": f"Customer {n}"}).id for n in range(40)]
    # A stop does not wait for a snapshot being written: it completes on its own.
    deadline = time.monotonic() + 10
    while list(tmp_path.glob("*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.02)
    with restarts.serving() as client:
        assert [c.id for c in client.v1.customers.list({"limit": 100})] == created[::-1]
    names = [path.name for path in tmp_path.iterdir() if path.name != "lock"]
    (snapshot,) = [name for name in names if name.startswith("snapshot.")]
    newest = int(snapshot.split(".")[1])
    assert newest > 1
    assert all(int(name.split(".")[1]) >= newest for name in names)


def test_a_snapshot_written_in_process_restores_the_same(request, tmp_path):
    restarts = Restarts(request, tmp_path)
    with restarts.serving() as client:
        created = client.v1.customers.create({"name": "Snapshotted"})
    app = create_app(Config(data_dir=str(tmp_path)))
    state = app[STATE]
    assert state.journal is not None
    state.journal.close()
    write_snapshot(tmp_path, state.journal.sequence + 1, state.store)
    with restarts.serving() as client:
        assert client.v1.customers.retrieve(created.id).to_dict() == created.to_dict()


# Run in a process of its own, so that its resident memory (RSS) is this script's alone: the growth
# of RSS while `count` customers (and their events) are stored and journaled ("fill"), or while a
# new server restores them from that journal ("restore").
_MEMORY_PROBE = """
import sys
from pathlib import Path
from mockstripe.app import STATE, create_app
from mockstripe.config import Config

def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096

directory, phase, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
create_app(Config())  # what any server costs, its imports included, before measuring
before = rss()
state = create_app(Config(data_dir=str(directory)))[STATE]
if phase == "fill":
    account = state.store.account("sk_test_memory")
    before = rss()
    for n in range(count):
        account.create({"id": f"cus_{n:014d}", "object": "customer", "name": f"Customer {n}", "metadata": {}})
        state.journal.flush(account)
print(rss() - before, state.store.object_count())
"""


def test_a_restart_keeps_journaled_events_in_the_memory_they_took_before(source_env, tmp_path):
    def probe(phase: str) -> tuple[int, int]:
        done = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, str(tmp_path), phase, "10000"],
            env=source_env, capture_output=True, text=True, timeout=120, check=True,
        )
        grown, objects = done.stdout.split()
        return int(grown), int(objects)

    stored, objects = probe("fill")
    restored, objects_again = probe("restore")
    assert objects == objects_again == 20_000  # the customers and their `customer.created` events
    # A replayed event once kept its `data` in the encoder's whole output buffer (about 8 KiB).
    assert restored < 2 * stored, (restored, stored)


def test_the_data_dir_comes_from_the_flag_or_the_environment(monkeypatch):
    monkeypatch.setenv("MOCKSTRIPE_DATA_DIR", "/var/lib/mockstripe")
    assert parse_args([]).data_dir == "/var/lib/mockstripe"
    assert parse_args(["--data-dir", "/elsewhere"]).data_dir == "/elsewhere"
    monkeypatch.delenv("MOCKSTRIPE_DATA_DIR")
    assert parse_args([]).data_dir is None


def test_without_a_data_dir_nothing_is_written(spawn_server, source_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the server's working directory, and its home below
    server = spawn_server([sys.executable, "-m", "mockstripe", "--port", "0"], env={**source_env, "HOME": str(tmp_path)})
    raw = RawHTTP(server.url, KEY)
    assert raw.post("/v1/customers", {"name": "Ephemeral"}).status == 200
    server.stop()
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_data_dir_is_reported(source_env, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = subprocess.run(
        [sys.executable, "-m", "mockstripe", "--port", "0", "--data-dir", str(blocker / "data")],
        env=source_env, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"mockstripe: cannot use {blocker / 'data'}:")



def _stored(store: Store) -> dict[Any, Any]:
    """Every account's objects, in order, as the API would encode them (empty collections are
    made by reading)."""
    return {
        name: {kind: orjson.dumps(list(c.objects.items())) for kind, c in account.collections.items() if c.objects}
        for name, account in store.accounts.items()
    }


async def test_every_operation_s_changes_come_back_from_the_journal_and_from_a_snapshot(
    aiohttp_client, monkeypatch, tmp_path
):
    made: list[Any] = []

    def persisting_app() -> Any:
        made.append(create_app(Config(data_dir=str(tmp_path / "data"))))
        return made[0]

    monkeypatch.setattr(every_operation, "create_app", persisting_app)
    await every_operation.test_every_operation_of_the_spec_answers(aiohttp_client)
    state = made[0][STATE]
    assert state.journal is not None
    state.journal.close()
    served = _stored(state.store)

    replayed = Store()
    restore(tmp_path / "data", replayed)
    assert _stored(replayed) == served
    (tmp_path / "snapshot").mkdir()
    write_snapshot(tmp_path / "snapshot", 1, state.store)
    loaded = Store()
    restore(tmp_path / "snapshot", loaded)
    assert _stored(loaded) == served
    assert {kind for a in loaded.accounts.values() for kind in a.services} == {
        kind for a in state.store.accounts.values() for kind in a.services if not kind.__module__.startswith("mockstripe.devtools")
    }


def test_a_data_dir_in_use_by_another_server_is_refused(spawn_server, source_env, tmp_path):
    spawn_server([sys.executable, "-m", "mockstripe", "--port", "0", "--data-dir", str(tmp_path)])
    done = subprocess.run(
        [sys.executable, "-m", "mockstripe", "--port", "0", "--data-dir", str(tmp_path)],
        env=source_env, capture_output=True, text=True, timeout=30,
    )
    assert (done.returncode, done.stderr) == (1, f"mockstripe: cannot use {tmp_path}: in use by another mockstripe\n")
