"""`--data-dir` under `kill -9` and SIGTERM: every write answered 200 is there after a restart, and
every webhook not yet delivered is sent then."""

from __future__ import annotations

import http.client
import http.server
import json
import random
import signal
import sys
import threading
import time
from typing import Any

import pytest

WRITERS = 6
ROUNDS = 4
SHUTDOWN_LIMIT_SECONDS = 2.0
KEY = "sk_test_kill"
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-www-form-urlencoded"}


def _write_until_killed(port: int, writer: int, round_: int, acknowledged: dict[str, Any], replays: dict[str, Any]) -> None:
    """Create customers (every third with an idempotency key) until the server is gone."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    n = 0
    while True:
        n += 1
        headers = dict(HEADERS)
        key = f"kill-{round_}-{writer}-{n}" if n % 3 == 0 else None
        if key is not None:
            headers["Idempotency-Key"] = key
        body = f"name=Writer+{writer}&metadata[round]={round_}&metadata[n]={n}"
        try:
            connection.request("POST", "/v1/customers", body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            return  # killed: whatever was not answered was not acknowledged
        assert response.status == 200, raw
        customer = json.loads(raw)
        acknowledged[customer["id"]] = customer
        if key is not None:
            replays[key] = (body, customer)


def _all_customers(port: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    found: dict[str, Any] = {}
    after = ""
    while True:
        connection.request("GET", f"/v1/customers?limit=100{after}", headers=HEADERS)
        page = json.loads(connection.getresponse().read())
        for customer in page["data"]:
            found[customer["id"]] = customer
        if not page["has_more"]:
            return found
        after = f"&starting_after={page['data'][-1]['id']}"


# The server with a snapshot every 64 KiB of journal (every few dozen writes): kills land while
# snapshots are being written too.
SNAPSHOTTING = (
    "import asyncio, sys; from mockstripe.cli import serve; from mockstripe.config import Config; "
    "sys.exit(asyncio.run(serve(Config(port=0, log_level='warning', data_dir=sys.argv[1], snapshot_after_bytes=65536))))"
)


@pytest.mark.parametrize("snapshots", ["rare", "frequent"])
def test_kill_9_at_random_moments_under_load_loses_no_acknowledged_write(spawn_server, tmp_path, snapshots):
    if snapshots == "rare":
        command = [sys.executable, "-m", "mockstripe", "--port", "0", "--log-level", "warning", "--data-dir", str(tmp_path)]
    else:
        command = [sys.executable, "-c", SNAPSHOTTING, str(tmp_path)]
    acknowledged: dict[str, Any] = {}
    replays: dict[str, Any] = {}
    chance = random.Random()
    for round_ in range(ROUNDS):
        server = spawn_server(command)
        if round_:
            # What every earlier round acknowledged is there, field for field.
            stored = _all_customers(server.port)
            assert {i: stored.get(i) for i in acknowledged} == acknowledged
        writers = [
            threading.Thread(target=_write_until_killed, args=(server.port, n, round_, acknowledged, replays))
            for n in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        time.sleep(chance.uniform(0.3, 1.2))
        server.process.kill()
        server.process.communicate()
        for writer in writers:
            writer.join(timeout=10)
    assert len(acknowledged) > ROUNDS * WRITERS

    server = spawn_server(command)
    stored = _all_customers(server.port)
    assert {i: stored.get(i) for i in acknowledged} == acknowledged
    # Nothing unacknowledged beyond the writes in flight at each kill.
    assert len(stored) - len(acknowledged) <= ROUNDS * WRITERS
    # Idempotency keys still replay their first answer.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for key, (body, customer) in list(replays.items())[-20:]:
        connection.request("POST", "/v1/customers", body=body, headers={**HEADERS, "Idempotency-Key": key})
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (200, customer)
        assert response.headers["Idempotent-Replayed"] == "true"
    assert server.stop()[0] == 0  # a clean stop gives back the journal's space allocated ahead


class HoldingReceiver:
    """A webhook receiver that leaves every delivery unanswered until released, then counts the
    customers of the `customer.created` events it is sent."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.customers: set[str] = set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not receiver.released.is_set():
                    receiver.released.wait(30)
                    return  # its sender has gone meanwhile
                receiver.customers.add(json.loads(body)["data"]["object"]["id"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_sigterm_under_load_keeps_every_write_and_every_webhook_not_yet_delivered(spawn_server, tmp_path):
    receiver = HoldingReceiver()
    command = [sys.executable, "-m", "mockstripe", "--port", "0", "--log-level", "warning", "--data-dir", str(tmp_path)]
    try:
        server = spawn_server(command)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request(
            "POST", "/v1/webhook_endpoints", body=f"url={receiver.url}&enabled_events[]=customer.created", headers=HEADERS
        )
        assert connection.getresponse().status == 200
        acknowledged: dict[str, Any] = {}
        writers = [
            threading.Thread(target=_write_until_killed, args=(server.port, n, 0, acknowledged, {})) for n in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        time.sleep(0.8)
        started = time.monotonic()
        code, _, err = server.stop(signal.SIGTERM)
        assert (code, "Traceback" in err) == (0, False), err
        assert time.monotonic() - started < SHUTDOWN_LIMIT_SECONDS
        for writer in writers:
            writer.join(timeout=10)
        assert acknowledged

        receiver.released.set()
        server = spawn_server(command)
        stored = _all_customers(server.port)
        assert {i: stored.get(i) for i in acknowledged} == acknowledged
        deadline = time.monotonic() + 20
        while not receiver.customers >= set(acknowledged) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert set(acknowledged) - receiver.customers == set()
        assert server.stop()[0] == 0
    finally:
        receiver.server.shutdown()
