"""What the wire layer needs to know about each object type: its noun and what can be expanded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from ..store import Account

Computed = Callable[["Account", dict[str, Any]], Any]


@dataclass(frozen=True)
class ListOf:
    """A list object (`{object: "list", data: [...]}`) of one object type."""

    item: str


# What a field or a response holds: an object of a type (by its `object` name), or a list of them.
Shape = str | ListOf


@dataclass(frozen=True)
class ObjectType:
    name: str  # the `object` field, e.g. "price" or "billing.meter"
    noun: str  # as in "No such price: 'price_x'"
    # Dotted path inside the object (nested hashes included) -> type of the id stored there.
    expandable: Mapping[str, str] = field(default_factory=dict)
    # Fields that appear only when expanded, computed on demand (e.g. `customer.subscriptions`).
    expand_only: Mapping[str, Computed] = field(default_factory=dict)
    # Embedded objects and lists an expand path may pass through (e.g. `subscription.items`),
    # and the shapes of expand-only fields that hold objects.
    nested: Mapping[str, Shape] = field(default_factory=dict)
