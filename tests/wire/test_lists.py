"""List responses: shape, newest first, limits, cursors both ways and filters."""

from __future__ import annotations

import pytest
import stripe

from mockstripe.clock import FrozenClock
from mockstripe.store import Account
from mockstripe.wire.errors import StripeError
from mockstripe.wire.lists import in_range, list_object, paginate


def create_customers(raw, count: int) -> list[str]:
    """Ids of `count` new customers, oldest first."""
    return [raw.post("/v1/customers", f"name=c{i}").body["id"] for i in range(count)]


def ids(page: dict) -> list[str]:
    return [obj["id"] for obj in page["data"]]


# Over HTTP.


def test_empty_list_shape(raw):
    assert raw.get("/v1/customers").body == {"object": "list", "data": [], "has_more": False, "url": "/v1/customers"}


def test_newest_first_with_a_default_limit_of_ten(raw):
    created = create_customers(raw, 12)
    page = raw.get("/v1/customers").body
    assert ids(page) == created[::-1][:10]
    assert page["has_more"] is True
    assert page["url"] == "/v1/customers"


def test_limit_bounds(raw):
    created = create_customers(raw, 3)
    assert ids(raw.get("/v1/customers?limit=1").body) == [created[-1]]
    assert ids(raw.get("/v1/customers?limit=100").body) == created[::-1]
    assert raw.get("/v1/customers?limit=3").body["has_more"] is False
    for bad in ("0", "101", "-1", "ten"):
        reply = raw.get(f"/v1/customers?limit={bad}")
        assert reply.status == 400
        assert reply.error["param"] == "limit"


def test_walk_25_customers_with_starting_after_and_ending_before(raw):
    created = create_customers(raw, 25)
    newest_first = created[::-1]

    seen, cursor = [], None
    while True:
        page = raw.get("/v1/customers?limit=10" + (f"&starting_after={cursor}" if cursor else "")).body
        seen += ids(page)
        if not page["has_more"]:
            break
        cursor = seen[-1]
    assert seen == newest_first

    # Back up from the oldest: each page holds the newer neighbours, still newest first.
    seen, cursor = [], created[0]
    pages = []
    while True:
        page = raw.get(f"/v1/customers?limit=10&ending_before={cursor}").body
        pages.append(ids(page))
        if not page["has_more"]:
            break
        cursor = page["data"][0]["id"]
    assert pages == [newest_first[14:24], newest_first[4:14], newest_first[0:4]]


def test_sdk_auto_paging_iter_returns_everything_newest_first(stripe_client):
    created = [stripe_client.v1.customers.create({"name": f"c{i}"}).id for i in range(25)]
    listed = [c.id for c in stripe_client.v1.customers.list({"limit": 7}).auto_paging_iter()]
    assert listed == created[::-1]


def test_unknown_cursor(raw):
    for name in ("starting_after", "ending_before"):
        reply = raw.get(f"/v1/customers?{name}=cus_nope")
        assert reply.status == 400
        assert reply.error["code"] == "resource_missing"
        assert reply.error["param"] == name
        assert reply.error["message"] == "No such customer: 'cus_nope'"


def test_both_cursors_at_once(raw):
    first, second = create_customers(raw, 2)
    reply = raw.get(f"/v1/customers?starting_after={first}&ending_before={second}")
    assert reply.status == 400
    assert reply.error["message"] == "You may only specify one of these parameters: starting_after, ending_before."


def test_filter_by_email(raw):
    raw.post("/v1/customers", "email=a@example.com&name=first")
    raw.post("/v1/customers", "email=b@example.com")
    raw.post("/v1/customers", "email=a@example.com&name=second")
    page = raw.get("/v1/customers?email=a@example.com").body
    assert [c["name"] for c in page["data"]] == ["second", "first"]
    assert raw.get("/v1/customers?email=A@example.com").body["data"] == []  # case-sensitive, as on Stripe


