"""Products: `/v1/products`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..routing import Area, Call, Endpoint
from .generic import parents_of
from ..store import Account
from ..wire.errors import StripeError
from ..wire.ids import new_id
from ..wire.lists import PAGE_EXCLUSIVE, PAGE_PARAMS, in_range
from ..wire.objects import ListOf, ObjectType
from ..wire.params import (
    CREATED_FILTER,
    Boolean,
    DecimalString,
    Enum,
    Hash,
    List,
    Map,
    Ref,
    String,
    Unsupported,
    endpoint,
    invalid,
    merge_metadata,
)

# Stripe refuses to delete a product any price points at, active or archived.
HAS_PRICES = "This product cannot be deleted because it has one or more user-created prices."
# UNSURE: the wording for a caller-chosen id that is already taken.
ID_TAKEN = "Product already exists."


@dataclass(frozen=True, kw_only=True)
class NewProductId(String):
    """A caller-chosen product id: it must not name an existing (or deleted) product."""

    def coerce(self, value: Any, path: str, account: Account | None) -> str:
        chosen = super().coerce(value, path, account)
        if account is not None and chosen in account.collection("product").objects:
            raise StripeError(ID_TAKEN, code="resource_already_exists", param=path)
        return chosen


# Inches and ounces, at most two decimals, as on Stripe.
DIMENSION = DecimalString(required=True, max_places=2, minimum=Decimal(0))
PACKAGE_DIMENSIONS = Hash(
    nullable=True,
    fields={"height": DIMENSION, "length": DIMENSION, "weight": DIMENSION, "width": DIMENSION},
)
MARKETING_FEATURES = List(
    nullable=True, max_items=15, item=Hash(fields={"name": String(required=True, max_length=80)})
)
STATEMENT_DESCRIPTOR = String(max_length=22)
UNIT_LABEL = String(max_length=12)

# What a product created inline by `POST /v1/prices` (`product_data`) may set.
INLINE = dict(
    name=String(required=True),
    id=NewProductId(),
    active=Boolean(),
    metadata=Map(),
    statement_descriptor=STATEMENT_DESCRIPTOR,
    tax_code=String(),
    tax_details=Unsupported(),
    unit_label=UNIT_LABEL,
)
PRODUCT_DATA = Hash(fields=INLINE)

WRITABLE = dict(
    active=Boolean(),
    description=String(max_length=40000),
    images=List(nullable=True, max_items=8, item=String(max_length=2048)),
    marketing_features=MARKETING_FEATURES,
    metadata=Map(),
    package_dimensions=PACKAGE_DIMENSIONS,
    shippable=Boolean(),
    statement_descriptor=STATEMENT_DESCRIPTOR,
    tax_code=String(),
    tax_details=Unsupported(),
    unit_label=UNIT_LABEL,
    url=String(),
)

CREATE = endpoint(
    **WRITABLE,
    name=INLINE["name"],
    id=INLINE["id"],
    default_price_data=Unsupported(),
    type=Enum("good", "service"),
)
UPDATE = endpoint(
    **WRITABLE,
    name=String(nullable=False),
    default_price=Ref(object_type="price", noun="price"),
)
LIST = endpoint(
    **PAGE_PARAMS,
    active=Boolean(),
    created=CREATED_FILTER,
    ids=List(item=String()),
    shippable=Boolean(),
    type=Enum("good", "service"),
    url=String(),
    # UNSURE: `ids` is documented as not combinable with cursors; refused like any exclusive pair.
    exclusive=(*PAGE_EXCLUSIVE, ("ids", "starting_after"), ("ids", "ending_before")),
)

PRODUCT = ObjectType(name="product", noun="product", expandable={"default_price": "price"})


def _changes(product: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What the params given in a create or update change on the product."""
    changes: dict[str, Any] = {}
    for key, value in params.items():
        if key == "expand":
            continue
        if key == "metadata":
            changes["metadata"] = merge_metadata(product["metadata"], value)
        elif key == "images":
            changes["images"] = value or []
        elif key == "marketing_features":
            changes["marketing_features"] = [{"name": feature["name"]} for feature in value or []]
        elif key == "package_dimensions":
            changes[key] = None if value is None else {k: float(v) for k, v in value.items()}
        else:
            changes[key] = value
    return changes


def insert(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    """Create a product from validated create params (or a price's `product_data`)."""
    now = account.now()
    product: dict[str, Any] = {
        "id": params.get("id") or new_id("prod"),
        "object": "product",
        "active": True,
        "created": now,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": params["name"],
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "tax_details": None,
        "type": "service",
        "unit_label": None,
        "updated": now,
        "url": None,
    }
    product.update(_changes(product, {k: v for k, v in params.items() if k != "id"}))
    return account.create(product)


def create(call: Call) -> dict[str, Any]:
    return insert(call.account, call.params)


def retrieve(call: Call) -> dict[str, Any]:
    return call.path_object("product")


def update(call: Call) -> dict[str, Any]:
    product = call.path_object("product")
    price_id = call.params.get("default_price")
    if price_id is not None and call.account.find("price", price_id)["product"] != product["id"]:
        # UNSURE: Stripe's wording for a default price of another product.
        raise invalid(
            f"The price `{price_id}` does not belong to this product and cannot be its default price.",
            param="default_price",
        )
    return call.account.update(product, {**_changes(product, call.params), "updated": call.now()})


def delete(call: Call) -> dict[str, Any]:
    product = call.path_object("product")
    prices = call.account.collection("price").objects.values()
    if any(price["product"] == product["id"] for price in prices):
        raise invalid(HAS_PRICES)
    return call.account.delete(product)


def list_products(call: Call) -> dict[str, Any]:
    params = call.params
    ids = set(params["ids"]) if params.get("ids") is not None else None
    wanted = {k: params[k] for k in ("active", "shippable", "type", "url") if params.get(k) is not None}
    created = params.get("created")

    def keep(product: dict[str, Any]) -> bool:
        return (
            (ids is None or product["id"] in ids)
            and all(product[k] == v for k, v in wanted.items())
            and (created is None or in_range(product["created"], created))
        )

    return call.page("product", keep)


def list_features(call: Call) -> dict[str, Any]:
    """The features attached to a product (through the generic `POST .../features`)."""
    product = call.path_object("product")
    return call.page("product_feature", lambda feature: parents_of(call.account, feature).get("product") == product["id"])


AREA = Area(
    name="products",
    types=(PRODUCT,),
    endpoints=(
        Endpoint("POST", "/v1/products", create, CREATE, "Create a product", returns="product"),
        Endpoint("GET", "/v1/products", list_products, LIST, "List products, newest first", returns=ListOf("product")),
        Endpoint("GET", "/v1/products/{id}", retrieve, endpoint(), "Retrieve a product", returns="product"),
        Endpoint("POST", "/v1/products/{id}", update, UPDATE, "Update a product", returns="product"),
        Endpoint("DELETE", "/v1/products/{id}", delete, endpoint(), "Delete a product that has no prices", returns="product"),
        Endpoint(
            "GET",
            "/v1/products/{id}/features",
            list_features,
            endpoint(**PAGE_PARAMS, exclusive=PAGE_EXCLUSIVE),
            "List a product's features",
            returns=ListOf("product_feature"),
        ),
    ),
)
