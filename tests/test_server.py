"""Embedding: `serve_in_thread`, `create_app` and the package's public names."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest
import stripe

from mockstripe import Config, __version__, create_app, serve_in_thread
from mockstripe.server import base_url


def client(url: str, key: str = "sk_test_shared") -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": url}, max_network_retries=0)


def test_two_servers_in_one_process_are_independent():
    with serve_in_thread() as first, serve_in_thread() as second:
        assert first != second
        customer = client(first).v1.customers.create({"name": "Jenny"})

        assert client(first).v1.customers.retrieve(customer.id).name == "Jenny"
        with pytest.raises(stripe.InvalidRequestError) as missing:
            client(second).v1.customers.retrieve(customer.id)
        assert missing.value.http_status == 404
        assert missing.value.code == "resource_missing"


def test_leaving_the_block_stops_the_server_and_its_thread():
    threads_before = set(threading.enumerate())
    with serve_in_thread() as url:
        assert client(url).v1.customers.list().data == []
        (server_thread,) = set(threading.enumerate()) - threads_before
        assert server_thread.name == "mockstripe"

    assert not server_thread.is_alive()
    parts = urlsplit(url)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((parts.hostname, parts.port), timeout=5)


def test_a_port_in_use_raises_in_the_caller():
    with serve_in_thread() as url:
        taken = urlsplit(url).port
        threads_before = set(threading.enumerate())

        with pytest.raises(OSError, match="address already in use"):
            with serve_in_thread(Config(port=taken)):
                pass  # pragma: no cover (never reached)
        assert set(threading.enumerate()) == threads_before


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:12111"), ("localhost", "http://localhost:12111"), ("::1", "http://[::1]:12111")],
)
def test_base_url_brackets_ipv6_hosts(host, url):
    assert base_url(host, 12111) == url


async def test_create_app_embeds_in_an_aiohttp_test_client(aiohttp_client):
    api = await aiohttp_client(create_app(Config()))

    reply = await api.get("/_mock/health")

    health = await reply.json()
    assert (health["status"], health["version"], health["accounts"], health["objects"]) == ("ok", __version__, 0, 0)


def test_importing_the_package_and_plugin_leaves_the_server_unloaded(source_env):
    probe = "import sys, mockstripe, mockstripe.pytest_plugin; print(sorted({'aiohttp', 'orjson'} & set(sys.modules)))"

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=source_env, timeout=20)

    assert done.stdout == "[]\n", done.stderr


def test_unknown_public_names_raise_attribute_error():
    import mockstripe  # noqa: PLC0415 (the module itself, not the names the test file imports from it)

    with pytest.raises(AttributeError, match="has no attribute 'serve'"):
        mockstripe.serve  # noqa: B018 (the attribute access is what is tested)
