"""Promotion codes: `/v1/promotion_codes`, customer-facing codes for a coupon."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..domain.discounts import active_with_code
from ..routing import Area, Call, Endpoint
from ..store import Account
from ..wire.errors import invalid
from ..wire.ids import new_id, random_upper
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    AMOUNT,
    CREATED_FILTER,
    TIMESTAMP,
    Boolean,
    Currency,
    Enum,
    Hash,
    Integer,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    merge_metadata,
    missing,
)

# UNSURE: Stripe's wordings for these refusals.
CODE_TAKEN = "An active promotion code with `code: {code}` already exists."
BAD_CODE = "Invalid code: a promotion code may contain only letters and digits."
EXPIRES_PAST = "Invalid expires_at: must be in the future."
MINIMUM_WITHOUT_CURRENCY = "You must pass minimum_amount_currency when passing minimum_amount."
# Codes are letters and digits; Stripe compares them without regard to case.
CODE = re.compile(r"^[A-Za-z0-9]+$")
MAX_CODE = 500
# UNSURE: a generated code: 8 upper-case letters and digits.
GENERATED_CODE_LENGTH = 8


@dataclass(frozen=True, kw_only=True)
class Code(String):
    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        code = super().coerce(value, path, account)
        if not CODE.match(code):
            raise invalid(BAD_CODE, param=path)
        return code


def _minimum_has_currency(restrictions: dict[str, Any], path: str) -> None:
    if restrictions.get("minimum_amount") is not None and restrictions.get("minimum_amount_currency") is None:
        raise invalid(MINIMUM_WITHOUT_CURRENCY, param=f"{path}[minimum_amount_currency]")


def _coupon_named(promotion: dict[str, Any], path: str) -> None:
    if promotion.get("coupon") is None:
        raise missing(f"{path}[coupon]")


CREATE = endpoint(
    promotion=Hash(
        required=True,
        fields={"type": Enum("coupon", required=True), "coupon": Ref(object_type="coupon", noun="coupon")},
        checks=(_coupon_named,),
    ),
    code=Code(max_length=MAX_CODE),
    active=Boolean(),
    customer=Ref(object_type="customer", noun="customer"),
    customer_account=Unsupported(),
    expires_at=TIMESTAMP,
    max_redemptions=Integer(minimum=1),
    metadata=Map(),
    restrictions=Hash(
        fields={
            "first_time_transaction": Boolean(),
            "minimum_amount": AMOUNT,
            "minimum_amount_currency": Currency(),
            "currency_options": Unsupported(),
        },
        checks=(_minimum_has_currency,),
    ),
)
UPDATE = endpoint(
    active=Boolean(),
    metadata=Map(),
    restrictions=Hash(fields={"currency_options": Unsupported()}),
)
LIST = endpoint(
    **PAGE_PARAMS,
    active=Boolean(),
    code=String(),
    coupon=String(),
    created=CREATED_FILTER,
    customer=String(),
    customer_account=Unsupported(),
    exclusive=PAGE_EXCLUSIVE,
)

PROMOTION_CODE = ObjectType(
    name="promotion_code",
    noun="promotion code",
    expandable={"customer": "customer", "promotion.coupon": "coupon"},
)


def create(call: Call) -> dict[str, Any]:
    params = call.params
    now = call.now()
    code = params.get("code") or random_upper(GENERATED_CODE_LENGTH)
    active = params.get("active", True) is not False
    if active and active_with_code(call.account, code) is not None:
        raise invalid(CODE_TAKEN.format(code=code), param="code")
    if params.get("expires_at") is not None and params["expires_at"] <= now:
        raise invalid(EXPIRES_PAST, param="expires_at")
    restrictions = params.get("restrictions") or {}
    promotion_code: dict[str, Any] = {
        "id": new_id("promo"),
        "object": "promotion_code",
        "active": active,
        "code": code,
        "created": now,
        "customer": params.get("customer"),
        "customer_account": None,
        "expires_at": params.get("expires_at"),
        "livemode": False,
        "max_redemptions": params.get("max_redemptions"),
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "promotion": {"coupon": params["promotion"]["coupon"], "type": "coupon"},
        "restrictions": {
            "first_time_transaction": bool(restrictions.get("first_time_transaction")),
            "minimum_amount": restrictions.get("minimum_amount"),
            "minimum_amount_currency": restrictions.get("minimum_amount_currency"),
        },
        "times_redeemed": 0,
    }
    return call.account.create(promotion_code)


def retrieve(call: Call) -> dict[str, Any]:
    return call.path_object("promotion_code", "promotion_code")


def update(call: Call) -> dict[str, Any]:
    promotion_code = call.path_object("promotion_code", "promotion_code")
    params = call.params
    changes: dict[str, Any] = {}
    if "metadata" in params:
        changes["metadata"] = merge_metadata(promotion_code["metadata"], params["metadata"])
    if params.get("active") is not None:
        reactivated = params["active"] and not promotion_code["active"]
        if reactivated and active_with_code(call.account, promotion_code["code"]) is not None:
            raise invalid(CODE_TAKEN.format(code=promotion_code["code"]), param="active")
        changes["active"] = params["active"]
    return call.account.update(promotion_code, changes)


def list_promotion_codes(call: Call) -> dict[str, Any]:
    params = call.params
    created = params.get("created")
    code = params.get("code")

    def keep(promotion_code: dict[str, Any]) -> bool:
        return (
            all(
                params.get(key) is None or value == params[key]
                for key, value in (
                    ("active", promotion_code["active"]),
                    ("coupon", promotion_code["promotion"]["coupon"]),
                    ("customer", promotion_code["customer"]),
                )
            )
            and (code is None or promotion_code["code"].casefold() == code.casefold())
            and (created is None or in_range(promotion_code["created"], created))
        )

    return call.page("promotion_code", keep)


AREA = Area(
    name="promotion_codes",
    types=(PROMOTION_CODE,),
    endpoints=(
        Endpoint("POST", "/v1/promotion_codes", create, CREATE, "Create a promotion code", returns="promotion_code"),
        Endpoint(
            "GET",
            "/v1/promotion_codes",
            list_promotion_codes,
            LIST,
            "List promotion codes, newest first",
            returns=ListOf("promotion_code"),
        ),
        Endpoint(
            "GET",
            "/v1/promotion_codes/{promotion_code}",
            retrieve,
            endpoint(),
            "Retrieve a promotion code",
            returns="promotion_code",
        ),
        Endpoint(
            "POST",
            "/v1/promotion_codes/{promotion_code}",
            update,
            UPDATE,
            "Update a promotion code's active flag or metadata",
            returns="promotion_code",
        ),
    ),
)
