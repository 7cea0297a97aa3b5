"""Plans: `GET /v1/plans` and `/v1/plans/{plan}`, the legacy mirror Stripe keeps of each recurring
price (same id; see `domain.subscriptions.plan_of`)."""

from __future__ import annotations

from typing import Any

from ..domain.subscriptions import plan_of
from ..routing import Area, Call, Endpoint
from ..wire.errors import no_such
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range, paginate
from ..wire.objects import ListOf
from ..wire.params import CREATED_FILTER, Boolean, Ref, endpoint

Obj = dict[str, Any]

LIST = endpoint(
    **PAGE_PARAMS,
    active=Boolean(),
    created=CREATED_FILTER,
    product=Ref(object_type="product", noun="product"),
    exclusive=PAGE_EXCLUSIVE,
)


def retrieve(call: Call) -> Obj:
    plan_id = call.path_params["plan"]
    price = call.account.find("price", plan_id)
    if price is None or price["recurring"] is None:
        raise no_such("plan", plan_id, "plan", status=404)
    return plan_of(price)


def list_plans(call: Call) -> Obj:
    active, created, product = (call.params.get(k) for k in ("active", "created", "product"))

    def keep(plan: Obj) -> bool:
        return (
            active in (None, plan["active"])
            and product in (None, plan["product"])
            and (created is None or in_range(plan["created"], created))
        )

    plans = (plan_of(p) for p in call.account.collection("price").newest_first() if p["recurring"] is not None)
    # A plan's id is its price's: cursors are looked up among the prices.
    return paginate(plans, call.params, call.path, account=call.account, object_type="price", noun="plan", keep=keep)


AREA = Area(
    name="plans",
    types=(),
    endpoints=(
        Endpoint("GET", "/v1/plans", list_plans, LIST, "List the plans of recurring prices, newest first", returns=ListOf("plan")),
        Endpoint("GET", "/v1/plans/{plan}", retrieve, endpoint(), "Retrieve the plan of a recurring price", returns="plan"),
    ),
)
