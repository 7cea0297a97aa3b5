"""Plans: `GET /v1/plans` and `/v1/plans/{plan}`, the legacy mirror Stripe keeps of each recurring
price (same id; see `domain.subscriptions.plan_of`)."""

from __future__ import annotations

from typing import Any

from ..domain.subscriptions import plan_of
from ..routing import Area, Call, Endpoint
from ..wire.errors import no_such
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range, paginate_computed
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
    if price is not None and price["recurring"] is not None:
        return plan_of(price)
    # A plan made through `POST /v1/plans` (answered by the generic layer) is kept as itself.
    made = call.account.find("plan", plan_id)
    if made is None:
        raise no_such("plan", plan_id, "plan", status=404)
    return made


def list_plans(call: Call) -> Obj:
    active, created, product = (call.params.get(k) for k in ("active", "created", "product"))

    def keep(plan: Obj) -> bool:
        return (
            active in (None, plan["active"])
            and product in (None, plan["product"])
            and (created is None or in_range(plan["created"], created))
        )

    mirrored = [plan_of(p) for p in call.account.collection("price").newest_first() if p["recurring"] is not None]
    made = list(call.account.collection("plan").newest_first())
    plans = sorted(mirrored + made, key=lambda plan: plan["created"], reverse=True) if made else mirrored
    return paginate_computed([p for p in plans if keep(p)], call.params, call.path, noun="plan")


AREA = Area(
    name="plans",
    types=(),
    endpoints=(
        Endpoint("GET", "/v1/plans", list_plans, LIST, "List the plans of recurring prices, newest first", returns=ListOf("plan")),
        Endpoint("GET", "/v1/plans/{plan}", retrieve, endpoint(), "Retrieve the plan of a recurring price", returns="plan"),
    ),
)
