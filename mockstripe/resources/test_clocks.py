"""Test clocks: `/v1/test_helpers/test_clocks`.

A customer created with `test_clock` lives in the clock's frozen time, and so do its subscriptions,
invoices and meter events (`Account.clock_for`). Advancing the clock runs the billing that falls due
on the way (`cycling.advance`). Stripe advances asynchronously (`status: advancing`, then `ready`);
here the work is done within the request, so the clock comes back `ready` at its new time.
"""

from __future__ import annotations

from typing import Any

from ..domain import test_clocks as cycling
from ..routing import Area, Call, Endpoint
from ..wire.errors import invalid
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS
from ..wire.objects import ListOf, ObjectType
from ..wire.params import MAX_TIMESTAMP, Integer, String, Unsupported, endpoint

Obj = dict[str, Any]

# How long after its creation Stripe deletes a clock, as its API reference examples show (not done
# here: clocks stay until deleted). UNSURE: the docs' prose has also been read as 30 days.
DELETES_AFTER = 7 * 86_400
# UNSURE: Stripe's wording for an advance that goes backwards or too far.
NOT_AFTER = "The test clock's frozen_time can only move forward: {target} is not after its current frozen_time {now}."
TOO_FAR = (
    "A test clock can advance at most two intervals of the shortest subscription interval on it (two years "
    "without subscriptions): frozen_time must be at most {furthest}."
)

FROZEN_TIME = Integer(required=True, minimum=0, maximum=MAX_TIMESTAMP)
CREATE = endpoint(frozen_time=FROZEN_TIME, name=String(max_length=300), customer=Unsupported())
ADVANCE = endpoint(frozen_time=FROZEN_TIME)
LIST = endpoint(**PAGE_PARAMS, exclusive=PAGE_EXCLUSIVE)

TEST_CLOCK = ObjectType(name="test_helpers.test_clock", noun="test clock")
TYPE = TEST_CLOCK.name


def create(call: Call) -> Obj:
    created = call.now()
    clock = {
        "id": new_id("clock"),
        "object": TYPE,
        "created": created,
        "deletes_after": created + DELETES_AFTER,
        "frozen_time": call.params["frozen_time"],
        "livemode": False,
        "name": call.params.get("name"),
        "status": "ready",
        "status_details": {},
    }
    return call.account.create(clock)


def retrieve(call: Call) -> Obj:
    return call.path_object(TYPE)


def list_clocks(call: Call) -> Obj:
    return call.page(TYPE)


def advance(call: Call) -> Obj:
    clock = call.path_object(TYPE)
    target, now = call.params["frozen_time"], clock["frozen_time"]
    if target <= now:
        raise invalid(NOT_AFTER.format(target=target, now=now), param="frozen_time")
    furthest = cycling.furthest(call.account, clock)
    if target > furthest:
        raise invalid(TOO_FAR.format(furthest=furthest), param="frozen_time")
    cycling.advance(call.account, clock, target)
    return clock


def delete(call: Call) -> Obj:
    """Delete the clock with everything that lives in it: its customers, their subscription schedules,
    subscriptions (and items) and invoices, which then read as deleted (404)."""
    clock = call.path_object(TYPE)
    account = call.account
    for object_type in ("customer", "subscription_schedule", "subscription", "invoice"):
        collection = account.collection(object_type)
        for obj in list(collection.newest_first()):
            if obj["test_clock"] == clock["id"]:
                if object_type == "subscription":
                    for item in obj["items"]["data"]:
                        account.delete(item)
                account.delete(obj)
    return account.delete(clock)


PATH = "/v1/test_helpers/test_clocks"

AREA = Area(
    name="test_clocks",
    types=(TEST_CLOCK,),
    endpoints=(
        Endpoint("POST", PATH, create, CREATE, "Create a test clock at a frozen time", returns=TYPE),
        Endpoint("GET", PATH, list_clocks, LIST, "List test clocks, newest first", returns=ListOf(TYPE)),
        Endpoint("GET", PATH + "/{id}", retrieve, endpoint(), "Retrieve a test clock", returns=TYPE),
        Endpoint(
            "DELETE", PATH + "/{id}", delete, endpoint(),
            "Delete a test clock with its customers, their subscriptions and invoices", returns=TYPE,
        ),
        Endpoint(
            "POST", PATH + "/{id}/advance", advance, ADVANCE,
            "Advance a test clock: bill each period that ends on the way, in arrears", returns=TYPE,
        ),
    ),
)
