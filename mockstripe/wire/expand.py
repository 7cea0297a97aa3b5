"""`expand[]`: replace ids with the objects they name, along dotted paths up to 4 levels deep.

`check` validates the paths against the declared shape of the response before the handler runs,
so a bad path never leaves a half-done request behind; `expand` then applies them to the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .errors import StripeError, invalid
from .objects import ListOf, ObjectType, Shape

if TYPE_CHECKING:
    from ..store import Account

MAX_DEPTH = 4


def check(paths: list[str], returns: Shape | None, types: Mapping[str, ObjectType]) -> None:
    """Raise Stripe's 400 for the first path that cannot be expanded on a `returns` response."""
    for path in paths:
        _check(path, returns, types)


def _check(path: str, shape: Shape | None, types: Mapping[str, ObjectType]) -> None:
    segments = path.split(".")
    if sum(1 for s in segments if s != "data") > MAX_DEPTH:
        raise invalid(
            f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
            param="expand",
        )
    inner = ""  # the path so far inside a plain nested hash, e.g. "pricing.price_details."
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if isinstance(shape, ListOf):
            if segment != "data":
                raise _cannot(path, hint=".".join([*segments[:i], "data", *segments[i:]]))
            shape = shape.item
            continue
        owner = types.get(shape) if shape is not None else None
        if owner is None:
            break
        key = inner + segment
        if key in owner.expandable or key in owner.expand_only:
            if last:
                return
            shape, inner = owner.expandable.get(key) or owner.nested.get(key), ""
        elif key in owner.nested and not last:
            shape, inner = owner.nested[key], ""
        elif not last and any(p.startswith(key + ".") for p in (*owner.expandable, *owner.expand_only)):
            inner = key + "."
        else:
            break
    raise _cannot(path)


def expand(
    value: dict[str, Any], paths: list[str], types: Mapping[str, ObjectType], account: Account
) -> dict[str, Any]:
    """A copy of `value` with each (checked) path expanded; stored objects are never modified."""
    for path in dict.fromkeys(paths):
        value = _apply(value, path.split("."), None, "", types, account)
    return value


def _apply(
    value: Any,
    segments: list[str],
    owner: ObjectType | None,
    inner: str,
    types: Mapping[str, ObjectType],
    account: Account,
) -> Any:
    if not isinstance(value, dict) or not segments:
        return value  # null on the way, or an id that names nothing: nothing to expand into
    head, rest = segments[0], segments[1:]
    if value.get("object") == "list" and "data" in value:
        return {**value, "data": [_apply(item, rest, None, "", types, account) for item in value["data"]]}
    if not inner:
        owner = types.get(value.get("object", ""))
    if owner is None:
        return value
    key = inner + head
    if key in owner.expandable and head in value:
        target = value[head]
        if isinstance(target, list):  # a list of ids (`discounts`)
            fetched = (_fetch(account, owner.expandable[key], i) if isinstance(i, str) else i for i in target)
            new = [_apply(one, rest, None, "", types, account) for one in fetched]
            return {**value, head: new}
        if isinstance(target, str):
            target = _fetch(account, owner.expandable[key], target)
        new = _apply(target, rest, None, "", types, account)
    elif key in owner.expand_only:
        new = _apply(owner.expand_only[key](account, value), rest, None, "", types, account)
    elif isinstance(value.get(head), dict):
        child = value[head]
        new = _apply(child, rest, None, "", types, account) if "object" in child else _apply(
            child, rest, owner, key + ".", types, account
        )
    else:
        return value
    return {**value, head: new}


def _fetch(account: Account, type_name: str, object_id: str) -> Any:
    # Deleted objects expand to their stub, as on Stripe.
    found = account.find_including_deleted(type_name, object_id)
    return found if found is not None else object_id


def _cannot(path: str, hint: str | None = None) -> StripeError:
    message = f"This property cannot be expanded ({path})."
    if hint:
        message += f" You may want to try expanding '{hint}' instead."
    return invalid(message, param="expand")
