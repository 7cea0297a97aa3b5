"""`/_mock/requests`, `/_mock/faults` and `/_mock/clock`: the caller's account's request log, its
injected faults, and its frozen clock."""

from __future__ import annotations

from itertools import islice
from typing import Any

from ..clock import FrozenClock
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.ids import new_id
from ..wire.lists import list_object
from ..wire.params import Enum, Integer, String, endpoint, require_one
from .faults import AFTER, BEFORE, KINDS, Fault, Faults
from .requestlog import request_log

MAX_LISTED_REQUESTS = 10_000
METHODS = ("GET", "POST", "DELETE")


def list_requests(call: Call) -> dict[str, Any]:
    params = call.params
    log = request_log(call.account, call.server.config.request_log_size)
    limit = params.get("limit") or 100
    matching = log.newest_first(params.get("method"), params.get("path"), params.get("status"))
    shown = list(islice(matching, limit + 1))
    return list_object([entry.render() for entry in shown[:limit]], len(shown) > limit, "/_mock/requests")


def clear_requests(call: Call) -> dict[str, Any]:
    log = request_log(call.account, call.server.config.request_log_size)
    return {"object": "mock.request_log", "cleared": log.clear()}


def _check_fault(values: dict[str, Any], path: str) -> None:
    if values["kind"] == "delay" and values.get("delay_ms") is None:
        raise invalid("A delay fault needs delay_ms.", param="delay_ms")
    if values["kind"] != "delay" and values.get("delay_ms") is not None:
        raise invalid("Only a delay fault takes delay_ms.", param="delay_ms")
    if values.get("value") is not None and values.get("param") is None:
        raise invalid("value matches a parameter: name it with param.", param="value")


ADD_FAULT = endpoint(
    kind=Enum(*KINDS, required=True),
    when=Enum(BEFORE, AFTER),
    method=Enum(*METHODS),
    path=String(max_length=500),
    param=String(max_length=500),
    value=String(),
    count=Integer(minimum=1),
    expires_in=Integer(minimum=1),
    delay_ms=Integer(minimum=0, maximum=60_000),
    checks=(_check_fault,),
)


def add_fault(call: Call) -> dict[str, Any]:
    params = call.params
    now = call.now()
    expires_in = params.get("expires_in")
    fault = Fault(
        id=new_id("fault"),
        kind=params["kind"],
        when=params.get("when") or BEFORE,
        path=params.get("path") or "*",
        method=params.get("method"),
        param=params.get("param"),
        value=params.get("value"),
        remaining=params.get("count") or 1,
        expires_at=None if expires_in is None else now + expires_in,
        delay_ms=params.get("delay_ms") or 0,
        created=now,
    )
    call.account.service(Faults).add(fault)
    return fault.render()


def list_faults(call: Call) -> dict[str, Any]:
    live = call.account.service(Faults).live(call.now())
    return list_object([fault.render() for fault in live], False, "/_mock/faults")


def clear_faults(call: Call) -> dict[str, Any]:
    return {"object": "mock.faults", "cleared": call.account.service(Faults).clear()}


def advance_clock(call: Call) -> dict[str, Any]:
    clock = call.account.clock
    if not isinstance(clock, FrozenClock):
        raise invalid(
            "This account's clock runs with real time: start the server with --freeze-time to stop it.",
            param="seconds",
        )
    target = call.params.get("to")
    seconds = call.params.get("seconds")
    if target is None:
        target = clock.frozen_time + seconds
    if target < clock.frozen_time:
        raise invalid(f"The clock cannot go back: it is at {clock.frozen_time}.", param="to")
    clock.frozen_time = target
    return {"object": "mock.clock", "frozen_time": clock.frozen_time}


AREA = Area(
    name="devtools",
    types=(),
    endpoints=(
        Endpoint(
            "GET",
            "/_mock/requests",
            list_requests,
            endpoint(
                limit=Integer(minimum=1, maximum=MAX_LISTED_REQUESTS),
                method=Enum(*METHODS),
                path=String(),
                status=String(max_length=3),
            ),
            "The account's recent API requests, newest first (filter by method, path, status)",
        ),
        Endpoint("DELETE", "/_mock/requests", clear_requests, endpoint(), "Empty the account's request log"),
        Endpoint(
            "POST",
            "/_mock/faults",
            add_fault,
            ADD_FAULT,
            "Make the account's matching requests fail (500, 429, 409, 402, delay, dropped connection)",
        ),
        Endpoint("GET", "/_mock/faults", list_faults, endpoint(), "The account's pending faults"),
        Endpoint("DELETE", "/_mock/faults", clear_faults, endpoint(), "Clear the account's faults"),
        Endpoint(
            "POST",
            "/_mock/clock/advance",
            advance_clock,
            endpoint(
                seconds=Integer(minimum=0),
                to=Integer(minimum=0),
                exclusive=(("seconds", "to"),),
                checks=(require_one("seconds", "to"),),
            ),
            "Move the account's frozen clock (`--freeze-time`) forward",
        ),
    ),
)