def test_deleted_objects_are_not_listed(raw):
    kept, gone = create_customers(raw, 2)
    raw.delete(f"/v1/customers/{gone}")
    assert ids(raw.get("/v1/customers").body) == [kept]


async def create_at(in_process, clock: FrozenClock, times: tuple[int, ...]) -> dict[int, str]:
    """Customer ids by the `created` time each was made at."""
    made = {}
    for at in times:
        clock.frozen_time = at
        made[at] = (await in_process.client.v1.customers.create_async()).id
    return made


async def test_filter_by_created(in_process):
    clock = in_process.account.clock = FrozenClock(0)
    made = await create_at(in_process, clock, (1_000, 2_000, 3_000, 4_000))

    async def listed(params: dict) -> list[int]:
        page = await in_process.client.v1.customers.list_async(params)
        return [next(at for at, cid in made.items() if cid == c.id) for c in page.data]

    assert await listed({"created": 2_000}) == [2_000]
    assert await listed({"created": {"gt": 2_000}}) == [4_000, 3_000]
    assert await listed({"created": {"gte": 2_000}}) == [4_000, 3_000, 2_000]
    assert await listed({"created": {"lt": 3_000}}) == [2_000, 1_000]
    assert await listed({"created": {"lte": 3_000, "gt": 1_000}}) == [3_000, 2_000]
    assert await listed({"created": {"gt": 2_000}, "limit": 1}) == [4_000]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await in_process.client.v1.customers.list_async({"created": {"after": 1}})  # type: ignore[typeddict-unknown-key]  # deliberately not what the SDK's types allow
    assert caught.value.param == "created[after]"


async def test_filters_combine_with_cursors(in_process):
    clock = in_process.account.clock = FrozenClock(0)
    made = await create_at(in_process, clock, (10, 20, 30, 40))
    page = await in_process.client.v1.customers.list_async({"created": {"gte": 20}, "starting_after": made[40]})
    assert [c.id for c in page.data] == [made[30], made[20]]


# Unit: paginate and in_range.


def account_with(count: int) -> tuple[Account, list[dict]]:
    account = Account(key="sk_test_unit")
    objects = [account.collection("thing").add({"id": f"th_{i}", "n": i}) for i in range(count)]
    return account, objects


def page(account: Account, params: dict, keep=None) -> dict:
    return paginate(
        account.collection("thing").newest_first(), params, "/v1/things",
        account=account, object_type="thing", noun="thing", keep=keep,
    )


def test_paginate_pages_and_has_more():
    account, _ = account_with(5)
    assert ids(page(account, {"limit": 2})) == ["th_4", "th_3"]
    assert ids(page(account, {"limit": 2, "starting_after": "th_3"})) == ["th_2", "th_1"]
    assert page(account, {"limit": 2, "starting_after": "th_1"}) == list_object([{"id": "th_0", "n": 0}], False, "/v1/things")
    before = page(account, {"limit": 2, "ending_before": "th_1"})
    assert (ids(before), before["has_more"]) == (["th_3", "th_2"], True)
    assert ids(page(account, {"ending_before": "th_4"})) == []


def test_paginate_filters_after_the_cursor():
    account, _ = account_with(6)
    even = page(account, {"limit": 2, "starting_after": "th_5"}, keep=lambda obj: obj["n"] % 2 == 0)
    assert (ids(even), even["has_more"]) == (["th_4", "th_2"], True)


def test_paginate_unknown_cursor():
    account, _ = account_with(1)
    with pytest.raises(StripeError) as caught:
        page(account, {"ending_before": "th_9"})
    assert (caught.value.code, caught.value.param, caught.value.message) == (
        "resource_missing", "ending_before", "No such thing: 'th_9'",
    )


def test_in_range():
    assert in_range(5, 5) and not in_range(5, 6)
    assert in_range(5, {"gt": 4, "lt": 6}) and not in_range(5, {"gt": 5})
    assert in_range(5, {"gte": 5, "lte": 5}) and not in_range(5, {"lte": 4})
    assert in_range(5, {})
