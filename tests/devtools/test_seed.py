"""`--seed` and `--freeze-time`: the same calls get byte-identical answers from every server."""

from __future__ import annotations

from typing import Any

import pytest

from mockstripe.app import create_app
from mockstripe.cli import parse_args
from mockstripe.config import Config

T = 1_767_225_600  # 2026-01-01T00:00:00Z
KEY = {"Authorization": "Bearer sk_test_seeded"}

# A script touching every kind of id, secret and time the server makes: (method, path, body).
SCRIPT: list[tuple[str, str, Any]] = [
    ("POST", "/v1/customers", "name=Ada&email=ada%40example.com"),
    ("POST", "/v1/billing/meters", "display_name=Tokens&event_name=tokens&default_aggregation[formula]=sum"
     "&customer_mapping[event_payload_key]=stripe_customer_id&customer_mapping[type]=by_id"
     "&value_settings[event_payload_key]=value"),
    ("POST", "/v1/prices", "currency=usd&unit_amount=4&recurring[interval]=month&recurring[usage_type]=metered"
     "&recurring[meter]={meter}&product_data[name]=Tokens"),
    ("POST", "/v1/test_helpers/test_clocks", f"frozen_time={T}"),
    ("POST", "/v1/customers", "name=Bo&test_clock={clock}"),
    ("POST", "/v1/subscriptions", "customer={customer}&items[0][price]={price}"),
    ("POST", "/v1/billing/meter_events", "event_name=tokens&payload[stripe_customer_id]={customer}&payload[value]=25"),
    ("POST", "/v1/invoices/create_preview", "subscription={subscription}"),
    ("POST", "/v1/test_helpers/test_clocks/{clock}/advance", f"frozen_time={T + 40 * 86400}"),
    ("GET", "/v1/invoices", None),
    ("POST", "/v2/billing/meter_event_session", {}),
    ("GET", "/v1/customers/cus_missing", None),
    ("POST", "/_mock/clock/advance", "seconds=3600"),
    ("POST", "/v1/customers", "name=Later"),
    ("GET", "/v1/events", "limit=100"),
]


async def run_step(client, step: tuple[str, str, Any], found: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    method, path, body = step
    path = path.format(**found)
    if isinstance(body, dict):
        reply = await client.request(method, path, json=body, headers=KEY)
    elif method == "GET":
        reply = await client.request(method, path + (f"?{body}" if body else ""), headers=KEY)
    else:
        reply = await client.request(method, path, data=body.format(**found), headers=KEY)
    raw = await reply.read()
    answer = await reply.json()
    for name in ("customer", "meter", "price", "clock", "subscription"):
        prefix = {"customer": "cus_", "meter": "mtr_", "price": "price_", "clock": "clock_", "subscription": "sub_"}[name]
        if str(answer.get("id", "")).startswith(prefix) and name not in found:
            found[name] = answer["id"]
    headers = {name: reply.headers[name] for name in ("Request-Id",) if name in reply.headers}
    return reply.status, headers, raw


async def test_two_servers_with_the_same_seed_and_frozen_time_answer_byte_for_byte_alike(aiohttp_client):
    # Both in one process and driven in turns: each server owns its id source.
    first = await aiohttp_client(create_app(Config(seed=42, freeze_time=T)))
    second = await aiohttp_client(create_app(Config(seed=42, freeze_time=T)))
    found_first: dict[str, str] = {}
    found_second: dict[str, str] = {}

    for step in SCRIPT:
        one = await run_step(first, step, found_first)
        two = await run_step(second, step, found_second)
        assert one == two, step
        assert one[0] in (200, 404), one

    assert found_first == found_second
    assert set(found_first) == {"customer", "meter", "price", "clock", "subscription"}


async def test_another_seed_gives_other_ids(aiohttp_client):
    first = await aiohttp_client(create_app(Config(seed=1, freeze_time=T)))
    second = await aiohttp_client(create_app(Config(seed=2, freeze_time=T)))

    one = await run_step(first, SCRIPT[0], {})
    two = await run_step(second, SCRIPT[0], {})

    assert one[2] != two[2]


async def test_without_a_seed_ids_differ_from_server_to_server(aiohttp_client):
    first = await aiohttp_client(create_app(Config(freeze_time=T)))
    second = await aiohttp_client(create_app(Config(freeze_time=T)))

    one = await run_step(first, SCRIPT[0], {})
    two = await run_step(second, SCRIPT[0], {})

    assert one[2] != two[2]


async def test_ids_follow_the_order_accounts_are_first_used_not_their_keys(aiohttp_client):
    first = await aiohttp_client(create_app(Config(seed=42, freeze_time=T)))
    second = await aiohttp_client(create_app(Config(seed=42, freeze_time=T)))

    one = await first.post("/v1/customers", data="name=Ada", headers={"Authorization": "Bearer sk_test_one"})
    two = await second.post("/v1/customers", data="name=Ada", headers={"Authorization": "Bearer sk_test_two"})

    assert (await one.json())["id"] == (await two.json())["id"]


async def test_a_frozen_clock_stands_still_until_advanced(aiohttp_client):
    client = await aiohttp_client(create_app(Config(freeze_time=T)))

    created = (await (await client.post("/v1/customers", data="name=A", headers=KEY)).json())["created"]
    moved = await (await client.post("/_mock/clock/advance", data="seconds=90", headers=KEY)).json()
    later = (await (await client.post("/v1/customers", data="name=B", headers=KEY)).json())["created"]
    jumped = await (await client.post("/_mock/clock/advance", data=f"to={T + 1000}", headers=KEY)).json()

    assert created == T
    assert moved == {"object": "mock.clock", "frozen_time": T + 90}
    assert later == T + 90
    assert jumped["frozen_time"] == T + 1000


async def test_the_clock_does_not_go_back(aiohttp_client):
    client = await aiohttp_client(create_app(Config(freeze_time=T)))

    reply = await client.post("/_mock/clock/advance", data=f"to={T - 1}", headers=KEY)

    assert reply.status == 400
    assert (await reply.json())["error"]["param"] == "to"


async def test_a_running_clock_cannot_be_advanced(aiohttp_client):
    client = await aiohttp_client(create_app(Config()))

    reply = await client.post("/_mock/clock/advance", data="seconds=5", headers=KEY)

    assert reply.status == 400
    assert "--freeze-time" in (await reply.json())["error"]["message"]


@pytest.mark.parametrize(
    ("argv", "env", "seed", "frozen"),
    [
        (["--seed", "7", "--freeze-time", "2026-01-01T00:00:00Z"], {}, 7, T),
        (["--freeze-time", str(T)], {}, None, T),
        ([], {"MOCKSTRIPE_SEED": "9", "MOCKSTRIPE_FREEZE_TIME": "2026-01-01T01:00:00+01:00"}, 9, T),
        ([], {}, None, None),
    ],
)
def test_seed_and_frozen_time_from_flags_or_environment(monkeypatch, argv, env, seed, frozen):
    for name in ("MOCKSTRIPE_SEED", "MOCKSTRIPE_FREEZE_TIME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    args = parse_args(argv)

    assert (args.seed, args.freeze_time) == (seed, frozen)


@pytest.mark.parametrize("argv", [["--seed", "x"], ["--freeze-time", "soon"], ["--request-log-size", "-1"]])
def test_bad_values_are_refused(argv, capsys):
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "error" in capsys.readouterr().err


def test_request_log_size_from_the_environment(monkeypatch):
    monkeypatch.setenv("MOCKSTRIPE_REQUEST_LOG_SIZE", "5")
    monkeypatch.setenv("MOCKSTRIPE_RATE_LIMIT", "1")

    args = parse_args([])

    assert (args.request_log_size, args.rate_limit) == (5, True)
